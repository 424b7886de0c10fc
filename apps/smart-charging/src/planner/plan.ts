/**
 * The planner: request in, plan out, no I/O. Objectives:
 * - `cost`: least energy cost (plus demand charge when the tariff has one);
 * - `peak`: least peak of base load + charging (valley filling), cheapest among those plans;
 * - `cost-then-peak`: least cost, and among equally cheap plans the lowest peak.
 * Shortfall always comes first: no plan delivers less energy by departure than the most possible.
 *
 * All three reduce to the fleet LP (fleet-solver.ts) with the slot headroom capped at a level P:
 * cost(P) is convex and non-increasing in P, so the least P keeping cost (or delivery) at its optimum
 * is found by secant steps from the left (exact on the last linear piece) guarded by bisection, and
 * the demand charge D·P + cost(P) is minimised by golden-section search.
 */
import { z } from 'zod';
import { solveFleet, type FleetProblem, type FleetSolution } from './fleet-solver.ts';
import { prepareFleet, type PreparedFleet, type VehicleSetup } from './fleet-problem.ts';
import { GridSchema, gridSlots, type GridSlots } from './grid.ts';
import type { LoadProfile } from './load-profile.ts';
import { TariffSchema, priceSlots, type PriceAssumption, type SlotPrices } from './tariff.ts';
import {
  SLOT_MINUTES,
  createSlotGrid,
  formatZoned,
  isValidTimeZone,
  parseInstant,
  slotStartMs,
  type SlotGrid,
} from './time-grid.ts';
import { VehicleSchema } from './vehicle.ts';

export const OBJECTIVES = ['cost', 'peak', 'cost-then-peak'] as const;
export type Objective = (typeof OBJECTIVES)[number];

export const HorizonSchema = z
  .object({
    /** ISO time with offset, or local `YYYY-MM-DD[THH:MM]` in `timeZone`. */
    start: z.union([z.string(), z.number()]),
    end: z.union([z.string(), z.number()]).optional(),
    hours: z
      .number()
      .positive()
      .max(24 * 14)
      .optional(),
    slotMinutes: z.union(
      SLOT_MINUTES.map((m) => z.literal(m)) as unknown as [
        z.ZodLiteral<5>,
        z.ZodLiteral<15>,
        z.ZodLiteral<30>,
        z.ZodLiteral<60>,
      ],
    ),
    timeZone: z.string().refine(isValidTimeZone, { message: 'unknown IANA time zone' }),
  })
  .refine((h) => h.end !== undefined || h.hours !== undefined, {
    message: 'give end or hours',
    path: ['end'],
  });

export const PlanRequestSchema = z.object({
  horizon: HorizonSchema,
  tariff: TariffSchema,
  grid: GridSchema,
  vehicles: z.array(VehicleSchema),
  objective: z.enum(OBJECTIVES).default('cost'),
  /** Peak already billed in this demand-charge period (kW); the charge is on max(peak, this). */
  demandFloorKw: z.number().min(0).default(0),
});
export type PlanRequest = z.infer<typeof PlanRequestSchema>;
export type PlanRequestInput = z.input<typeof PlanRequestSchema>;

export type ShortfallCause = 'time' | 'power' | 'grid';

export interface VehiclePlan {
  readonly id: string;
  /** Mean grid power per slot (kW). */
  readonly powerKw: number[];
  /** SoC at each slot boundary (%), slotCount + 1 values. */
  readonly socPercent: number[];
  readonly energyKwh: number;
  readonly cost: number;
  readonly targetSocPercent: number;
  readonly finalSocPercent: number;
  readonly targetReached: boolean;
  readonly shortfall?: {
    /** Battery energy missing at departure (kWh). */
    readonly kwh: number;
    readonly cause: ShortfallCause;
    readonly message: string;
  };
  readonly warnings: string[];
}

export interface PlanSlot {
  readonly start: string;
  readonly pricePerKwh: number;
  readonly priceAssumed: boolean;
  readonly limitKw: number;
  readonly baseKw: number;
  readonly chargingKw: number;
}

export interface PlanSummary {
  readonly objective: Objective;
  readonly vehicles: number;
  readonly energyKwh: number;
  readonly energyCost: number;
  readonly demandCharge: number;
  readonly totalCost: number;
  /** Cost if every car charged flat out from plug-in until its target (ignores the grid limit). */
  readonly immediateCost: number;
  readonly immediateEnergyKwh: number;
  readonly savings: number;
  /** Peak of base + charging (kW) when charging at once on arrival, and as planned. */
  readonly peakBeforeKw: number;
  readonly peakAfterKw: number;
  readonly baseLoadPeakKw: number;
  readonly shortfallKwh: number;
  readonly vehiclesShort: number;
}

