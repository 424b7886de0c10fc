import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginCode, createOperatorToken } from '../src/service/auth/identity.ts';
import type { DashboardData } from '../src/service/http/dashboard-data.ts';
import { findOwner, listGrants } from '../src/store/grants.ts';
import { saveGridSettings } from '../src/store/grid.ts';
import { migrate } from '../src/store/migrations.ts';
import { DEFAULT_PREFERENCES } from '../src/store/preferences.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { api, enrollOverHttp, everyDayAt, listAll, startService, type RunningService } from './harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const START = new Date('2026-11-21T21:00:00Z'); // 22:00 in Berlin
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** The pages the service serves are the built ones: build them as `pnpm build` does. */
function buildFrontEnd(): void {
  const built = spawnSync('npx', ['tsdown', '-c', 'tsdown.web.config.ts'], {
    cwd: PACKAGE,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`front-end build failed:\n${built.stdout}\n${built.stderr}`);
}

async function seriousAccessibilityViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: () => Promise<{
            violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run();
    return result.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => `${violation.id}: ${JSON.stringify(violation.nodes.map((node) => node.target))}`);
  });
}

const dashboardIn = (page: Page): Promise<DashboardData> =>
  page.evaluate(async () => (await fetch('api/dashboard')).json() as Promise<DashboardData>);

