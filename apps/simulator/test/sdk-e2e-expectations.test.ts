import { randomUUID } from 'node:crypto';
import smartcar, { type Vehicle } from 'smartcar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { connectOverHttp, pointSdkAt, sdkError } from './helpers.ts';

/**
 * The assertions of the official SDK's own end-to-end suite (test mode, brands CHEVROLET / FORD / KIA,
 * exact key sets, exact error messages), checked against the simulator. The suite's browser step is
 * replaced by the same Connect pages submitted over HTTP; the browser path has its own test.
 */

const REDIRECT = 'https://example.com/auth';
const VOLT_SCOPES = [
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
];

let sim: Simulator;
let volt: Vehicle;
let ford: Vehicle;
let kia: Vehicle;
let voltToken: string;
let voltUserId: string;

const keys = (value: object) => Object.keys(value).sort();
const sorted = (...names: string[]) => [...names, 'meta'].sort();

function authClient() {
  return new smartcar.AuthClient({
    clientId: sim.demoApp.clientId,
    clientSecret: sim.demoApp.clientSecret,
    redirectUri: REDIRECT,
    mode: 'test',
  });
}

async function connectVehicle(brand: string, scope: string[]): Promise<{ vehicle: Vehicle; token: string }> {
  const client = authClient();
  const redirect = await connectOverHttp(client.getAuthUrl(scope), {
    brand,
    email: `${randomUUID()}@email.com`,
  });
  const access = await client.exchangeCode(redirect.searchParams.get('code') ?? '');
  expect(keys(access)).toEqual(['accessToken', 'expiration', 'refreshExpiration', 'refreshToken']);
  const { vehicles } = await smartcar.getVehicles(access.accessToken);
  return { vehicle: new smartcar.Vehicle(vehicles[0] ?? '', access.accessToken), token: access.accessToken };
}

beforeAll(async () => {
  sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2025-09-01T10:00:00Z') } });
  pointSdkAt(sim.url);
  const [v, f, k] = await Promise.all([
    connectVehicle('CHEVROLET', VOLT_SCOPES),
    connectVehicle('FORD', [
      'required:control_charge',
      'required:control_security',
      'required:read_security',
      'required:control_navigation',
      'required:read_service_history',
    ]),
    connectVehicle('KIA', ['required:read_charge', 'required:control_charge']),
  ]);
  volt = v.vehicle;
  voltToken = v.token;
  ford = f.vehicle;
  kia = k.vehicle;
  voltUserId = (await smartcar.getUser(voltToken)).id;
});

afterAll(async () => {
  await sim.close();
});

