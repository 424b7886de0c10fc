import type { SqlQueryable } from './sql-client.ts';

export interface VehicleRecord {
  readonly id: string;
  readonly grantId: string;
  readonly make: string;
  readonly model: string;
  readonly year: number;
  /** Usable battery capacity in kWh; null when the car does not report it. */
  readonly batteryCapacityKwh: number | null;
}

export interface VehicleRow extends Record<string, unknown> {
  id: string;
  grant_id: string;
  make: string;
  model: string;
  year: number;
  battery_capacity_kwh: number | null;
}

export const toRecord = (row: VehicleRow): VehicleRecord => ({
  id: row.id,
  grantId: row.grant_id,
  make: row.make,
  model: row.model,
  year: row.year,
  batteryCapacityKwh: row.battery_capacity_kwh,
});

/** Links a vehicle to a grant; linking again (a reconnect) moves it to the new grant. */
export async function saveVehicle(tx: SqlQueryable, vehicle: VehicleRecord): Promise<void> {
  await tx.query(
    `insert into vehicles (id, grant_id, make, model, year, battery_capacity_kwh) values ($1, $2, $3, $4, $5, $6)
     on conflict (id) do update set grant_id = excluded.grant_id, make = excluded.make, model = excluded.model,
       year = excluded.year, battery_capacity_kwh = excluded.battery_capacity_kwh`,
    [vehicle.id, vehicle.grantId, vehicle.make, vehicle.model, vehicle.year, vehicle.batteryCapacityKwh],
  );
}

export async function findVehicle(tx: SqlQueryable, vehicleId: string): Promise<VehicleRecord | undefined> {
  const rows = await tx.query<VehicleRow>('select * from vehicles where id = $1', [vehicleId]);
  return rows[0] && toRecord(rows[0]);
}

export async function listVehicles(tx: SqlQueryable): Promise<VehicleRecord[]> {
  const rows = await tx.query<VehicleRow>('select * from vehicles order by make, model, id');
  return rows.map(toRecord);
}

export interface StoredVehicleState<TState> {
  readonly state: TState;
  readonly readAt: Date;
  /** Who told: a poll of the vehicle API, or a webhook the API pushed. */
  readonly source: 'poll' | 'webhook';
}

export async function saveVehicleState(
  tx: SqlQueryable,
  vehicleId: string,
  state: unknown,
  readAt: Date,
): Promise<void> {
  await tx.query(
    `insert into vehicle_states (vehicle_id, body, read_at, source) values ($1, $2, $3, 'poll')
     on conflict (vehicle_id) do update set body = excluded.body, read_at = excluded.read_at, source = 'poll'`,
    [vehicleId, JSON.stringify(state), readAt],
  );
}

/**
 * Merges what a webhook pushed (`fields`, top-level keys of the state) into the car's stored state, as one
 * statement. A delivery older than the stored state changes nothing (a late retry never rolls it back);
 * `complete` says whether `fields` can stand alone as the first state of a car never read before.
 * Returns the stored state before and after, or undefined when nothing was stored (unknown car, older).
 * `before` is read from the statement's snapshot (no row lock: a lock taken after the upsert changed the
 * row would see nothing); two deliveries racing for one car may both compare with the same `before`.
 */
export async function mergeWebhookState<TState>(
  tx: SqlQueryable,
  vehicleId: string,
  fields: Record<string, unknown>,
  readAt: Date,
  complete: boolean,
): Promise<{ before: TState | null; after: TState } | undefined> {
  const rows = await tx.query<{ before: TState | null; after: TState }>(
    `with previous as (select body from vehicle_states where vehicle_id = $1),
     stored as (
       insert into vehicle_states as s (vehicle_id, body, read_at, source)
       select v.id, $2::jsonb, $3, 'webhook' from vehicles v
       where v.id = $1 and ($4 or exists (select 1 from previous))
       on conflict (vehicle_id) do update set body = s.body || excluded.body, read_at = excluded.read_at,
         source = 'webhook'
       where s.read_at <= excluded.read_at
       returning s.body
     )
     select (select body from previous) as before, stored.body as after from stored`,
    [vehicleId, JSON.stringify(fields), readAt, complete],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  const parse = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value) as TState;
  return { before: row.before === null ? null : parse(row.before), after: parse(row.after) };
}

/** Forgets webhook event ids received before `$1` (through webhook_events_by_age). */
export const EXPIRE_WEBHOOK_EVENTS_SQL = 'delete from webhook_events where received_at < $1';

/** Records a webhook event id; false when it was recorded before (a replay). Forgets ids after a day. */
export async function firstSeenWebhookEvent(tx: SqlQueryable, eventId: string, at: Date): Promise<boolean> {
  await tx.query(EXPIRE_WEBHOOK_EVENTS_SQL, [new Date(at.getTime() - 86_400_000)]);
  const rows = await tx.query(
    `insert into webhook_events (id, received_at) values ($1, $2) on conflict (id) do nothing returning id`,
    [eventId, at],
  );
  return rows.length > 0;
}

export async function loadVehicleStates<TState>(
  tx: SqlQueryable,
): Promise<Map<string, StoredVehicleState<TState>>> {
  const rows = await tx.query<{
    vehicle_id: string;
    body: TState;
    read_at: Date | string;
    source: 'poll' | 'webhook';
  }>('select vehicle_id, body, read_at, source from vehicle_states');
  return new Map(
    rows.map((row) => [
      row.vehicle_id,
      { state: row.body, readAt: new Date(row.read_at), source: row.source },
    ]),
  );
}
