import type { Highs } from 'highs';
import { beforeAll, describe, expect, it } from 'vitest';
import { solveFleet, type FleetProblem } from './fleet-solver.ts';
import { fleetViolations, relativeGap } from './testing/check-plan.ts';
import { loadHighs, solveWithHighs } from './testing/highs-reference.ts';
import { createRandom, createRandomFleet, fleetObjective } from './testing/random-fleet.ts';

let highs: Highs;
beforeAll(async () => {
  highs = await loadHighs();
});

function delivered(problem: FleetProblem, shortfall: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < problem.vehicleCount; i++) sum += problem.demandKwh[i]! - shortfall[i]!;
  return sum;
}

function expectMatchesHighs(
  problem: FleetProblem,
  slotHours: number,
): { shortfall: number; optional: number } {
  const solution = solveFleet(problem);
  expect(fleetViolations(problem, solution.energyKwh)).toEqual([]);
  const reference = solveWithHighs(highs, problem, { objective: 'cost', slotHours });
  expect(reference.status).toBe('Optimal');
  expect(relativeGap(delivered(problem, solution.shortfallKwh), reference.deliveredKwh)).toBeLessThan(1e-6);
  const objective = fleetObjective(problem, solution.energyKwh, solution.optionalDeliveredKwh);
  expect(relativeGap(objective, reference.objective)).toBeLessThan(1e-6);
  let shortfall = 0;
  for (const s of solution.shortfallKwh) shortfall += s;
  let optional = 0;
  for (const o of solution.optionalDeliveredKwh) optional += o;
  return { shortfall, optional };
}

describe('solveFleet equals the LP optimum found by HiGHS', () => {
  it.each([
    { slots: 96, slotHours: 0.25, label: '15-min slots' },
    { slots: 24, slotHours: 1, label: '60-min slots' },
  ])(
    'on 40 random fleets with $label, negative prices, taper caps, optional energy and shortfalls',
    ({ slots, slotHours }) => {
      let withShortfall = 0;
      let withOptional = 0;
      let negativePrices = 0;
      for (let seed = 1; seed <= 40; seed++) {
        const problem = createRandomFleet(seed * 7919 + slots, {
          vehicles: 1 + (seed % 24),
          slots,
          slotHours,
          taperShare: 0.3,
          optionalShare: 0.3,
          capacityShare: 0.15 + (seed % 6) * 0.1,
        });
        if (problem.price.some((p) => p < 0)) negativePrices++;
        const { shortfall, optional } = expectMatchesHighs(problem, slotHours);
        if (shortfall > 1e-6) withShortfall++;
        if (optional > 1e-6) withOptional++;
      }
      // The instances must actually exercise the hard cases.
      expect(withShortfall).toBeGreaterThan(5);
      expect(withOptional).toBeGreaterThan(5);
      expect(negativePrices).toBeGreaterThan(30);
    },
  );

  it.each([
    { slots: 96, slotHours: 0.25, label: '15-min slots' },
    { slots: 48, slotHours: 0.5, label: '30-min slots' },
  ])('on 30 random fleets with a PV-surplus tier at a feed-in price ($label)', ({ slots, slotHours }) => {
    let withTier = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const problem = createRandomFleet(seed * 104_729 + slots, {
        vehicles: 1 + (seed % 20),
        slots,
        slotHours,
        taperShare: 0.3,
        optionalShare: 0.3,
        capacityShare: 0.15 + (seed % 6) * 0.1,
        lowerTier: true,
      });
      if (problem.lowerTierKwh!.some((kwh) => kwh > 0)) withTier++;
      expectMatchesHighs(problem, slotHours);
    }
    expect(withTier).toBe(30);
  });

  it('on a tight fleet where planning cars one after another is not optimal', () => {
    // Car A can use slots 0–1, car B only slot 0; slot 0 is cheapest. A must leave slot 0 to B.
    const problem: FleetProblem = {
      slotCount: 2,
      vehicleCount: 2,
      price: Float64Array.of(0.1, 0.3),
      slotRoomKwh: Float64Array.of(10, 10),
      windowStart: Int32Array.of(0, 0),
      windowEnd: Int32Array.of(2, 1),
      arcCapKwh: Float64Array.of(10, 10, 10, 0),
      demandKwh: Float64Array.of(10, 10),
      optionalKwh: new Float64Array(2),
      optionalValue: new Float64Array(2),
    };
    const solution = solveFleet(problem);
    expect(Array.from(solution.shortfallKwh)).toEqual([0, 0]);
    expect(fleetObjective(problem, solution.energyKwh, solution.optionalDeliveredKwh)).toBeCloseTo(4, 12);
    expectMatchesHighs(problem, 1);
  });

  it('on a large fleet with long re-routing chains (200 cars, 96 slots)', () => {
    const random = createRandom(42);
    const problem = createRandomFleet(4242, {
      vehicles: 200,
      slots: 96,
      slotHours: 0.25,
      capacityShare: 0.25,
    });
    // Make prices strongly time-dependent so cheap slots are contested.
    const price = Float64Array.from({ length: 96 }, (_, t) => 0.2 + 0.15 * Math.sin(t / 8) + 0.02 * random());
    expectMatchesHighs({ ...problem, price }, 0.25);
  });
});
