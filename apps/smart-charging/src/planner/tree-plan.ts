/**
 * Planning a fleet under a grid tree: request in (horizon, tariff, tree, vehicles and the node each
 * is connected at), plan out, no I/O. Least cost after the most energy possible by departure, every
 * node's limit held in every slot (slot averages, as meters bill them). Each car that cannot get its
 * energy gets a shortfall with its cause and, for the grid, the node that limits it.
 */
import { z } from 'zod';
import { PlanInputError, issuesFromZod } from './errors.ts';
import { prepareFleet } from './fleet-problem.ts';
import { GridTreeSchema, resolveGridTree, type ResolvedGridTree, type GridNodeKind } from './grid-tree.ts';
import { HorizonSchema, horizonGrid } from './plan.ts';
import { TariffSchema, priceSlots } from './tariff.ts';
import { formatZoned, parseInstant, slotStartMs } from './time-grid.ts';
import { solveGridTree, type GridTreeProblem, type GridTreeSolution } from './tree-solver.ts';
import { VehicleSchema } from './vehicle.ts';

export const GridTreePlanRequestSchema = z
  .object({
    horizon: HorizonSchema,
    tariff: TariffSchema,
    gridTree: GridTreeSchema,
    vehicles: z.array(VehicleSchema),
    /** Vehicle id → id of the node it is connected at (any node, usually a connection). */
    vehicleNodes: z.record(z.string(), z.string().min(1)),
    /** Only `average` (slot means) with a tree; `hard` (every minute, lanes) is refused. */
    limitMode: z.enum(['average', 'hard']).default('average'),
  })
  .superRefine((request, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (request.limitMode === 'hard')
      issue(
        ['limitMode'],
        'a grid tree is planned on slot averages only: "hard" (lanes so no minute exceeds a limit) is not supported for nested limits; use "average"',
      );
    const nodeIds = new Set(request.gridTree.nodes.map((node) => node.id));
    const vehicleIds = new Map<string, number>();
    request.vehicles.forEach((vehicle, k) => {
      const earlier = vehicleIds.get(vehicle.id);
      if (earlier !== undefined)
        issue(
          ['vehicles', k, 'id'],
          `"${vehicle.id}" is already the id of vehicles.${earlier}; ids must be unique`,
        );
      else vehicleIds.set(vehicle.id, k);
      const nodeId = request.vehicleNodes[vehicle.id];
      if (nodeId === undefined)
        issue(
          ['vehicleNodes', vehicle.id],
          `vehicle "${vehicle.id}" has no node: give the id of the node it is connected at`,
        );
      else if (!nodeIds.has(nodeId))
        issue(['vehicleNodes', vehicle.id], `no node of gridTree has the id "${nodeId}"`);
      const zone = request.horizon.timeZone;
      const time = (value: string | number, field: string): number | undefined => {
        try {
          return parseInstant(value, zone);
        } catch {
          issue(
            ['vehicles', k, field],
            `"${value}" is not a time: use an ISO 8601 time, a local "YYYY-MM-DD[THH:MM]" in horizon.timeZone, or epoch milliseconds`,
          );
          return undefined;
        }
      };
      const departure = time(vehicle.departure, 'departure');
      const arrival = vehicle.arrival === undefined ? undefined : time(vehicle.arrival, 'arrival');
      if (arrival !== undefined && departure !== undefined && departure <= arrival)
        issue(
          ['vehicles', k, 'departure'],
          `must be after vehicles.${k}.arrival (${String(vehicle.arrival)})`,
        );
    });
    for (const id of Object.keys(request.vehicleNodes))
      if (!vehicleIds.has(id)) issue(['vehicleNodes', id], `no vehicle has the id "${id}"`);
  });
export type GridTreePlanRequest = z.infer<typeof GridTreePlanRequestSchema>;
export type GridTreePlanRequestInput = z.input<typeof GridTreePlanRequestSchema>;

