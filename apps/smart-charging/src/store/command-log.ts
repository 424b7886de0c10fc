import { randomUUID } from 'node:crypto';
import type { SqlClient, SqlQueryable } from './sql-client.ts';

export type CommandAction = 'start_charge' | 'stop_charge' | 'set_charge_limit';
export type CommandStatus = 'pending' | 'sending' | 'confirmed' | 'failed' | 'cancelled';

export interface PlannedCommand {
  readonly vehicleId: string;
  readonly action: CommandAction;
  /** Charge limit as a fraction for `set_charge_limit`; absent otherwise. */
  readonly value?: number;
  readonly dueAt: Date;
}

export interface CommandRecord extends PlannedCommand {
  readonly id: string;
  readonly planId: string | null;
  readonly status: CommandStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly nextAttemptAt: Date | null;
  readonly sentAt: Date | null;
  readonly confirmedAt: Date | null;
  /** The service instance that last claimed (sent) the command; null before any. */
  readonly instanceId: string | null;
}

interface CommandRow extends Record<string, unknown> {
  id: string;
  plan_id: string | null;
  vehicle_id: string;
  action: CommandAction;
  value: number | null;
  due_at: Date | string;
  status: CommandStatus;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date | string | null;
  sent_at: Date | string | null;
  confirmed_at: Date | string | null;
  instance_id: string | null;
}

const asDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));
const asOptionalDate = (value: Date | string | null): Date | null => (value === null ? null : asDate(value));

function toRecord(row: CommandRow): CommandRecord {
  return {
    id: row.id,
    planId: row.plan_id,
    vehicleId: row.vehicle_id,
    action: row.action,
    ...(row.value === null ? {} : { value: row.value }),
    dueAt: asDate(row.due_at),
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: asOptionalDate(row.next_attempt_at),
    sentAt: asOptionalDate(row.sent_at),
    confirmedAt: asOptionalDate(row.confirmed_at),
    instanceId: row.instance_id ?? null,
  };
}

/**
 * Replaces the future of the command log with a new plan: commands the plan still wants are kept (never
 * duplicated, thanks to the unique key), pending ones it no longer wants are cancelled. Past and in-flight
 * commands are left alone, so a re-plan never rewrites history.
 */
export async function replaceFutureCommands(
  tx: SqlQueryable,
  planId: string,
  commands: readonly PlannedCommand[],
  now: Date,
  /** The cars the plan decides for (its unit's); other units' commands are theirs. @default every car */
  unitVehicleIds?: readonly string[],
): Promise<void> {
  // A time already past means "now": the plan was made after it. The same command twice is one row.
  const wanted = new Map<string, PlannedCommand & { dueAt: Date }>();
  for (const command of commands) {
    const dueAt = command.dueAt < now ? now : command.dueAt;
    const key = `${command.vehicleId}|${command.action}|${dueAt.getTime()}`;
    if (!wanted.has(key)) wanted.set(key, { ...command, dueAt });
  }
  const batch = [...wanted.values()];
  // One statement for the whole plan: a feeder's re-plan writes hundreds of commands.
  const inserted = await tx.query<{ id: string; vehicle_id: string; action: string; due_at: Date | string }>(
    `insert into commands (id, plan_id, vehicle_id, action, value, due_at, status)
     select id, $1, vehicle_id, action, value, due_at, 'pending'
     from unnest($2::text[], $3::text[], $4::text[], $5::float8[], $6::timestamptz[])
       as planned(id, vehicle_id, action, value, due_at)
     on conflict (vehicle_id, action, due_at) do update
       set plan_id = excluded.plan_id, value = excluded.value, status = 'pending'
       where commands.status in ('pending', 'cancelled')
     returning id, vehicle_id, action, due_at`,
    [
      planId,
      batch.map(() => randomUUID()),
      batch.map((command) => command.vehicleId),
      batch.map((command) => command.action),
      batch.map((command) => command.value ?? null),
      batch.map((command) => command.dueAt),
    ],
  );
  const keep = inserted.map((row) => row.id);
  const done = new Set(
    inserted.map((row) => `${row.vehicle_id}|${row.action}|${new Date(row.due_at).getTime()}`),
  );
  for (const command of batch) {
    if (done.has(`${command.vehicleId}|${command.action}|${command.dueAt.getTime()}`)) continue;
    // The same command for the same instant was already carried out (or is under way), and this plan
    // wants it again, e.g. a stop after the car was switched on in between: it is a new command.
    let dueAt = new Date(command.dueAt.getTime() + 1);
    for (let attempt = 0; attempt < 5; attempt++) {
      const rows = await tx.query<{ id: string }>(
        `insert into commands (id, plan_id, vehicle_id, action, value, due_at, status)
         values ($1, $2, $3, $4, $5, $6, 'pending')
         on conflict (vehicle_id, action, due_at) do update
           set plan_id = excluded.plan_id, value = excluded.value, status = 'pending'
           where commands.status in ('pending', 'cancelled')
         returning id`,
        [randomUUID(), planId, command.vehicleId, command.action, command.value ?? null, dueAt],
      );
      if (rows[0]) {
        keep.push(rows[0].id);
        break;
      }
      dueAt = new Date(dueAt.getTime() + 1);
    }
  }
  if (unitVehicleIds === undefined)
    await tx.query(
      `update commands set status = 'cancelled'
       where status = 'pending' and due_at >= $1 and not (id = any($2::text[]))`,
      [now, keep],
    );
  else
    await tx.query(
      `update commands set status = 'cancelled'
       where vehicle_id = any($3::text[]) and status = 'pending' and due_at >= $1 and not (id = any($2::text[]))`,
      [now, keep, unitVehicleIds],
    );
}

