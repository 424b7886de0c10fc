import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isVoltkitError } from '@voltkit/core/client';
import { ALL_SCOPES, VEHICLE_ENDPOINTS } from '@voltkit/core/permissions';
import {
  COMMAND_SUCCESS,
  COMPATIBILITY_BODY,
  CONNECTIONS_BODY,
  DATA_AGE,
  DATA_BODIES,
  errorBody,
  FETCHED_AT,
  MATRIX_BODY,
  USER_ID,
  VEHICLE_ID,
} from '../__tests__/fixtures.ts';
import { setup, type Harness } from '../__tests__/setup.ts';

let harness: Harness;
beforeEach(async () => {
  harness = await setup();
});
afterEach(async () => {
  await harness.server.close();
});

const last = () => harness.server.requests.at(-1)!;
const grantHandle = (scopes: readonly ('read_charge' | 'read_battery')[]) =>
  harness.client.grant(harness.grantId).vehicle(VEHICLE_ID, { scopes });
const everything = () => harness.client.grant(harness.grantId).vehicle(VEHICLE_ID, { scopes: ALL_SCOPES });

describe('data endpoints', () => {
  const names = Object.keys(DATA_BODIES).filter(
    (name) => name !== 'serviceHistory',
  ) as (keyof typeof DATA_BODIES)[];

  it.each(names)('%s() sends the right request and parses the reference body with meta', async (name) => {
    const car = everything();
    const result = await (car[name as 'battery'] as unknown as () => Promise<Record<string, unknown>>)();
    const { meta, ...body } = result;
    expect(body).toEqual(DATA_BODIES[name]);
    const request = last();
    const endpoint = VEHICLE_ENDPOINTS[name];
    expect(request.method).toBe('GET');
    expect(request.path).toBe(`/v2.0/vehicles/${VEHICLE_ID}${endpoint.path}`);
    expect(request.headers['sc-unit-system']).toBe('metric');
    expect(request.headers.authorization).toMatch(/^Bearer [0-9a-f-]{36}$/);
    expect(meta).toMatchObject({
      unitSystem: 'metric',
      dataAge: new Date(DATA_AGE),
      fetchedAt: new Date(FETCHED_AT),
    });
    expect((meta as { requestId: string }).requestId).toHaveLength(36);
  });

  it('serviceHistory() wraps the array and sends the date range only when given', async () => {
    const car = everything();
    const all = await car.serviceHistory();
    expect(all.data).toEqual(DATA_BODIES.serviceHistory);
    expect(all.meta.unitSystem).toBe('metric');
    expect([...last().query.keys()]).toEqual([]);
    await car.serviceHistory({ startDate: '2023-01-01', endDate: '2023-12-31' });
    expect(Object.fromEntries(last().query)).toEqual({ start_date: '2023-01-01', end_date: '2023-12-31' });
  });

  it('permissions() pages', async () => {
    const result = await everything().permissions({ limit: 1, offset: 0 });
    expect(result.permissions).toEqual(['read_battery', 'read_charge']);
    expect(Object.fromEntries(last().query)).toEqual({ limit: '1', offset: '0' });
  });

  it('sends the unit system per vehicle and per call, and flags', async () => {
    const grant = harness.client.grant(harness.grantId);
    const car = grant.vehicle(VEHICLE_ID, {
      scopes: ['read_battery'],
      unitSystem: 'imperial',
      flags: { country: 'DE' },
    });
    const imperial = await car.battery();
    expect(last().headers['sc-unit-system']).toBe('imperial');
    expect(last().query.get('flags')).toBe('country:DE');
    expect(imperial.meta.unitSystem).toBe('imperial');
    expect(imperial.range).toBeCloseTo(40.5 / 1.609344, 6);
    const metric = await car.battery({ unitSystem: 'metric' });
    expect(last().headers['sc-unit-system']).toBe('metric');
    expect(metric.range).toBe(40.5);
    expect((await car.withUnitSystem('metric').battery()).meta.unitSystem).toBe('metric');
  });
});