/** Validates an untrusted request; throws `PlanInputError` naming each bad field. */
export function parseGridTreePlanRequest(input: unknown): GridTreePlanRequest {
  const result = GridTreePlanRequestSchema.safeParse(input);
  if (!result.success) throw new PlanInputError(issuesFromZod(result.error.issues));
  return result.data;
}

export interface GridTreeVehiclePlan {
  readonly id: string;
  readonly nodeId: string;
  /** Mean grid power per slot (kW). */
  readonly powerKw: number[];
  readonly energyKwh: number;
  readonly cost: number;
  readonly finalSocPercent: number;
  readonly targetReached: boolean;
  readonly shortfall?: {
    /** Grid energy missing at departure (kWh). */
    readonly kwh: number;
    /** `time`: the window is too short at full power; `power`: the taper; `grid`: a node's limit. */
    readonly cause: 'time' | 'power' | 'grid';
    /** For `grid`: the node on the car's path that is full in most of its slots. */
    readonly nodeId?: string;
  };
}

export interface GridTreeNodePlan {
  readonly id: string;
  readonly kind: GridNodeKind;
  readonly parentId: string | null;
  /** Per slot (kW): the limit, the base load of the whole subtree, and the charging below the node. */
  readonly limitKw: number[];
  readonly baseLoadKw: number[];
  readonly chargingKw: number[];
}

export interface GridTreePlan {
  readonly timeZone: string;
  readonly slotMinutes: number;
  readonly start: string;
  readonly end: string;
  readonly slotStarts: string[];
  readonly pricePerKwh: number[];
  readonly vehicles: GridTreeVehiclePlan[];
  readonly nodes: GridTreeNodePlan[];
  readonly summary: {
    readonly currency: string | null;
    readonly energyKwh: number;
    readonly cost: number;
    readonly shortfallKwh: number;
    readonly vehiclesShort: number;
  };
  readonly warnings: string[];
}

const SHORTFALL_TOLERANCE_KWH = 1e-6;

/** The tree LP of a request, before solving (exposed for the benchmark and the service's shards). */
export interface GridTreePlanningContext {
  readonly request: GridTreePlanRequest;
  readonly tree: ResolvedGridTree;
  readonly problem: GridTreeProblem;
  readonly prepared: ReturnType<typeof prepareFleet>;
  readonly pricePerKwh: Float64Array;
  readonly slotHours: number;
}

export function createGridTreePlanningContext(request: GridTreePlanRequest): GridTreePlanningContext {
  const grid = horizonGrid(request);
  const T = grid.slotCount;
  const prices = priceSlots(request.tariff, grid);
  const tree = resolveGridTree(request.gridTree, T);
  const V = tree.ids.length;
  const vehicleNode = Int32Array.from(request.vehicles, (v) =>
    tree.indexOf.get(request.vehicleNodes[v.id]!)!,
  );
  const roomKwh = Float64Array.from(tree.headroomKw, (kw) => kw * grid.slotHours);
  const topHeadroomKw = new Float64Array(T);
  for (let n = 0; n < V; n++)
    if (tree.parent[n] === -1) for (let t = 0; t < T; t++) topHeadroomKw[t]! += tree.headroomKw[n * T + t]!;
  // Minimum-SoC energy (charged at once) must fit every node on the car's path too.
  const prepared = prepareFleet(
    request.vehicles,
    grid,
    prices.pricePerKwh,
    topHeadroomKw,
    (i, t, want, left) => {
      let amount = Math.min(want, left);
      for (let n = vehicleNode[i]!; n !== -1; n = tree.parent[n]!)
        amount = Math.min(amount, roomKwh[n * T + t]!);
      if (amount <= 0) return 0;
      for (let n = vehicleNode[i]!; n !== -1; n = tree.parent[n]!)
        roomKwh[n * T + t] = roomKwh[n * T + t]! - amount;
      return amount;
    },
  );
  const lp = prepared.problem;
  const problem: GridTreeProblem = {
    slotCount: T,
    vehicleCount: lp.vehicleCount,
    price: lp.price,
    windowStart: lp.windowStart,
    windowEnd: lp.windowEnd,
    arcCapKwh: lp.arcCapKwh,
    demandKwh: lp.demandKwh,
    optionalKwh: lp.optionalKwh,
    optionalValue: lp.optionalValue,
    nodeCount: V,
    nodeParent: tree.parent,
    nodeRoomKwh: roomKwh,
    vehicleNode,
  };
  return { request, tree, problem, prepared, pricePerKwh: prices.pricePerKwh, slotHours: grid.slotHours };
}