describe('the operator console and the owner’s page in headless Chromium', () => {
  let sim: Simulator;
  let db: SqlClient;
  let running: RunningService;
  let browser: Browser;
  /** A browser signed in as an operator (admin) through a one-time login link. */
  let operator: BrowserContext;
  /** The browser Ada enrolled her car from: Connect's callback signed it in as her. */
  let owner: BrowserContext;
  let ids: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
    buildFrontEnd();
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
  }, 120_000);
  afterAll(async () => {
    await operator?.close();
    await owner?.close();
    await browser?.close();
    await running?.close();
    await sim?.close();
    await db?.close();
  });

  /** A fresh browser signed in as an admin operator, the way an operator signs in: a login link. */
  async function signedInOperator(): Promise<BrowserContext> {
    // The pages' strict CSP would refuse the accessibility checker's injected script.
    const context = await browser.newContext({ viewport: { width: 1280, height: 1600 }, bypassCSP: true });
    const token = await createOperatorToken(db, { name: 'browser operator', role: 'admin' });
    const code = await createLoginCode(db, { apiTokenId: token.record.id }, { now: new Date() });
    const page = await context.newPage();
    await page.goto(`${running.base}login#code=${code}`);
    await page.waitForURL(running.base, { timeout: 15_000 });
    await page.close();
    return context;
  }

  async function openPage(path: string, context: BrowserContext = operator): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`${path}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`${path}: ${message.text()}`);
    });
    await page.goto(new URL(path, running.base).href);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
    return page;
  }

  it('enrolls a car from the console through Connect, lists the fleet and draws the load chart', async () => {
    // Anonymous: the console says how to sign in and shows no fleet.
    const anonymous = await browser.newPage();
    await anonymous.goto(running.base);
    await anonymous.waitForSelector('body[data-loaded="true"]');
    expect(await anonymous.textContent('#notice')).toContain('Not signed in');
    await anonymous.close();

    operator = await signedInOperator();
    const page = await operator.newPage();
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(running.base);
    await page.waitForSelector('body[data-loaded="true"]');
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
    // Back through the callback, which signs this browser in as the car's owner: her own page.
    // Back through the callback to the console, still signed in as the operator who started it.
    await page.waitForURL((url) => url.searchParams.has('enrolled'), { timeout: 15_000 });
    expect(new URL(page.url()).origin).toBe(new URL(running.base).origin);
    expect(await page.textContent('#notice')).toContain('Vehicle connected');
    await page.close();

    await enrollOverHttp(running, sim, {
      name: 'Bob',
      email: 'bob@example.com',
      brand: 'DS',
      model: 'DS 3 Crossback E-Tense',
    });
    ids = (await listAll<{ id: string }>(running.admin, 'api/vehicles')).map((vehicle) => vehicle.id);
    expect(ids).toHaveLength(2);
    for (const [index, id] of ids.entries()) {
      sim.setSoc(id, 0.3 + index * 0.1);
      sim.plugIn(id, { stationKw: 7.4 });
      await api(running.admin, 'PUT', `api/vehicles/${id}/preferences`, {
        ...DEFAULT_PREFERENCES,
        departures: everyDayAt('07:00'),
        chargerPowerKw: 7.4,
      });
    }
    await running.service.monitorVehicles();
    expect(
      (await api<{ ok: boolean }>(running.admin, 'POST', 'api/plan', { reason: 'browser test' })).body.ok,
    ).toBe(true);

    const console = await openPage('./');
    for (const [index, id] of ids.entries()) {
      const row = console.locator(`#vehicles tbody tr[data-vehicle="${id}"]`);
      await expect
        .poll(() => row.locator('.soc').textContent(), { timeout: 10_000 })
        .toBe(`${Math.round((0.3 + index * 0.1) * 100)} %`);
      expect(await row.locator('.badge').textContent()).toBe('active');
      expect(await row.locator('.age').textContent()).toMatch(/ago$/);
    }
    const chart = console.locator('#load-chart svg');
    // The fleet's load is one stacked series per work unit (here the site, without a grid tree), whatever
    // the number of cars; base load, limit and price are drawn.
    const series = await chart
      .locator('path.planned')
      .evaluateAll((paths) => paths.map((path) => path.getAttribute('data-series')).sort());
    expect(series).toEqual(['site']);
    // The table is a page from the server; its filters go to the server too.
    expect(await console.textContent('#vehicle-count')).toBe('cars 1–2 in id order');
    expect(await console.locator('#page-next').isDisabled()).toBe(true);
    await console.selectOption('#vehicle-plugged', 'false');
    await console.waitForSelector('#vehicle-count:has-text("no cars match")', { timeout: 10_000 });
    expect(await console.locator('#vehicles tbody tr').count()).toBe(0);
    await console.selectOption('#vehicle-plugged', 'true');
    await console.waitForSelector(`#vehicles tbody tr[data-vehicle="${ids[1]}"]`, { timeout: 10_000 });
    for (const selector of ['path.base-load', 'path.limit', 'path.price'])
      expect((await chart.locator(selector).getAttribute('d'))?.length ?? 0, selector).toBeGreaterThan(20);
    // Nice ticks with units; local time with the zone.
    const kwTicks = (await chart.locator('text.tick-kw').allTextContents()).map(Number);
    expect(kwTicks.length).toBeGreaterThan(2);
    const step = kwTicks[1]! - kwTicks[0]!;
    expect([1, 2, 2.5, 5, 10, 20].some((nice) => Math.abs(step - nice) < 1e-9)).toBe(true);
    const texts = await chart.locator('text').allTextContents();
    expect(texts).toContain('kW');
    expect(texts).toContain('EUR/kWh');
    expect(texts).toContain('22:00');
    expect(texts).toContain('Europe/Berlin (UTC+1)');
    expect(await console.locator('#load-chart .legend').textContent()).toContain('price (EUR/kWh)');
    expect(await console.textContent('#price-source')).toContain('file:');

    // A car's detail.
    await console.click(`#vehicles tbody tr[data-vehicle="${ids[0]}"] button[data-detail]`);
    expect(await console.textContent('#car-detail .detail-soc')).toBe('30 %');
    expect(await console.locator('#car-detail svg path.planned').count()).toBe(1);

    await console.screenshot({ path: join(tmpdir(), 'voltkit-console.png'), fullPage: true });
    expect(await seriousAccessibilityViolations(console)).toEqual([]);
    await console.close();
  }, 120_000);

  it('an operator announces a demand-response event and the planned load drops under it, then cancels it', async () => {
    const page = await openPage('./');
    const before = await dashboardIn(page);
    const charging = before.fleet.slots.filter((slot) => Object.values(slot.plannedKw).some((kw) => kw > 0));
    expect(charging.length).toBeGreaterThan(0);
    // The window: the first slots with charging planned, for one hour; the limit is the base load there.
    const windowStart = charging[0]!.start;
    const windowEnd = new Date(Date.parse(windowStart) + 3_600_000).toISOString();
    const inWindow = (data: DashboardData) =>
      data.fleet.slots.filter((slot) => slot.start >= windowStart && slot.start < windowEnd);
    const plannedIn = (data: DashboardData) =>
      inWindow(data).reduce((sum, slot) => sum + Object.values(slot.plannedKw).reduce((a, b) => a + b, 0), 0);
    expect(plannedIn(before)).toBeGreaterThan(0);
    const limitKw = Math.ceil(Math.max(...inWindow(before).map((slot) => slot.baseLoadKw)) * 10) / 10 + 0.5;
    const limitPathBefore = await page.locator('#load-chart path.limit').getAttribute('d');

    const toWall = (iso: string) =>
      new Intl.DateTimeFormat('sv-SE', {
        timeZone: 'Europe/Berlin',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      })
        .format(new Date(iso))
        .replace(' ', 'T');
    await page.fill('#event-start', toWall(windowStart));
    await page.fill('#event-end', toWall(windowEnd));
    await page.fill('#event-limit', String(limitKw));
    await page.click('#event-create');
    await page.waitForSelector('#events li[data-event]', { timeout: 15_000 });
    // The chart redraws with the lower limit, without a reload.
    await expect
      .poll(() => page.locator('#load-chart path.limit').getAttribute('d'), { timeout: 15_000 })
      .not.toBe(limitPathBefore);
    const after = await dashboardIn(page);
    for (const slot of inWindow(after)) {
      const total = slot.baseLoadKw + Object.values(slot.plannedKw).reduce((a, b) => a + b, 0);
      expect(slot.limitKw).toBeCloseTo(limitKw, 6);
      expect(total).toBeLessThanOrEqual(limitKw + 1e-6);
    }
    expect(plannedIn(after)).toBeLessThan(plannedIn(before));

    await page.click('#events button[data-cancel-event]');
    await page.waitForSelector('#events li.muted', { timeout: 15_000 });
    expect((await api<unknown[]>(running.admin, 'GET', 'api/grid/events')).body).toEqual([]);
    await page.close();
  }, 120_000);

  it('a confirmed command shows in the log and the vehicles table without a reload', async () => {
    const page = await openPage('./');
    await page.selectOption('#command-status', 'confirmed');
    await page.waitForSelector('#command-count:has-text("no commands match")', { timeout: 15_000 });
    const loadedAt = await page.evaluate(() => performance.timeOrigin);
    // The service's minute: due commands go to the cars, the simulator confirms them, state is re-read.
    await running.service.tick();
    await page.waitForSelector('#commands tbody tr .badge.confirmed', { timeout: 15_000 });
    const confirmed = await page.locator('#commands tbody tr').first().getAttribute('data-vehicle');
    expect(ids).toContain(confirmed);
    const simState = sim.vehicle(confirmed!).state.chargeState;
    await expect
      .poll(() => page.locator(`#vehicles tbody tr[data-vehicle="${confirmed}"] .charging`).textContent(), {
        timeout: 15_000,
      })
      .toMatch(new RegExp(`^${simState} \\(confirmed (start|stop)\\)$`));
    expect(await page.evaluate(() => performance.timeOrigin)).toBe(loadedAt);
    await page.close();
  }, 120_000);

  it('an owner changes the departure and sees the re-plan', async () => {
    // Ada signs in the way an owner does: the login link the operator (or the demo) hands out.
    const owners = await Promise.all(
      (await listGrants(db)).map(async (grant) =>
        grant.ownerId === null ? undefined : findOwner(db, grant.ownerId),
      ),
    );
    const ada = owners.find((candidate) => candidate?.displayName === 'Ada');
    expect(ada).toBeDefined();
    owner = await browser.newContext({ viewport: { width: 1280, height: 1600 }, bypassCSP: true });
    const code = await createLoginCode(db, { ownerId: ada!.id }, { now: new Date() });
    const login = await owner.newPage();
    await login.goto(`${running.base}login#code=${code}`);
    await login.waitForURL((url) => url.pathname.endsWith('/owner'), { timeout: 15_000 });
    await login.close();
    const page = await openPage('owner', owner);
    // Only her own car is on her page.
    const mine = await page
      .locator('article.car')
      .evaluateAll((cars) => cars.map((car) => car.getAttribute('data-vehicle')));
    expect(mine).toHaveLength(1);
    const id = mine[0]!;
    const car = page.locator(`article.car[data-vehicle="${id}"]`);
    expect(await car.locator('.departure').textContent()).toContain('07:00');
    expect(await car.locator('.expected-soc').textContent()).toMatch(/%$/);
    expect(await car.locator('.saving').textContent()).not.toBe('');
    const endsBefore = await car.locator('.charging-ends').getAttribute('data-ends');
    expect(endsBefore).not.toBe('');

    await car.locator('input[name="departure"]').fill('01:30');
    await car.locator('form.preferences button[type="submit"]').click();
    await expect.poll(() => car.locator('.departure').textContent(), { timeout: 15_000 }).toContain('01:30');
    const departure = Date.parse('2026-11-22T00:30:00Z'); // 01:30 in Berlin
    const endsAfter = await car.locator('.charging-ends').getAttribute('data-ends');
    expect(endsAfter).not.toBe('');
    expect(Date.parse(endsAfter!)).toBeLessThanOrEqual(departure);
    expect(Date.parse(endsAfter!)).not.toBe(Date.parse(endsBefore!));

    await car.locator('button[data-charge-now]').click();
    await expect
      .poll(() => car.locator('.mode').textContent(), { timeout: 15_000 })
      .toContain('Charging now');
    expect(
      (await api<{ chargeNow: string[] }>(running.admin, 'GET', 'api/overrides')).body.chargeNow,
    ).toContain(id);

    await page.screenshot({ path: join(tmpdir(), 'voltkit-owner.png'), fullPage: true });
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it('the grid tree: nodes with their limits and cars, opened level by level, a node’s load chart', async () => {
    const before = await openPage('./');
    expect(await before.textContent('#grid-tree')).toContain('No grid tree yet');
    await before.close();

    const nodes = [
      { id: 'north', parentId: null, kind: 'substation', name: 'North substation', limitKw: 400 },
      { id: 'f1', parentId: 'north', kind: 'feeder', name: 'Feeder 1', limitKw: 60 },
      { id: 't1', parentId: 'f1', kind: 'transformer', name: 'Transformer 1', limitKw: 30 },
      { id: 'c-ada', parentId: 't1', kind: 'connection', name: 'Ada’s house', limitKw: 11 },
    ];
    for (const node of nodes)
      expect((await api(running.admin, 'POST', 'api/grid/nodes', node)).status).toBe(201);
    expect(
      (await api(running.admin, 'PUT', `api/vehicles/${ids[0]}/grid-node`, { nodeId: 'c-ada' })).status,
    ).toBe(200);
    expect(
      (await api(running.admin, 'PUT', `api/vehicles/${ids[1]}/grid-node`, { nodeId: 't1' })).status,
    ).toBe(200);
    expect(
      (await api<{ ok: boolean }>(running.admin, 'POST', 'api/plan', { reason: 'grid tree test' })).body.ok,
    ).toBe(true);

    const page = await openPage('./');
    const north = page.locator('#grid-tree li[data-node="north"]');
    await expect.poll(() => north.textContent(), { timeout: 10_000 }).toContain('2 cars');
    expect(await north.textContent()).toContain('limit 400.0 kW');
    // Children come when a node is opened, level by level, down to the car's connection.
    for (const id of ['north', 'f1', 't1']) {
      await page.click(`#grid-tree button[data-toggle-node="${id}"]`);
      await page.waitForSelector(`#grid-tree li[data-node="${id}"] > ul li[data-node]`);
    }
    const connection = page.locator('#grid-tree li[data-node="c-ada"]');
    await expect.poll(() => connection.textContent(), { timeout: 10_000 }).toContain('1 cars');
    expect(await connection.textContent()).toContain('limit 11.0 kW');

    await page.click('#grid-tree button[data-chart-node="f1"]');
    const chart = page.locator('#node-chart svg');
    await chart.waitFor();
    // The feeder's own limit (60 kW) is drawn, with the plan's price, and the legend names the node.
    expect((await chart.locator('path.limit').getAttribute('d'))?.length ?? 0).toBeGreaterThan(20);
    expect(await chart.locator('path.planned').count()).toBe(1);
    expect(await page.textContent('#node-chart .legend')).toContain('planned charging under Feeder 1');
    expect(await page.textContent('#node-chart')).toContain('Base load is not drawn');
    const kwTicks = (await chart.locator('text.tick-kw').allTextContents()).map(Number);
    expect(Math.max(...kwTicks)).toBeGreaterThanOrEqual(60);

    await page.screenshot({ path: join(tmpdir(), 'voltkit-grid-tree.png'), fullPage: true });
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);
});