/**
 * Atomically moves due commands from `pending` to `sending` and returns them. Marking before sending is
 * what lets a restarted service tell "maybe sent" (reconcile by reading the car) from "never sent".
 */
export const CLAIM_DUE_SQL = `select id from commands
  -- A retry is never before the due time, so due_at <= $1 holds too: it bounds the index range, else a
  -- minute with few due commands would walk every future pending one.
  where status = 'pending' and due_at <= $1 and coalesce(next_attempt_at, due_at) <= $1
  order by due_at, vehicle_id, action
  limit $2
  for update skip locked`;

export async function claimDueCommands(
  tx: SqlQueryable,
  now: Date,
  limit = 100,
  instanceId: string | null = null,
): Promise<CommandRecord[]> {
  const rows = await tx.query<CommandRow>(
    `update commands set status = 'sending', attempts = attempts + 1, sent_at = $1, instance_id = $3
     where id in (${CLAIM_DUE_SQL})
     returning *`,
    [now, limit, instanceId],
  );
  return rows
    .map(toRecord)
    .sort(
      (a, b) =>
        a.dueAt.getTime() - b.dueAt.getTime() ||
        a.vehicleId.localeCompare(b.vehicleId) ||
        a.action.localeCompare(b.action),
    );
}

/**
 * How long (service clock) a claimed command keeps its car's other commands waiting. Sends take well under
 * a second; a claim older than this belongs to an instance that died and is not in flight any more.
 */
export const IN_FLIGHT_HOLD_MS = 2 * 60_000;

/** Whether another command of the command's car was claimed since $2 and is still being sent. */
export const CAR_BUSY_SQL = `select exists (
    select 1 from commands o
    where o.vehicle_id = (select vehicle_id from commands where id = $1)
      and o.id <> $1 and o.status = 'sending' and o.sent_at > $2
  ) as busy`;

/**
 * Claims one command for `instanceId`: a pending one (the caller's job was made when it fell due, on the
 * clock of whichever instance made it, so it is not checked against this instance's clock again), or,
 * with `takeOver`, one left `sending` by an instance that died (its job expired and came back). Null when
 * the command is not there to claim (cancelled by a newer plan, done, or another instance's live claim).
 *
 * A car has one command in flight at a time, cluster-wide: two jobs holding commands of one car (one
 * dispatch's offer and a later, larger one) would otherwise send them side by side and out of order.
 * `car-busy` says another of its commands is being sent now; the caller waits and asks again.
 */