/** Plans the fleet under the tree (see module comment). Throws `PlanInputError` for bad input. */
export function planGridTree(request: GridTreePlanRequest): GridTreePlan {
  const context = createGridTreePlanningContext(request);
  return gridTreePlan(context, solveGridTree(context.problem));
}

/** The plan of a context from a solution of its problem (whole, or merged from shards). */
export function gridTreePlan(context: GridTreePlanningContext, solution: GridTreeSolution): GridTreePlan {
  const { request, tree, problem, prepared, pricePerKwh, slotHours } = context;
  const grid = horizonGrid(request);
  const T = grid.slotCount;
  const energy = Float64Array.from(solution.energyKwh, (e, k) => e + prepared.fixedKwh[k]!);
  const charging = new Float64Array(tree.ids.length * T);
  for (let i = 0; i < problem.vehicleCount; i++)
    for (let n = problem.vehicleNode[i]!; n !== -1; n = tree.parent[n]!)
      for (let t = 0; t < T; t++) charging[n * T + t] = charging[n * T + t]! + energy[i * T + t]! / slotHours;
  const full = (n: number, t: number): boolean =>
    charging[n * T + t]! >= tree.headroomKw[n * T + t]! - 1e-6 && tree.headroomKw[n * T + t]! >= 0;
  const vehicles = request.vehicles.map((vehicle, i): GridTreeVehiclePlan => {
    const setup = prepared.setups[i]!;
    let kwh = 0;
    let cost = 0;
    const powerKw: number[] = [];
    for (let t = 0; t < T; t++) {
      const e = energy[i * T + t]!;
      kwh += e;
      cost += e * pricePerKwh[t]!;
      powerKw.push(e / slotHours);
    }
    const finalSoc = Math.min(
      100,
      vehicle.socPercent + ((kwh * vehicle.efficiency) / vehicle.capacityKwh) * 100,
    );
    const short = solution.shortfallKwh[i]!;
    const base = {
      id: vehicle.id,
      nodeId: tree.ids[problem.vehicleNode[i]!]!,
      powerKw,
      energyKwh: kwh,
      cost,
      finalSocPercent: finalSoc,
      targetReached: short <= SHORTFALL_TOLERANCE_KWH,
    };
    if (short <= SHORTFALL_TOLERANCE_KWH) return base;
    if (setup.fullPowerKwh < setup.needKwh - SHORTFALL_TOLERANCE_KWH)
      return { ...base, shortfall: { kwh: short, cause: 'time' } };
    if (setup.cappedKwh < setup.needKwh - SHORTFALL_TOLERANCE_KWH)
      return { ...base, shortfall: { kwh: short, cause: 'power' } };
    // The node on the path that is full in the most slots of the car's window.
    let limiting = problem.vehicleNode[i]!;
    let most = -1;
    for (let n = problem.vehicleNode[i]!; n !== -1; n = tree.parent[n]!) {
      let count = 0;
      for (let t = problem.windowStart[i]!; t < problem.windowEnd[i]!; t++) if (full(n, t)) count++;
      if (count > most) {
        most = count;
        limiting = n;
      }
    }
    return { ...base, shortfall: { kwh: short, cause: 'grid', nodeId: tree.ids[limiting]! } };
  });
  const warnings: string[] = [];
  const nodes = tree.ids.map((id, n): GridTreeNodePlan => {
    const slice = (values: Float64Array) => Array.from(values.subarray(n * T, (n + 1) * T));
    let overloaded = 0;
    for (let t = 0; t < T; t++) if (tree.subtreeBaseKw[n * T + t]! > tree.limitKw[n * T + t]!) overloaded++;
    if (overloaded > 0)
      warnings.push(
        `node "${id}": the base load alone exceeds its limit in ${overloaded} slot(s); nothing below it charges there`,
      );
    const parent = tree.parent[n]!;
    return {
      id,
      kind: tree.kinds[n]!,
      parentId: parent === -1 ? null : tree.ids[parent]!,
      limitKw: slice(tree.limitKw),
      baseLoadKw: slice(tree.subtreeBaseKw),
      chargingKw: slice(charging),
    };
  });
  const fmt = (ms: number) => formatZoned(ms, grid.timeZone);
  const summaryEnergy = vehicles.reduce((s, v) => s + v.energyKwh, 0);
  return {
    timeZone: grid.timeZone,
    slotMinutes: grid.slotMinutes,
    start: fmt(grid.startMs),
    end: fmt(slotStartMs(grid, T)),
    slotStarts: Array.from({ length: T }, (_, t) => fmt(slotStartMs(grid, t))),
    pricePerKwh: Array.from(pricePerKwh),
    vehicles,
    nodes,
    summary: {
      currency: request.tariff.currency ?? null,
      energyKwh: summaryEnergy,
      cost: vehicles.reduce((s, v) => s + v.cost, 0),
      shortfallKwh: vehicles.reduce((s, v) => s + (v.shortfall?.kwh ?? 0), 0),
      vehiclesShort: vehicles.filter((v) => v.shortfall).length,
    },
    warnings,
  };
}

