import { randomUUID } from 'node:crypto';
import { replaceVehiclePlans, type VehiclePlanShare } from './grid-aggregates.ts';
import type { SqlQueryable } from './sql-client.ts';

export interface StoredPlan<TBody = unknown> {
  readonly id: string;
  /** The work unit planned: `site`, or `node:<id>` of a top-level grid node. */
  readonly unit: string;
  readonly reason: string;
  readonly createdAt: Date;
  readonly horizonStart: Date;
  readonly horizonEnd: Date;
  readonly body: TBody;
}

/** Records a new plan of its unit and marks the unit's previous one superseded; returns the new plan's id. */
export async function savePlan(
  tx: SqlQueryable,
  plan: {
    /** @default 'site' */
    readonly unit?: string;
    readonly reason: string;
    readonly horizonStart: Date;
    readonly horizonEnd: Date;
    readonly body: unknown;
    /** What a fleet dashboard reads instead of the body: the plan without its cars (see service/dashboard.ts). */
    readonly overview?: unknown;
    /** Each car's planned power per slot, for per-node aggregates without parsing the plan body. */
    readonly vehiclePower?: {
      readonly firstSlotStart: Date;
      readonly slotMinutes: number;
      readonly vehicles: readonly VehiclePlanShare[];
      /** Every car of the unit, planned or not: their earlier shares are replaced. @default every car */
      readonly unitVehicleIds?: readonly string[];
    };
  },
): Promise<string> {
  const id = randomUUID();
  const unit = plan.unit ?? 'site';
  await tx.query('update plans set superseded_at = now() where superseded_at is null and unit = $1', [unit]);
  await tx.query(
    `insert into plans (id, unit, reason, horizon_start, horizon_end, body, overview)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [
      id,
      unit,
      plan.reason,
      plan.horizonStart,
      plan.horizonEnd,
      JSON.stringify(plan.body),
      plan.overview === undefined ? null : JSON.stringify(plan.overview),
    ],
  );
  if (plan.vehiclePower)
    await replaceVehiclePlans(
      tx,
      id,
      plan.vehiclePower.firstSlotStart,
      plan.vehiclePower.slotMinutes,
      plan.vehiclePower.vehicles,
      plan.vehiclePower.unitVehicleIds,
    );
  return id;
}

interface PlanRow<TBody> extends Record<string, unknown> {
  id: string;
  unit: string;
  reason: string;
  created_at: Date | string;
  horizon_start: Date | string;
  horizon_end: Date | string;
  body: TBody;
}

const toStoredPlan = <TBody>(row: PlanRow<TBody>): StoredPlan<TBody> => ({
  id: row.id,
  unit: row.unit,
  reason: row.reason,
  createdAt: new Date(row.created_at),
  horizonStart: new Date(row.horizon_start),
  horizonEnd: new Date(row.horizon_end),
  body: row.body,
});

export const CURRENT_PLAN_OF_UNIT_QUERY =
  'select * from plans where superseded_at is null and unit = $1 order by created_at desc limit 1';
export const CURRENT_PLANS_QUERY =
  'select * from plans where superseded_at is null order by unit, created_at desc';

/** The unit's current plan (@default the site's). */
export async function loadCurrentPlan<TBody>(
  tx: SqlQueryable,
  unit = 'site',
): Promise<StoredPlan<TBody> | undefined> {
  const rows = await tx.query<PlanRow<TBody>>(CURRENT_PLAN_OF_UNIT_QUERY, [unit]);
  return rows[0] && toStoredPlan(rows[0]);
}

/** Every unit's current plan, in unit order. */
export async function loadCurrentPlans<TBody>(tx: SqlQueryable): Promise<StoredPlan<TBody>[]> {
  const rows = await tx.query<PlanRow<TBody>>(CURRENT_PLANS_QUERY);
  const seen = new Set<string>();
  // At most one current plan per unit; should a race ever leave two, the newest counts.
  return rows.filter((row) => !seen.has(row.unit) && seen.add(row.unit)).map(toStoredPlan);
}

export const CURRENT_PLAN_OVERVIEWS_QUERY = `select id, unit, reason, created_at, horizon_start, horizon_end, overview
  from plans where superseded_at is null and ($1::text[] is null or unit = any($1::text[]))
  order by unit, created_at desc`;

/**
 * Every unit's (or these units') current plan with its overview instead of its body: a unit of 10,000 cars
 * has a body of megabytes, its overview a few kilobytes. Null for plans stored before overviews were.
 */
export async function loadCurrentPlanOverviews<TOverview>(
  tx: SqlQueryable,
  units?: readonly string[],
): Promise<StoredPlan<TOverview | null>[]> {
  const rows = await tx.query<PlanRow<null> & { overview: TOverview | string | null }>(
    CURRENT_PLAN_OVERVIEWS_QUERY,
    [units ?? null],
  );
  const seen = new Set<string>();
  return rows
    .filter((row) => !seen.has(row.unit) && seen.add(row.unit))
    .map((row) => ({
      ...toStoredPlan({ ...row, body: null }),
      body: typeof row.overview === 'string' ? (JSON.parse(row.overview) as TOverview) : row.overview,
    }));
}

/**
 * Some cars' entries of their units' current plans, each read by its key from the car's own row beside
 * the plan (`vehicle_plans.body`): the plan bodies, megabytes at 10,000 cars, are not opened.
 */
export const PLANNED_VEHICLES_QUERY = `select p.unit, vp.vehicle_id, vp.body as vehicle
  from vehicle_plans vp join plans p on p.id = vp.plan_id
  where vp.vehicle_id = any($2::text[]) and p.superseded_at is null and p.unit = any($1::text[])`;

/** The same cars picked out of the plan bodies: for plans stored before the cars' rows held theirs. */
export const PLANNED_VEHICLES_IN_BODIES_QUERY = `select p.unit, picked.vehicle
  from plans p
  cross join lateral jsonb_path_query(p.body, '$.plan.vehicles[*] ? (@.id == $ids[*])',
    jsonb_build_object('ids', $2::jsonb)) as picked(vehicle)
  where p.superseded_at is null and p.unit = any($1::text[])`;

type JsonColumn<T> = T | string;
const fromJson = <T>(value: JsonColumn<T>): T =>
  typeof value === 'string' ? (JSON.parse(value) as T) : value;

/** The listed cars' entries of their units' current plans; a car in none of them has none. */
export async function loadPlannedVehicles<TVehicle>(
  tx: SqlQueryable,
  units: readonly string[],
  vehicleIds: readonly string[],
): Promise<{ unit: string; vehicle: TVehicle }[]> {
  if (units.length === 0 || vehicleIds.length === 0) return [];
  const rows = await tx.query<{ unit: string; vehicle_id: string; vehicle: JsonColumn<TVehicle> | null }>(
    PLANNED_VEHICLES_QUERY,
    [units, vehicleIds],
  );
  const picked = rows.flatMap((row) =>
    row.vehicle === null ? [] : [{ unit: row.unit, vehicle: fromJson(row.vehicle) }],
  );
  const older = rows.filter((row) => row.vehicle === null).map((row) => row.vehicle_id);
  if (older.length === 0) return picked;
  const fromBodies = await tx.query<{ unit: string; vehicle: JsonColumn<TVehicle> }>(
    PLANNED_VEHICLES_IN_BODIES_QUERY,
    [units, JSON.stringify(older)],
  );
  return [...picked, ...fromBodies.map((row) => ({ unit: row.unit, vehicle: fromJson(row.vehicle) }))];
}

/** Supersedes the current plans of units not among `units` (their top node is gone or no longer top). */
export async function retireUnitPlans(tx: SqlQueryable, units: readonly string[]): Promise<void> {
  await tx.query(
    'update plans set superseded_at = now() where superseded_at is null and not (unit = any($1::text[]))',
    [units],
  );
}
