import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, isVoltkitError } from '@voltkit/core/client';
import { createV3Client, type V3Client } from '@voltkit/core/v3';
import { createSimulator, findModel, signalCodesFor, type Simulator } from '@voltkit/simulator';

const REDIRECT = 'https://example.com/auth';
const ALL_READS = [
  'read_vehicle_info',
  'read_battery',
  'read_charge',
  'read_fuel',
  'read_engine_oil',
  'read_location',
  'read_odometer',
  'read_security',
  'read_tires',
  'control_charge',
  'control_security',
];

let sim: Simulator;
let v3: V3Client;

beforeAll(async () => {
  sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2025-06-01T08:00:00Z') } });
  v3 = createV3Client({
    clientId: sim.demoApp.clientId,
    clientSecret: sim.demoApp.clientSecret,
    origin: sim.url,
    retry: false,
  });
});

afterAll(async () => {
  await sim.close();
});

/** A test account with one Chevrolet of the given model, connected to the demo app. */
function connect(model: string, email: string, scope: readonly string[] = ALL_READS) {
  sim.createTestAccount({ email, brand: 'CHEVROLET', model });
  const { userId, vehicleIds, code } = sim.authorize({
    clientId: sim.demoApp.clientId,
    redirectUri: REDIRECT,
    scope,
    email,
    make: 'CHEVROLET',
  });
  return { userId, vehicleId: vehicleIds[0] ?? '', code };
}

async function failure(fn: () => Promise<unknown>) {
  try {
    await fn();
  } catch (error) {
    if (isVoltkitError(error)) return error;
    throw error;
  }
  throw new Error('expected a VoltkitError');
}

