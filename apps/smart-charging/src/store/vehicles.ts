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

interface VehicleRow extends Record<string, unknown> {
  id: string;
  grant_id: string;
  make: string;
  model: string;
  year: number;
  battery_capacity_kwh: number | null;
}

const toRecord = (row: VehicleRow): VehicleRecord => ({
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
}

export async function saveVehicleState(
  tx: SqlQueryable,
  vehicleId: string,
  state: unknown,
  readAt: Date,
): Promise<void> {
  await tx.query(
    `insert into vehicle_states (vehicle_id, body, read_at) values ($1, $2, $3)
     on conflict (vehicle_id) do update set body = excluded.body, read_at = excluded.read_at`,
    [vehicleId, JSON.stringify(state), readAt],
  );
}

export async function loadVehicleStates<TState>(
  tx: SqlQueryable,
): Promise<Map<string, StoredVehicleState<TState>>> {
  const rows = await tx.query<{ vehicle_id: string; body: TState; read_at: Date | string }>(
    'select vehicle_id, body, read_at from vehicle_states',
  );
  return new Map(rows.map((row) => [row.vehicle_id, { state: row.body, readAt: new Date(row.read_at) }]));
}
