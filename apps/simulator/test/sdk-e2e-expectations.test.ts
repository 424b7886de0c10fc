import { randomUUID } from 'node:crypto';
import smartcar, { type Access, type Meta, type Vehicle } from 'smartcar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { connectOverHttp, pointSdkAt, sdkError } from './helpers.ts';

/**
 * What the official SDK's end-to-end suite (smartcar/node-sdk v10.4.0, `ava --serial`) asks of the
 * platform, in the order it asks it: its files run one after another (auth-client, index, vehicle) and,
 * within a file, its `test.serial` tests run before the others. So the management deletes come before
 * `getVehicles` and `getUser` with the same token. Every Connect flow uses the suite's scopes and brands;
 * the browser is replaced by the same pages submitted over HTTP (the browser path has its own test).
 * The suite's v3 tests (hard-coded to Smartcar's v3 host) are not part of this file.
 */

const REDIRECT = 'https://example.com/auth';
const DEFAULT_SCOPES = [
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
  'required:read_user_profile',
  'required:read_diagnostics',
];
const FORD_SCOPES = [
  'required:control_charge',
  'required:control_security',
  'required:read_security',
  'required:control_navigation',
  'required:read_service_history',
];
const KIA_SCOPES = ['required:read_charge', 'required:control_charge'];
const AUTHENTICATION_DESCRIPTION =
  'The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.';
const COMMAND_KEYS = ['message', 'meta', 'status'];
const LOCK_STATUS_KEYS = ['chargingPort', 'doors', 'isLocked', 'meta', 'storage', 'sunroof', 'windows'];

let sim: Simulator;

const keys = (value: object) => Object.keys(value).sort();
const withMeta = (...names: string[]) => [...names, 'meta'].sort();

function authClient() {
  return new smartcar.AuthClient({
    clientId: sim.demoApp.clientId,
    clientSecret: sim.demoApp.clientSecret,
    redirectUri: REDIRECT,
    mode: 'test',
  });
}

/** One Connect run as the suite's `runAuthFlow` does it: a fresh email, the brand, approve. */
async function connect(scope: string[], brand = 'CHEVROLET'): Promise<Access> {
  const client = authClient();
  const redirect = await connectOverHttp(client.getAuthUrl(scope), {
    brand,
    email: `${randomUUID()}@email.com`,
    password: 'password',
  });
  expect(redirect.origin + redirect.pathname).toBe(REDIRECT);
  return client.exchangeCode(redirect.searchParams.get('code') ?? '');
}

async function connectVehicle(brand: string, scope: string[]): Promise<Vehicle> {
  const { accessToken } = await connect(scope, brand);
  const { vehicles } = await smartcar.getVehicles(accessToken);
  return new smartcar.Vehicle(vehicles[0] ?? '', accessToken);
}

function expectDataMeta(meta: Meta, unitSystem?: 'metric' | 'imperial'): void {
  expect(meta.dataAge).toBeInstanceOf(Date);
  expect(meta.requestId).toHaveLength(36);
  if (unitSystem !== undefined) expect(meta.unitSystem).toBe(unitSystem);
}

beforeAll(async () => {
  sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2025-09-01T10:00:00Z') } });
  pointSdkAt(sim.url);
});

afterAll(async () => {
  await sim.close();
});

describe('auth-client', () => {
  let tokens: Access;
  beforeAll(async () => {
    tokens = await connect(DEFAULT_SCOPES);
  });

  it('exchangeCode', () => {
    expect(keys(tokens)).toEqual(['accessToken', 'expiration', 'refreshExpiration', 'refreshToken']);
  });

  it('exchangeRefreshToken', async () => {
    const refreshed = await authClient().exchangeRefreshToken(tokens.refreshToken);
    expect(keys(refreshed)).toEqual(['accessToken', 'expiration', 'refreshExpiration', 'refreshToken']);
  });
});

