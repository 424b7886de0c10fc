import fc from 'fast-check';
import type { Highs } from 'highs';
import { beforeAll, describe, expect, it } from 'vitest';
import { solveFleet } from './fleet-solver.ts';
import { relativeGap, treeViolations } from './testing/check-plan.ts';
import { loadHighs, solveTreeWithHighs } from './testing/highs-reference.ts';
import { fleetObjective } from './testing/random-fleet.ts';
import { createRandomGridTree, treeDepth } from './testing/random-tree.ts';
import { solveGridTree, treeAsFleetProblem, type GridTreeProblem } from './tree-solver.ts';

let highs: Highs;
beforeAll(async () => {
  highs = await loadHighs();
});

function total(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum;
}

function objectiveOf(problem: GridTreeProblem, solution: ReturnType<typeof solveGridTree>): number {
  return fleetObjective(treeAsFleetProblem(problem), solution.energyKwh, solution.optionalDeliveredKwh);
}

/** Checks the plan against every constraint and HiGHS; returns the total shortfall. */
function expectMatchesHighs(problem: GridTreeProblem, slotHours: number): number {
  const solution = solveGridTree(problem);
  expect(treeViolations(problem, solution.energyKwh)).toEqual([]);
  const reference = solveTreeWithHighs(highs, problem, { objective: 'cost', slotHours });
  expect(reference.status).toBe('Optimal');
  const delivered = total(problem.demandKwh) - total(solution.shortfallKwh);
  expect(relativeGap(delivered, reference.deliveredKwh)).toBeLessThan(1e-6);
  expect(relativeGap(objectiveOf(problem, solution), reference.objective)).toBeLessThan(1e-6);
  return total(solution.shortfallKwh);
}

