import smartcar from 'smartcar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SignalResourceSchema, typeSignal, V3VehicleSchema } from '@voltkit/core/v3';
import { createSimulator, findModel, signalCodesFor, type Simulator } from '@voltkit/simulator';
import { pointSdkAt, sdkError } from './helpers.ts';

const REDIRECT = 'https://example.com/auth';
const SCOPES = [
  'read_vehicle_info',
  'read_battery',
  'read_charge',
  'read_location',
  'read_odometer',
  'read_security',
  'read_tires',
];

let sim: Simulator;
let accessToken: string;
let vehicleId: string;

beforeAll(async () => {
  sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2025-06-01T08:00:00Z') } });
  pointSdkAt(sim.url);
  // The variable the official SDK reads for every v3 call (getVehicle, getSignals, getSignal).
  process.env['SMARTCAR_API_V3_ORIGIN'] = sim.url;
  const { code, vehicleIds } = sim.authorize({
    clientId: sim.demoApp.clientId,
    redirectUri: REDIRECT,
    scope: SCOPES,
    email: 'v3-sdk@example.com',
    make: 'TESLA',
  });
  const auth = new smartcar.AuthClient({
    clientId: sim.demoApp.clientId,
    clientSecret: sim.demoApp.clientSecret,
    redirectUri: REDIRECT,
    mode: 'simulated',
  });
  accessToken = (await auth.exchangeCode(code)).accessToken;
  vehicleId = vehicleIds[0] ?? '';
  sim.setSoc(vehicleId, 0.62);
});

afterAll(async () => {
  delete process.env['SMARTCAR_API_V3_ORIGIN'];
  await sim.close();
});

describe('the official smartcar@10.4.0 SDK, v3 functions, against the simulator', () => {
  it('getVehicle answers the v3 vehicle resource', async () => {
    const response = await smartcar.getVehicle(accessToken, vehicleId);
    const body = V3VehicleSchema.parse(response.body);
    expect(body).toMatchObject({
      id: vehicleId,
      type: 'vehicle',
      attributes: { make: 'TESLA', model: sim.vehicle(vehicleId).model, powertrainType: 'BEV' },
    });
    expect(response.headers['sc-request-id']).toHaveLength(36);
  });

  it('getSignals lists every signal the car serves under the granted scopes, each valid for its code', async () => {
    const vehicle = new smartcar.Vehicle(vehicleId, accessToken);
    const response = await vehicle.getSignals();
    // The SDK drops the body's own `meta` (paging) and returns the headers instead.
    const page = z.object({ data: z.array(SignalResourceSchema) }).parse(response.body);
    const spec = findModel('TESLA', sim.vehicle(vehicleId).model);
    if (spec === undefined) throw new Error('no catalogue entry');
    expect(page.data.map((resource) => resource.id)).toEqual(signalCodesFor(spec));
    page.data.forEach((resource, index) => {
      const typed = typeSignal({ ...resource.attributes, meta: resource.meta }, ['data', index]);
      expect(typed.status.value).toBe('SUCCESS');
      expect(typed.retrievedAt).toEqual(sim.clock.now());
    });
    const soc = page.data.find((resource) => resource.id === 'tractionbattery-stateofcharge');
    expect(soc?.attributes.body).toEqual({ value: 62, unit: 'percent' });
  });

  it('getSignal answers one signal by code, and an error the SDK reports with its status', async () => {
    const vehicle = new smartcar.Vehicle(vehicleId, accessToken);
    const response = await vehicle.getSignal('odometer-traveleddistance');
    const resource = SignalResourceSchema.parse(response.body);
    expect(resource.attributes).toMatchObject({
      code: 'odometer-traveleddistance',
      name: 'TraveledDistance',
      group: 'Odometer',
      body: { unit: 'kilometers', value: Math.round(sim.vehicle(vehicleId).state.odometerKm * 100) / 100 },
    });
    // The SDK sends sc-unit-system on v3 calls too; imperial distances come back in miles.
    const imperial = new smartcar.Vehicle(vehicleId, accessToken, { unitSystem: 'imperial' });
    const miles = await imperial.getSignal('odometer-traveleddistance');
    expect((miles.body as { attributes: { body: { unit: string } } }).attributes.body.unit).toBe('miles');

    // An engine cover on an electric car: 501 COMPATIBILITY; fuel without read_fuel: 403 PERMISSION.
    const error = await sdkError(() => vehicle.getSignal('closure-enginecover'));
    expect(error.statusCode).toBe(501);
    expect((await sdkError(() => vehicle.getSignal('internalcombustionengine-fuellevel'))).statusCode).toBe(
      403,
    );
    const denied = await sdkError(() => new smartcar.Vehicle(vehicleId, 'not-a-token').getSignals());
    expect(denied.statusCode).toBe(401);
  });
});