describe('index (serial tests first, then the rest)', () => {
  let accessToken: string;
  let refreshToken: string;
  let userId: string;
  let connectedVehicles: string[];
  const amt = () => sim.demoApp.managementToken;

  beforeAll(async () => {
    const access = await connect(DEFAULT_SCOPES);
    accessToken = access.accessToken;
    refreshToken = access.refreshToken;
    connectedVehicles = (await smartcar.getVehicles(accessToken)).vehicles;
    userId = (await smartcar.getUser(accessToken)).id;
  });

  it('getCompatibilityMatrix', async () => {
    const response = await smartcar.getCompatibilityMatrix('US', {
      scope: ['read_battery', 'read_charge'],
      make: 'NISSAN',
      type: 'BEV',
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
    });
    const nissan = response['NISSAN'] as { type: string; permissions: string[] }[];
    expect(nissan.length).toBeGreaterThan(0);
    for (const entry of nissan) {
      expect(keys(entry)).toEqual(['endYear', 'endpoints', 'model', 'permissions', 'startYear', 'type']);
      expect(entry.type).toBe('BEV');
      expect(entry.permissions).toEqual(expect.arrayContaining(['read_battery', 'read_charge']));
    }
  });

  it('getConnections', async () => {
    const { connections } = await smartcar.getConnections(amt());
    expect(connections[0]?.userId).toBeTruthy();
    expect(connections[0]?.vehicleId).toBeTruthy();
    expect(connections[0]?.connectedAt).toBeTruthy();
  });

  it('getConnections - by vehicleId', async () => {
    const vehicleId = connectedVehicles[0] ?? '';
    const { connections } = await smartcar.getConnections(amt(), { vehicleId });
    expect(connections.map((c) => c.vehicleId)).toEqual([vehicleId]);
  });

  it('getConnections - by userId', async () => {
    const { connections } = await smartcar.getConnections(amt(), { userId });
    expect(connections).toHaveLength(connectedVehicles.length);
    for (const connection of connections) expect(connection.userId).toBe(userId);
  });

  it('getConnections - by userId - limit 1', async () => {
    const { connections } = await smartcar.getConnections(amt(), { userId }, { limit: 1 });
    expect(connections).toHaveLength(connectedVehicles.length);
  });

  it('deleteConnections - by vehicleId', async () => {
    const vehicleId = connectedVehicles[0] ?? '';
    const { connections } = await smartcar.deleteConnections(amt(), { vehicleId });
    expect(connections).toEqual([{ userId, vehicleId }]);
  });

  it('deleteConnections - by userId (nothing left after the delete above)', async () => {
    const { connections } = await smartcar.deleteConnections(amt(), { userId });
    expect(connections).toHaveLength(connectedVehicles.length - 1);
    for (const connection of connections) expect(connection.userId).toBe(userId);
  });

  it('getVehicles still answers after the deletes, listing no deleted vehicle', async () => {
    const response = await smartcar.getVehicles(accessToken);
    expect(keys(response)).toEqual(withMeta('paging', 'vehicles'));
    expect(response.paging.offset).toBe(0);
    expect(response.vehicles).toEqual([]);
    expect(response.meta.requestId).toHaveLength(36);
  });

  it('getUser still answers after the deletes', async () => {
    const response = await smartcar.getUser(accessToken);
    expect(keys(response)).toEqual(withMeta('id'));
    expect(response.id).toBe(userId);
    expect(response.id).toHaveLength(36);
    expect(response.meta.requestId).toHaveLength(36);
  });

  it('after a delete: the vehicle is refused to the token, the listing is empty, the refresh works', async () => {
    const deleted = new smartcar.Vehicle(connectedVehicles[0] ?? '', accessToken);
    const refused = await sdkError(() => deleted.odometer());
    expect([refused.statusCode, refused.type, refused.description]).toEqual([
      401,
      'AUTHENTICATION',
      AUTHENTICATION_DESCRIPTION,
    ]);
    expect((await smartcar.getConnections(amt(), { userId })).connections).toEqual([]);
    const refreshed = await authClient().exchangeRefreshToken(refreshToken);
    expect((await smartcar.getUser(refreshed.accessToken)).id).toBe(userId);
  });

  it('getCompatibility', async () => {
    const credentials = { clientId: sim.demoApp.clientId, clientSecret: sim.demoApp.clientSecret };
    const scope = ['read_odometer', 'read_location'];
    const tesla = await smartcar.getCompatibility('5YJXCDE22HF068739', scope, undefined, credentials);
    const audi = await smartcar.getCompatibility('WAUAFAFL1GN014882', scope, undefined, credentials);
    for (const response of [tesla, audi]) {
      expect(keys(response)).toEqual(withMeta('capabilities', 'compatible', 'reason'));
      expect(response.compatible).toBe(true);
      expect(response.meta.requestId).toHaveLength(36);
      expect(response.capabilities).toHaveLength(2);
    }
    // A 2017 Model X answers both; no Audi of model year 2016 is in the catalog.
    expect((tesla.capabilities as { capable: boolean }[]).every((c) => c.capable)).toBe(true);
    expect((audi.capabilities as { capable: boolean }[]).every((c) => !c.capable)).toBe(true);
  });
});

