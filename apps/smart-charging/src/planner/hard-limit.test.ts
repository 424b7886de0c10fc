import type { Highs } from 'highs';
import { beforeAll, describe, expect, it } from 'vitest';
import { highestMinuteDrawKw } from './hard-limit.ts';
import { createPlan, createPlanningContext, lpObjective, optimise, parsePlanRequest } from './plan.ts';
import { fleetViolations, relativeGap } from './testing/check-plan.ts';
import { h25Profile, randomVehicles } from './testing/fixtures.ts';
import { loadHighs } from './testing/highs-reference.ts';
import { overnightRequest } from './testing/overnight.ts';
import { referencePlan } from './testing/plan-reference.ts';
import { parsePriceCsv } from './price-import.ts';
import { fixture } from './testing/fixtures.ts';

let highs: Highs;
beforeAll(async () => {
  highs = await loadHighs();
});

describe('a hard limit holds in every minute', () => {
  it('the overnight feeder (24 kW): hard keeps every minute within the limit, average does not', () => {
    const options = { profile: h25Profile() };
    const average = parsePlanRequest(overnightRequest('average'));
    const hard = parsePlanRequest(overnightRequest('hard'));
    const averagePlan = createPlan(average, options);
    const hardPlan = createPlan(hard, options);
    const draws = hard.vehicles.map((v) => v.maxPowerKw);
    expect(highestMinuteDrawKw(hardPlan, draws, 'hard')).toBeLessThanOrEqual(24 + 1e-9);
    expect(highestMinuteDrawKw(averagePlan, draws, 'average')).toBeGreaterThan(24);
    expect(hardPlan.vehicles.every((v) => v.targetReached)).toBe(true);
    // The premium: hard costs at least the LP optimum of the average limit.
    expect(hardPlan.summary.totalCost).toBeGreaterThanOrEqual(averagePlan.summary.totalCost - 1e-9);

    const context = createPlanningContext(hard, options);
    const result = optimise(context, 'cost');
    expect(fleetViolations(context.fleet.problem, result.solution.energyKwh)).toEqual([]);
    const reference = referencePlan(highs, context, 'cost');
    expect(
      relativeGap(lpObjective(context.fleet.problem, result.solution), reference.objective),
    ).toBeLessThan(1e-6);
  });

  it('mixed chargers (3.7–22 kW) on the DST spring day, 30 cars behind 70 kW: no minute over, equal to HiGHS', () => {
    const request = parsePlanRequest({
      horizon: { start: '2022-03-27', end: '2022-03-28', slotMinutes: 15, timeZone: 'Europe/Berlin' },
      tariff: {
        type: 'dynamic',
        currency: 'EUR',
        prices: parsePriceCsv(fixture('awattar-de-2022-03-26_28.csv')),
      },
      grid: { limitKw: 70, limitMode: 'hard', baseLoad: { kind: 'bdew-h25', annualKwh: 40 * 3500 } },
      vehicles: randomVehicles(9, 30, '2022-03-27'),
    });
    const plan = createPlan(request, { profile: h25Profile() });
    const draws = request.vehicles.map((v) => v.maxPowerKw);
    for (const slot of plan.slots) expect(slot.limitKw).toBe(70);
    expect(highestMinuteDrawKw(plan, draws, 'hard')).toBeLessThanOrEqual(70 + 1e-9);
    const context = createPlanningContext(request, { profile: h25Profile() });
    const result = optimise(context, 'cost');
    const reference = referencePlan(highs, context, 'cost');
    expect(
      relativeGap(lpObjective(context.fleet.problem, result.solution), reference.objective),
    ).toBeLessThan(1e-6);
  });
});
