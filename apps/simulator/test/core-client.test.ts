import { createClient, isVoltkitError, parseWebhook, type VoltkitClient } from '@voltkit/core/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { connectOverHttp, startWebhookReceiver, type WebhookReceiver } from './helpers.ts';

const REDIRECT = 'https://example.com/auth';
const SCOPES = [
  'read_vehicle_info',
  'read_vin',
  'read_location',
  'read_odometer',
  'read_battery',
  'read_charge',
  'read_fuel',
  'read_tires',
  'read_engine_oil',
  'read_security',
  'read_diagnostics',
  'read_service_history',
  'control_security',
  'control_charge',
  'control_navigation',
] as const;

let sim: Simulator;
let client: VoltkitClient;
let receiver: WebhookReceiver;

beforeAll(async () => {
  sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2025-05-01T06:00:00Z') } });
  client = createClient({
    clientId: sim.demoApp.clientId,
    clientSecret: sim.demoApp.clientSecret,
    redirectUri: REDIRECT,
    origin: sim.url,
    retry: false,
  });
  receiver = await startWebhookReceiver(sim.demoApp.managementToken);
});

afterAll(async () => {
  await sim.close();
  await receiver.close();
});

/** Runs an async call that must fail; returns the VoltkitError. */
async function voltkitError(fn: () => Promise<unknown>) {
  try {
    await fn();
  } catch (error) {
    if (isVoltkitError(error)) return error;
    throw error;
  }
  throw new Error('expected a VoltkitError');
}

describe('@voltkit/core client against the simulator (every response validated by its zod schemas)', () => {
  it('runs the complete flow', async () => {
    const authUrl = client.getAuthUrl({
      scope: [...SCOPES],
      state: 'core-state',
      mode: 'test',
      forcePrompt: true,
    });
    const redirect = await connectOverHttp(authUrl, { brand: 'CHEVROLET', email: 'core@example.com' });
    const { code, state } = client.parseCallback(redirect);
    expect(state).toBe('core-state');
    await client.exchangeCode(code, { grantId: 'owner-1' });
    const grant = client.grant('owner-1');
    await grant.refresh();
    const user = await grant.user();
    const { vehicles } = await grant.vehicles();
    const vehicleId = vehicles[0] ?? '';
    const car = grant.vehicle(vehicleId, { scopes: SCOPES });

    expect(await car.attributes()).toMatchObject({ make: 'CHEVROLET', model: 'Volt', id: vehicleId });
    const reads = await Promise.all([
      car.vin(),
      car.location(),
      car.odometer(),
      car.battery(),
      car.batteryCapacity(),
      car.nominalCapacity(),
      car.charge(),
      car.getChargeLimit(),
      car.fuel(),
      car.tirePressure(),
      car.engineOil(),
      car.lockStatus(),
      car.diagnosticSystemStatus(),
      car.diagnosticTroubleCodes(),
      car.serviceHistory(),
    ]);
    for (const read of reads) expect(read.meta.requestId).toHaveLength(36);
    expect((await car.permissions()).permissions).toHaveLength(SCOPES.length);
    expect((await car.odometer({ unitSystem: 'imperial' })).meta.unitSystem).toBe('imperial');

    const batch = await car.batch(['/battery', '/charge', '/odometer']);
    expect(batch.get('/battery').percentRemaining).toBeGreaterThan(0);
    expect(batch.results['/charge'].ok).toBe(true);

    await car.unlock();
    expect((await car.lockStatus()).isLocked).toBe(false);
    await car.lock();
    sim.setSoc(vehicleId, 0.4);
    sim.plugIn(vehicleId);
    await car.stopCharge();
    expect((await car.charge()).state).toBe('NOT_CHARGING');
    await car.startCharge();
    await car.setChargeLimit(0.85);
    expect((await car.getChargeLimit()).limit).toBe(0.85);
    await car.sendDestination(48.8584, 2.2945);

    const webhook = await sim.createWebhook({ clientId: sim.demoApp.clientId, url: receiver.url });
    await car.subscribe(webhook.id);
    await sim.clock.advance(4 * 3_600_000); // past the 2 h access token too: the client refreshes by itself
    const delivery = receiver.deliveries.at(-1);
    const payload = parseWebhook(delivery?.raw ?? '', delivery?.signature ?? '', sim.demoApp.managementToken);
    expect(payload).toMatchObject({
      eventName: 'eventBased',
      payload: { eventType: 'CHARGING_COMPLETED', vehicleId },
    });
    await client.unsubscribe(sim.demoApp.managementToken, { vehicleId, webhookId: webhook.id });

    const vin = (await car.vin()).vin;
    const compatibility = await client.compatibility({
      vin,
      scope: ['read_battery', 'read_charge'],
      country: 'US',
    });
    expect(compatibility.compatible).toBe(true);
    const matrix = await client.compatibilityMatrix({ region: 'EUROPE', type: 'BEV' });
    expect(Object.keys(matrix.data)).toContain('DS');
    const connections = await client.connections(sim.demoApp.managementToken, { userId: user.id });
    expect(connections.connections.map((c) => c.vehicleId)).toEqual([vehicleId]);

    await car.disconnect();
    // The API answers 401; the client then tries its refresh token, which the disconnect revoked too.
    const revoked = await voltkitError(() => car.odometer());
    expect([revoked.status, revoked.type, revoked.code]).toEqual([400, 'OAUTH', 'invalid_grant']);
  });

  it('maps the simulator error paths to typed VoltkitErrors', async () => {
    const { code } = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri: REDIRECT,
      scope: 'read_battery read_fuel',
      email: 'VEHICLE_STATE.ASLEEP@smartcar.com',
      make: 'TESLA',
    });
    await client.exchangeCode(code, { grantId: 'asleep' });
    const grant = client.grant('asleep');
    const [vehicleId] = (await grant.vehicles()).vehicles;
    const car = grant.vehicle(vehicleId ?? '', { scopes: ['read_battery', 'read_fuel'] });
    const asleep = await voltkitError(() => car.battery());
    expect([asleep.status, asleep.type, asleep.code]).toEqual([409, 'VEHICLE_STATE', 'ASLEEP']);
    sim.injectError(vehicleId ?? '', null);
    const incompatible = await voltkitError(() => car.fuel());
    expect([incompatible.status, incompatible.type, incompatible.code]).toEqual([
      501,
      'COMPATIBILITY',
      'VEHICLE_NOT_CAPABLE',
    ]);
    // The token grants read_fuel/read_battery only; the server refuses what the client is told it has.
    const lying = grant.vehicle(vehicleId ?? '', { scopes: ['read_odometer'] });
    const permission = await voltkitError(() => lying.odometer());
    expect([permission.status, permission.type]).toEqual([403, 'PERMISSION']);
    sim.setRateLimits({ vehicle: { capacity: 1, refillPerMinute: 1 } });
    try {
      await car.battery();
      const limited = await voltkitError(() => car.battery());
      expect([limited.status, limited.type, limited.code, limited.retryAfter]).toEqual([
        429,
        'RATE_LIMIT',
        'VEHICLE',
        60,
      ]);
    } finally {
      sim.setRateLimits({ vehicle: null });
    }
  });
});