describe('commands', () => {
  it.each([
    ['lock', 'POST', '/security', { action: 'LOCK' }],
    ['unlock', 'POST', '/security', { action: 'UNLOCK' }],
    ['startCharge', 'POST', '/charge', { action: 'START' }],
    ['stopCharge', 'POST', '/charge', { action: 'STOP' }],
  ] as const)('%s() sends %s %s %j', async (name, method, path, body) => {
    const result = await everything()[name]();
    expect(result).toMatchObject(COMMAND_SUCCESS);
    expect(last()).toMatchObject({ method, path: `/v2.0/vehicles/${VEHICLE_ID}${path}` });
    expect(JSON.parse(last().body)).toEqual(body);
    expect(last().headers['content-type']).toBe('application/json');
  });

  it('setChargeLimit() sends a number and validates the range before sending', async () => {
    const car = everything();
    expect((await car.setChargeLimit(0.8)).message).toBe('Successfully sent request to vehicle');
    expect(JSON.parse(last().body)).toEqual({ limit: 0.8 });
    const count = harness.server.requests.length;
    const error = await car.setChargeLimit(1.5).catch((e: unknown) => e);
    expect(isVoltkitError(error, 'INVALID_INPUT') && error.field).toBe('limit');
    expect(harness.server.requests).toHaveLength(count);
  });

  it('sendDestination() sends coordinates and rejects impossible ones', async () => {
    const car = everything();
    await car.sendDestination(37.4292, -122.1381);
    expect(last().path).toBe(`/v2.0/vehicles/${VEHICLE_ID}/navigation/destination`);
    expect(JSON.parse(last().body)).toEqual({ latitude: 37.4292, longitude: -122.1381 });
    expect(isVoltkitError(await car.sendDestination(91, 0).catch((e: unknown) => e), 'INVALID_INPUT')).toBe(
      true,
    );
  });

  it('disconnect(), subscribe() and unsubscribe()', async () => {
    const car = everything();
    expect(await car.disconnect()).toMatchObject({ status: 'success' });
    expect(last()).toMatchObject({ method: 'DELETE', path: `/v2.0/vehicles/${VEHICLE_ID}/application` });
    expect(await car.subscribe('wh-1')).toMatchObject({ webhookId: 'wh-1', vehicleId: VEHICLE_ID });
    expect(last()).toMatchObject({ method: 'POST', path: `/v2.0/vehicles/${VEHICLE_ID}/webhooks/wh-1` });
    expect(await car.unsubscribe(harness.server.amt, 'wh-1')).toMatchObject({ status: 'success' });
    expect(last().headers.authorization).toBe(`Bearer ${harness.server.amt}`);
    harness.server.override('DELETE', '/v2.0/vehicles/*/webhooks/*', () => ({ raw: '' }));
    expect(
      await harness.client.unsubscribe(harness.server.amt, { vehicleId: VEHICLE_ID, webhookId: 'wh-1' }),
    ).toHaveProperty('meta');
  });
});

