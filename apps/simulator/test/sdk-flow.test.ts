import smartcar from 'smartcar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import {
  connectOverHttp,
  pointSdkAt,
  sdkError,
  startWebhookReceiver,
  type WebhookReceiver,
} from './helpers.ts';

const SCOPES = [
  'required:read_vehicle_info',
  'required:read_location',
  'required:read_odometer',
  'required:control_security',
  'required:read_vin',
  'required:read_fuel',
  'required:read_battery',
  'required:read_charge',
  'required:read_engine_oil',
  'required:read_tires',
  'required:read_security',
  'required:control_charge',
  'read_diagnostics',
  'read_service_history',
  'control_navigation',
];
const REDIRECT = 'https://example.com/auth';

let sim: Simulator;
let receiver: WebhookReceiver;

beforeAll(async () => {
  sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2025-06-01T08:00:00Z') } });
  pointSdkAt(sim.url);
  receiver = await startWebhookReceiver(sim.demoApp.managementToken);
});

afterAll(async () => {
  await sim.close();
  await receiver.close();
});

function authClient() {
  return new smartcar.AuthClient({
    clientId: sim.demoApp.clientId,
    clientSecret: sim.demoApp.clientSecret,
    redirectUri: REDIRECT,
    // Simulated mode: stateful and strict (a start on an unplugged car answers 409).
    mode: 'simulated',
  });
}

