import { describe, expect, it } from 'vitest';
import type { PlanInputError } from './errors.ts';
import { createPlan, parsePlanRequest, type PlanRequestInput } from './plan.ts';
import { parseScenario, resolveScenario } from './scenario.ts';

const base = (vehicle: Record<string, unknown>): PlanRequestInput => ({
  horizon: { start: '2024-10-26T18:00', hours: 14, slotMinutes: 15, timeZone: 'Europe/Berlin' },
  tariff: { type: 'fixed', currency: 'EUR', pricePerKwh: 0.3 },
  grid: { limitKw: 11 },
  vehicles: [
    {
      id: 'commuter',
      socPercent: 20,
      capacityKwh: 60,
      departure: '2024-10-27T07:00',
      maxPowerKw: 11,
      efficiency: 1,
      ...vehicle,
    },
  ],
});

describe('targets from trips', () => {
  it('a 150 km trip at 4 km per % with a 10 % reserve plans to 47.5 % and says when charging ends', () => {
    const plan = createPlan(
      parsePlanRequest(base({ trip: { distanceKm: 150 }, rangeKmPerPercent: 4, chargeLimitPercent: 90 })),
    );
    const car = plan.vehicles[0]!;
    expect(car.targetSocPercent).toBeCloseTo(47.5, 12);
    expect(car.finalSocPercent).toBeCloseTo(47.5, 6);
    expect(car.warnings[0]).toBe('target 47.5 % from the trip: 150 km at 4 km per % plus 10 % reserve');
    // 16.5 kWh at 11 kW: 1.5 h of charging, at a flat price from plug-in.
    expect(car.chargeCompleteAt).toBe('2024-10-26T19:30:00+02:00');
  });

  it('a trip beyond the charge limit plans to the limit and says how far that goes', () => {
    const plan = createPlan(
      parsePlanRequest(
        base({ trip: { distanceKm: 400, reservePercent: 15 }, rangeKmPerPercent: 4, chargeLimitPercent: 80 }),
      ),
    );
    const car = plan.vehicles[0]!;
    expect(car.targetSocPercent).toBe(80);
    expect(car.warnings[1]).toMatch(
      /the trip needs 100\.0 %, above the charge limit; planned to 80 %, about 260 km/,
    );
  });

  it('a trip needs the range per percent, and a target and a trip are not both given', () => {
    const issues = (input: PlanRequestInput) => {
      try {
        parsePlanRequest(input);
      } catch (error) {
        return (error as PlanInputError).issues.map((i) => i.path);
      }
      return [];
    };
    expect(issues(base({ trip: { distanceKm: 100 } }))).toEqual(['vehicles.0.rangeKmPerPercent']);
    expect(issues(base({ trip: { distanceKm: 100 }, rangeKmPerPercent: 4, targetSocPercent: 80 }))).toEqual([
      'vehicles.0.targetSocPercent',
    ]);
    expect(issues(base({}))).toEqual(['vehicles.0.targetSocPercent']);
  });

  it('scenario files take trips too', () => {
    const { request } = resolveScenario(
      parseScenario(JSON.stringify(base({ trip: { distanceKm: 80 }, rangeKmPerPercent: 5 }))),
      () => '',
    );
    expect(createPlan(request).vehicles[0]!.targetSocPercent).toBeCloseTo(26, 12);
  });
});
