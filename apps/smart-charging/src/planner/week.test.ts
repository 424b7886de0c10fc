import { readFileSync } from 'node:fs';
import { awattarDeHourlyCsv } from '@voltkit/data';
import type { Highs } from 'highs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlan, createPlanningContext, lpObjective, optimise, parsePlanRequest } from './plan.ts';
import { parsePriceCsv } from './price-import.ts';
import { fleetViolations, relativeGap } from './testing/check-plan.ts';
import { h25Profile } from './testing/fixtures.ts';
import { loadHighs } from './testing/highs-reference.ts';
import { referencePlan } from './testing/plan-reference.ts';

let highs: Highs;
beforeAll(async () => {
  highs = await loadHighs();
});

describe('a week of 15-min slots', () => {
  it('plans 40 cars leaving on weekday mornings across the autumn DST week exactly (equal to HiGHS)', () => {
    const from = Date.parse('2022-10-24T00:00:00+02:00');
    const to = Date.parse('2022-11-01T00:00:00+01:00');
    const prices = parsePriceCsv(readFileSync(awattarDeHourlyCsv, 'utf8')).filter(
      (p) => p.endMs > from && p.startMs < to,
    );
    const request = parsePlanRequest({
      // Monday 2022-10-24 to Monday 2022-10-31: 169 hours (clocks go back on Sunday the 30th).
      horizon: { start: '2022-10-24', end: '2022-10-31', slotMinutes: 15, timeZone: 'Europe/Berlin' },
      tariff: { type: 'dynamic', currency: 'EUR', prices, surchargePerKwh: 0.15, vatRate: 0.19 },
      grid: { limitKw: 90, baseLoad: { kind: 'bdew-h25', annualKwh: 30 * 3500 } },
      vehicles: Array.from({ length: 40 }, (_, k) => ({
        id: `car-${k + 1}`,
        socPercent: 10 + (k % 30),
        capacityKwh: [40, 58, 77, 100][k % 4]!,
        targetSocPercent: 80,
        arrival: `2022-10-${24 + (k % 4)}T${17 + (k % 5)}:00`,
        // Leaves one to three weekday mornings later.
        departure: `2022-10-${25 + (k % 4) + (k % 3)}T0${6 + (k % 3)}:30`,
        maxPowerKw: [3.7, 7.4, 11][k % 3]!,
      })),
    });
    const context = createPlanningContext(request, { profile: h25Profile() });
    expect(context.grid.slotCount).toBe(7 * 96 + 4);
    const result = optimise(context, 'cost');
    expect(fleetViolations(context.fleet.problem, result.solution.energyKwh)).toEqual([]);
    const reference = referencePlan(highs, context, 'cost');
    expect(reference.status).toBe('Optimal');
    expect(
      relativeGap(lpObjective(context.fleet.problem, result.solution), reference.objective),
    ).toBeLessThan(1e-6);
    const plan = createPlan(request, { profile: h25Profile() });
    expect(plan.assumptions).toEqual([]);
    // Cars that cannot make it are short for lack of time or power, never for the plan's sake.
    expect(plan.vehicles.filter((v) => v.targetReached).length).toBeGreaterThan(30);
    for (const v of plan.vehicles) if (v.shortfall) expect(['time', 'power']).toContain(v.shortfall.cause);
    expect(plan.summary.savings).toBeGreaterThan(0);
  });
});
