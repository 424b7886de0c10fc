import fc from 'fast-check';
import type { Highs } from 'highs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlanInputError } from './errors.ts';
import { parseGridTree, resolveGridTree, type GridTreeInput } from './grid-tree.ts';
import { parsePriceCsv } from './price-import.ts';
import { relativeGap } from './testing/check-plan.ts';
import { fixture } from './testing/fixtures.ts';
import { loadHighs, solveTreeWithHighs } from './testing/highs-reference.ts';
import { fleetObjective } from './testing/random-fleet.ts';
import { createRandomGridTree } from './testing/random-tree.ts';
import {
  createGridTreePlanningContext,
  mergeGridTreePlans,
  parseGridTreePlanRequest,
  planGridTree,
  shardGridTreePlanRequest,
  type GridTreePlan,
  type GridTreePlanRequestInput,
} from './tree-plan.ts';
import { shardGridTree, solveGridTreeSharded } from './tree-shard.ts';
import { solveGridTree, treeAsFleetProblem } from './tree-solver.ts';

let highs: Highs;
beforeAll(async () => {
  highs = await loadHighs();
});

const prices = parsePriceCsv(fixture('awattar-de-2022-03-26_28.csv'));

/** Two substations; the first with two feeders, transformers and connections; cars at connections. */
function utilityRequest(overrides: Partial<GridTreePlanRequestInput> = {}): GridTreePlanRequestInput {
  const nodes: GridTreeInput['nodes'] = [
    { id: 'sub-a', kind: 'substation', limitKw: 120, baseLoadKw: 10 },
    { id: 'sub-b', kind: 'substation', limitKw: 40 },
    { id: 'feeder-1', kind: 'feeder', parentId: 'sub-a', limitKw: 80 },
    { id: 'feeder-2', kind: 'feeder', parentId: 'sub-a', limitKw: 60 },
    { id: 'feeder-3', kind: 'feeder', parentId: 'sub-b', limitKw: 40 },
  ];
  const vehicles: NonNullable<GridTreePlanRequestInput['vehicles']> = [];
  const vehicleNodes: Record<string, string> = {};
  for (let f = 1; f <= 3; f++) {
    for (let x = 1; x <= 2; x++) {
      const transformer = `tr-${f}-${x}`;
      nodes.push({ id: transformer, kind: 'transformer', parentId: `feeder-${f}`, limitKw: 25 });
      for (let c = 1; c <= 3; c++) {
        const connection = `${transformer}-c${c}`;
        // Homes draw in the evening; one connection is too weak for its two cars.
        const tight = f === 1 && x === 1 && c === 1;
        nodes.push({
          id: connection,
          kind: 'connection',
          parentId: transformer,
          limitKw: tight ? 6 : 17,
          baseLoadKw: Array.from({ length: 96 }, (_, t) => (t >= 24 && t < 40 ? 3 : 0.8)),
        });
        for (let k = 1; k <= (tight ? 2 : 1); k++) {
          const id = `car-${connection}-${k}`;
          vehicles.push({
            id,
            socPercent: 10 + ((f * 7 + x * 5 + c * 3 + k) % 30),
            capacityKwh: 60,
            targetSocPercent: 90,
            arrival: '2022-03-26T18:00',
            departure: '2022-03-27T07:00',
            maxPowerKw: 11,
          });
          vehicleNodes[id] = connection;
        }
      }
    }
  }
  return {
    horizon: { start: '2022-03-26T12:00', hours: 24, slotMinutes: 15, timeZone: 'Europe/Berlin' },
    tariff: { type: 'dynamic', currency: 'EUR', prices },
    gridTree: { nodes },
    vehicles,
    vehicleNodes,
    ...overrides,
  };
}

function refusal(input: unknown): { path: string; message: string }[] {
  try {
    parseGridTreePlanRequest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(PlanInputError);
    return [...(error as PlanInputError).issues];
  }
  throw new Error('the request was accepted');
}

function nodesWith(change: (nodes: GridTreeInput['nodes']) => void): Partial<GridTreePlanRequestInput> {
  const nodes = structuredClone(utilityRequest().gridTree.nodes);
  change(nodes);
  return { gridTree: { nodes } };
}