describe('solveGridTree equals the LP optimum found by HiGHS', () => {
  it('on random trees of depth 1–4 and forests, with taper caps, optional energy and shortfalls', () => {
    let withShortfall = 0;
    let depths = new Set<number>();
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
          depth: fc.integer({ min: 1, max: 4 }),
          topLevel: fc.integer({ min: 1, max: 3 }),
          vehicles: fc.integer({ min: 1, max: 30 }),
          hourly: fc.boolean(),
          // Hourly prices over quarter-hours: ties, which the tree network fills as one group.
          tied: fc.boolean(),
        }),
        ({ seed, depth, topLevel, vehicles, hourly, tied }) => {
          const slotHours = hourly ? 1 : 0.25;
          const hourPrices = Array.from(
            { length: 24 },
            (_, h) => Math.round(Math.sin(seed + h) * 3000) / 1e4,
          );
          const problem = createRandomGridTree(seed, {
            vehicles,
            slots: hourly ? 24 : 96,
            slotHours,
            ...(tied && !hourly
              ? { price: Float64Array.from({ length: 96 }, (_, t) => hourPrices[Math.floor(t / 4)]!) }
              : {}),
            depth,
            topLevel,
            taperShare: 0.3,
            optionalShare: 0.3,
          });
          depths.add(treeDepth(problem));
          if (expectMatchesHighs(problem, slotHours) > 1e-6) withShortfall++;
        },
      ),
      { numRuns: 60, seed: 1313 },
    );
    // The instances must exercise the binding cases and every depth.
    expect(withShortfall).toBeGreaterThan(10);
    expect([...depths].sort()).toEqual([1, 2, 3, 4]);
    depths = new Set();
  });

  it('on a tight tree where a car must leave a cheap slot to a neighbour behind the same transformer', () => {
    // Transformer 0 (room 10 kWh per slot) above connections 1 and 2. Car A (at 1) may charge in slots
    // 0–1, car B (at 2) only in slot 0; slot 0 is cheaper. The transformer binds: A must move to slot 1.
    const problem: GridTreeProblem = {
      slotCount: 2,
      vehicleCount: 2,
      price: Float64Array.of(0.1, 0.3),
      windowStart: Int32Array.of(0, 0),
      windowEnd: Int32Array.of(2, 1),
      arcCapKwh: Float64Array.of(10, 10, 10, 0),
      demandKwh: Float64Array.of(10, 10),
      optionalKwh: new Float64Array(2),
      optionalValue: new Float64Array(2),
      nodeCount: 3,
      nodeParent: Int32Array.of(-1, 0, 0),
      nodeRoomKwh: Float64Array.of(10, 10, 10, 10, 10, 10),
      vehicleNode: Int32Array.of(1, 2),
    };
    const solution = solveGridTree(problem);
    expect(Array.from(solution.shortfallKwh)).toEqual([0, 0]);
    expect(Array.from(solution.energyKwh)).toEqual([0, 10, 10, 0]);
    expect(objectiveOf(problem, solution)).toBeCloseTo(4, 12);
    expectMatchesHighs(problem, 1);
  });

  it('on a large tree with long re-routing chains (300 cars, depth 4, tight rooms)', () => {
    const problem = createRandomGridTree(977, {
      vehicles: 300,
      slots: 96,
      slotHours: 0.25,
      depth: 4,
      roomShare: [0.15, 0.6],
    });
    expect(expectMatchesHighs(problem, 0.25)).toBeGreaterThan(0);
  });

  it('on a larger tree whose slots end mid-word, with tied prices (1,000 cars, depth 3, 70 slots)', () => {
    // 70 slots: three mask words, the last one partial; prices tied in fours fill several slots per
    // group, so searches narrowed to the last one's paths (keepPaths) and levels past eight run too.
    const price = Float64Array.from(
      { length: 70 },
      (_, t) => Math.round(Math.cos(t >> 2) * 2500) / 1e4 + 0.3,
    );
    const problem = createRandomGridTree(4242, {
      vehicles: 1000,
      slots: 70,
      slotHours: 0.25,
      price,
      depth: 3,
      roomShare: [0.15, 0.8],
      taperShare: 0.3,
      optionalShare: 0.2,
    });
    const solution = solveGridTree(problem);
    expect(solution.searches).toBeGreaterThan(2 * 18);
    expect(expectMatchesHighs(problem, 0.25)).toBeGreaterThan(0);
  });
});

describe('a one-node tree is the single-limit fleet', () => {
  it('gives solveFleet’s plan, and a root above an unconstraining child gives its optimum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (seed) => {
        const tree = createRandomGridTree(seed, { vehicles: 12, slots: 48, slotHours: 0.5, depth: 1 });
        const fleet = treeAsFleetProblem(tree);
        const single = solveFleet(fleet);
        const oneNode = solveGridTree(tree);
        expect(oneNode.energyKwh).toEqual(single.energyKwh);
        // The same fleet one level down, below a child with more room than the root: the tree network.
        const T = tree.slotCount;
        const nested: GridTreeProblem = {
          ...tree,
          nodeCount: 2,
          nodeParent: Int32Array.of(-1, 0),
          nodeRoomKwh: Float64Array.from({ length: 2 * T }, (_, k) =>
            k < T ? tree.nodeRoomKwh[k]! : tree.nodeRoomKwh[k - T]! * 2,
          ),
          vehicleNode: new Int32Array(tree.vehicleCount).fill(1),
        };
        const viaTree = solveGridTree(nested);
        expect(treeViolations(nested, viaTree.energyKwh)).toEqual([]);
        expect(
          relativeGap(
            fleetObjective(fleet, viaTree.energyKwh, viaTree.optionalDeliveredKwh),
            fleetObjective(fleet, single.energyKwh, single.optionalDeliveredKwh),
          ),
        ).toBeLessThan(1e-9);
        expect(total(viaTree.shortfallKwh)).toBeCloseTo(total(single.shortfallKwh), 9);
      }),
      { numRuns: 30, seed: 7 },
    );
  });
});