describe('vehicle', () => {
  let volt: Vehicle;
  let ford: Vehicle;
  let kia: Vehicle;
  const sdk = smartcar as unknown as { setApiVersion(version: string): void };

  beforeAll(async () => {
    volt = await connectVehicle('CHEVROLET', DEFAULT_SCOPES);
    ford = await connectVehicle('FORD', FORD_SCOPES);
    kia = await connectVehicle('KIA', KIA_SCOPES);
    // The suite switches the SDK's default version after building its vehicles; they keep 2.0.
    sdk.setApiVersion('1.0');
  });

  afterAll(async () => {
    // The suite's `test.after.always('vehicle disconnect')`.
    const response = await kia.disconnect();
    expect(keys(response)).toEqual(withMeta('status'));
    expect(response.status).toBe('success');
    expect(response.meta.requestId).toHaveLength(36);
    // Unlike a management delete, the app's own disconnect of a grant's last vehicle revokes its tokens.
    expect((await sdkError(() => kia.getChargeLimit())).statusCode).toBe(401);
    sdk.setApiVersion('2.0');
  });

  it('vehicle vin', async () => {
    const response = await volt.vin();
    expect(keys(response)).toEqual(withMeta('vin'));
    expect(response.vin).toHaveLength(17);
    expect(response.meta.requestId).toHaveLength(36);
  });

  it('vehicle charge', async () => {
    const response = await volt.charge();
    expect(keys(response)).toEqual(withMeta('isPluggedIn', 'state'));
    expect(['CHARGING', 'FULLY_CHARGED', 'NOT_CHARGING']).toContain(response.state);
    expect(typeof response.isPluggedIn).toBe('boolean');
    expectDataMeta(response.meta);
  });

  it('vehicle battery', async () => {
    const response = await volt.battery();
    expect(keys(response)).toEqual(withMeta('percentRemaining', 'range'));
    expect(typeof response.range).toBe('number');
    expect(response.percentRemaining).toBeGreaterThanOrEqual(0);
    expect(response.percentRemaining).toBeLessThanOrEqual(1);
    expectDataMeta(response.meta, 'metric');
  });

  it('vehicle batteryCapacity', async () => {
    const response = await volt.batteryCapacity();
    expect(keys(response)).toEqual(withMeta('capacity'));
    expect(typeof response.capacity).toBe('number');
    expectDataMeta(response.meta);
  });

  it('vehicle nominalCapacity', async () => {
    const response = await volt.nominalCapacity();
    expect(keys(response)).toEqual(withMeta('availableCapacities', 'capacity', 'url'));
    expect(Array.isArray(response['availableCapacities'])).toBe(true);
    expect(typeof response['capacity']).toBe('object');
    expectDataMeta(response.meta);
  });

  it('vehicle fuel', async () => {
    const response = await volt.fuel();
    expect(keys(response)).toEqual(withMeta('amountRemaining', 'percentRemaining', 'range'));
    expect(typeof response.range).toBe('number');
    expect(typeof response.amountRemaining).toBe('number');
    expect(response.percentRemaining).toBeGreaterThanOrEqual(0);
    expect(response.percentRemaining).toBeLessThanOrEqual(1);
    expectDataMeta(response.meta, 'metric');
  });

  it('vehicle tire pressure', async () => {
    const response = await volt.tirePressure();
    const corners = ['backLeft', 'backRight', 'frontLeft', 'frontRight'] as const;
    expect(keys(response)).toEqual(withMeta(...corners));
    for (const corner of corners) expect(typeof response[corner]).toBe('number');
    expectDataMeta(response.meta, 'metric');
  });

  it('vehicle engine oil', async () => {
    const response = await volt.engineOil();
    expect(keys(response)).toEqual(withMeta('lifeRemaining'));
    expect(response.lifeRemaining).toBeGreaterThanOrEqual(0);
    expect(response.lifeRemaining).toBeLessThanOrEqual(1);
    expectDataMeta(response.meta);
  });

  it('vehicle odometer', async () => {
    const response = await volt.odometer();
    expect(keys(response)).toEqual(withMeta('distance'));
    expect(typeof response.distance).toBe('number');
    expectDataMeta(response.meta, 'metric');
  });

  it('vehicle location', async () => {
    const response = await volt.location();
    expect(keys(response)).toEqual(withMeta('latitude', 'longitude'));
    expect(typeof response.latitude).toBe('number');
    expect(typeof response.longitude).toBe('number');
    expectDataMeta(response.meta);
  });

  it('vehicle attributes', async () => {
    const response = await volt.attributes();
    expect(keys(response)).toEqual(withMeta('id', 'make', 'model', 'year'));
    expect(response.id).toHaveLength(36);
    expect([response.make, response.model, typeof response.year]).toEqual(['CHEVROLET', 'Volt', 'number']);
    expect(response.meta.requestId).toHaveLength(36);
  });

  it('vehicle permissions', async () => {
    const response = await volt.permissions();
    expect(keys(response)).toEqual(withMeta('paging', 'permissions'));
    expect(response.permissions.map((p) => `required:${p}`).sort()).toEqual([...DEFAULT_SCOPES].sort());
    expect(response.meta.requestId).toHaveLength(36);
    expect(response.paging).toEqual({ count: 12, offset: 0 });
  });

  it('vehicle subscribe - error', async () => {
    const error = await sdkError(() => volt.subscribe('webhookID'));
    expect(error.requestId).toHaveLength(36);
    expect([error.statusCode, error.type]).toEqual([400, 'VALIDATION']);
    expect(error.message).toBe(
      'VALIDATION:null - Request invalid or malformed. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
    );
  });

  it('vehicle unsubscribe - error', async () => {
    const error = await sdkError(() => volt.unsubscribe('amt', 'webhookID'));
    expect(error.requestId).toHaveLength(36);
    expect([error.statusCode, error.type]).toEqual([401, 'AUTHENTICATION']);
    expect(error.message).toBe(`AUTHENTICATION:null - ${AUTHENTICATION_DESCRIPTION}`);
  });

  it('vehicle lock, unlock, read security', async () => {
    for (const response of [await ford.lock(), await ford.unlock()]) {
      expect(keys(response)).toEqual(COMMAND_KEYS);
      expect([response.status, response.message]).toEqual([
        'success',
        'Successfully sent request to vehicle',
      ]);
      expect(response.meta.requestId).toHaveLength(36);
    }
    expect(keys(await ford.lockStatus())).toEqual(LOCK_STATUS_KEYS);
  });

  it('vehicle startCharge, stopCharge (test mode: the Ford waits on its charger)', async () => {
    for (const response of [await ford.startCharge(), await ford.stopCharge()]) {
      expect(keys(response)).toEqual(COMMAND_KEYS);
      expect([response.status, response.message]).toEqual([
        'success',
        'Successfully sent request to vehicle',
      ]);
      expect(response.meta.requestId).toHaveLength(36);
    }
  });

  it('vehicle batch', async () => {
    const response = await volt.batch(['/odometer', '/location']);
    const odometer = response['odometer']?.() ?? { meta: {} };
    expect(keys(odometer)).toEqual(withMeta('distance'));
    expect(typeof odometer['distance']).toBe('number');
    expectDataMeta(odometer.meta, 'metric');
    const location = response['location']?.() ?? { meta: {} };
    expect(keys(location)).toEqual(withMeta('latitude', 'longitude'));
    expect(typeof location['latitude']).toBe('number');
    expectDataMeta(location.meta);
  });

  it('vehicle batch - security', async () => {
    const response = await ford.batch(['/security']);
    expect(keys(response['lockStatus']?.() ?? {})).toEqual(LOCK_STATUS_KEYS);
  });

  it('vehicle request - odometer (imperial)', async () => {
    const response = await volt.request('get', 'odometer', null, { 'sc-unit-system': 'imperial' });
    expect(keys(response)).toEqual(withMeta('body'));
    expect(typeof (response.body as { distance: unknown }).distance).toBe('number');
    expectDataMeta(response.meta, 'imperial');
  });

  it('vehicle request - batch', async () => {
    const response = await volt.request('post', 'batch', {
      requests: [{ path: '/odometer' }, { path: '/tires/pressure' }],
    });
    expect(keys(response)).toEqual(withMeta('body'));
    expect(response.meta.requestId).toHaveLength(36);
    const responses = (
      response.body as {
        responses: { path: string; code: number; headers: Record<string, string>; body: object }[];
      }
    ).responses;
    expect(responses.map((r) => [r.path, r.code, r.headers['sc-unit-system']])).toEqual([
      ['/odometer', 200, 'metric'],
      ['/tires/pressure', 200, 'metric'],
    ]);
    for (const item of responses)
      expect(Number.isNaN(Date.parse(item.headers['sc-data-age'] ?? ''))).toBe(false);
    expect(keys(responses[1]?.body ?? {})).toEqual(['backLeft', 'backRight', 'frontLeft', 'frontRight']);
  });

  it('vehicle request - override auth (Basic credentials, then a made-up bearer)', async () => {
    const service = volt['service'] as {
      request(method: string, path: string, body: null, options: object): Promise<unknown>;
    };
    const basic = `Basic ${Buffer.from('abc:def').toString('base64')}`;
    const overridden = await sdkError(() =>
      service.request('get', 'odometer', null, { headers: { Authorization: basic } }),
    );
    const bearer = await sdkError(() =>
      volt.request('get', 'odometer', null, { 'sc-unit-system': 'imperial', Authorization: 'Bearer abc' }),
    );
    for (const error of [overridden, bearer]) {
      expect([error.statusCode, error.type, error.description, error.docURL]).toEqual([
        401,
        'AUTHENTICATION',
        AUTHENTICATION_DESCRIPTION,
        'https://smartcar.com/docs/errors/api-errors/authentication-errors#null',
      ]);
    }
  });

  it('vehicle request - get and set charge limit', async () => {
    expect(typeof (await kia.getChargeLimit()).limit).toBe('number');
    expect((await kia.setChargeLimit(0.9)).status).toBe('success');
  });

  it('vehicle diagnostics, read and batched, without read_diagnostics being needed in test mode', async () => {
    const codes = await volt.diagnosticTroubleCodes();
    expect(keys(codes)).toEqual(withMeta('activeCodes'));
    for (const code of codes.activeCodes as { code: unknown; timestamp: unknown }[]) {
      expect(typeof code.code).toBe('string');
      expect(code.timestamp === null || typeof code.timestamp === 'string').toBe(true);
    }
    expectDataMeta(codes.meta);
    const status = await volt.diagnosticSystemStatus();
    expect(keys(status)).toEqual(withMeta('systems'));
    for (const system of status.systems as { systemId: unknown; status: string; description: unknown }[]) {
      expect(typeof system.systemId).toBe('string');
      expect(['OK', 'ALERT']).toContain(system.status);
      expect(system.description === null || typeof system.description === 'string').toBe(true);
    }
    expectDataMeta(status.meta);
    const batch = await volt.batch(['/diagnostics/dtcs', '/diagnostics/system_status']);
    expect(keys(batch['diagnosticTroubleCodes']?.() ?? {})).toEqual(withMeta('activeCodes'));
    expect(keys(batch['diagnosticSystemStatus']?.() ?? {})).toEqual(withMeta('systems'));
  });

  it('vehicle request - service history', async () => {
    expect(Array.isArray((await ford.serviceHistory('2023-05-20', '2024-02-10')).data)).toBe(true);
  });

  it('vehicle request - send destination, and the SDK refuses invalid coordinates', async () => {
    expect((await ford.sendDestination(37.7749, -122.4194)).status).toBe('success');
    const latitude = 'Invalid latitude value. It must be between -90 and 90.';
    const longitude = 'Invalid longitude value. It must be between -180 and 180.';
    await expect(ford.sendDestination(100, -122.4194)).rejects.toThrow(latitude);
    await expect(ford.sendDestination(-91, -122.4194)).rejects.toThrow(latitude);
    await expect(ford.sendDestination(37.7749, 200)).rejects.toThrow(longitude);
    await expect(ford.sendDestination(37.7749, -181)).rejects.toThrow(longitude);
  });
});

