import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SIGNALS } from '@voltkit/core/v3';
import { BRANDS } from '../catalog/brands.ts';
import { createVehicleRecord } from '../vehicle/factory.ts';
import { providesSignal, readSignal, signalCodesFor } from './signal-values.ts';

const models = BRANDS.flatMap((brand) => brand.models);

describe('v3 signal values', () => {
  it('every signal of every model in the catalogue matches core’s schema for its code, in both unit systems', () => {
    let checked = 0;
    for (const spec of models) {
      const vehicle = createVehicleRecord({ accountId: randomUUID(), spec, region: 'US', now: 0 });
      for (const code of signalCodesFor(spec)) {
        for (const units of ['metric', 'imperial'] as const) {
          const body = readSignal(code, vehicle, spec, units);
          const parsed = SIGNALS[code].body.safeParse(body);
          expect(parsed.error?.issues ?? [], `${spec.make} ${spec.model} ${code} ${units}`).toEqual([]);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(models.length * 10);
  });

  it('serves battery and charge signals only to cars with a battery, fuel only to cars with a tank', () => {
    for (const spec of models) {
      const codes = signalCodesFor(spec);
      expect(codes.includes('tractionbattery-stateofcharge'), `${spec.model}`).toBe(
        spec.powertrain !== 'ICE',
      );
      expect(codes.includes('internalcombustionengine-fuellevel'), `${spec.model}`).toBe(
        spec.powertrain !== 'BEV',
      );
      expect(codes.includes('odometer-traveleddistance')).toBe(true);
      expect(providesSignal(spec, 'closure-fronttrunk')).toBe(
        spec.powertrain === 'BEV' && codes.includes('closure-islocked'),
      );
    }
  });

  it('reports units of the requested system and percentages as 0–100', () => {
    const spec = models.find((m) => m.powertrain === 'PHEV');
    if (spec === undefined) throw new Error('the catalogue has no PHEV');
    const vehicle = createVehicleRecord({ accountId: randomUUID(), spec, region: 'US', now: 0 });
    vehicle.state.soc = 0.5;
    vehicle.state.odometerKm = 100;
    expect(readSignal('tractionbattery-stateofcharge', vehicle, spec, 'metric')).toEqual({
      value: 50,
      unit: 'percent',
    });
    expect(readSignal('odometer-traveleddistance', vehicle, spec, 'imperial')).toEqual({
      value: 62.14,
      unit: 'miles',
    });
    expect(readSignal('internalcombustionengine-amountremaining', vehicle, spec, 'imperial')).toMatchObject({
      unit: 'gallons',
    });
  });
});
