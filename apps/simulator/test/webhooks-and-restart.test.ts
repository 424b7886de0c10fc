import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebhookPayloadSchema } from '@voltkit/core/types';
import smartcar from 'smartcar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, signPayload, type Simulator } from '@voltkit/simulator';
import { pointSdkAt, sdkError, startWebhookReceiver, type WebhookReceiver } from './helpers.ts';

const REDIRECT = 'https://example.com/auth';
const HOUR = 3_600_000;

async function connect(sim: Simulator, email: string, make: string, scope: string) {
  const client = new smartcar.AuthClient({
    clientId: sim.demoApp.clientId,
    clientSecret: sim.demoApp.clientSecret,
    redirectUri: REDIRECT,
  });
  const { code, vehicleIds } = sim.authorize({
    clientId: sim.demoApp.clientId,
    redirectUri: REDIRECT,
    scope,
    email,
    make,
  });
  const access = await client.exchangeCode(code);
  const vehicleId = vehicleIds[0] ?? '';
  return { client, access, vehicleId, vehicle: new smartcar.Vehicle(vehicleId, access.accessToken) };
}

type Delivery = {
  eventName?: string;
  payload?: {
    eventType?: string;
    vehicles?: { vehicleId: string; data: { path: string; code: number; body: Record<string, unknown> }[] }[];
  };
};

describe('webhooks', () => {
  let sim: Simulator;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2025-02-01T00:00:00Z') } });
    pointSdkAt(sim.url);
    receiver = await startWebhookReceiver(sim.demoApp.managementToken);
  });
  afterAll(async () => {
    await sim.close();
    await receiver.close();
  });

  it('delivers charging started, stopped and completed events, signed with the AMT', async () => {
    const { vehicle, vehicleId } = await connect(
      sim,
      'events@example.com',
      'TESLA',
      'read_charge read_battery control_charge',
    );
    const webhook = await sim.createWebhook({
      clientId: sim.demoApp.clientId,
      url: receiver.url,
      type: 'eventBased',
    });
    await vehicle.subscribe(webhook.id);
    receiver.deliveries.length = 0;

    sim.setSoc(vehicleId, 0.5);
    sim.plugIn(vehicleId, { stationKw: 11 });
    await vehicle.stopCharge();
    await vehicle.startCharge();
    await sim.clock.advance(8 * HOUR);
    await sim.flushWebhooks();

    const types = receiver.deliveries.map((d) => (d.body as Delivery).payload?.eventType);
    expect(types).toEqual(['CHARGING_STARTED', 'CHARGING_STOPPED', 'CHARGING_STARTED', 'CHARGING_COMPLETED']);
    for (const delivery of receiver.deliveries) {
      expect(delivery.signature).toBe(signPayload(sim.demoApp.managementToken, delivery.raw));
      expect(
        smartcar.verifyPayload(sim.demoApp.managementToken, delivery.signature ?? '', delivery.body),
      ).toBe(true);
      expect(delivery.body).toMatchObject({
        version: '2.0',
        webhookId: webhook.id,
        eventName: 'eventBased',
        payload: { vehicleId },
      });
      expect(WebhookPayloadSchema.safeParse(delivery.body).success).toBe(true);
    }
  });

  it('delivers scheduled data on the simulated clock', async () => {
    const { vehicle, vehicleId } = await connect(
      sim,
      'schedule@example.com',
      'FORD',
      'read_battery read_odometer',
    );
    const webhook = await sim.createWebhook({
      clientId: sim.demoApp.clientId,
      url: receiver.url,
      type: 'scheduled',
      intervalMs: HOUR,
      paths: ['/battery', '/odometer', '/fuel'],
    });
    await vehicle.subscribe(webhook.id);
    receiver.deliveries.length = 0;
    await sim.clock.advance(HOUR / 2);
    expect(receiver.deliveries).toHaveLength(0);
    sim.drive(vehicleId, { distanceKm: 20, speedKph: 40 });
    await sim.clock.advance(HOUR / 2);
    expect(receiver.deliveries).toHaveLength(1);
    const body = receiver.deliveries[0]?.body as Delivery;
    expect(body.eventName).toBe('schedule');
    expect(WebhookPayloadSchema.safeParse(body).success).toBe(true);
    const data = body.payload?.vehicles?.[0]?.data ?? [];
    expect(body.payload?.vehicles?.[0]?.vehicleId).toBe(vehicleId);
    expect(data.map((d) => [d.path, d.code])).toEqual([
      ['/battery', 200],
      ['/odometer', 200],
      ['/fuel', 403],
    ]);
    expect(data[1]?.body['distance']).toBeCloseTo(sim.vehicle(vehicleId).state.odometerKm, 1);
    await sim.clock.advance(HOUR);
    expect(receiver.deliveries).toHaveLength(2);
  });

  it('does not verify an endpoint that answers the challenge wrongly, and refuses subscriptions to it', async () => {
    const wrong = await startWebhookReceiver('not-the-amt');
    try {
      const webhook = await sim.createWebhook({ clientId: sim.demoApp.clientId, url: wrong.url });
      expect(webhook.verified).toBe(false);
      const { vehicle } = await connect(sim, 'unverified@example.com', 'KIA', 'read_odometer');
      const error = await sdkError(() => vehicle.subscribe(webhook.id));
      expect([error.statusCode, error.type]).toEqual([400, 'VALIDATION']);
    } finally {
      await wrong.close();
    }
  });

  it('limits requests per app with Retry-After', async () => {
    const { vehicle } = await connect(sim, 'app-limit@example.com', 'KIA', 'read_odometer');
    sim.setRateLimits({ app: { capacity: 3, refillPerMinute: 2 } });
    try {
      for (let i = 0; i < 3; i++) await vehicle.odometer();
      const error = await sdkError(() => vehicle.odometer());
      expect([error.statusCode, error.type, error.code, error.retryAfter]).toEqual([
        429,
        'RATE_LIMIT',
        'SMARTCAR_API',
        '30',
      ]);
    } finally {
      sim.setRateLimits({ app: null });
    }
  });
});

