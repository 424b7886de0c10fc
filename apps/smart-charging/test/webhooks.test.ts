import { createHmac, randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createClient } from '@voltkit/core/client';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sqlTokenStore } from '../src/store/grants.ts';
import { migrate } from '../src/store/migrations.ts';
import { loadCurrentPlan } from '../src/store/plans.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { TEST_DATABASE_URL } from '../src/store/test-backends.ts';
import { loadVehicleStates } from '../src/store/vehicles.ts';
import { api, enrollOverHttp, startService, type RunningService } from './harness.ts';

const START = new Date('2026-11-21T21:00:00Z');
const AMT = 'voltkit-demo-amt';
const sign = (key: string, body: string) => createHmac('sha256', key).update(body).digest('hex');

/**
 * Every request the simulator's HTTP server answered on a vehicle path, from the diagnostics channel its
 * own request log records from (the service's server answers no `/v2.0/vehicles` path).
 */
function simulatorRequestLog(): {
  entries: { method: string; path: string; status: number }[];
  stop(): void;
} {
  const entries: { method: string; path: string; status: number }[] = [];
  const onFinish = (message: unknown) => {
    const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
    const path = (request.url ?? '').split('?')[0]!;
    if (path.startsWith('/v2.0/vehicles/') || path.startsWith('/v3/vehicles/'))
      entries.push({ method: request.method ?? '', path, status: response.statusCode });
  };
  subscribe('http.server.response.finish', onFinish);
  return { entries, stop: () => unsubscribe('http.server.response.finish', onFinish) };
}

const BACKENDS = [
  { name: 'embedded', open: () => openSqlClient({}), drop: async () => {} },
  {
    name: 'postgres',
    schema: `voltkit_test_webhooks_${randomBytes(5).toString('hex')}`,
    open() {
      return openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema: this.schema });
    },
    async drop(db: SqlClient) {
      await db.query(`drop schema ${this.schema} cascade`);
    },
  },
];

