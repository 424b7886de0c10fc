import { describe, expect, it } from 'vitest';
import { findModel, type ModelSpec } from '../catalog/brands.ts';
import type { VehicleState } from '../state/records.ts';
import { createVehicleRecord } from './factory.ts';
import { advanceVehicle, chargingPowerKw, electricRangeKm, settleChargeState } from './physics.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const HOUR = 3_600_000;

function model(make: string, name: string): ModelSpec {
  const spec = findModel(make, name);
  if (spec === undefined) throw new Error(`missing ${make} ${name}`);
  return spec;
}

function car(spec: ModelSpec, id = '11111111-1111-4111-8111-111111111111'): VehicleState {
  return createVehicleRecord({
    accountId: '22222222-2222-4222-8222-222222222222',
    spec,
    region: 'EUROPE',
    now: T0,
    id,
  }).state;
}

describe('charging', () => {
  it('raises SoC at the charger power, tapers above 80 % and stops at the limit as FULLY_CHARGED', () => {
    const spec = model('CITROEN', 'ë-C4'); // 46 kWh, 11 kW on-board charger
    const s = car(spec);
    s.soc = 0.2;
    s.chargeLimit = 1;
    s.pluggedIn = true;
    s.stationKw = 11;
    expect(settleChargeState(s, T0)).toEqual({ type: 'CHARGING_STARTED', at: T0 });

    expect(advanceVehicle(s, spec, T0 + HOUR)).toEqual([]);
    // One hour at 11 kW with 90 % efficiency: 9.9 kWh of 46 kWh.
    expect(s.soc).toBeCloseTo(0.2 + 9.9 / 46, 3);

    s.soc = 0.9;
    s.updatedAt = T0;
    const tapered = chargingPowerKw(s, spec);
    expect(tapered).toBeLessThan(11);
    expect(tapered).toBeCloseTo(11 * (1 - 0.9 * 0.5), 3);

    const events = advanceVehicle(s, spec, T0 + 10 * HOUR);
    expect(s.soc).toBe(1);
    expect(s.chargeState).toBe('FULLY_CHARGED');
    expect(events.map((e) => e.type)).toEqual(['CHARGING_COMPLETED']);
    expect(events[0]?.at).toBeGreaterThan(T0 + HOUR);
    expect(events[0]?.at).toBeLessThan(T0 + 10 * HOUR);
  });

  it('takes the lower of station and on-board charger power, and stops at a lower limit', () => {
    const spec = model('DS', 'DS 7 E-TENSE'); // PHEV, 3.7 kW on-board
    const s = car(spec);
    s.soc = 0.5;
    s.chargeLimit = 0.8;
    s.pluggedIn = true;
    s.stationKw = 22;
    settleChargeState(s, T0);
    expect(chargingPowerKw(s, spec)).toBe(3.7);
    advanceVehicle(s, spec, T0 + 24 * HOUR);
    expect(s.soc).toBeCloseTo(0.8, 6);
    expect(s.chargeState).toBe('FULLY_CHARGED');
  });

  it('does not charge when unplugged or stopped', () => {
    const spec = model('TESLA', 'Model 3');
    const s = car(spec);
    const before = s.soc;
    advanceVehicle(s, spec, T0 + 5 * HOUR);
    expect(s.soc).toBe(before);
    expect(s.chargeState).toBe('NOT_CHARGING');
    s.pluggedIn = true;
    s.chargeEnabled = false;
    advanceVehicle(s, spec, T0 + 10 * HOUR);
    expect(s.soc).toBe(before);
    expect(s.chargeState).toBe('NOT_CHARGING');
  });
});