export interface GridTreePlanShard {
  /** The top-level node the shard plans, with everything below it and the vehicles there. */
  readonly topNodeId: string;
  readonly request: GridTreePlanRequest;
}

/**
 * One request per top-level node (the nodes below it and the vehicles connected there): they share
 * no limit, so each can be planned on another instance and `mergeGridTreePlans` gives the whole plan.
 */
export function shardGridTreePlanRequest(request: GridTreePlanRequest): GridTreePlanShard[] {
  const nodes = request.gridTree.nodes;
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const topOf = (id: string): string => {
    let node = byId.get(id)!;
    while (node.parentId !== undefined) node = byId.get(node.parentId)!;
    return node.id;
  };
  return nodes
    .filter((node) => node.parentId === undefined)
    .map((top) => {
      const vehicles = request.vehicles.filter((v) => topOf(request.vehicleNodes[v.id]!) === top.id);
      return {
        topNodeId: top.id,
        request: {
          ...request,
          gridTree: { nodes: nodes.filter((node) => topOf(node.id) === top.id) },
          vehicles,
          vehicleNodes: Object.fromEntries(vehicles.map((v) => [v.id, request.vehicleNodes[v.id]!])),
        },
      };
    });
}

/** The plans of the shards of one request as one plan (vehicles and nodes in shard order). */
export function mergeGridTreePlans(plans: readonly GridTreePlan[]): GridTreePlan {
  const first = plans[0];
  if (!first) throw new RangeError('mergeGridTreePlans needs at least one plan');
  const sum = (pick: (plan: GridTreePlan) => number) => plans.reduce((s, plan) => s + pick(plan), 0);
  return {
    ...first,
    vehicles: plans.flatMap((plan) => plan.vehicles),
    nodes: plans.flatMap((plan) => plan.nodes),
    summary: {
      currency: first.summary.currency,
      energyKwh: sum((plan) => plan.summary.energyKwh),
      cost: sum((plan) => plan.summary.cost),
      shortfallKwh: sum((plan) => plan.summary.shortfallKwh),
      vehiclesShort: sum((plan) => plan.summary.vehiclesShort),
    },
    warnings: plans.flatMap((plan) => plan.warnings),
  };
}