describe.each(BACKENDS)('webhooks from the simulator on $name storage', (backend) => {
  let sim: Simulator;
  let db: SqlClient;
  let running: RunningService;
  let carA: string;
  let carB: string;
  let url: string;
  let log: ReturnType<typeof simulatorRequestLog>;

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START }, webhookRetryBaseMs: 10 });
    db = await backend.open();
    await migrate(db);
    running = await startService(
      db,
      sim,
      process.env['WEBHOOK_TEST_LOG'] ? { logger: pino({ level: process.env['WEBHOOK_TEST_LOG'] }) } : {},
    );
    carA = await enrollOverHttp(running, sim, { name: 'Ada', email: 'ada@example.com', brand: 'TESLA' });
    carB = await enrollOverHttp(running, sim, {
      name: 'Bo',
      email: 'bo@example.com',
      brand: 'CITROEN',
      model: 'ë-C4',
    });
    url = new URL('webhooks/smartcar', running.base).toString();
  }, 60_000);
  afterAll(async () => {
    await running?.close();
    await sim?.close();
    if (db) {
      await backend.drop(db);
      await db.close();
    }
  });
  beforeEach(() => {
    log = simulatorRequestLog();
  });
  afterEach(() => log.stop());

  const stateOf = async (vehicleId: string) => (await loadVehicleStates<{ soc: number }>(db)).get(vehicleId);
  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  /** A v3 VEHICLE_STATE as the simulator shapes it, saying `soc` (percent) for `vehicleId`. */
  const stateEvent = (vehicleId: string, soc: number, at: number) =>
    JSON.stringify({
      eventId: randomBytes(8).toString('hex'),
      eventType: 'VEHICLE_STATE',
      data: {
        user: { id: 'u' },
        vehicle: { id: vehicleId, make: 'TESLA', model: 'Model 3', year: 2024 },
        signals: [
          {
            code: 'tractionbattery-stateofcharge',
            name: 'StateOfCharge',
            group: 'TractionBattery',
            body: { value: soc, unit: 'percent' },
            status: { value: 'SUCCESS' },
            meta: { retrievedAt: at, oemUpdatedAt: at },
          },
        ],
      },
      triggers: [{ type: 'FIRST_DELIVERY' }],
      meta: { version: '4.0', webhookId: 'w', deliveryId: 'd', deliveredAt: at },
    });

  describe('attacks: nothing unsigned is believed or stored', () => {
    it('a forged signature (another key) is 401 and stores nothing', async () => {
      const before = await stateOf(carA);
      const body = stateEvent(carA, 3, sim.clock.now().getTime());
      const answer = await post(body, { 'sc-signature': sign('not-the-amt', body) });
      expect(answer.status).toBe(401);
      const text = await answer.text();
      expect(text).toMatch(/SC-Signature/);
      expect(text).not.toContain(AMT);
      expect(await stateOf(carA)).toEqual(before);
    });

    it('a body replayed with the signature of another (genuinely signed) body is 401 and stores nothing', async () => {
      const before = await stateOf(carA);
      const genuine = stateEvent(carA, 50, sim.clock.now().getTime());
      const tampered = stateEvent(carA, 4, sim.clock.now().getTime());
      expect((await post(tampered, { 'sc-signature': sign(AMT, genuine) })).status).toBe(401);
      // The signature of a re-serialised (spaced) copy does not sign the compact bytes either.
      const spaced = JSON.stringify(JSON.parse(tampered), null, 1);
      expect((await post(tampered, { 'sc-signature': sign(AMT, spaced) })).status).toBe(401);
      expect(await stateOf(carA)).toEqual(before);
    });

    it('a missing, empty, truncated or non-hex signature header is 401 and stores nothing', async () => {
      const before = await stateOf(carA);
      const body = stateEvent(carA, 5, sim.clock.now().getTime());
      const good = sign(AMT, body);
      for (const headers of [
        {},
        { 'sc-signature': '' },
        { 'sc-signature': good.slice(0, 63) },
        { 'sc-signature': `${good.slice(0, 62)}zz` },
        { authorization: `Bearer ${running.adminToken}` },
      ]) {
        const answer = await post(body, headers);
        expect(answer.status, JSON.stringify(Object.keys(headers))).toBe(401);
      }
      // The verification challenge is not answered without a valid signature either (no signing oracle).
      const verify = JSON.stringify({
        version: '2.0',
        webhookId: 'w',
        eventName: 'verify',
        payload: { challenge: 'x' },
      });
      expect((await post(verify, {})).status).toBe(401);
      expect(await stateOf(carA)).toEqual(before);
    });

    it('a genuine delivery replayed later is stored once, and never rolls a newer state back', async () => {
      const at = sim.clock.now().getTime();
      const first = stateEvent(carA, 61, at);
      expect((await post(first, { 'sc-signature': sign(AMT, first) })).status).toBe(204);
      expect((await stateOf(carA))?.state.soc).toBeCloseTo(0.61);
      const newer = stateEvent(carA, 62, at + 1000);
      expect((await post(newer, { 'sc-signature': sign(AMT, newer) })).status).toBe(204);
      expect((await post(first, { 'sc-signature': sign(AMT, first) })).status).toBe(204);
      const stored = await stateOf(carA);
      expect(stored?.state.soc).toBeCloseTo(0.62);
      expect(stored?.source).toBe('webhook');
    });

    it('a signed body that is not a Smartcar event is a 400 naming the field', async () => {
      const body = JSON.stringify({ version: '2.0', webhookId: 'w', eventName: 'verify', payload: {} });
      const answer = await post(body, { 'sc-signature': sign(AMT, body) });
      expect(answer.status).toBe(400);
      expect(await answer.text()).toMatch(/payload/);
    });
  });

  it('answers the v2 and the v3 verification challenge as the simulator sends them (and not for another app)', async () => {
    const v2 = await sim.createWebhook({ clientId: sim.demoApp.clientId, url, type: 'eventBased' });
    expect(v2.verified).toBe(true);
    const v3 = await sim.v3.createWebhook({
      clientId: sim.demoApp.clientId,
      url,
      triggers: ['charge-ischargingcableconnected'],
    });
    expect(v3.verified).toBe(true);
    // Another app signs with its own management token: the service does not know it, so it cannot answer.
    const other = sim.registerApp({ name: 'Other', redirectUris: ['https://example.com/auth'] });
    expect((await sim.createWebhook({ clientId: other.clientId, url })).verified).toBe(false);
    expect(
      (await sim.v3.createWebhook({ clientId: other.clientId, url, triggers: ['charge-ischarging'] }))
        .verified,
    ).toBe(false);
  });

  it('stores v3 states with source webhook; a poll round then reads only the cars without a fresh one', async () => {
    sim.plugIn(carA, { stationKw: 11 });
    sim.setSoc(carA, 0.42);
    const webhook = await sim.v3.createWebhook({
      clientId: sim.demoApp.clientId,
      url,
      triggers: [
        'tractionbattery-stateofcharge',
        'charge-ischargingcableconnected',
        'charge-detailedchargingstatus',
        'charge-activelimit',
      ],
    });
    sim.v3.subscribe(webhook.id, carA);
    await sim.flushWebhooks();
    const stored = (await loadVehicleStates<{ soc: number; pluggedIn: boolean; charging: string }>(db)).get(
      carA,
    );
    expect(stored?.source).toBe('webhook');
    expect(stored?.state).toMatchObject({ soc: 0.42, pluggedIn: true });
    expect(stored?.readAt.getTime()).toBe(sim.clock.now().getTime());
    // The plug-in it reported re-plans (and that plan may ask car B): let it finish first.
    await expect
      .poll(async () => (await loadCurrentPlan(db))?.reason, { timeout: 10_000 })
      .toMatch(new RegExp(`${carA} plugged in \\(webhook\\)`));
    await running.service.replan('settled').catch(() => undefined);

    log.entries.length = 0;
    await running.service.monitorVehicles();
    const batches = log.entries.filter((entry) => entry.path.endsWith('/batch'));
    expect(batches.map((entry) => entry.path)).toEqual([`/v2.0/vehicles/${carB}/batch`]);

    // The car's view shows where its state came from and how old it is.
    const view = await api<{ state: { readAt: string; source: string } }>(
      running.admin,
      'GET',
      `api/vehicles/${carA}`,
    );
    expect(view.body.state).toMatchObject({ source: 'webhook', readAt: stored?.readAt.toISOString() });

    // Without further deliveries (a charging car's SoC keeps triggering them), the state grows older than
    // the poll interval and polling takes the car again.
    sim.v3.unsubscribe(webhook.id, carA);
    await sim.clock.advance(6 * 60_000);
    log.entries.length = 0;
    await running.service.monitorVehicles();
    expect(
      log.entries
        .filter((entry) => entry.path.endsWith('/batch'))
        .map((entry) => entry.path)
        .sort(),
    ).toEqual([`/v2.0/vehicles/${carA}/batch`, `/v2.0/vehicles/${carB}/batch`].sort());
  });

  it('an unplug pushed by a webhook re-plans without asking any car', async () => {
    sim.plugIn(carA, { stationKw: 11 });
    const webhook = await sim.v3.createWebhook({
      clientId: sim.demoApp.clientId,
      url,
      triggers: [
        'tractionbattery-stateofcharge',
        'charge-ischargingcableconnected',
        'charge-detailedchargingstatus',
      ],
    });
    sim.v3.subscribe(webhook.id, carA);
    await sim.flushWebhooks();
    log.entries.length = 0;
    sim.unplug(carA);
    await sim.flushWebhooks();
    await expect
      .poll(async () => (await loadCurrentPlan(db))?.reason, { timeout: 10_000 })
      .toMatch(new RegExp(`${carA} unplugged \\(webhook\\)`));
    expect((await stateOf(carA))?.source).toBe('webhook');
    // The re-plan used the pushed state: car A was not asked (car B may be, it has no webhook).
    expect(log.entries.filter((entry) => entry.path.includes(carA))).toEqual([]);
    sim.v3.unsubscribe(webhook.id, carA);
  });

  it('stores v2 scheduled deliveries (batch-shaped) and charging events', async () => {
    sim.plugIn(carB, { stationKw: 7.4 });
    sim.setSoc(carB, 0.3);
    const webhook = await sim.createWebhook({
      clientId: sim.demoApp.clientId,
      url,
      type: 'scheduled',
      intervalMs: 60_000,
      paths: ['/battery', '/charge', '/charge/limit'],
    });
    expect(webhook.verified).toBe(true);
    const vehicle = await api<{ grantId: string }>(running.admin, 'GET', `api/vehicles/${carB}`);
    const client = createClient({
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
      redirectUri: running.redirectUri,
      origin: sim.url,
      tokenStore: sqlTokenStore(db, running.cipher),
    });
    await client.grant(vehicle.body.grantId).vehicle(carB, { scopes: [] }).subscribe(webhook.id);
    await sim.clock.advance(61_000);
    const stored = (
      await loadVehicleStates<{ soc: number; pluggedIn: boolean; chargeLimit: number }>(db)
    ).get(carB);
    expect(stored?.source).toBe('webhook');
    expect(stored?.state.pluggedIn).toBe(true);
    expect(stored?.state.soc).toBeCloseTo(sim.vehicle(carB).state.soc ?? -1, 2);
    expect(stored?.readAt.getTime()).toBe(sim.clock.now().getTime());
  });
});