export interface Plan {
  readonly timeZone: string;
  readonly slotMinutes: number;
  readonly start: string;
  readonly end: string;
  readonly slots: PlanSlot[];
  readonly vehicles: VehiclePlan[];
  readonly summary: PlanSummary;
  /** Prices that were assumed (gaps in the published series). */
  readonly assumptions: readonly PriceAssumption[];
}

export interface PlanOptions {
  /** Parsed H25 profile, needed when the grid's base load is `bdew-h25`. */
  readonly profile?: LoadProfile;
  readonly onProgress?: (message: string, done: number, total: number) => void;
}

export class PlanInputError extends Error {
  override name = 'PlanInputError';
  readonly issues: readonly { path: string; message: string }[];
  constructor(issues: readonly { path: string; message: string }[]) {
    super(issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('\n'));
    this.issues = issues;
  }
}

/** Validates an untrusted request; throws `PlanInputError` naming each bad field. */
export function parsePlanRequest(input: unknown): PlanRequest {
  const result = PlanRequestSchema.safeParse(input);
  if (!result.success) {
    throw new PlanInputError(
      result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return result.data;
}

export function horizonGrid(request: Pick<PlanRequest, 'horizon'>): SlotGrid {
  const { horizon } = request;
  const startMs = parseInstant(horizon.start, horizon.timeZone);
  const endMs =
    horizon.end !== undefined
      ? parseInstant(horizon.end, horizon.timeZone)
      : startMs + horizon.hours! * 3_600_000;
  if (endMs <= startMs)
    throw new PlanInputError([{ path: 'horizon.end', message: 'must be after horizon.start' }]);
  return createSlotGrid({ startMs, endMs, slotMinutes: horizon.slotMinutes, timeZone: horizon.timeZone });
}

/** Everything the optimisation needs, derived from a request (exposed for tests and benchmarks). */
export interface PlanningContext {
  readonly grid: SlotGrid;
  readonly prices: SlotPrices;
  readonly gridSlots: GridSlots;
  readonly fleet: PreparedFleet;
}

export function createPlanningContext(request: PlanRequest, options: PlanOptions = {}): PlanningContext {
  const grid = horizonGrid(request);
  const prices = priceSlots(request.tariff, grid);
  const slots = gridSlots(request.grid, grid, options.profile);
  const fleet = prepareFleet(request.vehicles, grid, prices.pricePerKwh, slots.headroomKw);
  return { grid, prices, gridSlots: slots, fleet };
}

interface LevelResult {
  readonly level: number;
  readonly solution: FleetSolution;
  readonly deficit: number;
  readonly cost: number;
}

/** Optimal energy per vehicle and slot (fixed + optimised), and the level P it was solved at. */
export function optimise(
  context: PlanningContext,
  objective: Objective,
  demandFloorKw = 0,
  onProgress?: PlanOptions['onProgress'],
): { energyKwh: Float64Array; solution: FleetSolution; level: number } {
  const { grid, gridSlots: slots, fleet, prices } = context;
  const T = grid.slotCount;
  const { problem, fixedKwh } = fleet;
  const fixedLoadKwh = new Float64Array(T);
  for (let i = 0; i < problem.vehicleCount; i++) {
    for (let t = 0; t < T; t++) fixedLoadKwh[t] = fixedLoadKwh[t]! + fixedKwh[i * T + t]!;
  }
  let floorLevel = 0;
  let topLevel = 0;
  for (let t = 0; t < T; t++) {
    floorLevel = Math.max(floorLevel, slots.baseKw[t]! + fixedLoadKwh[t]! / grid.slotHours);
    topLevel = Math.max(topLevel, slots.baseKw[t]! + slots.headroomKw[t]!);
  }
  topLevel = Math.max(topLevel, floorLevel);
  const room = new Float64Array(T);
  let solves = 0;
  const solveAt = (level: number): LevelResult => {
    for (let t = 0; t < T; t++) {
      const cap =
        Math.min(slots.headroomKw[t]!, level - slots.baseKw[t]!) * grid.slotHours - fixedLoadKwh[t]!;
      room[t] = Math.max(0, Math.min(problem.slotRoomKwh[t]!, cap));
    }
    const solution = solveFleet(
      { ...problem, slotRoomKwh: room },
      level === topLevel && onProgress ? { onProgress: (d, n) => onProgress('solving', d, n) } : {},
    );
    solves++;
    let deficit = 0;
    for (const s of solution.shortfallKwh) deficit += s;
    return { level, solution, deficit, cost: lpObjective(problem, solution) };
  };

  const unrestricted = solveAt(topLevel);
  const deficitTolerance = 1e-9 * Math.max(1, totalOf(problem.demandKwh));
  const costScale = Math.max(1, Math.abs(unrestricted.cost));
  const costTolerance = 1e-9 * costScale;
  const demandCharge = prices.demandChargePerKw;

  // No level below the one where the aggregate room holds all deliverable energy can deliver it; starting
  // the searches there (instead of at the floor) saves most of the solves.
  const deliverable = totalOf(problem.demandKwh) - unrestricted.deficit;
  const roomAt = (level: number): number => {
    let sum = 0;
    for (let t = 0; t < T; t++) {
      const cap =
        Math.min(slots.headroomKw[t]!, level - slots.baseKw[t]!) * grid.slotHours - fixedLoadKwh[t]!;
      sum += Math.max(0, Math.min(problem.slotRoomKwh[t]!, cap));
    }
    return sum;
  };
  let lowLevel = floorLevel;
  let highLevel = topLevel;
  for (let step = 0; step < 100 && highLevel - lowLevel > 1e-12 * Math.max(1, highLevel); step++) {
    const mid = (lowLevel + highLevel) / 2;
    if (roomAt(mid) >= deliverable) highLevel = mid;
    else lowLevel = mid;
  }
  const searchFloor = Math.max(floorLevel, lowLevel);

  // Least level that still delivers all that can be delivered.
  const deliveryLevel = () =>
    findLeastLevel(
      solveAt,
      searchFloor,
      unrestricted,
      (r) => r.deficit - unrestricted.deficit - deficitTolerance,
    );

  let chosen: LevelResult = unrestricted;
  if (objective === 'peak') {
    chosen = deliveryLevel();
  } else if (demandCharge > 0) {
    const lowest = deliveryLevel();
    const total = (r: LevelResult) => r.cost + demandCharge * Math.max(r.level, demandFloorKw);
    chosen = goldenSection(solveAt, lowest, unrestricted, total);
    if (objective === 'cost-then-peak') {
      const best = total(chosen);
      const left = findLeastLevel(solveAt, lowest.level, chosen, (r) =>
        r.deficit - unrestricted.deficit > deficitTolerance ? 1 : total(r) - best - costTolerance,
      );
      chosen = left;
    }
  } else if (objective === 'cost-then-peak') {
    chosen = findLeastLevel(solveAt, searchFloor, unrestricted, (r) =>
      r.deficit - unrestricted.deficit > deficitTolerance ? 1 : r.cost - unrestricted.cost - costTolerance,
    );
  }
  onProgress?.('solved', solves, solves);
  const energy = chosen.solution.energyKwh.slice();
  for (let k = 0; k < energy.length; k++) energy[k] = energy[k]! + fixedKwh[k]!;
  return { energyKwh: energy, solution: chosen.solution, level: chosen.level };
}

function totalOf(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum;
}

/** Σ price × energy − Σ value × optional energy: what the LP minimises once shortfall is settled. */
export function lpObjective(problem: FleetProblem, solution: FleetSolution): number {
  const { slotCount: T, vehicleCount: N, price } = problem;
  let cost = 0;
  for (let i = 0; i < N; i++) {
    for (let t = problem.windowStart[i]!; t < problem.windowEnd[i]!; t++)
      cost += price[t]! * solution.energyKwh[i * T + t]!;
    cost -= problem.optionalValue[i]! * solution.optionalDeliveredKwh[i]!;
  }
  return cost;
}

const MAX_SEARCH_STEPS = 80;

/**
 * Least level whose `excess` is ≤ 0, for an excess that is convex and non-increasing in the level
 * (`feasibleTop` is known to satisfy it). Secant steps through two infeasible points never overshoot
 * a convex function's root, so a feasible secant point ends the search; bisection keeps it safe.
 */
function findLeastLevel(
  solveAt: (level: number) => LevelResult,
  bottom: number,
  feasibleTop: LevelResult,
  excess: (r: LevelResult) => number,
): LevelResult {
  const low = solveAt(bottom);
  if (excess(low) <= 0) return low;
  let hi = feasibleTop;
  // The two most recent infeasible points, ascending in level.
  let previous: { level: number; e: number } | undefined;
  let last = { level: bottom, e: excess(low) };
  for (let step = 0; step < MAX_SEARCH_STEPS; step++) {
    if (hi.level - last.level <= 1e-10 * Math.max(1, hi.level)) break;
    let candidate = (last.level + hi.level) / 2;
    let secant = false;
    if (previous && previous.e > last.e) {
      const root = last.level + (last.e * (last.level - previous.level)) / (previous.e - last.e);
      if (root > last.level && root < hi.level) {
        candidate = root;
        secant = true;
      }
    }
    const r = solveAt(candidate);
    const e = excess(r);
    if (e <= 0) {
      hi = r;
      if (secant) break;
    } else {
      previous = last;
      last = { level: candidate, e };
    }
  }
  return hi;
}

/** Minimises a convex function of the level on [low.level, high.level] by golden-section search. */
function goldenSection(
  solveAt: (level: number) => LevelResult,
  low: LevelResult,
  high: LevelResult,
  value: (r: LevelResult) => number,
): LevelResult {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = low.level;
  let b = high.level;
  let best = value(low) <= value(high) ? low : high;
  let c = solveAt(b - ratio * (b - a));
  let d = solveAt(a + ratio * (b - a));
  for (let step = 0; step < MAX_SEARCH_STEPS && b - a > 1e-10 * Math.max(1, b); step++) {
    for (const r of [c, d]) if (value(r) < value(best)) best = r;
    if (value(c) <= value(d)) {
      b = d.level;
      d = c;
      c = solveAt(b - ratio * (b - a));
    } else {
      a = c.level;
      c = d;
      d = solveAt(a + ratio * (b - a));
    }
  }
  for (const r of [c, d]) if (value(r) < value(best)) best = r;
  return best;
}

/** Plans charging for every vehicle in the request. Pure: same request, same plan. */
export function createPlan(request: PlanRequest, options: PlanOptions = {}): Plan {
  const context = createPlanningContext(request, options);
  const { energyKwh } = optimise(context, request.objective, request.demandFloorKw, options.onProgress);
  return buildPlan(request, context, energyKwh);
}

function buildPlan(request: PlanRequest, context: PlanningContext, energyKwh: Float64Array): Plan {
  const { grid, prices, gridSlots: slots, fleet } = context;
  const T = grid.slotCount;
  const price = prices.pricePerKwh;
  const load = new Float64Array(T);
  const vehicles: VehiclePlan[] = fleet.setups.map((setup, i) => {
    const { vehicle } = setup;
    const powerKw: number[] = new Array<number>(T);
    const socPercent: number[] = new Array<number>(T + 1);
    let soc = vehicle.socPercent;
    socPercent[0] = soc;
    let energy = 0;
    let cost = 0;
    for (let t = 0; t < T; t++) {
      const kwh = energyKwh[i * T + t]!;
      load[t] = load[t]! + kwh;
      energy += kwh;
      cost += kwh * price[t]!;
      powerKw[t] = kwh / grid.slotHours;
      soc += ((kwh * vehicle.efficiency) / vehicle.capacityKwh) * 100;
      socPercent[t + 1] = soc;
    }
    return vehiclePlan(setup, powerKw, socPercent, energy, cost, soc);
  });

  const immediate = immediateCharging(fleet, price, T);
  let energyTotal = 0;
  let energyCost = 0;
  let peakAfter = 0;
  let peakBefore = 0;
  let basePeak = 0;
  for (let t = 0; t < T; t++) {
    energyTotal += load[t]!;
    energyCost += load[t]! * price[t]!;
    peakAfter = Math.max(peakAfter, slots.baseKw[t]! + load[t]! / grid.slotHours);
    peakBefore = Math.max(peakBefore, slots.baseKw[t]! + immediate.loadKwh[t]! / grid.slotHours);
    basePeak = Math.max(basePeak, slots.baseKw[t]!);
  }
  const demandRate = prices.demandChargePerKw;
  const demandCharge = demandRate * Math.max(peakAfter, request.demandFloorKw);
  const immediateTotal = immediate.cost + demandRate * Math.max(peakBefore, request.demandFloorKw);
  const shortfalls = vehicles.filter((v) => v.shortfall);
  return {
    timeZone: grid.timeZone,
    slotMinutes: grid.slotMinutes,
    start: formatZoned(grid.startMs, grid.timeZone),
    end: formatZoned(slotStartMs(grid, T), grid.timeZone),
    slots: Array.from({ length: T }, (_, t) => ({
      start: formatZoned(slotStartMs(grid, t), grid.timeZone),
      pricePerKwh: price[t]!,
      priceAssumed: prices.assumed[t] === 1,
      limitKw: slots.limitKw[t]!,
      baseKw: slots.baseKw[t]!,
      chargingKw: load[t]! / grid.slotHours,
    })),
    vehicles,
    summary: {
      objective: request.objective,
      vehicles: vehicles.length,
      energyKwh: energyTotal,
      energyCost,
      demandCharge,
      totalCost: energyCost + demandCharge,
      immediateCost: immediateTotal,
      immediateEnergyKwh: immediate.energyKwh,
      savings: immediateTotal - (energyCost + demandCharge),
      peakBeforeKw: peakBefore,
      peakAfterKw: peakAfter,
      baseLoadPeakKw: basePeak,
      shortfallKwh: shortfalls.reduce((s, v) => s + (v.shortfall?.kwh ?? 0), 0),
      vehiclesShort: shortfalls.length,
    },
    assumptions: prices.assumptions,
  };
}

const SOC_TOLERANCE_PERCENT = 1e-6;
const SHORTFALL_TOLERANCE_KWH = 1e-4;

function vehiclePlan(
  setup: VehicleSetup,
  powerKw: number[],
  socPercent: number[],
  energy: number,
  cost: number,
  finalSoc: number,
): VehiclePlan {
  const { vehicle, targetSocPercent: target } = setup;
  const warnings: string[] = [];
  if (vehicle.targetSocPercent > vehicle.chargeLimitPercent) {
    warnings.push(
      `target ${vehicle.targetSocPercent} % is above the charge limit; planned to ${vehicle.chargeLimitPercent} %`,
    );
  }
  const missingPercent = target - finalSoc;
  const missingKwh = (missingPercent / 100) * vehicle.capacityKwh;
  const base = {
    id: vehicle.id,
    powerKw,
    socPercent,
    energyKwh: energy,
    cost,
    targetSocPercent: target,
    finalSocPercent: finalSoc,
    warnings,
  };
  // Solver tolerances leave up to ~1e-9 of the fleet's energy unplaced; that is not a shortfall.
  if (missingPercent <= SOC_TOLERANCE_PERCENT || missingKwh <= SHORTFALL_TOLERANCE_KWH)
    return { ...base, targetReached: true };
  const kwh = missingKwh;
  let cause: ShortfallCause;
  let message: string;
  const eps = 1e-9 * Math.max(1, setup.needKwh);
  if (setup.needKwh > setup.fullPowerKwh + eps) {
    cause = 'time';
    message = setup.departsAfterHorizon
      ? `the horizon ends before departure; at full power it allows ${(setup.fullPowerKwh * vehicle.efficiency).toFixed(2)} kWh into the battery`
      : `plugged in too briefly: even at ${vehicle.maxPowerKw} kW the window allows ${(setup.fullPowerKwh * vehicle.efficiency).toFixed(2)} kWh into the battery`;
  } else if (setup.needKwh > setup.cappedKwh + eps) {
    cause = 'power';
    message = `the taper near full limits charging to ${(setup.cappedKwh * vehicle.efficiency).toFixed(2)} kWh in the window`;
  } else {
    cause = 'grid';
    message =
      'the shared grid limit (after base load and demand-response events) leaves too little room in the window';
  }
  return { ...base, targetReached: false, shortfall: { kwh, cause, message } };
}

/** Every car flat out from plug-in until its target (ignoring the grid limit): the baseline. */
function immediateCharging(fleet: PreparedFleet, price: Float64Array, T: number) {
  const loadKwh = new Float64Array(T);
  let cost = 0;
  let energyKwh = 0;
  fleet.setups.forEach((setup, i) => {
    let left = setup.needKwh;
    for (let t = fleet.problem.windowStart[i]!; t < fleet.problem.windowEnd[i]! && left > 0; t++) {
      const kwh = Math.min(left, fleet.fullArcCapKwh[i * T + t]!);
      left -= kwh;
      loadKwh[t] = loadKwh[t]! + kwh;
      cost += kwh * price[t]!;
      energyKwh += kwh;
    }
  });
  return { loadKwh, cost, energyKwh };
}
