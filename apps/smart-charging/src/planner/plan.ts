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
import { hardLimitHeadroomKw } from './hard-limit.ts';
import type { LoadProfile } from './load-profile.ts';
import { TariffSchema, priceSlots, type PriceAssumption, type SlotPrices, type Tariff } from './tariff.ts';
import {
  SLOT_MINUTES,
  createSlotGrid,
  formatZoned,
  isValidTimeZone,
  parseInstant,
  slotStartMs,
  type SlotGrid,
} from './time-grid.ts';
import { PlanInputError, issuesFromZod } from './errors.ts';
import { VehicleSchema, requestedTargetSocPercent } from './vehicle.ts';
import type { GridTreeNodePlan } from './tree-plan.ts';

export { PlanInputError } from './errors.ts';

export const OBJECTIVES = ['cost', 'peak', 'cost-then-peak'] as const;
export type Objective = (typeof OBJECTIVES)[number];

const TIME_HELP =
  'an ISO 8601 time with offset (2024-10-26T12:00+02:00), a local "YYYY-MM-DD[THH:MM]" in horizon.timeZone, or epoch milliseconds';

export const TimeInputSchema = z.union([z.string(), z.number()], { error: `must be ${TIME_HELP}` });

export const HorizonSchema = z
  .object({
    /** ISO time with offset, or local `YYYY-MM-DD[THH:MM]` in `timeZone`. */
    start: TimeInputSchema,
    end: TimeInputSchema.optional(),
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
      { error: `must be one of ${SLOT_MINUTES.join(', ')} (minutes)` },
    ),
    timeZone: z.string().refine(isValidTimeZone, {
      message: 'must be an IANA time zone such as Europe/Berlin or America/Los_Angeles',
    }),
  })
  .refine((h) => h.end !== undefined || h.hours !== undefined, {
    message: 'give end or hours',
    path: ['end'],
  });

export const PlanRequestSchema = z
  .object({
    horizon: HorizonSchema,
    tariff: TariffSchema,
    grid: GridSchema,
    vehicles: z.array(VehicleSchema),
    objective: z.enum(OBJECTIVES).default('cost'),
    /** Peak already billed in this demand-charge period (kW); the charge is on max(peak, this). */
    demandFloorKw: z.number().min(0).default(0),
    /** What exported PV earns per kWh (a fixed, TOU or dynamic tariff); required with `grid.pvKw`. */
    feedInTariff: TariffSchema.optional(),
  })
  .superRefine(checkRequestConsistency);
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
  /**
   * When charging is estimated to end: the last planned slot's start plus its energy at full power
   * (cars switch on and off); null when the plan does not charge the car.
   */
  readonly chargeCompleteAt: string | null;
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
  /** PV generation (kW); 0 without PV. */
  readonly pvKw: number;
  /** What exported PV earns per kWh in this slot; null without a feed-in tariff. */
  readonly exportPricePerKwh: number | null;
  /** Charging covered by PV surplus (kW). */
  readonly solarChargingKw: number;
  /** PV used on site, by the household and the cars (kW). */
  readonly selfConsumptionKw: number;
  /** Site import and export at the meter, base load included (kW). */
  readonly gridImportKw: number;
  readonly gridExportKw: number;
}

export interface PlanSummary {
  readonly objective: Objective;
  /** ISO 4217 code of every amount in the plan; null when the tariff does not state it. */
  readonly currency: string | null;
  readonly vehicles: number;
  /** Energy drawn from the grid by all cars (kWh), opportunistic extras included. */
  readonly energyKwh: number;
  readonly energyCost: number;
  readonly demandCharge: number;
  readonly totalCost: number;
  /** Energy the plan delivers towards targets and minimum SoCs (kWh): `energyKwh` minus the extras. */
  readonly targetEnergyKwh: number;
  /** What the plan would cost without the opportunistic extras: the same energy as the baseline. */
  readonly targetEnergyCost: number;
  /**
   * Baseline: every car flat out from plug-in until it has the same target energy as the plan gives
   * it (ignores the grid limit), demand charge included.
   */
  readonly immediateCost: number;
  readonly immediateEnergyKwh: number;
  /** `immediateCost − targetEnergyCost`: like with like, the same energy bought at other times. */
  readonly savings: number;
  /** Extra energy bought below the cars' price caps, beyond their targets (kWh), and what it adds. */
  readonly opportunisticEnergyKwh: number;
  readonly opportunisticCost: number;
  /** Peak of base + charging (kW) when charging at once on arrival, and as planned. */
  readonly peakBeforeKw: number;
  readonly peakAfterKw: number;
  readonly baseLoadPeakKw: number;
  readonly shortfallKwh: number;
  readonly vehiclesShort: number;
  /** Charging energy covered by PV surplus (kWh), and the site's import and export over the horizon. */
  readonly solarChargingKwh: number;
  readonly gridImportKwh: number;
  readonly gridExportKwh: number;
}