describe('driving', () => {
  it('a BEV spends battery, adds the distance to the odometer and moves', () => {
    const spec = model('TESLA', 'Model 3');
    const s = car(spec);
    s.soc = 0.8;
    const start = { odometer: s.odometerKm, latitude: s.latitude, longitude: s.longitude };
    s.drive = { remainingKm: 60, speedKph: 60 };
    s.isLocked = false;
    advanceVehicle(s, spec, T0 + HOUR / 2);
    expect(s.odometerKm).toBeCloseTo(start.odometer + 30, 6);
    expect(s.drive).not.toBeNull();
    expect(s.isLocked).toBe(false);
    advanceVehicle(s, spec, T0 + 2 * HOUR);
    expect(s.odometerKm).toBeCloseTo(start.odometer + 60, 6);
    expect(s.drive).toBeNull();
    expect(s.isLocked).toBe(true); // locked on arrival
    // 60 km at 17 kWh/100 km = 10.2 kWh of 75 kWh.
    expect(s.soc).toBeCloseTo(0.8 - 10.2 / 75, 6);
    const movedKm = Math.hypot(
      (s.latitude - start.latitude) * 111.32,
      (s.longitude - start.longitude) * 111.32 * Math.cos((start.latitude * Math.PI) / 180),
    );
    expect(movedKm).toBeGreaterThan(5);
    expect(movedKm).toBeLessThanOrEqual(60.5);
  });

  it('a PHEV uses electricity down to its reserve, then fuel; oil life drops with distance', () => {
    const spec = model('DS', 'DS 4 E-TENSE');
    const s = car(spec);
    s.soc = 0.3;
    const fuel = s.fuelLiters ?? 0;
    const oil = s.oilLife;
    const electric = electricRangeKm(s, spec);
    s.drive = { remainingKm: electric + 100, speedKph: 100 };
    advanceVehicle(s, spec, T0 + 10 * HOUR);
    expect(s.soc).toBeCloseTo(0.05, 6);
    expect(s.fuelLiters).toBeCloseTo(fuel - 6.5, 6);
    expect(s.oilLife).toBeLessThan(oil);
  });

  it('a combustion car stops when the tank is empty', () => {
    const spec = model('INFINITI', 'Q50');
    const s = car(spec);
    s.fuelLiters = 1;
    const odometer = s.odometerKm;
    s.drive = { remainingKm: 500, speedKph: 80 };
    advanceVehicle(s, spec, T0 + 10 * HOUR);
    expect(s.fuelLiters).toBe(0);
    expect(s.drive).toBeNull();
    expect(s.odometerKm - odometer).toBeCloseTo(100 / 7.8, 3);
  });

  it('tires lose a little pressure over weeks', () => {
    const spec = model('BMW', 'X3');
    const s = car(spec);
    const before = s.tiresKpa.frontLeft;
    advanceVehicle(s, spec, T0 + 30 * 24 * HOUR);
    expect(s.tiresKpa.frontLeft).toBeCloseTo(before - 3, 6);
  });
});

describe('catalog', () => {
  it('gives the seed models their powertrain and energy store', () => {
    const expectations: [string, string, string, boolean, boolean][] = [
      ['DS', 'DS 3 Crossback E-Tense', 'BEV', true, false],
      ['DS', 'DS 4 E-TENSE', 'PHEV', true, true],
      ['DS', 'DS 7 E-TENSE', 'PHEV', true, true],
      ['CITROEN', 'C3 Aircross', 'ICE', false, true],
      ['CITROEN', 'ë-C4', 'BEV', true, false],
      ['CITROEN', 'C5 X', 'PHEV', true, true],
      ['BMW', 'X3', 'ICE', false, true],
      ['BMW', '5 Series', 'ICE', false, true],
      ['BMW', 'i8', 'PHEV', true, true],
      ['INFINITI', 'Q50', 'ICE', false, true],
      ['INFINITI', 'Q70', 'ICE', false, true],
      ['INFINITI', 'QX60', 'ICE', false, true],
    ];
    for (const [make, name, powertrain, battery, tank] of expectations) {
      const spec = model(make, name);
      expect([spec.powertrain, spec.batteryKwh !== null, spec.tankLiters !== null], name).toEqual([
        powertrain,
        battery,
        tank,
      ]);
      expect(spec.capabilities.has('battery'), name).toBe(battery);
      expect(spec.capabilities.has('fuel'), name).toBe(tank);
    }
  });
});