describe('a management delete of one vehicle of a two-vehicle grant', () => {
  it('drops that vehicle only; the grant, its tokens and its other vehicle keep working', async () => {
    const email = `${randomUUID()}@email.com`;
    sim.createTestAccount({ email, brand: 'TESLA', vehicleCount: 2 });
    const { code } = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri: REDIRECT,
      scope: 'read_odometer read_vin',
      email,
      mode: 'test',
    });
    const { accessToken } = await authClient().exchangeCode(code);
    const { vehicles } = await smartcar.getVehicles(accessToken);
    expect(vehicles).toHaveLength(2);
    const [kept, deleted] = vehicles as [string, string];
    const amt = sim.demoApp.managementToken;

    const { connections } = await smartcar.deleteConnections(amt, { vehicleId: deleted });
    expect(connections.map((c) => c.vehicleId)).toEqual([deleted]);
    expect((await smartcar.getVehicles(accessToken)).vehicles).toEqual([kept]);
    expect(typeof (await new smartcar.Vehicle(kept, accessToken).odometer()).distance).toBe('number');
    const refused = await sdkError(() => new smartcar.Vehicle(deleted, accessToken).vin());
    expect([refused.statusCode, refused.type]).toEqual([401, 'AUTHENTICATION']);
    const userId = (await smartcar.getUser(accessToken)).id;
    const listed = await smartcar.getConnections(amt, { userId });
    expect(listed.connections.map((c) => c.vehicleId)).toEqual([kept]);
    // Deleting again finds nothing, and says so with an empty list rather than an error.
    expect((await smartcar.deleteConnections(amt, { vehicleId: deleted })).connections).toEqual([]);
  });
});