export interface Plan {
  readonly timeZone: string;
  readonly slotMinutes: number;
  readonly start: string;
  readonly end: string;
  readonly slots: PlanSlot[];
  readonly vehicles: VehiclePlan[];
  readonly summary: PlanSummary;
  /** Prices that were assumed (gaps in the published series), import and feed-in. */
  readonly assumptions: readonly PriceAssumption[];
  /** What the plan rests on that a person should know (for example slots the LP cannot price exactly). */
  readonly warnings: readonly string[];
  /** Under a grid tree: each node's limit, base load and charging per slot (the slots show the top). */
  readonly nodes?: readonly GridTreeNodePlan[];
}

export interface PlanOptions {
  /** Parsed H25 profile, needed when the grid's base load is `bdew-h25`. */
  readonly profile?: LoadProfile;
  readonly onProgress?: (message: string, done: number, total: number) => void;
}

/** Validates an untrusted request; throws `PlanInputError` naming each bad field. */
export function parsePlanRequest(input: unknown): PlanRequest {
  const result = PlanRequestSchema.safeParse(input);
  if (!result.success) throw new PlanInputError(issuesFromZod(result.error.issues));
  return result.data;
}

/**
 * What the field schemas cannot see alone: times that must parse in the horizon's zone, series that
 * must have one value per slot, windows that must not be reversed, ids that must be unique.
 */