describe('run-time scope check', () => {
  it('refuses a method the handle lacks before sending anything, naming the scope', async () => {
    const car = harness.client.grant(harness.grantId).vehicle(VEHICLE_ID, { scopes: ['read_charge'] });
    const count = harness.server.requests.length;
    const error = await (car as unknown as { battery(): Promise<unknown> })
      .battery()
      .catch((e: unknown) => e);
    expect(isVoltkitError(error, 'PERMISSION')).toBe(true);
    if (!isVoltkitError(error, 'PERMISSION')) return;
    expect(error.code).toBe('MISSING_SCOPE');
    expect(error.missingScopes).toEqual(['read_battery']);
    expect(error.message).toMatch(/battery\(\) needs the scope read_battery/);
    const batch = await (car as unknown as { batch(p: string[]): Promise<unknown> })
      .batch(['/charge', '/battery'])
      .catch((e: unknown) => e);
    expect(isVoltkitError(batch, 'PERMISSION') && batch.missingScopes).toEqual(['read_battery']);
    // Rejections, never synchronous throws, also for methods that validate arguments.
    const limited = grantHandle(['read_charge']) as unknown as {
      setChargeLimit(l: number): Promise<unknown>;
    };
    const limit = limited.setChargeLimit(0.8);
    expect(limit).toBeInstanceOf(Promise);
    expect(isVoltkitError(await limit.catch((e: unknown) => e), 'PERMISSION')).toBe(true);
    const raw = await car.request('GET', '/battery').catch((e: unknown) => e);
    expect(isVoltkitError(raw, 'PERMISSION')).toBe(true);
    expect(harness.server.requests).toHaveLength(count);
  });

  it('maps a server-side 403 PERMISSION too', async () => {
    harness.server.override('GET', '/v2.0/vehicles/*/charge', () => ({
      status: 403,
      json: { ...errorBody('PERMISSION', null, 403), resolution: { type: 'REAUTHENTICATE' } },
    }));
    const error = await everything()
      .charge()
      .catch((e: unknown) => e);
    expect(isVoltkitError(error, 'PERMISSION') && [error.code, error.status, error.resolution?.type]).toEqual(
      [null, 403, 'REAUTHENTICATE'],
    );
  });

  it('builds a handle from the permissions the grant actually holds', async () => {
    const live = await harness.client.grant(harness.grantId).vehicleFromPermissions(VEHICLE_ID);
    expect([...live.scopes].sort()).toEqual(['read_battery', 'read_charge']);
    expect(last().path).toBe(`/v2.0/vehicles/${VEHICLE_ID}/permissions`);
    expect(live.can('read_battery')).toBe(true);
    expect(live.can('read_battery', 'control_charge')).toBe(false);
    if (live.can('read_battery')) expect((await live.battery()).percentRemaining).toBe(0.3);
    if (!live.can('read_location')) {
      const error = await (live as unknown as { location(): Promise<unknown> })
        .location()
        .catch((e: unknown) => e);
      expect(isVoltkitError(error, 'PERMISSION')).toBe(true);
    }
  });
});

describe('batch', () => {
  it('returns typed results per path, including error items', async () => {
    harness.server.override('POST', '/v2.0/vehicles/*/batch', () => ({
      json: {
        responses: [
          {
            path: '/odometer',
            code: 200,
            body: { distance: 37829 },
            headers: { 'sc-data-age': DATA_AGE, 'sc-unit-system': 'metric' },
          },
          {
            path: '/engine/oil',
            code: 501,
            body: errorBody(
              'COMPATIBILITY',
              'VEHICLE_NOT_CAPABLE',
              501,
              'Vehicle is not capable of performing request.',
            ),
          },
          { path: '/battery', code: 200, body: { percentRemaining: 2, range: 1 }, headers: {} },
        ],
      },
    }));
    const car = harness.client
      .grant(harness.grantId)
      .vehicle(VEHICLE_ID, { scopes: ['read_odometer', 'read_engine_oil', 'read_battery'] });
    // 'engine/oil' without a slash, as the SDK's own fixture sends it: results are keyed canonically.
    const batch = await car.batch(['/odometer', 'engine/oil', '/battery'] as unknown as [
      '/odometer',
      '/engine/oil',
      '/battery',
    ]);
    expect(JSON.parse(last().body)).toEqual({
      requests: [{ path: '/odometer' }, { path: 'engine/oil' }, { path: '/battery' }],
    });

    const odometer = batch.get('/odometer');
    expect(odometer.distance).toBe(37829);
    expect(odometer.meta.dataAge).toEqual(new Date(DATA_AGE));
    expect(odometer.meta.requestId).toHaveLength(36); // from the outer response

    const oil = batch.results['/engine/oil'];
    expect(oil.ok).toBe(false);
    if (!oil.ok) {
      expect(isVoltkitError(oil.error, 'COMPATIBILITY') && [oil.error.code, oil.error.status]).toEqual([
        'VEHICLE_NOT_CAPABLE',
        501,
      ]);
      expect(oil.error.message).toBe(
        'COMPATIBILITY:VEHICLE_NOT_CAPABLE - Vehicle is not capable of performing request.',
      );
    }

    const battery = batch.results['/battery'];
    expect(battery.ok).toBe(false);
    if (!battery.ok) {
      expect(isVoltkitError(battery.error, 'INVALID_RESPONSE') && battery.error.field).toBe(
        'responses[2].body.percentRemaining',
      );
    }
    expect(() => batch.get('/battery')).toThrowError(/percentRemaining/);
  });

  it('round-trips every data path against the server', async () => {
    const paths = [
      '/',
      '/vin',
      '/battery',
      '/charge',
      '/charge/limit',
      '/tires/pressure',
      '/security',
      '/service/history',
    ] as const;
    const batch = await everything().batch(paths, { unitSystem: 'imperial' });
    expect(last().headers['sc-unit-system']).toBe('imperial');
    expect(batch.get('/').make).toBe('TESLA');
    expect(batch.get('/charge/limit').limit).toBe(0.7);
    expect(batch.get('/service/history').data).toHaveLength(1);
    expect(batch.get('/battery').meta.unitSystem).toBe('imperial');
    for (const path of paths) expect(batch.results[path].ok).toBe(true);
  });
});

