import type { Plan } from '../planner/plan.ts';
import { loadCurrentPlan, loadCurrentPlanOverviews, loadPlannedVehicles } from '../store/plans.ts';
import type { SqlQueryable } from '../store/sql-client.ts';
import {
  loadUnitVehicles,
  loadVehiclesWithState,
  unitsOfVehicles,
  type UnitVehicle,
} from '../store/work-units.ts';
import { combinePlans } from './combined-plan.ts';
import { nextDeparture } from './departure.ts';
import { DashboardVehicleSchema, type DashboardData } from './http/dashboard-data.ts';
import { priceCoverageView, type PriceCoverage } from './price-coverage.ts';
import type { ChargingState } from './vehicle-gateway.ts';

type VehiclePlan = Plan['vehicles'][number];
type DashboardVehicle = DashboardData['vehicles'][number];

/** The most cars one fleet dashboard lists in full: a page of the console's table. */
export const MAX_DASHBOARD_VEHICLES = 100;

/**
 * What the fleet dashboard reads of a unit's plan, stored beside it: the plan without its cars and nodes
 * (a few kB instead of megabytes at 10,000 cars), and what its costs need to know of the cars.
 */
export interface PlanOverview {
  readonly plan: Plan;
  /** No car draws in a slot whose price was assumed: the planned cost rests on real prices. */
  readonly fleetPriced: boolean;
  /** Every car's charging on arrival (flat out from the plan's start) lands in priced slots. */
  readonly arrivalPriced: boolean;
}

export function planOverview(
  plan: Plan,
  chargerPowerKw: (vehicleId: string) => number | undefined,
): PlanOverview {
  return {
    plan: { ...plan, vehicles: [], nodes: [] },
    fleetPriced: plan.vehicles.every((vehicle) => pricedThroughout(plan, vehicle.powerKw)),
    arrivalPriced: plan.vehicles.every((vehicle) => {
      const kw = chargerPowerKw(vehicle.id);
      return kw !== undefined && costOnArrival(plan, vehicle, kw) !== null;
    }),
  };
}

/**
 * An owner's view holds their cars and their units' plans. The fleet view holds every unit's plan as one
 * series per unit (a car per series stops being readable, or sendable, long before 100,000 cars), and of
 * the cars only `vehicleIds`: the page of the table the console shows.
 */
export type DashboardView =
  | { readonly kind: 'owner'; readonly vehicleIds: ReadonlySet<string> }
  | { readonly kind: 'fleet'; readonly vehicleIds?: readonly string[] };

export interface DashboardContext {
  readonly db: SqlQueryable;
  readonly now: () => Date;
  readonly timeZone: string;
  readonly currency: string;
  readonly planWindow: (plan: Plan | undefined) => { from: Date; to: Date };
  readonly coverageOf: (from: Date, to: Date) => Promise<PriceCoverage>;
}

export async function loadDashboard(context: DashboardContext, view: DashboardView): Promise<DashboardData> {
  return view.kind === 'owner'
    ? ownerDashboard(context, view.vehicleIds)
    : fleetDashboard(context, view.vehicleIds ?? []);
}

/**
 * The current plans of `units` (every unit's without) as one, holding only the `listed` cars: from the
 * units' overviews, and the cars picked out of their bodies by PostgreSQL. Neither view ever reads a whole
 * plan body into the service (a unit of 10,000 cars is megabytes of JSON).
 */
async function plansWithCars(
  db: SqlQueryable,
  units: readonly string[] | undefined,
  listed: readonly string[],
) {
  const overviews = await Promise.all(
    (await loadCurrentPlanOverviews<PlanOverview>(db, units)).map(async (stored) => ({
      unit: stored.unit,
      reason: stored.reason,
      createdAt: stored.createdAt,
      overview: stored.body ?? (await overviewFromBody(db, stored.unit)),
    })),
  );
  const picked = await loadPlannedVehicles<VehiclePlan>(
    db,
    overviews.map((entry) => entry.unit),
    listed,
  );
  // Each unit's plan with only the listed cars in it: combined, their power and SoC line up with the slots.
  const unitPlans = overviews.flatMap(({ unit, overview }) =>
    overview === undefined
      ? []
      : [
          {
            unit,
            plan: {
              ...overview.plan,
              vehicles: picked.filter((entry) => entry.unit === unit).map((entry) => entry.vehicle),
            },
          },
        ],
  );
  const known = overviews.flatMap((entry) => (entry.overview === undefined ? [] : [entry.overview]));
  const newest = overviews.reduce<(typeof overviews)[number] | undefined>(
    (a, b) => (a === undefined || b.createdAt > a.createdAt ? b : a),
    undefined,
  );
  return {
    plan: combinePlans(unitPlans.map((entry) => entry.plan)),
    unitPlans,
    fleetPriced: known.every((overview) => overview.fleetPriced),
    arrivalPriced: known.every((overview) => overview.arrivalPriced),
    reason: newest?.reason ?? null,
  };
}