describe('the SDK e2e expectations (test mode)', () => {
  it('volt data endpoints have exactly the documented keys', async () => {
    expect(keys(await volt.vin())).toEqual(sorted('vin'));
    expect(keys(await volt.charge())).toEqual(sorted('isPluggedIn', 'state'));
    expect(keys(await volt.battery())).toEqual(sorted('percentRemaining', 'range'));
    expect(keys(await volt.batteryCapacity())).toEqual(sorted('capacity'));
    expect(keys(await volt.nominalCapacity())).toEqual(sorted('availableCapacities', 'capacity', 'url'));
    expect(keys(await volt.fuel())).toEqual(sorted('amountRemaining', 'percentRemaining', 'range'));
    expect(keys(await volt.tirePressure())).toEqual(
      sorted('backLeft', 'backRight', 'frontLeft', 'frontRight'),
    );
    expect(keys(await volt.engineOil())).toEqual(sorted('lifeRemaining'));
    expect(keys(await volt.odometer())).toEqual(sorted('distance'));
    expect(keys(await volt.location())).toEqual(sorted('latitude', 'longitude'));
    expect(keys(await volt.diagnosticTroubleCodes())).toEqual(sorted('activeCodes'));
    expect(keys(await volt.diagnosticSystemStatus())).toEqual(sorted('systems'));
    const attributes = await volt.attributes();
    expect(keys(attributes)).toEqual(sorted('id', 'make', 'model', 'year'));
    expect([attributes.make, attributes.model, typeof attributes.year]).toEqual([
      'CHEVROLET',
      'Volt',
      'number',
    ]);
    const permissions = await volt.permissions();
    expect(keys(permissions)).toEqual(sorted('paging', 'permissions'));
    expect(permissions.permissions.map((p) => `required:${p}`).sort()).toEqual([...VOLT_SCOPES].sort());
    expect(permissions.paging).toEqual({ count: 12, offset: 0 });
  });

  it('volt batch and raw requests', async () => {
    const batch = await volt.batch([
      '/odometer',
      '/location',
      '/diagnostics/dtcs',
      '/diagnostics/system_status',
    ]);
    expect(keys(batch['odometer']?.() ?? {})).toEqual(sorted('distance'));
    expect(keys(batch['location']?.() ?? {})).toEqual(sorted('latitude', 'longitude'));
    expect(keys(batch['diagnosticTroubleCodes']?.() ?? {})).toEqual(sorted('activeCodes'));
    expect(keys(batch['diagnosticSystemStatus']?.() ?? {})).toEqual(sorted('systems'));

    const odometer = await volt.request('get', 'odometer', null, { 'sc-unit-system': 'imperial' });
    expect(keys(odometer)).toEqual(sorted('body'));
    expect(odometer.meta.unitSystem).toBe('imperial');
    const raw = await volt.request('post', 'batch', {
      requests: [{ path: '/odometer' }, { path: '/tires/pressure' }],
    });
    const responses = (
      raw.body as { responses: { path: string; code: number; headers: Record<string, string> }[] }
    ).responses;
    expect(responses.map((r) => [r.path, r.code, r.headers['sc-unit-system']])).toEqual([
      ['/odometer', 200, 'metric'],
      ['/tires/pressure', 200, 'metric'],
    ]);
  });

  it('webhook subscribe/unsubscribe errors carry the exact messages', async () => {
    const subscribe = await sdkError(() => volt.subscribe('webhookID'));
    expect(subscribe.message).toBe(
      'VALIDATION:null - Request invalid or malformed. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
    );
    expect(subscribe.requestId).toHaveLength(36);
    const unsubscribe = await sdkError(() => volt.unsubscribe('amt', 'webhookID'));
    expect(unsubscribe.message).toBe(
      'AUTHENTICATION:null - The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
    );
    expect(unsubscribe.statusCode).toBe(401);
  });

  it('ford commands succeed whatever order the suite runs them in', async () => {
    const command = sorted('message', 'status');
    const [lock, unlock, start, stop] = await Promise.all([
      ford.lock(),
      ford.unlock(),
      ford.startCharge(),
      ford.stopCharge(),
    ]);
    for (const response of [lock, unlock, start, stop]) {
      expect(keys(response)).toEqual(command);
      expect(response).toMatchObject({ status: 'success', message: 'Successfully sent request to vehicle' });
    }
    expect(keys(await ford.lockStatus())).toEqual(
      sorted('chargingPort', 'doors', 'isLocked', 'storage', 'sunroof', 'windows'),
    );
    const batch = await ford.batch(['/security']);
    expect(keys(batch['lockStatus']?.() ?? {})).toEqual(
      sorted('chargingPort', 'doors', 'isLocked', 'storage', 'sunroof', 'windows'),
    );
    expect(Array.isArray((await ford.serviceHistory('2023-05-20', '2024-02-10')).data)).toBe(true);
    expect((await ford.sendDestination(37.7749, -122.4194)).status).toBe('success');
    await expect(ford.sendDestination(100, 0)).rejects.toThrow('Invalid latitude value');
  });

  it('kia reads and sets the charge limit, then disconnects', async () => {
    expect(typeof (await kia.getChargeLimit()).limit).toBe('number');
    expect((await kia.setChargeLimit(0.9)).status).toBe('success');
    const disconnect = await kia.disconnect();
    expect(keys(disconnect)).toEqual(sorted('status'));
  });

  it('user-level calls, compatibility and the matrix', async () => {
    const list = await smartcar.getVehicles(voltToken);
    expect(keys(list)).toEqual(sorted('paging', 'vehicles'));
    expect(list.paging.offset).toBe(0);
    expect(keys(await smartcar.getUser(voltToken))).toEqual(sorted('id'));

    const credentials = { clientId: sim.demoApp.clientId, clientSecret: sim.demoApp.clientSecret };
    const scope = ['read_odometer', 'read_location'];
    const tesla = await smartcar.getCompatibility('5YJXCDE22HF068739', scope, undefined, credentials);
    const audi = await smartcar.getCompatibility('WAUAFAFL1GN014882', scope, undefined, credentials);
    for (const response of [tesla, audi]) {
      expect(keys(response)).toEqual(sorted('capabilities', 'compatible', 'reason'));
      expect(response.compatible).toBe(true);
      expect(response.capabilities).toHaveLength(2);
    }
    // A 2017 Model X answers both; no Audi of model year 2016 is in the catalog.
    expect((tesla.capabilities as { capable: boolean }[]).every((c) => c.capable)).toBe(true);
    expect((audi.capabilities as { capable: boolean }[]).every((c) => !c.capable)).toBe(true);

    const matrix = await smartcar.getCompatibilityMatrix('US', {
      scope: ['read_battery', 'read_charge'],
      make: 'NISSAN',
      type: 'BEV',
      ...credentials,
    });
    const nissan = matrix['NISSAN'] as { type: string; permissions: string[] }[];
    expect(nissan.length).toBeGreaterThan(0);
    for (const entry of nissan) {
      expect(keys(entry)).toEqual(['endYear', 'endpoints', 'model', 'permissions', 'startYear', 'type']);
      expect(entry.type).toBe('BEV');
      expect(entry.permissions).toEqual(expect.arrayContaining(['read_battery', 'read_charge']));
    }
  });

  it('management connections: list, filter, page and delete', async () => {
    const amt = sim.demoApp.managementToken;
    const all = await smartcar.getConnections(amt);
    expect(all.connections[0]).toMatchObject({
      userId: expect.any(String),
      vehicleId: expect.any(String),
      connectedAt: expect.any(String),
    });
    expect((await smartcar.getConnections(amt, { vehicleId: volt.id })).connections).toHaveLength(1);
    expect((await smartcar.getConnections(amt, { userId: voltUserId })).connections).toHaveLength(1);
    expect(
      (await smartcar.getConnections(amt, { userId: voltUserId }, { limit: 1 })).connections,
    ).toHaveLength(1);
    const paged = await smartcar.getConnections(amt, {}, { limit: 1 });
    expect(paged.connections).toHaveLength(1);
    expect(paged.paging.cursor).not.toBeNull();
    const next = await smartcar.getConnections(amt, {}, { limit: 1, cursor: paged.paging.cursor ?? '' });
    expect(next.connections[0]?.vehicleId).not.toBe(paged.connections[0]?.vehicleId);

    expect((await smartcar.deleteConnections(amt, { vehicleId: volt.id })).connections).toEqual([
      { userId: voltUserId, vehicleId: volt.id },
    ]);
    expect((await smartcar.deleteConnections(amt, { userId: voltUserId })).connections).toHaveLength(0);
    const gone = await sdkError(() => volt.odometer());
    expect(gone.type).toBe('AUTHENTICATION');
  });
});