describe('user, vehicles and the raw request', () => {
  it('user() and vehicles() with paging', async () => {
    const grant = harness.client.grant(harness.grantId);
    expect(await grant.user()).toMatchObject({ id: USER_ID });
    expect(last().path).toBe('/v2.0/user');
    const page = await grant.vehicles({ limit: 2, offset: 1 });
    expect(page.paging).toEqual({ count: 3, offset: 1 });
    expect(page.vehicles).toHaveLength(2);
    expect(Object.fromEntries(last().query)).toEqual({ limit: '2', offset: '1' });
    expect(await grant.allVehicleIds()).toHaveLength(3);
  });

  it('request() reaches any path and returns the raw body', async () => {
    harness.server.override('GET', '/v2.0/vehicles/*/tesla/speedometer', () => ({ json: { speed: 88 } }));
    const result = await everything().request('GET', '/tesla/speedometer', { headers: { 'x-extra': '1' } });
    expect(result).toMatchObject({ status: 200, body: { speed: 88 } });
    expect(last().headers['x-extra']).toBe('1');
  });
});

describe('application-level calls', () => {
  it('compatibility with Basic client auth', async () => {
    const result = await harness.client.compatibility({
      vin: 'VIN1',
      scope: ['read_odometer', 'read_location'],
    });
    expect(result).toMatchObject(COMPATIBILITY_BODY);
    expect(last().headers.authorization).toBe(
      `Basic ${Buffer.from(`${harness.server.clientId}:${harness.server.clientSecret}`).toString('base64')}`,
    );
    expect(Object.fromEntries(last().query)).toEqual({
      vin: 'VIN1',
      scope: 'read_odometer read_location',
      country: 'US',
    });
  });

  it('compatibility in test mode with flags', async () => {
    await harness.client.compatibility({
      vin: 'VIN1',
      scope: ['read_battery'],
      country: 'DE',
      testModeCompatibilityLevel: 'PHEV',
      flags: { beta: true },
    });
    expect(Object.fromEntries(last().query)).toEqual({
      vin: 'VIN1',
      scope: 'read_battery',
      country: 'DE',
      mode: 'test',
      test_mode_compatibility_level: 'PHEV',
      flags: 'beta:true',
    });
  });

  it('compatibility matrix', async () => {
    const result = await harness.client.compatibilityMatrix({
      region: 'US',
      type: 'BEV',
      make: ['NISSAN', 'TESLA'],
    });
    expect(result.data).toEqual(MATRIX_BODY);
    expect(Object.fromEntries(last().query)).toEqual({ region: 'US', type: 'BEV', make: 'NISSAN TESLA' });
  });

  it('management connections with Basic default:AMT', async () => {
    const list = await harness.client.connections(harness.server.amt, { userId: USER_ID, limit: 100 });
    expect(list).toMatchObject(CONNECTIONS_BODY);
    expect(last().headers.authorization).toBe(
      `Basic ${Buffer.from(`default:${harness.server.amt}`).toString('base64')}`,
    );
    expect(Object.fromEntries(last().query)).toEqual({ user_id: USER_ID, limit: '100' });
    const deleted = await harness.client.deleteConnections(harness.server.amt, { vehicleId: VEHICLE_ID });
    expect(deleted.connections).toEqual([{ userId: USER_ID, vehicleId: VEHICLE_ID }]);
    expect(last()).toMatchObject({ method: 'DELETE' });
    expect(last().query.get('vehicle_id')).toBe(VEHICLE_ID);
  });
});