async function ownerDashboard(context: DashboardContext, shown: ReadonlySet<string>): Promise<DashboardData> {
  const ids = [...shown];
  // An owner's dashboard reads their cars and their units' plans, never the rest of the fleet.
  const { plan, reason } =
    ids.length === 0
      ? { plan: undefined, reason: null }
      : await plansWithCars(context.db, await unitsOfVehicles(context.db, ids), ids);
  const planOf = new Map((plan?.vehicles ?? []).map((vehicle) => [vehicle.id, vehicle]));
  const rows = sortByName(await loadVehiclesWithState<ChargingState>(context.db, ids)).map((vehicle) =>
    vehicleRow(context, vehicle, plan, planOf.get(vehicle.id)),
  );
  const costPlanned = plan ? sumOrNull(rows.map((row) => row.costPlanned)) : 0;
  const costOnArrivalTotal = plan ? sumOrNull(rows.map((row) => row.costOnArrival)) : 0;
  return {
    ...(await header(context, plan, reason)),
    fleet: {
      slots: (plan?.slots ?? []).map((slot, index) => ({
        ...slotView(slot),
        plannedKw: Object.fromEntries(
          plan!.vehicles
            .filter((vehicle) => shown.has(vehicle.id))
            .map((vehicle) => [vehicle.id, vehicle.powerKw[index] ?? 0]),
        ),
      })),
      costPlanned,
      costOnArrival: costOnArrivalTotal,
      savings: costPlanned === null || costOnArrivalTotal === null ? null : costOnArrivalTotal - costPlanned,
      opportunisticCost: plan ? null : 0,
      peakBeforeKw: plan?.summary.peakBeforeKw ?? 0,
      peakAfterKw: plan?.summary.peakAfterKw ?? 0,
    },
    vehicles: rows,
  };
}

async function fleetDashboard(
  context: DashboardContext,
  vehicleIds: readonly string[],
): Promise<DashboardData> {
  const { db } = context;
  const listed = [...new Set(vehicleIds)];
  const { plan, unitPlans, fleetPriced, arrivalPriced, reason } = await plansWithCars(db, undefined, listed);
  const cars = await loadVehiclesWithState<ChargingState>(db, listed);
  const slotIndex = new Map((plan?.slots ?? []).map((slot, index) => [Date.parse(slot.start), index]));
  const perUnit: Record<string, number>[] = (plan?.slots ?? []).map(() => ({}));
  for (const { unit, plan: unitPlan } of unitPlans)
    for (const slot of unitPlan.slots) {
      const index = slotIndex.get(Date.parse(slot.start));
      if (index !== undefined) perUnit[index]![unit] = slot.chargingKw;
    }
  const planOf = new Map((plan?.vehicles ?? []).map((vehicle) => [vehicle.id, vehicle]));
  const byId = new Map(cars.map((car) => [car.id, car]));
  const rows = listed.flatMap((id) => {
    const car = byId.get(id);
    return car ? [vehicleRow(context, car, plan, planOf.get(id))] : [];
  });
  return {
    ...(await header(context, plan, reason)),
    fleet: {
      slots: (plan?.slots ?? []).map((slot, index) => ({ ...slotView(slot), plannedKw: perUnit[index]! })),
      costPlanned: !plan ? 0 : fleetPriced ? plan.summary.totalCost : null,
      costOnArrival: !plan ? 0 : arrivalPriced ? plan.summary.immediateCost : null,
      // Like with like: the planner's baseline buys the targets' energy on arrival; the extra is apart.
      savings: !plan ? 0 : fleetPriced && arrivalPriced ? plan.summary.savings : null,
      opportunisticCost: !plan ? 0 : fleetPriced && arrivalPriced ? plan.summary.opportunisticCost : null,
      peakBeforeKw: plan?.summary.peakBeforeKw ?? 0,
      peakAfterKw: plan?.summary.peakAfterKw ?? 0,
    },
    vehicles: rows,
  };
}