describe('the official smartcar SDK against the simulator', () => {
  it('runs the complete flow: Connect → tokens → every vehicle method → webhooks → disconnect', async () => {
    const client = authClient();
    const authUrl = client.getAuthUrl(SCOPES, { state: 'xyz-123', forcePrompt: true });
    expect(authUrl.startsWith(`${sim.url}/oauth/authorize?`)).toBe(true);

    const redirect = await connectOverHttp(authUrl, { brand: 'CHEVROLET', email: 'flow@example.com' });
    expect(`${redirect.origin}${redirect.pathname}`).toBe(REDIRECT);
    expect(redirect.searchParams.get('state')).toBe('xyz-123');
    const code = redirect.searchParams.get('code');
    expect(code).toMatch(/^[0-9a-f-]{36}$/);

    const first = await client.exchangeCode(code ?? '');
    expect(Object.keys(first).sort()).toEqual([
      'accessToken',
      'expiration',
      'refreshExpiration',
      'refreshToken',
    ]);
    expect(first.expiration.getTime() - Date.now()).toBeGreaterThan(7_100_000);
    // Reuse of codes and rotated refresh tokens, and what it revokes: test/oauth-attacks.test.ts.
    const access = await client.exchangeRefreshToken(first.refreshToken);
    expect(access.refreshToken).not.toBe(first.refreshToken);

    const { vehicles, paging, meta } = await smartcar.getVehicles(access.accessToken);
    expect(vehicles).toHaveLength(1);
    expect(paging).toEqual({ count: 1, offset: 0 });
    expect(meta.requestId).toHaveLength(36);
    const user = await smartcar.getUser(access.accessToken);
    expect(user.id).toHaveLength(36);

    const vehicleId = vehicles[0] ?? '';
    let vehicle = new smartcar.Vehicle(vehicleId, access.accessToken);
    const attributes = await vehicle.attributes();
    expect([attributes.make, attributes.model, attributes.id]).toEqual(['CHEVROLET', 'Volt', vehicleId]);
    expect((await vehicle.vin()).vin).toHaveLength(17);

    for (const read of [
      () => vehicle.location(),
      () => vehicle.odometer(),
      () => vehicle.battery(),
      () => vehicle.batteryCapacity(),
      () => vehicle.nominalCapacity(),
      () => vehicle.charge(),
      () => vehicle.fuel(),
      () => vehicle.tirePressure(),
      () => vehicle.engineOil(),
      () => vehicle.lockStatus(),
      () => vehicle.diagnosticSystemStatus(),
      () => vehicle.diagnosticTroubleCodes(),
      () => vehicle.getChargeLimit(),
    ]) {
      const result = await read();
      expect(result.meta.dataAge).toBeInstanceOf(Date);
      expect(result.meta.fetchedAt).toBeInstanceOf(Date);
      expect(result.meta.unitSystem).toBe('metric');
      expect(result.meta.requestId).toHaveLength(36);
    }
    const battery = await vehicle.battery();
    expect(battery.percentRemaining).toBeGreaterThan(0);
    expect(battery.percentRemaining).toBeLessThanOrEqual(1);
    const oil = await vehicle.engineOil();
    expect(oil.lifeRemaining).toBeGreaterThanOrEqual(0);
    const lock = await vehicle.lockStatus();
    expect(Object.keys(lock).sort()).toEqual([
      'chargingPort',
      'doors',
      'isLocked',
      'meta',
      'storage',
      'sunroof',
      'windows',
    ]);
    const history = await vehicle.serviceHistory();
    expect(Array.isArray(history.data)).toBe(true);
    expect(history.data.length).toBeGreaterThan(0);

    const permissions = await vehicle.permissions();
    expect(permissions.paging).toEqual({ count: SCOPES.length, offset: 0 });
    expect(permissions.permissions).toContain('read_battery');
    expect((await vehicle.permissions({ limit: 2, offset: 1 })).permissions).toHaveLength(2);

    const metricOdometer = await vehicle.odometer();
    const imperial = new smartcar.Vehicle(vehicleId, access.accessToken, { unitSystem: 'imperial' });
    const imperialOdometer = await imperial.odometer();
    expect(imperialOdometer.meta.unitSystem).toBe('imperial');
    expect(imperialOdometer.distance).toBeCloseTo(metricOdometer.distance * 0.621371, 0);

    const batch = await vehicle.batch(['/odometer', '/engine/oil', '/tires/pressure', '/', '/security']);
    expect(batch['odometer']?.().meta.unitSystem).toBe('metric');
    expect(batch['attributes']?.()).toMatchObject({ make: 'CHEVROLET', model: 'Volt' });
    expect(batch['tirePressure']?.()).toHaveProperty('frontLeft');
    expect(batch['lockStatus']?.()).toHaveProperty('isLocked', true);
    expect(batch['engineOil']?.().meta.dataAge).toBeInstanceOf(Date);

    const ok = { status: 'success', message: 'Successfully sent request to vehicle' };
    expect(await vehicle.unlock()).toMatchObject(ok);
    expect((await vehicle.lockStatus()).isLocked).toBe(false);
    expect(await vehicle.lock()).toMatchObject(ok);
    expect((await vehicle.lockStatus()).isLocked).toBe(true);

    const unplugged = await sdkError(() => vehicle.startCharge());
    expect([unplugged.statusCode, unplugged.type, unplugged.code]).toEqual([
      409,
      'VEHICLE_STATE',
      'CHARGING_PLUG_NOT_CONNECTED',
    ]);
    sim.setSoc(vehicleId, 0.3);
    sim.plugIn(vehicleId);
    expect((await vehicle.charge()).state).toBe('CHARGING');
    expect(await vehicle.stopCharge()).toMatchObject(ok);
    expect(await vehicle.charge()).toMatchObject({ isPluggedIn: true, state: 'NOT_CHARGING' });
    expect(await vehicle.startCharge()).toMatchObject(ok);
    expect((await vehicle.charge()).state).toBe('CHARGING');
    expect((await vehicle.setChargeLimit(0.9)).status).toBe('success');
    expect((await vehicle.getChargeLimit()).limit).toBe(0.9);
    expect((await vehicle.sendDestination(37.4292, -122.1381)).status).toBe('success');

    // Webhooks: an event-based webhook verified against a real receiver, then charging completes.
    const webhook = await sim.createWebhook({
      clientId: sim.demoApp.clientId,
      url: receiver.url,
      type: 'eventBased',
    });
    expect(webhook.verified).toBe(true);
    expect(await vehicle.subscribe(webhook.id)).toMatchObject({ webhookId: webhook.id, vehicleId });
    await sim.clock.advance(6 * 3_600_000);
    // Six simulated hours outlive the 2-hour access token: reads need a refresh first.
    const expired = await sdkError(() => vehicle.charge());
    expect([expired.statusCode, expired.type]).toEqual([401, 'AUTHENTICATION']);
    const renewed = await client.exchangeRefreshToken(access.refreshToken);
    access.accessToken = renewed.accessToken;
    access.refreshToken = renewed.refreshToken;
    vehicle = new smartcar.Vehicle(vehicleId, access.accessToken);
    expect(await vehicle.charge()).toMatchObject({ state: 'FULLY_CHARGED' });
    expect((await vehicle.battery()).percentRemaining).toBeCloseTo(0.9, 3);
    const completed = receiver.deliveries.find(
      (d) => (d.body as { payload?: { eventType?: string } }).payload?.eventType === 'CHARGING_COMPLETED',
    );
    expect(completed).toBeDefined();
    expect(
      smartcar.verifyPayload(sim.demoApp.managementToken, completed?.signature ?? '', completed?.body),
    ).toBe(true);
    expect((await vehicle.unsubscribe(sim.demoApp.managementToken, webhook.id)).status).toBe('success');

    const compatibility = await smartcar.getCompatibility(
      (await vehicle.vin()).vin,
      ['read_odometer', 'read_location'],
      'US',
      { clientId: sim.demoApp.clientId, clientSecret: sim.demoApp.clientSecret },
    );
    expect(Object.keys(compatibility).sort()).toEqual(['capabilities', 'compatible', 'meta', 'reason']);
    expect(compatibility.capabilities).toHaveLength(2);
    expect(compatibility.compatible).toBe(true);
    const matrix = await smartcar.getCompatibilityMatrix('US', {
      scope: ['read_battery', 'read_charge'],
      make: 'TESLA CHEVROLET',
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
    });
    const volt = (matrix['CHEVROLET'] as { model: string }[] | undefined)?.find((m) => m.model === 'Volt');
    expect(volt).toMatchObject({ type: 'PHEV', startYear: 2016 });
    expect(Object.keys(volt ?? {}).sort()).toEqual([
      'endYear',
      'endpoints',
      'model',
      'permissions',
      'startYear',
      'type',
    ]);
    expect(matrix['FORD']).toBeUndefined();
    const twoWordMake = await smartcar.getCompatibilityMatrix('EUROPE', {
      make: ['LAND ROVER', 'DS'],
      type: 'ICE',
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
    });
    expect(Object.keys(twoWordMake).filter((k) => k !== 'meta')).toEqual(['LAND ROVER']);

    const connections = await smartcar.getConnections(sim.demoApp.managementToken, { vehicleId });
    expect(connections.connections).toEqual([expect.objectContaining({ userId: user.id, vehicleId })]);
    expect(connections.connections[0]?.connectedAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    expect(Object.keys(await vehicle.disconnect()).sort()).toEqual(['meta', 'status']);
    const revoked = await sdkError(() => vehicle.odometer());
    expect([revoked.statusCode, revoked.type]).toEqual([401, 'AUTHENTICATION']);
    const afterDisconnect = await sdkError(() => client.exchangeRefreshToken(access.refreshToken));
    expect(afterDisconnect.type).toBe('invalid_grant');
  });

  it('answers error paths with the SDK typed errors', async () => {
    const client = authClient();
    const grant = (scope: string, email: string, make: string) =>
      sim.authorize({ clientId: sim.demoApp.clientId, redirectUri: REDIRECT, scope, email, make });

    // Permission: a scope the owner did not grant.
    const narrow = await client.exchangeCode(grant('read_odometer', 'narrow@example.com', 'TESLA').code);
    const [teslaId] = (await smartcar.getVehicles(narrow.accessToken)).vehicles;
    const tesla = new smartcar.Vehicle(teslaId ?? '', narrow.accessToken);
    const permission = await sdkError(() => tesla.battery());
    expect([permission.statusCode, permission.type, permission.code]).toEqual([403, 'PERMISSION', undefined]);
    expect(permission.message).toBe(
      'PERMISSION:null - Your application has insufficient permissions to access the requested resource. Please prompt the user to re-authenticate using Smartcar Connect.',
    );

    // Outside test mode, diagnostics need read_diagnostics like every other scoped endpoint.
    const diagnostics = await sdkError(() => tesla.diagnosticTroubleCodes());
    expect([diagnostics.statusCode, diagnostics.type]).toEqual([403, 'PERMISSION']);

    // Compatibility: a BEV has no fuel tank.
    const wide = await client.exchangeCode(
      grant('read_fuel read_battery read_charge', 'wide@example.com', 'TESLA').code,
    );
    const [wideId] = (await smartcar.getVehicles(wide.accessToken)).vehicles;
    const bev = new smartcar.Vehicle(wideId ?? '', wide.accessToken);
    const compatibility = await sdkError(() => bev.fuel());
    expect([compatibility.statusCode, compatibility.type, compatibility.code]).toEqual([
      501,
      'COMPATIBILITY',
      'VEHICLE_NOT_CAPABLE',
    ]);
    const batch = await bev.batch(['/fuel', '/battery']);
    expect(batch['battery']?.()['percentRemaining']).toBeGreaterThan(0);
    expect(() => batch['fuel']?.()).toThrow(smartcar.SmartcarError);

    // Vehicle state: asleep.
    sim.setAsleep(wideId ?? '', true);
    const asleep = await sdkError(() => bev.battery());
    expect([asleep.statusCode, asleep.type, asleep.code]).toEqual([409, 'VEHICLE_STATE', 'ASLEEP']);
    sim.setAsleep(wideId ?? '', false);

    // Rate limit per vehicle, with Retry-After.
    sim.setRateLimits({ vehicle: { capacity: 2, refillPerMinute: 1 } });
    await bev.battery();
    await bev.battery();
    const limited = await sdkError(() => bev.battery());
    expect([limited.statusCode, limited.type, limited.code]).toEqual([429, 'RATE_LIMIT', 'VEHICLE']);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    await sim.clock.advance(Number(limited.retryAfter) * 1000);
    expect((await bev.battery()).percentRemaining).toBeGreaterThan(0);
    sim.setRateLimits({ vehicle: null });

    // Authentication: a made-up token, and a token overridden through request().
    const bogus = new smartcar.Vehicle(wideId ?? '', 'not-a-token');
    const authentication = await sdkError(() => bogus.odometer());
    expect([authentication.statusCode, authentication.type]).toEqual([401, 'AUTHENTICATION']);
    const overridden = await sdkError(() =>
      bev.request('GET', 'odometer', undefined, { Authorization: 'Bearer abc' }),
    );
    expect(overridden.docURL).toBe('https://smartcar.com/docs/errors/api-errors/authentication-errors#null');
    const badSecret = new smartcar.AuthClient({
      clientId: sim.demoApp.clientId,
      clientSecret: 'wrong',
      redirectUri: REDIRECT,
    });
    const invalidClient = await sdkError(() => badSecret.exchangeCode('whatever'));
    expect([invalidClient.statusCode, invalidClient.type]).toEqual([401, 'invalid_client']);

    // Webhook subscribe/unsubscribe with bogus ids (the SDK e2e expectations).
    const subscribe = await sdkError(() => bev.subscribe('00000000-0000-4000-8000-000000000000'));
    expect([subscribe.statusCode, subscribe.type]).toEqual([400, 'VALIDATION']);
    expect(subscribe.description).toBe(
      'Request invalid or malformed. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
    );
    const unsubscribe = await sdkError(() => bev.unsubscribe('amt', 'webhook'));
    expect([unsubscribe.statusCode, unsubscribe.type]).toEqual([401, 'AUTHENTICATION']);
  });

  it('exchanges a code when the AuthClient has no redirect URI (the SDK sends redirect_uri=undefined)', async () => {
    const client = new smartcar.AuthClient({
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
      mode: 'test',
    });
    const redirect = await connectOverHttp(client.getAuthUrl(['read_odometer']), {
      brand: 'KIA',
      email: 'kia@example.com',
    });
    expect(`${redirect.origin}${redirect.pathname}`).toBe(REDIRECT);
    const access = await client.exchangeCode(redirect.searchParams.get('code') ?? '');
    const [id] = (await smartcar.getVehicles(access.accessToken)).vehicles;
    const odometer = await new smartcar.Vehicle(id ?? '', access.accessToken).odometer();
    expect(odometer.distance).toBeGreaterThan(0);

    // Denying consent redirects with access_denied and the state.
    // (forcePrompt: an owner who already granted read_odometer is not asked again otherwise.)
    const denied = await connectOverHttp(
      client.getAuthUrl(['read_odometer'], { state: 's1', forcePrompt: true }),
      {
        brand: 'KIA',
        email: 'kia@example.com',
        deny: true,
      },
    );
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('state')).toBe('s1');
  });
});
