import { existsSync } from 'node:fs';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginCode, createOperatorToken } from '../src/service/auth/identity.ts';
import { saveGridSettings } from '../src/store/grid.ts';
import { migrate } from '../src/store/migrations.ts';
import { DEFAULT_PREFERENCES } from '../src/store/preferences.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { api, enrollOverHttp, everyDayAt, startService, type RunningService } from './harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const START = new Date('2026-11-21T21:00:00Z'); // 22:00 in Berlin

describe('the dashboard in headless Chromium', () => {
  let sim: Simulator;
  let db: SqlClient;
  let running: RunningService;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    db = await openSqlClient({});
    await migrate(db);
    await saveGridSettings(db, { limitKw: 11, baseLoadKwhPerYear: 3500 });
    running = await startService(db, sim);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await running?.close();
    await sim?.close();
    await db?.close();
  });

  it('enrolls a car through Connect from the page, lists the fleet with SoC and state, and draws the plan', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));

    // Anonymous: the page says how to sign in, and shows no fleet.
    await page.goto(running.base);
    await page.waitForSelector('#notice:not([hidden])');
    expect(await page.textContent('#notice')).toContain('Not signed in');
    // The operator's way in: a one-time login link (its code in the fragment) → a session → the dashboard.
    const operator = await createOperatorToken(db, { name: 'browser operator', role: 'admin' });
    const code = await createLoginCode(db, { apiTokenId: operator.record.id }, { now: new Date() });
    await page.goto(`${running.base}login#code=${code}`);
    await page.waitForURL(running.base, { timeout: 15_000 });
    expect(await page.evaluate(() => fetch('api/me').then((response) => response.json()))).toMatchObject({
      kind: 'operator',
      role: 'admin',
    });

    // Enrolling a car from the page: the dashboard's form, Connect's pages in the simulator, the callback.
    await page.fill('#owner-name', 'Ada');
    await page.fill('#make', 'TESLA');
    await page.click('#enroll-button');
    await page.waitForSelector('button#continue-button');
    await page.click('button#continue-button');
    await page.fill('input#username', 'ada@example.com');
    await page.fill('input#password', 'any password');
    await page.click('#sign-in-button');
    await page.waitForSelector('.page-content');
    await page.click('button#approval-button');
    await page.waitForURL((url) => url.searchParams.has('enrolled'), { timeout: 15_000 });
    expect(new URL(page.url()).origin).toBe(new URL(running.base).origin);
    expect(await page.textContent('#notice')).toContain('Vehicle connected');

    const second = await enrollOverHttp(running, sim, {
      name: 'Bob',
      email: 'bob@example.com',
      brand: 'DS',
      model: 'DS 3 Crossback E-Tense',
    });
    const vehicles = (await api<{ id: string }[]>(running.admin, 'GET', 'api/vehicles')).body;
    expect(vehicles).toHaveLength(2);
    const ids = vehicles.map((vehicle) => vehicle.id);
    expect(ids).toContain(second);
    for (const [index, id] of ids.entries()) {
      sim.setSoc(id, 0.3 + index * 0.1);
      sim.plugIn(id, { stationKw: 7.4 });
      await api(running.admin, 'PUT', `api/vehicles/${id}/preferences`, {
        ...DEFAULT_PREFERENCES,
        departures: everyDayAt('07:00'),
        chargerPowerKw: 7.4,
      });
    }
    expect(
      (await api<{ ok: boolean }>(running.admin, 'POST', 'api/plan', { reason: 'browser test' })).body.ok,
    ).toBe(true);

    await page.goto(running.base);
    await page.waitForSelector('body[data-loaded="true"]');
    for (const [index, id] of ids.entries()) {
      const row = page.locator(`#vehicles tbody tr[data-vehicle="${id}"]`);
      expect(await row.locator('.soc').textContent()).toBe(`${Math.round((0.3 + index * 0.1) * 100)} %`);
      expect(await row.textContent()).toMatch(/CHARGING|NOT_CHARGING/);
      expect(await row.locator('.badge').textContent()).toBe('active');
    }
    expect(await page.textContent('#kpi-savings')).toMatch(/\d/);

    // The fleet chart: planned bars for the cars, the price line and the grid limit line.
    const chart = page.locator('#fleet-chart svg');
    const planned = await chart.locator('rect.planned').count();
    expect(planned).toBeGreaterThan(0);
    const barVehicles = await chart
      .locator('rect.planned')
      .evaluateAll((bars) => [...new Set(bars.map((bar) => bar.getAttribute('data-vehicle')))].sort());
    expect(barVehicles).toEqual([...ids].sort());
    for (const line of ['path.price', 'path.grid-limit']) {
      const d = await chart.locator(line).getAttribute('d');
      expect(d?.length ?? 0, line).toBeGreaterThan(20);
    }
    expect(await page.locator('.vehicle-chart path.soc').count()).toBe(2);
    // Times in the site's zone (Berlin), not the browser's (UTC here): the plan starts at 22:00.
    expect(await chart.locator('text').allTextContents()).toContain('22:00');

    // Screenshot check: the rendered chart is a picture, not a blank box. Decoded in the page's canvas.
    const png = await page.locator('#fleet-chart').screenshot();
    const pixels = await page.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      const { data } = context.getImageData(0, 0, image.width, image.height);
      const colours = new Set<number>();
      let inked = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
        colours.add((r << 16) | (g << 8) | b);
        if (r < 235 || g < 235 || b < 235) inked += 1;
      }
      return {
        width: image.width,
        height: image.height,
        colours: colours.size,
        inked: inked / (data.length / 4),
      };
    }, png.toString('base64'));
    expect(pixels.width).toBeGreaterThan(400);
    expect(pixels.height).toBeGreaterThan(100);
    expect(pixels.colours).toBeGreaterThan(8);
    expect(pixels.inked).toBeGreaterThan(0.03);
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);
});