/** A plan stored before overviews were (the next re-plan of its unit stores one): made from its body. */
async function overviewFromBody(db: SqlQueryable, unit: string): Promise<PlanOverview | undefined> {
  const stored = await loadCurrentPlan<{ plan: Plan }>(db, unit);
  if (!stored) return undefined;
  const power = new Map(
    (await loadUnitVehicles(db, unit)).map((car) => [car.id, car.preferences.chargerPowerKw]),
  );
  return planOverview(stored.body.plan, (id) => power.get(id));
}

async function header(
  context: DashboardContext,
  plan: Plan | undefined,
  planReason: string | null,
): Promise<Omit<DashboardData, 'fleet' | 'vehicles'>> {
  const horizon = context.planWindow(plan);
  return {
    generatedAt: context.now().toISOString(),
    timeZone: context.timeZone,
    currency: context.currency,
    planReason,
    prices: priceCoverageView(await context.coverageOf(horizon.from, horizon.to)),
  };
}

function slotView(slot: Plan['slots'][number]) {
  return {
    start: slot.start,
    pricePerKwh: slot.pricePerKwh,
    priceAssumed: slot.priceAssumed,
    limitKw: slot.limitKw,
    baseLoadKw: slot.baseKw,
  };
}

function sortByName<T extends { make: string; model: string; id: string }>(vehicles: T[]): T[] {
  return vehicles.sort(
    (a, b) => a.make.localeCompare(b.make) || a.model.localeCompare(b.model) || a.id.localeCompare(b.id),
  );
}

function vehicleRow(
  context: DashboardContext,
  vehicle: UnitVehicle<ChargingState>,
  plan: Plan | undefined,
  vehiclePlan: VehiclePlan | undefined,
): DashboardVehicle {
  const { preferences } = vehicle;
  const grantStatus = asGrantStatus(vehicle.grantStatus);
  const state = vehicle.known?.state;
  const departure = nextDeparture(preferences, context.now().getTime(), context.timeZone);
  const needsReconnect = vehicle.grantStatus !== null && grantStatus !== 'active';
  return {
    id: vehicle.id,
    name: `${vehicle.make} ${vehicle.model}`,
    grantStatus,
    reconnectPath: needsReconnect ? `api/grants/${encodeURIComponent(vehicle.grantId)}/reconnect` : null,
    soc: state?.soc ?? null,
    pluggedIn: state?.pluggedIn ?? null,
    chargingState: state?.charging ?? null,
    targetSoc: preferences.targetSoc,
    departure: departure === null ? null : new Date(departure).toISOString(),
    plannedKw: vehiclePlan ? [...vehiclePlan.powerKw] : (plan?.slots ?? []).map(() => 0),
    socTrajectory: vehiclePlan ? vehiclePlan.socPercent.slice(1).map((percent) => percent / 100) : [],
    shortfall: vehiclePlan?.shortfall?.message ?? null,
    costPlanned: vehiclePlan ? (pricedThroughout(plan!, vehiclePlan.powerKw) ? vehiclePlan.cost : null) : 0,
    costOnArrival: plan ? costOnArrival(plan, vehiclePlan, preferences.chargerPowerKw) : 0,
  };
}

/** A grant's stored status as the dashboard shows it; a car whose grant is gone shows as revoked. */
function asGrantStatus(status: string | null): DashboardVehicle['grantStatus'] {
  const known = DashboardVehicleSchema.shape.grantStatus.safeParse(status);
  return known.success ? known.data : 'revoked';
}

/** Whether the car's planned energy is all bought in slots with a real price. */
function pricedThroughout(plan: Plan, powerKw: readonly number[]): boolean {
  return plan.slots.every((slot, index) => !slot.priceAssumed || (powerKw[index] ?? 0) <= 0);
}

/**
 * What the same energy would cost charged flat out from the start of the plan (the uncontrolled baseline);
 * null when that would draw in a slot without a real price.
 */
function costOnArrival(plan: Plan, vehicle: VehiclePlan | undefined, chargerPowerKw: number): number | null {
  if (!vehicle) return 0;
  const slotKwh = (chargerPowerKw * plan.slotMinutes) / 60;
  let left = vehicle.energyKwh;
  let cost = 0;
  for (const slot of plan.slots) {
    if (left <= 0) break;
    if (slot.priceAssumed) return null;
    const kwh = Math.min(left, slotKwh);
    cost += kwh * slot.pricePerKwh;
    left -= kwh;
  }
  return cost;
}

/** The sum, or null when any part is unknown (never a partial total shown as the whole). */
function sumOrNull(values: readonly (number | null)[]): number | null {
  let sum = 0;
  for (const value of values) {
    if (value === null) return null;
    sum += value;
  }
  return sum;
}