describe('grid tree validation names the field and what is allowed', () => {
  it.each([
    [
      'a duplicate node id',
      nodesWith((n) => n.push({ id: 'feeder-1', kind: 'feeder', parentId: 'sub-b', limitKw: 5 })),
      'gridTree.nodes.29.id',
      /already the id of nodes.2/,
    ],
    [
      'a parent that does not exist',
      nodesWith((n) => (n[2]!.parentId = 'sub-z')),
      'gridTree.nodes.2.parentId',
      /no node has the id "sub-z"/,
    ],
    [
      'a kind above its parent’s',
      nodesWith((n) => (n[2]!.kind = 'substation')),
      'gridTree.nodes.2.kind',
      /cannot be below the substation "sub-a"/,
    ],
    [
      'an unknown kind',
      nodesWith((n) => ((n[2] as { kind: string }).kind = 'busbar')),
      'gridTree.nodes.2.kind',
      /"substation", "feeder", "transformer", "connection"/,
    ],
    ['a zero limit', nodesWith((n) => (n[3]!.limitKw = 0)), 'gridTree.nodes.3.limitKw', /in kW above 0/],
    [
      'a negative base load',
      nodesWith((n) => (n[3]!.baseLoadKw = -1)),
      'gridTree.nodes.3.baseLoadKw',
      /0 or more/,
    ],
    ['no nodes', { gridTree: { nodes: [] } }, 'gridTree.nodes', /at least one node/],
    [
      'a car without a node',
      {
        vehicleNodes: Object.fromEntries(
          Object.entries(utilityRequest().vehicleNodes).filter(([id]) => id !== 'car-tr-1-1-c1-1'),
        ),
      },
      'vehicleNodes.car-tr-1-1-c1-1',
      /has no node/,
    ],
    [
      'a car at a node that does not exist',
      { vehicleNodes: { ...utilityRequest().vehicleNodes, 'car-tr-1-1-c1-1': 'nowhere' } },
      'vehicleNodes.car-tr-1-1-c1-1',
      /no node of gridTree has the id "nowhere"/,
    ],
    [
      'a node for a car that does not exist',
      { vehicleNodes: { ...utilityRequest().vehicleNodes, ghost: 'sub-a' } },
      'vehicleNodes.ghost',
      /no vehicle has the id "ghost"/,
    ],
    ['the hard limit mode', { limitMode: 'hard' as const }, 'limitMode', /not supported for nested limits/],
  ])('refuses %s', (_label, overrides, path, message) => {
    const issues = refusal(utilityRequest(overrides));
    const issue = issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('refuses a series without one value per slot, naming the node’s field', () => {
    const request = parseGridTreePlanRequest(
      utilityRequest(nodesWith((n) => (n[4]!.limitKw = [40, 40, 40]))),
    );
    expect(() => planGridTree(request)).toThrow(
      /gridTree\.nodes\.4\.limitKw: has 3 values; give one number or one value per slot \(96 slots\)/,
    );
  });

  it('refuses two nodes that are each other’s parent', () => {
    expect(() =>
      parseGridTree({
        nodes: [
          { id: 'a', kind: 'feeder', parentId: 'b', limitKw: 1 },
          { id: 'b', kind: 'feeder', parentId: 'a', limitKw: 1 },
        ],
      }),
    ).toThrow(/gridTree\.nodes\.0\.kind: a feeder cannot be below the feeder "b"/);
  });

  it('adds base loads up the tree: a connection’s own load counts at its transformer and above', () => {
    const tree = resolveGridTree(
      parseGridTree({
        nodes: [
          { id: 's', kind: 'substation', limitKw: 100, baseLoadKw: 5 },
          { id: 't', kind: 'transformer', parentId: 's', limitKw: 50, baseLoadKw: 2 },
          { id: 'c', kind: 'connection', parentId: 't', limitKw: 20, baseLoadKw: [1, 4] },
        ],
      }),
      2,
    );
    expect(Array.from(tree.subtreeBaseKw)).toEqual([8, 11, 3, 6, 1, 4]);
    expect(Array.from(tree.headroomKw)).toEqual([92, 89, 47, 44, 19, 16]);
  });
});

function expectWithinLimits(plan: GridTreePlan): void {
  for (const node of plan.nodes) {
    node.chargingKw.forEach((kw, t) => {
      const limit = node.limitKw[t]!;
      const base = node.baseLoadKw[t]!;
      if (base <= limit) expect(kw + base).toBeLessThanOrEqual(limit + 1e-6);
      else expect(kw).toBeLessThanOrEqual(1e-6);
    });
  }
}

describe('planGridTree', () => {
  it('holds every node’s limit in every slot, reports the weak connection’s cars as short, and equals HiGHS', () => {
    const request = parseGridTreePlanRequest(utilityRequest());
    const plan = planGridTree(request);
    expectWithinLimits(plan);
    const short = plan.vehicles.filter((v) => v.shortfall);
    expect(short.length).toBeGreaterThan(0);
    for (const vehicle of short) {
      expect(vehicle.nodeId).toBe('tr-1-1-c1');
      expect(vehicle.shortfall).toMatchObject({ cause: 'grid', nodeId: 'tr-1-1-c1' });
      expect(vehicle.targetReached).toBe(false);
    }
    expect(plan.summary.vehiclesShort).toBe(short.length);
    const context = createGridTreePlanningContext(request);
    const solution = solveGridTree(context.problem);
    const reference = solveTreeWithHighs(highs, context.problem, { objective: 'cost', slotHours: 0.25 });
    expect(reference.status).toBe('Optimal');
    const mine = fleetObjective(
      treeAsFleetProblem(context.problem),
      solution.energyKwh,
      solution.optionalDeliveredKwh,
    );
    expect(relativeGap(mine, reference.objective)).toBeLessThan(1e-6);
    expect(plan.summary.cost).toBeCloseTo(mine, 6);
  });

  it('charges the minimum SoC at once inside every node on the car’s path', () => {
    const base = utilityRequest();
    const vehicles = base.vehicles.map((v) => ({ ...v, socPercent: 5, minSocPercent: 60 }));
    const plan = planGridTree(parseGridTreePlanRequest({ ...base, vehicles }));
    expectWithinLimits(plan);
    // The weak connection (6 kW, 3 kW homes in the evening) cannot give both cars 11 kW at once.
    const weak = plan.nodes.find((n) => n.id === 'tr-1-1-c1')!;
    expect(Math.max(...weak.chargingKw)).toBeLessThanOrEqual(6 - 0.8 + 1e-6);
  });

  it('warns when a node’s base load alone exceeds its limit', () => {
    const plan = planGridTree(
      parseGridTreePlanRequest(utilityRequest(nodesWith((n) => (n[5]!.baseLoadKw = 30)))),
    );
    expect(plan.warnings.join('\n')).toMatch(
      /node "tr-1-1": the base load alone exceeds its limit in 96 slot/,
    );
    expectWithinLimits(plan);
  });
});

describe('plans shard by top-level node', () => {
  it('planning each substation apart and merging gives the whole plan’s cost, energy and shortfall', () => {
    const request = parseGridTreePlanRequest(utilityRequest());
    const whole = planGridTree(request);
    const shards = shardGridTreePlanRequest(request);
    expect(shards.map((s) => s.topNodeId)).toEqual(['sub-a', 'sub-b']);
    expect(shards.reduce((n, s) => n + s.request.vehicles.length, 0)).toBe(request.vehicles.length);
    const merged = mergeGridTreePlans(shards.map((s) => planGridTree(parseGridTreePlanRequest(s.request))));
    expect(relativeGap(merged.summary.cost, whole.summary.cost)).toBeLessThan(1e-9);
    expect(merged.summary.energyKwh).toBeCloseTo(whole.summary.energyKwh, 6);
    expect(merged.summary.shortfallKwh).toBeCloseTo(whole.summary.shortfallKwh, 6);
    expect(merged.nodes.map((n) => n.id).sort()).toEqual(whole.nodes.map((n) => n.id).sort());
    expectWithinLimits(merged);
  });

  it('on random forests the sharded solve has the whole solve’s objective and delivery', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        (seed, topLevel, depth) => {
          const problem = createRandomGridTree(seed, {
            vehicles: 40,
            slots: 48,
            slotHours: 0.5,
            depth,
            topLevel,
          });
          const shards = shardGridTree(problem);
          expect(shards.length).toBe(topLevel);
          const whole = solveGridTree(problem);
          const sharded = solveGridTreeSharded(problem);
          const fleet = treeAsFleetProblem(problem);
          expect(
            relativeGap(
              fleetObjective(fleet, sharded.energyKwh, sharded.optionalDeliveredKwh),
              fleetObjective(fleet, whole.energyKwh, whole.optionalDeliveredKwh),
            ),
          ).toBeLessThan(1e-9);
          const total = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
          expect(total(sharded.shortfallKwh)).toBeCloseTo(total(whole.shortfallKwh), 6);
        },
      ),
      { numRuns: 25, seed: 99 },
    );
  });
});