export async function claimCommand(
  db: SqlClient,
  id: string,
  now: Date,
  instanceId: string,
  { takeOver = false } = {},
): Promise<CommandRecord | 'car-busy' | null> {
  // Most offers of a command that was done or cancelled meanwhile end here, without a transaction.
  const [current] = await db.query<{ status: CommandStatus; vehicle_id: string }>(
    'select status, vehicle_id from commands where id = $1',
    [id],
  );
  if (!current || !(current.status === 'pending' || (takeOver && current.status === 'sending'))) return null;
  return db.transaction(async (tx) => {
    // The car's row lock orders concurrent claims of its commands: the one after sees the other's claim.
    await tx.query('select 1 from vehicles where id = $1 for update', [current.vehicle_id]);
    const [{ busy }] = (await tx.query<{ busy: boolean }>(CAR_BUSY_SQL, [
      id,
      new Date(now.getTime() - IN_FLIGHT_HOLD_MS),
    ])) as [{ busy: boolean }];
    if (busy) return 'car-busy';
    const rows = await tx.query<CommandRow>(
      `update commands
       set status = 'sending', instance_id = $3,
           attempts = case when status = 'pending' then attempts + 1 else attempts end,
           sent_at = case when status = 'pending' then $2 else sent_at end
       where id = $1
         and (status = 'pending' or ($4 and status = 'sending'))
       returning *`,
      [id, now, instanceId, takeOver],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  });
}

/**
 * A pending command is offered to the job engine once per attempt: `offered_attempts` records the attempt
 * its job was made for. At fleet scale a re-plan's burst is tens of thousands of commands that wait their
 * turn for minutes; re-offering all of them at every 5-s dispatch tick was most of the database's work.
 * A failed attempt that is retried counts up `attempts` (at its claim), so it is offered again.
 */
const NOT_OFFERED = `status = 'pending' and offered_attempts is distinct from attempts
    and due_at <= $1 and coalesce(next_attempt_at, due_at) <= $1`;

/** Due commands not yet offered, oldest first: what a dispatch hands to the engine (`commands_to_offer`). */
export const DUE_COMMANDS_SQL = `select * from commands
  -- Bounded by due_at too, as in CLAIM_DUE_SQL, so the index range stops at now.
  where ${NOT_OFFERED}
  order by due_at, vehicle_id, action
  limit $2`;

/** Due commands not yet offered of some cars (a unit's, right after its re-plan), through each car's own. */
export const DUE_COMMANDS_OF_VEHICLES_SQL = `select * from commands
  where vehicle_id = any($2::text[]) and ${NOT_OFFERED}
  order by due_at, vehicle_id, action`;

export interface DueCommandsPage {
  readonly limit?: number;
  /** Only these cars' (a unit's). */
  readonly vehicleIds?: readonly string[];
}

/**
 * Due commands not yet offered. The next page needs no cursor: offering a page takes it out of the
 * set (`markCommandsOffered`), and so does a claim.
 */
export async function dueCommands(
  tx: SqlQueryable,
  now: Date,
  { limit = 1000, vehicleIds }: DueCommandsPage = {},
): Promise<CommandRecord[]> {
  const rows =
    vehicleIds !== undefined
      ? await tx.query<CommandRow>(DUE_COMMANDS_OF_VEHICLES_SQL, [now, vehicleIds])
      : await tx.query<CommandRow>(DUE_COMMANDS_SQL, [now, limit]);
  return rows.map(toRecord);
}

/**
 * Records that jobs exist for these commands at these attempts (after the engine took them: a crash in
 * between only offers them again, under the same job keys). A command claimed meanwhile is left alone.
 */
export async function markCommandsOffered(
  tx: SqlQueryable,
  offered: readonly { readonly id: string; readonly attempts: number }[],
): Promise<void> {
  if (offered.length === 0) return;
  await tx.query(
    `update commands c set offered_attempts = o.attempts
     from unnest($1::text[], $2::integer[]) as o(id, attempts)
     where c.id = o.id and c.status = 'pending' and c.attempts = o.attempts`,
    [offered.map((command) => command.id), offered.map((command) => command.attempts)],
  );
}

export async function markCommandConfirmed(tx: SqlQueryable, id: string, at: Date): Promise<void> {
  await tx.query(
    `update commands set status = 'confirmed', confirmed_at = $2, last_error = null where id = $1`,
    [id, at],
  );
}

/** A failed attempt either waits for `retryAt` (safe to retry) or ends the command as `failed`. */
export async function markCommandFailed(
  tx: SqlQueryable,
  id: string,
  reason: string,
  retryAt: Date | null,
): Promise<void> {
  await tx.query(
    `update commands
     set status = case when $3::timestamptz is null then 'failed' else 'pending' end,
         last_error = $2, next_attempt_at = $3
     where id = $1`,
    [id, reason, retryAt],
  );
}

/** Marks the command failed unless it is done already: the command as marked, or null when it was done. */
export async function abandonCommand(
  tx: SqlQueryable,
  id: string,
  reason: string,
): Promise<CommandRecord | null> {
  const rows = await tx.query<CommandRow>(
    `update commands set status = 'failed', last_error = $2, next_attempt_at = null
     where id = $1 and status in ('pending', 'sending')
     returning *`,
    [id, reason],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export const IN_FLIGHT_SQL = `select * from commands where status = 'sending' order by due_at, vehicle_id, action`;

/** Commands left in `sending` by a crash: the caller reads each car's state to decide what happened. */
export async function inFlightCommands(tx: SqlQueryable): Promise<CommandRecord[]> {
  const rows = await tx.query<CommandRow>(IN_FLIGHT_SQL);
  return rows.map(toRecord);
}

export async function listCommands(
  tx: SqlQueryable,
  filter: { readonly vehicleId?: string; readonly since?: Date; readonly status?: CommandStatus } = {},
): Promise<CommandRecord[]> {
  const rows = await tx.query<CommandRow>(
    `select * from commands
     where ($1::text is null or vehicle_id = $1) and ($2::timestamptz is null or due_at >= $2)
       and ($3::text is null or status = $3)
     order by due_at, vehicle_id, action`,
    [filter.vehicleId ?? null, filter.since ?? null, filter.status ?? null],
  );
  return rows.map(toRecord);
}

export const COMMANDED_ON_TIME_SQL = `select vehicle_id, action, confirmed_at from commands
  where status = 'confirmed' and action in ('start_charge', 'stop_charge')
    and confirmed_at < $2 and confirmed_at >= $1::timestamptz - interval '2 days'
  order by vehicle_id, confirmed_at`;

/**
 * How long each vehicle was switched on (by confirmed start/stop commands) within [from, to), in ms. A
 * plan made in the middle of a slot needs this: the slot's grid budget is partly spent already.
 */
/** The same for some cars only (a unit's): through each car's own commands, not the fleet's. */
export const COMMANDED_ON_TIME_OF_VEHICLES_SQL = `select vehicle_id, action, confirmed_at from commands
  where vehicle_id = any($3::text[]) and due_at < $2 and due_at >= $1::timestamptz - interval '3 days'
    and status = 'confirmed' and action in ('start_charge', 'stop_charge')
    and confirmed_at < $2 and confirmed_at >= $1::timestamptz - interval '2 days'
  order by vehicle_id, confirmed_at`;

export async function commandedOnTime(
  tx: SqlQueryable,
  from: Date,
  to: Date,
  /** Only these cars' (a unit's). @default every car */
  vehicleIds?: readonly string[],
): Promise<Map<string, number>> {
  const rows = await tx.query<{ vehicle_id: string; action: CommandAction; confirmed_at: Date | string }>(
    vehicleIds === undefined ? COMMANDED_ON_TIME_SQL : COMMANDED_ON_TIME_OF_VEHICLES_SQL,
    vehicleIds === undefined ? [from, to] : [from, to, vehicleIds],
  );
  const onTime = new Map<string, number>();
  const switchedOnAt = new Map<string, number | null>();
  for (const row of rows) {
    const at = asDate(row.confirmed_at).getTime();
    const since = switchedOnAt.get(row.vehicle_id) ?? null;
    if (row.action === 'start_charge') {
      if (since === null) switchedOnAt.set(row.vehicle_id, at);
      continue;
    }
    if (since !== null) {
      const overlap = Math.min(at, to.getTime()) - Math.max(since, from.getTime());
      if (overlap > 0) onTime.set(row.vehicle_id, (onTime.get(row.vehicle_id) ?? 0) + overlap);
    }
    switchedOnAt.set(row.vehicle_id, null);
  }
  for (const [vehicleId, since] of switchedOnAt) {
    if (since === null) continue;
    const overlap = to.getTime() - Math.max(since, from.getTime());
    if (overlap > 0) onTime.set(vehicleId, (onTime.get(vehicleId) ?? 0) + overlap);
  }
  return onTime;
}

/** Row → record, for the paged listing in command-pages.ts (the same mapping as every query here). */
export { toRecord as commandFromRow };