describe('@voltkit/core v3 client against the simulator', () => {
  it('reads every signal of a BEV, a PHEV and an ICE car, typed and validated by code', async () => {
    const served: Record<string, string[]> = {};
    for (const [model, powertrain] of [
      ['Bolt EV', 'BEV'],
      ['Volt', 'PHEV'],
      ['Equinox', 'ICE'],
    ] as const) {
      const { userId, vehicleId } = connect(model, `v3-${powertrain.toLowerCase()}@example.com`);
      const car = v3.vehicle(vehicleId, { userId });
      const vehicle = await car.get();
      expect(vehicle.attributes).toMatchObject({ make: 'CHEVROLET', model, powertrainType: powertrain });
      const { signals, unrecognized } = await car.allSignals();
      expect(unrecognized).toEqual([]);
      const spec = findModel('CHEVROLET', model);
      expect(signals.map((s) => s.code)).toEqual(spec === undefined ? [] : signalCodesFor(spec));
      expect(signals.every((s) => s.status.value === 'SUCCESS' && s.body !== undefined)).toBe(true);
      served[powertrain] = signals.map((s) => s.code);
    }
    expect(served['BEV']).toContain('tractionbattery-stateofcharge');
    expect(served['BEV']).not.toContain('internalcombustionengine-fuellevel');
    expect(served['PHEV']).toEqual(
      expect.arrayContaining(['tractionbattery-stateofcharge', 'internalcombustionengine-fuellevel']),
    );
    expect(served['ICE']).not.toContain('charge-ischarging');
    expect(served['ICE']).toContain('internalcombustionengine-oillife');
  });

  it('pages with page and pageSize, and follows units of the unit system', async () => {
    const { userId, vehicleId } = connect('Bolt EV', 'v3-pages@example.com');
    const car = v3.vehicle(vehicleId, { userId });
    const first = await car.signals({ page: 1, pageSize: 5 });
    const second = await car.signals({ page: 2, pageSize: 5 });
    expect(first.signals).toHaveLength(5);
    expect(first.totalCount).toBeGreaterThan(10);
    expect(second.page).toBe(2);
    expect(second.signals.map((s) => s.code)).not.toEqual(
      expect.arrayContaining(first.signals.map((s) => s.code)),
    );
    const imperial = await v3.vehicle(vehicleId, { userId, unitSystem: 'imperial' }).signal('wheel-tires');
    expect(imperial.body?.unit).toBe('psi');
    const range = await car.signal('tractionbattery-range');
    expect(range.body?.unit).toBe('kilometers');
    expect(range.oemUpdatedAt).toBeInstanceOf(Date);
  });

  it('runs v3 commands, and the signals show their effect', async () => {
    const { userId, vehicleId } = connect('Bolt EV', 'v3-commands@example.com');
    const car = v3.vehicle(vehicleId, { userId });
    sim.plugIn(vehicleId);
    sim.setSoc(vehicleId, 0.4);
    await car.stopCharge();
    expect((await car.signal('charge-ischarging')).body?.value).toBe(false);
    const started = await car.startCharge();
    expect(started.data.attributes).toMatchObject({
      commandType: 'charge-start',
      status: { value: 'SUCCESS' },
    });
    expect((await car.signal('charge-ischarging')).body?.value).toBe(true);
    expect((await car.signal('charge-amperage')).body?.value).toBeGreaterThan(0);
    await car.setChargeLimit(80);
    expect((await car.signal('charge-activelimit')).body?.value).toBe(80);
    await car.lock();
    expect((await car.signal('closure-islocked')).body?.value).toBe(true);
    await car.unlock();
    expect((await car.signal('closure-islocked')).body?.value).toBe(false);
  });

  it('answers errors in the v3 shape, read by core as the same typed errors as v2', async () => {
    const { userId, vehicleId } = connect('Bolt EV', 'v3-errors@example.com', [
      'read_vehicle_info',
      'read_battery',
    ]);
    const car = v3.vehicle(vehicleId, { userId });
    const permission = await failure(() => car.signal('location-preciselocation'));
    expect(permission.type).toBe('PERMISSION');
    expect(permission.status).toBe(403);
    // The grant lacks read_location, so the list leaves the signal out rather than failing.
    expect((await car.allSignals()).signals.map((s) => s.code)).not.toContain('location-preciselocation');

    sim.setAsleep(vehicleId, true);
    const asleep = await failure(() => car.signal('tractionbattery-stateofcharge'));
    expect(asleep.is('VEHICLE_STATE') && asleep.code).toBe('ASLEEP');
    expect(asleep.resolution).toEqual({ type: 'RETRY_LATER' });
    sim.setAsleep(vehicleId, false);
    sim.injectError(vehicleId, { type: 'UPSTREAM', code: 'NO_RESPONSE' });
    const upstream = await failure(() => car.signals());
    expect(upstream.is('UPSTREAM') && upstream.code).toBe('NO_RESPONSE');
    sim.injectError(vehicleId, null);

    const compatibility = await failure(() => car.signal('internalcombustionengine-fuellevel'));
    expect(compatibility.type).toBe('PERMISSION'); // read_fuel not granted comes first, as in v2

    const raw = await fetch(`${sim.url}/v3/vehicles/${vehicleId}/no-such-thing`, {
      headers: { authorization: `Bearer ${await v3.applicationToken()}`, 'sc-user-id': userId },
    });
    expect(raw.status).toBe(404);
    expect(await raw.json()).toMatchObject({
      errors: [{ status: '404', type: 'RESOURCE_NOT_FOUND', code: 'PATH' }],
    });
  });

  it('application tokens need client credentials, and sc-user-id must name a user of this app', async () => {
    const { userId, vehicleId } = connect('Bolt EV', 'v3-tokens@example.com');
    const wrongSecret = createV3Client({
      clientId: sim.demoApp.clientId,
      clientSecret: 'nope',
      origin: sim.url,
      retry: false,
    });
    const refused = await failure(() => wrongSecret.applicationToken());
    expect(refused.type).toBe('OAUTH');
    expect(refused.code).toBe('invalid_client');

    const token = await v3.applicationToken();
    const noUser = await fetch(`${sim.url}/v3/vehicles/${vehicleId}/signals`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(noUser.status).toBe(400);
    expect(JSON.stringify(await noUser.json())).toContain('sc-user-id');

    // A user of another app (or none) is refused exactly like a bad token.
    const other = sim.registerApp({ name: 'Other', redirectUris: [REDIRECT] });
    const otherV3 = createV3Client({
      clientId: other.clientId,
      clientSecret: other.clientSecret,
      origin: sim.url,
      retry: false,
    });
    const foreign = await failure(() => otherV3.vehicle(vehicleId, { userId }).get());
    expect(foreign.type).toBe('AUTHENTICATION');

    // An application token expires after one hour; the client fetches a new one by itself.
    const before = await v3.vehicle(vehicleId, { userId }).signal('odometer-traveleddistance');
    await sim.clock.advance(3_600_000 + 1);
    const after = await v3.vehicle(vehicleId, { userId }).signal('odometer-traveleddistance');
    expect(after.body?.value).toBe(before.body?.value);
  });

  it('a token never reaches another user’s car: sc-user-id cannot widen a Connect token, nor an app token v2', async () => {
    const alice = connect('Bolt EV', 'v3-alice@example.com');
    const bob = connect('Bolt EV', 'v3-bob@example.com');
    const tokenResponse = await fetch(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${sim.demoApp.clientId}:${sim.demoApp.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: alice.code,
        redirect_uri: REDIRECT,
      }).toString(),
    });
    const aliceToken = ((await tokenResponse.json()) as { access_token: string }).access_token;
    const asAlice = await fetch(`${sim.url}/v3/vehicles/${bob.vehicleId}/signals`, {
      headers: { authorization: `Bearer ${aliceToken}`, 'sc-user-id': bob.userId },
    });
    expect(asAlice.status).toBe(401);
    const ownCar = await fetch(`${sim.url}/v3/vehicles/${alice.vehicleId}`, {
      headers: { authorization: `Bearer ${aliceToken}` },
    });
    expect(ownCar.status).toBe(200);
    // The application token is a v3 credential only: the v2.0 API does not take it.
    const v2 = await fetch(`${sim.url}/v2.0/vehicles/${bob.vehicleId}/battery`, {
      headers: { authorization: `Bearer ${await v3.applicationToken()}`, 'sc-user-id': bob.userId },
    });
    expect(v2.status).toBe(401);
  });

  it('reads v3 with a v2 grant’s Connect token too', async () => {
    const { vehicleId, code } = connect('Volt', 'v3-grant@example.com');
    const v2 = createClient({
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
      redirectUri: REDIRECT,
      origin: sim.url,
      retry: false,
    });
    await v2.exchangeCode(code, { grantId: 'volt-owner' });
    const car = v3.vehicleWithGrant(vehicleId, v2.grant('volt-owner'));
    expect((await car.signal('internalcombustionengine-fuellevel')).body?.unit).toBe('percent');
  });
});
