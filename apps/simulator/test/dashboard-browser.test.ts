import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createClient, isVoltkitError } from '@voltkit/core/client';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@voltkit/simulator';

const CHROMIUM = '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const REDIRECT = 'http://localhost/callback';
const SCOPES = [
  'read_vehicle_info',
  'read_battery',
  'read_charge',
  'read_location',
  'control_charge',
] as const;

let sim: Simulator;
let browser: Browser;
/** The developer's browser: the pages' CSP is enforced, so their script runs as it would for them. */
let context: BrowserContext;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  // Retries after 20 ms, 40 ms, 80 ms instead of 1 s, 2 s, 4 s.
  sim = await createSimulator({ clock: { mode: 'manual' }, webhookRetryBaseMs: 20 });
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
  context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await sim?.close();
});

async function openPage(): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  // Revoking asks for confirmation.
  page.on('dialog', (dialog) => void dialog.accept());
  return page;
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

const flash = (page: Page) => page.locator('#flash').innerText();

describe('the developer dashboard in headless Chromium', () => {
  it('walks an app from registration to a revoked connection', async () => {
    const page = await openPage();
    // Not signed in: the sign-in page.
    await page.goto(sim.dashboardUrl);
    expect(new URL(page.url()).pathname).toBe('/_simulator/dashboard/login');
    await page.fill('#token', 'wrong token');
    await page.click('#sign-in');
    expect(await flash(page)).toContain('not the management token');
    // Chromium logs the 401 of that page as a console error; nothing after it may log one.
    problems.length = 0;
    await page.fill('#token', sim.managementToken);
    await page.click('#sign-in');
    await page.waitForSelector('#create-app');

    // Register an app: its credentials are shown once, then masked until revealed deliberately.
    await page.fill('#app-name', 'Walkthrough app');
    await page.fill('#app-redirects', REDIRECT);
    await page.click('#create-app');
    expect(await flash(page)).toContain('Registered Walkthrough app');
    const app = page.locator('article[aria-label="App Walkthrough app"]');
    const clientId = (await app.locator('.client-id').innerText()) ?? '';
    const clientSecret = (await app.locator('.client-secret').innerText()) ?? '';
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(clientSecret).toMatch(/^[0-9a-f-]{36}$/);
    expect(await app.locator('.redirect-uris').innerText()).toContain(REDIRECT);
    await page.reload();
    expect(await app.locator('.client-secret').innerText()).toMatch(/^•+$/);
    await app.locator('button.reveal').click();
    expect(await app.locator('.client-secret').innerText()).toBe(clientSecret);

    // A real client connects a car with those credentials (consent given programmatically).
    const { code, vehicleIds } = sim.authorize({
      clientId,
      redirectUri: REDIRECT,
      scope: [...SCOPES],
      email: 'walk@example.com',
      make: 'TESLA',
    });
    const vehicleId = vehicleIds[0] ?? '';
    const client = createClient({
      clientId,
      clientSecret,
      redirectUri: REDIRECT,
      origin: sim.url,
      retry: false,
    });
    const access = await client.exchangeCode(code, { grantId: 'walk' });
    const car = client.grant('walk').vehicle(vehicleId, { scopes: SCOPES });

    // Webhooks that work out of the box: the simulator's own receiver answers the challenges.
    await page.reload();
    await app.locator('select[name="kind"]').selectOption('v3');
    await app.locator('button.create-webhook').click();
    expect(await flash(page)).toMatch(/Created and verified v3 webhook .*1 vehicles subscribed/);
    await app.locator('select[name="kind"]').selectOption('eventBased');
    await app.locator('button.create-webhook').click();
    expect(await flash(page)).toMatch(/Created and verified v2 webhook .*1 vehicles subscribed/);
    expect(await app.locator('table.webhooks td.verified').allInnerTexts()).toEqual(['yes', 'yes']);
    expect(await app.locator('table.webhooks td.vehicle-count').allInnerTexts()).toEqual(['1', '1']);
    // Its next two deliveries fail, so that retries show: the first delivery (on subscription) is through.
    await sim.flushWebhooks();
    await app.locator('input[name="failNext"]').fill('2');
    await app.locator('button.fail-next').click();
    expect(await app.locator('.pending-failures').innerText()).toContain('fail the next 2 deliveries');

    // The car: SoC, plug, location, sleep, error trigger.
    await page.click('nav a[href="/_simulator/dashboard/accounts"]');
    const carSection = page.locator(`div.car[data-vehicle-id="${vehicleId}"]`);
    // A new car's SoC is random: pick one that differs from it, so that the change sends an event.
    const soc = (await carSection.locator('.soc').innerText()) === '42 %' ? 24 : 42;
    await carSection.locator(`#soc-${vehicleId}`).fill(String(soc));
    await carSection.locator('button', { hasText: 'Set SoC' }).click();
    expect(await flash(page)).toContain(`state of charge ${soc} %`);
    expect(await carSection.locator('.soc').innerText()).toBe(`${soc} %`);
    await sim.flushWebhooks();
    expect((await car.battery()).percentRemaining).toBe(soc / 100);

    await carSection.locator('button', { hasText: 'Plug in' }).click();
    expect(await carSection.locator('.plug').innerText()).toContain('plugged in · CHARGING');
    expect((await car.charge()).isPluggedIn).toBe(true);

    await carSection.locator(`#lat-${vehicleId}`).fill('52.52');
    await carSection.locator(`#lon-${vehicleId}`).fill('13.405');
    await carSection.locator('button', { hasText: 'Move car' }).click();
    expect(await carSection.locator('.location').innerText()).toBe('52.52000, 13.40500');
    expect(await car.location()).toMatchObject({ latitude: 52.52, longitude: 13.405 });

    await carSection.locator('button', { hasText: 'Put to sleep' }).click();
    expect(await carSection.locator('.sleep').innerText()).toBe('asleep');
    const asleep = await car.battery().catch((error: unknown) => error);
    expect(isVoltkitError(asleep) && [asleep.status, asleep.type, asleep.code]).toEqual([
      409,
      'VEHICLE_STATE',
      'ASLEEP',
    ]);
    await carSection.locator('button', { hasText: 'Wake up' }).click();

    await carSection.locator(`#error-${vehicleId}`).selectOption('UPSTREAM:NO_RESPONSE');
    await carSection.locator('button', { hasText: 'Set error trigger' }).click();
    expect(await carSection.locator('.error-trigger').innerText()).toBe('UPSTREAM:NO_RESPONSE');
    const upstream = await car.battery().catch((error: unknown) => error);
    expect(isVoltkitError(upstream) && [upstream.type, upstream.code]).toEqual(['UPSTREAM', 'NO_RESPONSE']);
    await carSection.locator(`#error-${vehicleId}`).selectOption('');
    await carSection.locator('button', { hasText: 'Set error trigger' }).click();
    expect(await carSection.locator('.error-trigger').innerText()).toBe('none');
    await sim.flushWebhooks();

    // The client's requests in the request log: method, path, status, scope, latency, app.
    await page.click('nav a[href="/_simulator/dashboard/requests"]');
    const rows = page.locator('#requests tbody tr');
    const battery = rows.filter({ hasText: `/v2.0/vehicles/${vehicleId}/battery` });
    const ok = battery.filter({ has: page.locator('td.status', { hasText: '200' }) }).first();
    expect(await ok.locator('td.method').innerText()).toBe('GET');
    expect(await ok.locator('td.scope').innerText()).toBe('read_battery');
    expect(await ok.locator('td.latency').innerText()).toMatch(/^\d+\.\d\d ms$/);
    expect((await ok.locator('td.app').innerText())?.trim()).toBe('Walkthrough app');
    const statuses = await battery.locator('td.status').allInnerTexts();
    expect(statuses).toEqual(expect.arrayContaining(['200', '409', '502']));
    expect(await rows.filter({ hasText: '/oauth/token' }).locator('td.app').first().innerText()).toContain(
      'Walkthrough app',
    );
    // Live updates, under the page's CSP: a new request appears without reloading.
    await page.waitForSelector('#live-toggle');
    await car.charge();
    await expect
      .poll(() => rows.filter({ hasText: `/v2.0/vehicles/${vehicleId}/charge` }).count(), { timeout: 10_000 })
      .toBe(2);

    // Webhook deliveries: the first two attempts of the first event failed (500) and were retried.
    await page.click('nav a[href="/_simulator/dashboard/deliveries"]');
    const attempts = page.locator('#deliveries tbody tr');
    const failed = attempts.filter({ has: page.locator('td.result', { hasText: 'failed, will retry' }) });
    expect(
      await failed.count(),
      `${(await attempts.allInnerTexts()).join('\n')}\n${(await page.locator('#receipts tbody tr').allInnerTexts()).join('\n')}`,
    ).toBeGreaterThanOrEqual(2);
    const eventId = (await failed.last().getAttribute('data-event-id')) ?? '';
    expect(eventId).not.toBe('');
    const sameEvent = attempts.filter({ has: page.locator(`xpath=self::*[@data-event-id="${eventId}"]`) });
    const tries = await sameEvent.evaluateAll((trs) =>
      trs.map((tr) => [
        tr.querySelector('.attempt')?.textContent?.trim(),
        tr.querySelector('.status')?.textContent?.trim(),
        tr.querySelector('.result')?.textContent?.trim(),
      ]),
    );
    expect(tries.reverse()).toEqual([
      ['1 of 4', '500', 'failed, will retry'],
      ['2 of 4', '500', 'failed, will retry'],
      ['3 of 4', '204', 'delivered'],
    ]);
    const events = await attempts.locator('td.event').allInnerTexts();
    expect(events).toEqual(
      expect.arrayContaining(['VERIFY', 'verify', 'VEHICLE_STATE', 'VEHICLE_ERROR', 'eventBased']),
    );
    const answered = await page.locator('#receipts tbody td.answered').allInnerTexts();
    expect(answered.filter((status) => status === '500')).toHaveLength(2);

    // Revoke the connection: the client's token stops working.
    await page.click('nav a[href="/_simulator/dashboard/connections"]');
    const connection = page.locator('article', { hasText: 'walk@example.com' });
    await connection.locator('button.revoke').click();
    expect(await flash(page)).toContain('Revoked Walkthrough app');
    expect(await page.locator('article', { hasText: 'walk@example.com' }).count()).toBe(0);
    const revoked = await fetch(`${sim.url}/v2.0/vehicles/${vehicleId}/battery`, {
      headers: { authorization: `Bearer ${access.accessToken}` },
    });
    expect(revoked.status).toBe(401);
    // The core client then tries its refresh token, which was revoked with the grant.
    const refused = await car.battery().catch((error: unknown) => error);
    expect(isVoltkitError(refused) && [refused.type, refused.code]).toEqual(['OAUTH', 'invalid_grant']);
    await page.click('nav a[href="/_simulator/dashboard/requests"]');
    const last = page
      .locator('#requests tbody tr')
      .filter({ hasText: `/v2.0/vehicles/${vehicleId}/battery` })
      .first();
    expect(await last.locator('td.status').innerText()).toBe('401');
    await page.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it('has no serious or critical accessibility violations on any page', async () => {
    // axe is injected as a script, which the pages' CSP refuses: check in a context that bypasses it,
    // signed in with the same session.
    // Every page with content: a live connection too (the walk revoked its own).
    sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri: 'https://example.com/auth',
      scope: 'read_battery',
      email: 'audit@example.com',
      make: 'KIA',
    });
    const audit = await browser.newContext({ storageState: await context.storageState(), bypassCSP: true });
    try {
      const page = await audit.newPage();
      for (const path of ['', 'accounts', 'connections', 'requests', 'deliveries']) {
        await page.goto(`${sim.dashboardUrl}${path}`);
        expect(new URL(page.url()).pathname, path).toBe(`/_simulator/dashboard/${path}`);
        expect(await seriousAccessibilityViolations(page), path).toEqual([]);
      }
      const anonymous = await browser.newPage({ bypassCSP: true });
      await anonymous.goto(sim.dashboardUrl);
      expect(await seriousAccessibilityViolations(anonymous), 'login').toEqual([]);
      await anonymous.close();
    } finally {
      await audit.close();
    }
  });
});