describe('persistence', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'voltkit-sim-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps apps, accounts, vehicles, tokens, webhooks and the clock across a restart', async () => {
    const first = await createSimulator({
      dataDir,
      clock: { mode: 'manual', start: new Date('2025-04-01T00:00:00Z') },
    });
    pointSdkAt(first.url);
    const app = first.registerApp({ name: 'Restart test', redirectUris: [REDIRECT] });
    const { access, vehicleId } = await connect(
      first,
      'restart@example.com',
      'CHEVROLET',
      'read_battery read_charge read_fuel',
    );
    first.setSoc(vehicleId, 0.4);
    first.plugIn(vehicleId);
    await first.clock.advance(HOUR);
    const before = first.vehicle(vehicleId);
    const clockBefore = first.clock.now().getTime();
    await first.close();
    const saved = JSON.parse(await readFile(join(dataDir, 'simulator-state.json'), 'utf8')) as {
      version: number;
    };
    expect(saved.version).toBe(1);

    const second = await createSimulator({ dataDir, clock: { mode: 'manual' } });
    try {
      pointSdkAt(second.url);
      expect(second.clock.now().getTime()).toBe(clockBefore);
      const vehicle = new smartcar.Vehicle(vehicleId, access.accessToken);
      const charge = await vehicle.charge();
      expect(charge).toMatchObject({ isPluggedIn: true, state: 'CHARGING' });
      expect((await vehicle.fuel()).percentRemaining).toBeCloseTo(
        before.state.fuelLiters === null ? 0 : before.state.fuelLiters / 33.7,
        3,
      );
      expect(second.vehicle(vehicleId).state.soc).toBe(before.state.soc);
      const userId = (await smartcar.getUser(access.accessToken)).id;
      // Charging continues on the restored timeline.
      await second.clock.advance(HOUR);
      expect(second.vehicle(vehicleId).state.soc ?? 0).toBeGreaterThan(before.state.soc ?? 1);
      const client = new smartcar.AuthClient({
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        redirectUri: REDIRECT,
      });
      const { code } = second.authorize({
        clientId: app.clientId,
        redirectUri: REDIRECT,
        scope: 'read_vin',
        email: 'restart@example.com',
        make: 'CHEVROLET',
      });
      const renewed = await client.exchangeCode(code);
      expect((await smartcar.getUser(renewed.accessToken)).id).toBe(userId);
    } finally {
      await second.close();
    }
  });
});

describe('snapshot writes stay off the read path', () => {
  it('reads do not rewrite the snapshot; a command does, once, after the debounce', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voltkit-sim-io-'));
    const sim = await createSimulator({ dataDir: dir, clock: { mode: 'manual' } });
    try {
      pointSdkAt(sim.url);
      const { vehicle } = await connect(sim, 'io@example.com', 'TESLA', 'read_battery control_security');
      const file = join(dir, 'simulator-state.json');
      // Let the writes of the consent settle (debounce 250 ms), with room for a loaded machine.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const before = (await stat(file)).mtimeMs;
      for (let i = 0; i < 50; i++) await vehicle.battery();
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect((await stat(file)).mtimeMs).toBe(before);
      await vehicle.unlock();
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect((await stat(file)).mtimeMs).toBeGreaterThan(before);
      const saved = JSON.parse(await readFile(file, 'utf8')) as {
        vehicles: { state: { isLocked: boolean } }[];
      };
      expect(saved.vehicles[0]?.state.isLocked).toBe(false);
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('snapshot validation', () => {
  it('refuses a corrupt or invalid snapshot with a message naming the problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voltkit-sim-bad-'));
    try {
      await writeFile(join(dir, 'simulator-state.json'), '{"version":1,');
      await expect(createSimulator({ dataDir: dir })).rejects.toThrow(/not valid JSON/);
      const first = await createSimulator({ dataDir: dir + '-ok' });
      await first.close();
      const good = JSON.parse(await readFile(join(dir + '-ok', 'simulator-state.json'), 'utf8')) as {
        apps: { clientId: unknown }[];
      };
      const firstApp = good.apps[0];
      if (firstApp !== undefined) firstApp.clientId = 42;
      await writeFile(join(dir, 'simulator-state.json'), JSON.stringify(good));
      await expect(createSimulator({ dataDir: dir })).rejects.toThrow(/apps\.0\.clientId/);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(dir + '-ok', { recursive: true, force: true });
    }
  });
});

describe('accelerated clock', () => {
  it('runs simulated time at the chosen speed and charges on its own', async () => {
    const sim = await createSimulator({ clock: { mode: 'accelerated', speed: 3_600 } });
    try {
      const { vehicleIds } = sim.authorize({
        clientId: sim.demoApp.clientId,
        redirectUri: REDIRECT,
        scope: 'read_battery',
        email: 'fast@example.com',
        make: 'TESLA',
      });
      const id = vehicleIds[0] ?? '';
      sim.setSoc(id, 0.2);
      sim.plugIn(id, { stationKw: 11 });
      const start = sim.clock.now().getTime();
      const wallStart = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const simulated = sim.clock.now().getTime() - start;
      const wall = Date.now() - wallStart;
      expect(simulated).toBeGreaterThanOrEqual(wall * 3_600 * 0.99);
      expect(sim.vehicle(id).state.soc ?? 0).toBeGreaterThan(0.2);
      await expect(sim.clock.advance(1)).rejects.toThrow();
    } finally {
      await sim.close();
    }
  });
});
