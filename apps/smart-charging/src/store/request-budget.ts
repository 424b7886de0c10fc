import type { BuiltQuery } from './cursor.ts';
import type { SqlQueryable } from './sql-client.ts';

/** A token bucket: `capacity` requests at most, refilled by `refillPerMinute` per minute of the service's clock. */
export interface RequestBudgetLimits {
  readonly capacity: number;
  readonly refillPerMinute: number;
}

/** The key of the vehicle API's application-wide bucket (every instance on the database shares it). */
export const VEHICLE_API_BUDGET_KEY = 'vehicle-api';

/** Tokens the bucket holds at `$now`: what it had plus the refill since, never above the capacity. */
const AVAILABLE = `least($2::float8,
  b.tokens + greatest(0, extract(epoch from ($4::timestamptz - b.refilled_at))::float8) * $5::float8 / 60)`;

/**
 * Takes up to `$3` tokens in one statement: the conflicting row is locked and the SET expressions see its
 * latest version, so two instances taking at once never both spend the same token. A clock behind the
 * stored one refills nothing (`greatest`), and the stored instant never moves back.
 */
export const TAKE_TOKENS_SQL = `insert into request_budget as b (key, tokens, refilled_at, last_granted)
  values ($1, $2::float8 - least($3::int, floor($2::float8)::int), $4::timestamptz, least($3::int, floor($2::float8)::int))
  on conflict (key) do update set
    tokens = ${AVAILABLE} - greatest(0, least($3::int, floor(${AVAILABLE})::int)),
    last_granted = greatest(0, least($3::int, floor(${AVAILABLE})::int)),
    refilled_at = greatest(b.refilled_at, $4::timestamptz)
  returning last_granted, tokens`;

/**
 * Takes up to `wanted` tokens from the bucket `key` at `now`; returns how many it got (0 when empty).
 * The bucket starts full.
 */
export async function takeTokens(
  db: SqlQueryable,
  key: string,
  wanted: number,
  limits: RequestBudgetLimits,
  now: Date,
): Promise<{ granted: number; left: number }> {
  if (!Number.isInteger(wanted) || wanted < 0)
    throw new Error(`wanted must be a whole number ≥ 0, got ${wanted}`);
  const rows = await db.query<{ last_granted: number; tokens: number }>(TAKE_TOKENS_SQL, [
    key,
    limits.capacity,
    wanted,
    now,
    limits.refillPerMinute,
  ]);
  const row = rows[0];
  if (row === undefined) throw new Error(`the request budget ${key} returned no row`);
  return { granted: Number(row.last_granted), left: Number(row.tokens) };
}

/**
 * The vehicle API said the application is over its limit: nothing is left until `until` (the bucket
 * refills from then on). Shared by every instance, like the bucket.
 */
export async function emptyBucketUntil(db: SqlQueryable, key: string, until: Date): Promise<void> {
  await db.query(
    `insert into request_budget as b (key, tokens, refilled_at) values ($1, 0, $2)
     on conflict (key) do update set tokens = least(b.tokens, 0), refilled_at = greatest(b.refilled_at, $2)`,
    [key, until],
  );
}

/** What the poll needs to know of each candidate car, in the order given. */
export interface PollCandidateRow extends Record<string, unknown> {
  vehicle_id: string;
  /** The car must not be asked before this (a 429's Retry-After); null when nothing holds it back. */
  not_before: Date | string | null;
  state_source: 'poll' | 'webhook' | null;
  state_read_at: Date | string | null;
  last_attempt_at: Date | string | null;
}

/**
 * The candidates' back-off and last state, the least recently known or tried first (a car never read comes
 * first). Each lookup goes through a primary key, so a unit's cars cost as many index probes as it has cars.
 */
export function pollCandidatesQuery(vehicleIds: readonly string[]): BuiltQuery {
  return {
    text: `select c.id as vehicle_id, p.not_before, s.source as state_source, s.read_at as state_read_at,
        p.last_attempt_at
      from unnest($1::text[]) as c(id)
      -- One primary-key probe per car (limit 1 keeps the planner from hashing the whole table instead).
      left join lateral (select not_before, last_attempt_at from vehicle_polls
        where vehicle_id = c.id limit 1) p on true
      left join lateral (select source, read_at from vehicle_states where vehicle_id = c.id limit 1) s on true
      order by greatest(p.last_attempt_at, s.read_at) asc nulls first, c.id`,
    params: [vehicleIds],
  };
}

export async function loadPollCandidates(
  db: SqlQueryable,
  vehicleIds: readonly string[],
): Promise<PollCandidateRow[]> {
  const query = pollCandidatesQuery(vehicleIds);
  return db.query<PollCandidateRow>(query.text, query.params);
}

/** Notes that these cars are being asked now (they go to the back of the queue). Unknown ids are ignored. */
export async function markPollAttempts(
  db: SqlQueryable,
  vehicleIds: readonly string[],
  at: Date,
): Promise<void> {
  if (vehicleIds.length === 0) return;
  await db.query(
    `insert into vehicle_polls (vehicle_id, last_attempt_at)
     select v.id, $2::timestamptz from vehicles v where v.id = any($1::text[])
     on conflict (vehicle_id) do update set last_attempt_at = excluded.last_attempt_at`,
    [vehicleIds, at],
  );
}

/** The car must not be asked before `until`; a later back-off already stored is kept. */
export async function holdVehicleUntil(
  db: SqlQueryable,
  vehicleId: string,
  until: Date,
  reason: string,
): Promise<void> {
  await db.query(
    `insert into vehicle_polls (vehicle_id, not_before, not_before_reason)
     select v.id, $2::timestamptz, $3 from vehicles v where v.id = $1
     on conflict (vehicle_id) do update set
       not_before = greatest(vehicle_polls.not_before, excluded.not_before),
       not_before_reason = case when vehicle_polls.not_before > excluded.not_before
         then vehicle_polls.not_before_reason else excluded.not_before_reason end`,
    [vehicleId, until, reason],
  );
}