function checkRequestConsistency(
  request: {
    horizon: z.infer<typeof HorizonSchema>;
    grid: z.infer<typeof GridSchema>;
    vehicles: z.infer<typeof VehicleSchema>[];
    tariff: Tariff;
    feedInTariff?: Tariff | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const { horizon } = request;
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  const instant = (value: string | number, path: (string | number)[]): number | undefined => {
    try {
      return parseInstant(value, horizon.timeZone);
    } catch {
      issue(path, `"${value}" is not a time: use ${TIME_HELP}`);
      return undefined;
    }
  };
  const startMs = instant(horizon.start, ['horizon', 'start']);
  const endMs =
    horizon.end !== undefined
      ? instant(horizon.end, ['horizon', 'end'])
      : startMs !== undefined && horizon.hours !== undefined
        ? startMs + horizon.hours * 3_600_000
        : undefined;
  let slotCount: number | undefined;
  if (startMs !== undefined && endMs !== undefined) {
    if (endMs <= startMs) issue(['horizon', 'end'], `must be after horizon.start (${String(horizon.start)})`);
    else slotCount = Math.ceil((endMs - startMs) / (horizon.slotMinutes * 60_000));
  }
  if (slotCount !== undefined) {
    const perSlot = `one value per slot: the horizon has ${slotCount} slots of ${horizon.slotMinutes} min`;
    if (Array.isArray(request.grid.limitKw) && request.grid.limitKw.length !== slotCount)
      issue(['grid', 'limitKw'], `has ${request.grid.limitKw.length} values; give one number or ${perSlot}`);
    const base = request.grid.baseLoad;
    if (base.kind === 'series' && base.kw.length !== slotCount)
      issue(['grid', 'baseLoad', 'kw'], `has ${base.kw.length} values; give ${perSlot}`);
    if (request.grid.pvKw && request.grid.pvKw.length !== slotCount)
      issue(['grid', 'pvKw'], `has ${request.grid.pvKw.length} values; give ${perSlot}`);
  }
  if (request.grid.pvKw && !request.feedInTariff)
    issue(
      ['feedInTariff'],
      'give the price exported PV earns (a tariff; { "type": "fixed", "pricePerKwh": 0 } when export earns nothing)',
    );
  const importCurrency = request.tariff.currency;
  const exportCurrency = request.feedInTariff?.currency;
  if (importCurrency && exportCurrency && importCurrency !== exportCurrency)
    issue(['feedInTariff', 'currency'], `is ${exportCurrency} but tariff.currency is ${importCurrency}`);
  request.grid.demandResponse.forEach((event, k) => {
    const from = instant(event.start, ['grid', 'demandResponse', k, 'start']);
    const to = instant(event.end, ['grid', 'demandResponse', k, 'end']);
    if (from !== undefined && to !== undefined && to <= from)
      issue(['grid', 'demandResponse', k, 'end'], 'must be after the event start');
  });
  const firstIndexOfId = new Map<string, number>();
  request.vehicles.forEach((vehicle, k) => {
    const earlier = firstIndexOfId.get(vehicle.id);
    if (earlier !== undefined)
      issue(
        ['vehicles', k, 'id'],
        `"${vehicle.id}" is already the id of vehicles.${earlier}; ids must be unique`,
      );
    else firstIndexOfId.set(vehicle.id, k);
    const arrival =
      vehicle.arrival === undefined ? startMs : instant(vehicle.arrival, ['vehicles', k, 'arrival']);
    const departure = instant(vehicle.departure, ['vehicles', k, 'departure']);
    if (arrival !== undefined && departure !== undefined && departure <= arrival) {
      issue(
        ['vehicles', k, 'departure'],
        vehicle.arrival === undefined
          ? 'must be after horizon.start (the car is plugged in from the start of the horizon)'
          : `must be after vehicles.${k}.arrival (${String(vehicle.arrival)})`,
      );
    }
  });
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
  /** Feed-in price per slot, when the site exports PV. */
  readonly exportPrices?: SlotPrices;
}

export function createPlanningContext(request: PlanRequest, options: PlanOptions = {}): PlanningContext {
  const grid = horizonGrid(request);
  const prices = priceSlots(request.tariff, grid);
  const slots = gridSlots(request.grid, grid, options.profile);
  const headroomKw =
    request.grid.limitMode === 'hard'
      ? hardLimitHeadroomKw(slots.headroomKw, request.vehicles, grid)
      : slots.headroomKw;
  const prepared = prepareFleet(request.vehicles, grid, prices.pricePerKwh, headroomKw);
  if (!request.feedInTariff) return { grid, prices, gridSlots: slots, fleet: prepared };
  const exportPrices = feedInPrices(request.feedInTariff, grid);
  return {
    grid,
    prices,
    gridSlots: slots,
    fleet: withSolarTier(prepared, slots, exportPrices.pricePerKwh, grid),
    exportPrices,
  };
}

/** Feed-in prices per slot; errors name `feedInTariff`, not `tariff`. */
function feedInPrices(tariff: Tariff, grid: SlotGrid): SlotPrices {
  try {
    return priceSlots(tariff, grid);
  } catch (error) {
    if (!(error instanceof PlanInputError)) throw error;
    throw new PlanInputError(
      error.issues.map((i) => ({ ...i, path: i.path.replace(/^tariff/, 'feedInTariff') })),
      error.code,
    );
  }
}

/**
 * PV surplus is the cheaper first tier of each slot's room: charging from it only forgoes the feed-in
 * price. Minimum-SoC energy fixed before optimising takes the surplus first. Where feed-in pays more
 * than import the slot's cost would be concave (not an LP): there the tier is valued at the import
 * price, and the plan says so.
 */
function withSolarTier(
  fleet: PreparedFleet,
  slots: GridSlots,
  exportPrice: Float64Array,
  grid: SlotGrid,
): PreparedFleet {
  const { problem, fixedKwh } = fleet;
  const T = grid.slotCount;
  const lowerTierKwh = new Float64Array(T);
  const lowerTierPrice = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let fixed = 0;
    for (let i = 0; i < problem.vehicleCount; i++) fixed += fixedKwh[i * T + t]!;
    lowerTierKwh[t] = Math.max(0, slots.surplusKw[t]! * grid.slotHours - fixed);
    lowerTierPrice[t] = Math.min(exportPrice[t]!, problem.price[t]!);
  }
  return { ...fleet, problem: { ...problem, lowerTierKwh, lowerTierPrice } };
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
    // Levels are grid import (base − PV + charging): PV surplus lets cars charge below a level of 0.
    floorLevel = Math.max(floorLevel, slots.netBaseKw[t]! + fixedLoadKwh[t]! / grid.slotHours);
    topLevel = Math.max(topLevel, slots.netBaseKw[t]! + slots.headroomKw[t]!);
  }
  topLevel = Math.max(topLevel, floorLevel);
  const room = new Float64Array(T);
  let solves = 0;
  const solveAt = (level: number): LevelResult => {
    for (let t = 0; t < T; t++) {
      const cap =
        Math.min(slots.headroomKw[t]!, level - slots.netBaseKw[t]!) * grid.slotHours - fixedLoadKwh[t]!;
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
        Math.min(slots.headroomKw[t]!, level - slots.netBaseKw[t]!) * grid.slotHours - fixedLoadKwh[t]!;
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
  const { slotCount: T, vehicleCount: N, price, lowerTierKwh, lowerTierPrice } = problem;
  let cost = 0;
  const load = lowerTierKwh ? new Float64Array(T) : undefined;
  for (let i = 0; i < N; i++) {
    for (let t = problem.windowStart[i]!; t < problem.windowEnd[i]!; t++) {
      const kwh = solution.energyKwh[i * T + t]!;
      cost += price[t]! * kwh;
      if (load) load[t] = load[t]! + kwh;
    }
    cost -= problem.optionalValue[i]! * solution.optionalDeliveredKwh[i]!;
  }
  if (load && lowerTierKwh && lowerTierPrice) {
    for (let t = 0; t < T; t++) {
      const covered = Math.min(load[t]!, lowerTierKwh[t]!, Math.max(0, problem.slotRoomKwh[t]!));
      if (covered > 0) cost -= (price[t]! - Math.min(price[t]!, lowerTierPrice[t]!)) * covered;
    }
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
  const { energyKwh, solution } = optimise(
    context,
    request.objective,
    request.demandFloorKw,
    options.onProgress,
  );
  // Savings compare like with like: when the plan buys extras below a price cap, price the same plan
  // without them too; the extras then show on their own line.
  let targetEnergyKwh = energyKwh;
  if (totalOf(solution.optionalDeliveredKwh) > 1e-9) {
    const { problem } = context.fleet;
    const withoutExtras: PlanningContext = {
      ...context,
      fleet: {
        ...context.fleet,
        problem: { ...problem, optionalKwh: new Float64Array(problem.vehicleCount) },
      },
    };
    targetEnergyKwh = optimise(withoutExtras, request.objective, request.demandFloorKw).energyKwh;
  }
  return buildPlan(request, context, energyKwh, solution, targetEnergyKwh);
}

/**
 * What charging `loadKwh` in slot t costs: the import price, except that charging from PV surplus only
 * forgoes the feed-in price (the real one, also where it exceeds the import price).
 */
function slotChargingCost(context: PlanningContext, t: number, loadKwh: number): number {
  const price = context.prices.pricePerKwh[t]!;
  if (!context.exportPrices) return price * loadKwh;
  const fromSurplus = Math.min(loadKwh, context.gridSlots.surplusKw[t]! * context.grid.slotHours);
  return context.exportPrices.pricePerKwh[t]! * fromSurplus + price * (loadKwh - fromSurplus);
}

/** Charging cost, import peak (base − PV + charging) and demand charge of a per-slot charging load. */
function costOfLoad(
  context: PlanningContext,
  loadKwh: Float64Array,
  demandFloorKw: number,
): { energyCost: number; peakKw: number; demandCharge: number; total: number } {
  const { grid, prices, gridSlots: slots } = context;
  let energyCost = 0;
  let peakKw = 0;
  for (let t = 0; t < grid.slotCount; t++) {
    energyCost += slotChargingCost(context, t, loadKwh[t]!);
    peakKw = Math.max(peakKw, slots.netBaseKw[t]! + loadKwh[t]! / grid.slotHours);
  }
  const demandCharge = prices.demandChargePerKw * Math.max(peakKw, demandFloorKw);
  return { energyCost, peakKw, demandCharge, total: energyCost + demandCharge };
}

function slotLoads(energyKwh: Float64Array, T: number): Float64Array {
  const loadKwh = new Float64Array(T);
  for (let k = 0; k < energyKwh.length; k++) loadKwh[k % T] = loadKwh[k % T]! + energyKwh[k]!;
  return loadKwh;
}

function buildPlan(
  request: PlanRequest,
  context: PlanningContext,
  energyKwh: Float64Array,
  solution: FleetSolution,
  targetEnergyKwh: Float64Array,
): Plan {
  const { grid, prices, gridSlots: slots, fleet } = context;
  const T = grid.slotCount;
  const loadKwh = slotLoads(energyKwh, T);
  // Each car pays its share of its slots' charging cost (PV surplus shared pro rata).
  const costPerKwh = Float64Array.from(loadKwh, (kwh, t) =>
    kwh > 0 ? slotChargingCost(context, t, kwh) / kwh : prices.pricePerKwh[t]!,
  );
  const vehicles = vehiclePlansOf(fleet.setups, grid, energyKwh, costPerKwh);

  const planned = costOfLoad(context, loadKwh, request.demandFloorKw);
  const targetLoadKwh = targetEnergyKwh === energyKwh ? loadKwh : slotLoads(targetEnergyKwh, T);
  const forTargets =
    targetEnergyKwh === energyKwh ? planned : costOfLoad(context, targetLoadKwh, request.demandFloorKw);
  const deliveredForTargets = Float64Array.from(
    vehicles,
    (v, i) => v.energyKwh - solution.optionalDeliveredKwh[i]!,
  );
  const immediate = immediateCharging(fleet, T, deliveredForTargets);
  const immediateCost = costOfLoad(context, immediate.loadKwh, request.demandFloorKw);
  let basePeak = 0;
  for (let t = 0; t < T; t++) basePeak = Math.max(basePeak, slots.baseKw[t]!);
  const energyTotal = totalOf(loadKwh);
  const targetEnergy = totalOf(targetLoadKwh);
  const shortfalls = vehicles.filter((v) => v.shortfall);
  const exportPrice = context.exportPrices?.pricePerKwh;
  let solarKwh = 0;
  let importKwh = 0;
  let exportKwh = 0;
  let concaveSlots = 0;
  const planSlots: PlanSlot[] = Array.from({ length: T }, (_, t) => {
    const chargingKw = loadKwh[t]! / grid.slotHours;
    const net = slots.netBaseKw[t]! + chargingKw;
    const solarChargingKw = Math.min(chargingKw, slots.surplusKw[t]!);
    solarKwh += solarChargingKw * grid.slotHours;
    importKwh += Math.max(0, net) * grid.slotHours;
    exportKwh += Math.max(0, -net) * grid.slotHours;
    if (exportPrice && slots.surplusKw[t]! > 0 && exportPrice[t]! > prices.pricePerKwh[t]!) concaveSlots++;
    return {
      start: formatZoned(slotStartMs(grid, t), grid.timeZone),
      pricePerKwh: prices.pricePerKwh[t]!,
      priceAssumed: prices.assumed[t] === 1,
      limitKw: slots.limitKw[t]!,
      baseKw: slots.baseKw[t]!,
      chargingKw,
      pvKw: slots.pvKw[t]!,
      exportPricePerKwh: exportPrice ? exportPrice[t]! : null,
      solarChargingKw,
      selfConsumptionKw: Math.min(slots.pvKw[t]!, slots.baseKw[t]! + chargingKw),
      gridImportKw: Math.max(0, net),
      gridExportKw: Math.max(0, -net),
    };
  });
  const warnings: string[] = [];
  if (prices.energyOnly) {
    warnings.push(
      'no price is known for any slot: planned for energy and peak only (whenNoPriceKnown: energy-only); every cost in this plan is unknown, not 0',
    );
  }
  if (concaveSlots > 0) {
    warnings.push(
      `in ${concaveSlots} slots with PV surplus the feed-in price exceeds the import price; there the optimiser values the surplus at the import price (the exact cost would not be convex), so the plan may not be optimal in those slots; costs use the real prices`,
    );
  }
  return {
    timeZone: grid.timeZone,
    slotMinutes: grid.slotMinutes,
    start: formatZoned(grid.startMs, grid.timeZone),
    end: formatZoned(slotStartMs(grid, T), grid.timeZone),
    slots: planSlots,
    vehicles,
    summary: {
      objective: request.objective,
      currency: request.tariff.currency ?? request.feedInTariff?.currency ?? null,
      vehicles: vehicles.length,
      energyKwh: energyTotal,
      energyCost: planned.energyCost,
      demandCharge: planned.demandCharge,
      totalCost: planned.total,
      targetEnergyKwh: targetEnergy,
      targetEnergyCost: forTargets.total,
      immediateCost: immediateCost.total,
      immediateEnergyKwh: immediate.energyKwh,
      savings: immediateCost.total - forTargets.total,
      opportunisticEnergyKwh: Math.max(0, energyTotal - targetEnergy),
      opportunisticCost: planned.total - forTargets.total,
      peakBeforeKw: immediateCost.peakKw,
      peakAfterKw: planned.peakKw,
      baseLoadPeakKw: basePeak,
      shortfallKwh: shortfalls.reduce((s, v) => s + (v.shortfall?.kwh ?? 0), 0),
      vehiclesShort: shortfalls.length,
      solarChargingKwh: solarKwh,
      gridImportKwh: importKwh,
      gridExportKwh: exportKwh,
    },
    assumptions: [
      ...prices.assumptions,
      ...(context.exportPrices?.assumptions ?? []).map((a) => ({ ...a, method: `feed-in: ${a.method}` })),
    ],
    warnings,
  };
}

/**
 * Each car's plan from its energy per slot (`vehicle * slotCount + slot`, kWh) at a cost per kWh per slot:
 * power, SoC at each boundary, cost, when charging ends and, if the target is missed, why.
 */
export function vehiclePlansOf(
  setups: readonly VehicleSetup[],
  grid: SlotGrid,
  energyKwh: Float64Array,
  costPerKwh: Float64Array,
): VehiclePlan[] {
  const T = grid.slotCount;
  return setups.map((setup, i) => {
    const { vehicle } = setup;
    const powerKw: number[] = new Array<number>(T);
    const socPercent: number[] = new Array<number>(T + 1);
    let soc = vehicle.socPercent;
    socPercent[0] = soc;
    let energy = 0;
    let cost = 0;
    for (let t = 0; t < T; t++) {
      const kwh = energyKwh[i * T + t]!;
      energy += kwh;
      cost += kwh * costPerKwh[t]!;
      powerKw[t] = kwh / grid.slotHours;
      soc += ((kwh * vehicle.efficiency) / vehicle.capacityKwh) * 100;
      socPercent[t + 1] = soc;
    }
    let last = -1;
    for (let t = T - 1; t >= 0 && last < 0; t--) if (energyKwh[i * T + t]! > 1e-6) last = t;
    const chargeCompleteAt =
      last < 0
        ? null
        : formatZoned(
            slotStartMs(grid, last) +
              Math.min(1, energyKwh[i * T + last]! / (vehicle.maxPowerKw * grid.slotHours)) *
                grid.slotHours *
                3_600_000,
            grid.timeZone,
          );
    return { ...vehiclePlan(setup, powerKw, socPercent, energy, cost, soc), chargeCompleteAt };
  });
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
): Omit<VehiclePlan, 'chargeCompleteAt'> {
  const { vehicle, targetSocPercent: target } = setup;
  const warnings: string[] = [];
  const requested = requestedTargetSocPercent(vehicle);
  if (vehicle.trip) {
    warnings.push(
      `target ${requested.toFixed(1)} % from the trip: ${vehicle.trip.distanceKm} km at ${vehicle.rangeKmPerPercent} km per % plus ${vehicle.trip.reservePercent} % reserve`,
    );
  }
  if (requested > vehicle.chargeLimitPercent) {
    warnings.push(
      vehicle.trip
        ? `the trip needs ${requested.toFixed(1)} %, above the charge limit; planned to ${vehicle.chargeLimitPercent} %, about ${((vehicle.chargeLimitPercent - vehicle.trip.reservePercent) * vehicle.rangeKmPerPercent!).toFixed(0)} km with the reserve kept`
        : `target ${requested} % is above the charge limit; planned to ${vehicle.chargeLimitPercent} %`,
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

/**
 * The baseline: every car flat out from plug-in (ignoring the grid limit) until it has `energyKwh[i]`,
 * the energy the plan gives it towards its target, so both sides buy the same energy.
 */
export function immediateCharging(fleet: PreparedFleet, T: number, energyKwh: Float64Array) {
  const loadKwh = new Float64Array(T);
  let total = 0;
  fleet.setups.forEach((_, i) => {
    let left = energyKwh[i]!;
    for (let t = fleet.problem.windowStart[i]!; t < fleet.problem.windowEnd[i]! && left > 1e-12; t++) {
      const kwh = Math.min(left, fleet.fullArcCapKwh[i * T + t]!);
      left -= kwh;
      loadKwh[t] = loadKwh[t]! + kwh;
      total += kwh;
    }
  });
  return { loadKwh, energyKwh: total };
}
