import { DEFAULT_PREFERENCES } from '../src/store/preferences.ts';
import type { SqlClient } from '../src/store/sql-client.ts';

/** A month of re-plans (about 150 a day): the plans table is not small for long. */
const PLANS = 5_000;

export interface FleetShape {
  readonly cars: number;
  readonly feeders: number;
  /** Transformers under each feeder; cars hang on transformers. @default 5 */
  readonly transformersPerFeeder?: number;
  /** Commands in the log per car (all but the last confirmed). @default 4 */
  readonly commandsPerCar?: number;
  /** Slots of the current plan each car has a power series for. @default 96 */
  readonly slots?: number;
  readonly start?: Date;
  /**
   * The cars' ids, in order (car 1 first), e.g. those a simulator gave its vehicles, so the service can
   * reach them. @default `car-0000001`…
   */
  readonly vehicleIds?: readonly string[];
}

/** Ids the fixture gives: `car-0000001`, `owner-0000001`, `feeder-0001`, `tr-0001-1`, `sub-0001`. */
export const carId = (index: number): string => `car-${String(index).padStart(7, '0')}`;
export const ownerId = (index: number): string => `owner-${String(index).padStart(7, '0')}`;
export const feederId = (index: number): string => `feeder-${String(index).padStart(4, '0')}`;

/**
 * A utility's fleet written straight into a migrated schema with set-based SQL (seconds for 10⁵ cars):
 * substations of 50 feeders, transformers under feeders, one owner and grant per car (2 % revoked, 1 %
 * expired), a last state for every car (two in three plugged, one in five charging), preferences for half,
 * a household connection node per car, a month of plans, a command log and the current plan's
 * power per car. Ends with ANALYZE, so the planner sees real counts.
 */
export async function fillFleet(db: SqlClient, shape: FleetShape): Promise<void> {
  const transformers = shape.transformersPerFeeder ?? 5;
  const perCar = shape.commandsPerCar ?? 4;
  const slots = shape.slots ?? 96;
  const start = shape.start ?? new Date('2026-11-21T21:00:00Z');
  const pad4 = (expression: string) => `lpad((${expression})::text, 4, '0')`;
  const pad7 = (expression: string) => `lpad((${expression})::text, 7, '0')`;
  const feederOf = (car: string) => `((${car} - 1) % $2) + 1`;
  const ids = shape.vehicleIds;
  if (ids !== undefined && ids.length !== shape.cars)
    throw new Error(`vehicleIds: ${ids.length} ids for ${shape.cars} cars`);
  // Given ids come from a lookup table (a primary-key probe per row), else they are made from the index.
  const car = (expression: string) =>
    ids === undefined
      ? `'car-' || ${pad7(expression)}`
      : `(select id from fleet_vehicle_ids where car_index = ${expression})`;
  if (ids !== undefined) {
    await db.query('create table fleet_vehicle_ids (car_index integer primary key, id text not null)');
    await db.query(
      'insert into fleet_vehicle_ids (car_index, id) select ordinality, id from unnest($1::text[]) with ordinality as given(id, ordinality)',
      [ids],
    );
  }
  const statements: [string, unknown[]][] = [
    [
      `insert into grid_nodes (id, parent_id, kind, name, limit_kw, base_load_kwh_per_year)
       select 'sub-' || ${pad4('s')}, null, 'substation', 'Substation ' || s, 40000, 0
       from generate_series(1, ($1::int + 49) / 50) s`,
      [shape.feeders],
    ],
    [
      `insert into grid_nodes (id, parent_id, kind, name, limit_kw, base_load_kwh_per_year)
       select 'feeder-' || ${pad4('f')}, 'sub-' || ${pad4('(f - 1) / 50 + 1')}, 'feeder', 'Feeder ' || f, 2000, 0
       from generate_series(1, $1::int) f`,
      [shape.feeders],
    ],
    [
      `insert into grid_nodes (id, parent_id, kind, name, limit_kw, base_load_kwh_per_year)
       select 'tr-' || ${pad4('f')} || '-' || t, 'feeder-' || ${pad4('f')}, 'transformer', 'Transformer ' || f || '/' || t,
         630, 150000
       from generate_series(1, $1::int) f, generate_series(1, $2::int) t`,
      [shape.feeders, transformers],
    ],
    [
      // One household connection per car (a utility's tree reaches every house).
      `insert into grid_nodes (id, parent_id, kind, name, limit_kw, base_load_kwh_per_year, limit_mode)
       select 'conn-' || ${pad7('i')}, 'tr-' || ${pad4(feederOf('i'))} || '-' || (((i - 1) / $2) % $3 + 1),
         'connection', 'House ' || i, 11 + (i % 3) * 11, 3500, 'hard'
       from generate_series(1, $1::int) i`,
      [shape.cars, shape.feeders, transformers],
    ],
    [
      `insert into owners (id, display_name) select 'owner-' || ${pad7('i')}, 'Owner ' || i
       from generate_series(1, $1::int) i`,
      [shape.cars],
    ],
    [
      `insert into grants (id, owner_id, scopes, status, status_reason)
       select 'grant-' || ${pad7('i')}, 'owner-' || ${pad7('i')}, array['read_battery', 'control_charge'],
         case when i % 50 = 0 then 'revoked' when i % 97 = 0 then 'expired' else 'active' end,
         case when i % 50 = 0 then 'revoked by the owner' when i % 97 = 0 then 'refresh token expired' end
       from generate_series(1, $1::int) i`,
      [shape.cars],
    ],
    [
      `insert into vehicles (id, grant_id, make, model, year, battery_capacity_kwh, grid_node_id)
       select ${car('i')}, 'grant-' || ${pad7('i')},
         (array['TESLA', 'CITROEN', 'VOLKSWAGEN', 'RENAULT'])[i % 4 + 1], 'Model ' || (i % 7), 2020 + i % 6, 40 + i % 40,
         'conn-' || ${pad7('i')}
       from generate_series(1, $1::int) i`,
      [shape.cars],
    ],
    [
      `insert into vehicle_states (vehicle_id, body, read_at)
       select ${car('i')},
         jsonb_build_object('soc', (i % 100) / 100.0, 'pluggedIn', i % 3 <> 0,
           'charging', case when i % 5 = 0 then 'CHARGING' else 'NOT_CHARGING' end, 'chargeLimit', 0.9,
           'readAt', $2::timestamptz),
         $2::timestamptz - (i % 600) * interval '1 second'
       from generate_series(1, $1::int) i`,
      [shape.cars, start],
    ],
    [
      // Twelve weekly schedules (06:00–08:45 on weekdays, some weekends too): cars share them, as people do.
      `insert into preferences (vehicle_id, body)
       select ${car('i')}, jsonb_set($2::jsonb, '{departures}', (
         select jsonb_object_agg(day, case when day in ('saturday', 'sunday') and i % 4 <> 0 then null
           else to_char(time '06:00' + (i % 12) * interval '15 minutes', 'HH24:MI') end)
         from unnest(array['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']) day))
       from generate_series(2, $1::int, 2) i`,
      [shape.cars, JSON.stringify(DEFAULT_PREFERENCES)],
    ],
    [
      `insert into plans (id, reason, created_at, horizon_start, horizon_end, body, superseded_at)
       select 'plan-' || p, 'fixture', $1::timestamptz - ($2 - p) * interval '10 minutes', $1, $1 + interval '1 day',
         '{}'::jsonb, case when p < $2 then $1::timestamptz - ($2 - 1 - p) * interval '10 minutes' end
       from generate_series(1, $2::int) p`,
      [start, PLANS],
    ],
    [
      `insert into commands (id, plan_id, vehicle_id, action, due_at, status, attempts, sent_at, confirmed_at)
       select 'cmd-' || ${pad7('i')} || '-' || k, 'plan-' || $4, ${car('i')},
         case when k % 2 = 1 then 'start_charge' else 'stop_charge' end, due,
         case when k < $2 then 'confirmed' else 'pending' end, case when k < $2 then 1 else 0 end,
         case when k < $2 then due end, case when k < $2 then due + interval '20 seconds' end
       from generate_series(1, $1::int) i, generate_series(1, $2::int) k,
         lateral (select $3::timestamptz + (k - $2) * interval '6 hours' + (i % 360) * interval '1 minute' as due) d`,
      [shape.cars, perCar, start, PLANS],
    ],
    [
      `insert into vehicle_plans (vehicle_id, plan_id, first_slot_start, slot_minutes, power_kw, body)
       select ${car('i')}, 'plan-' || $4, $2, 15,
         array(select case when (i + s) % 8 = 0 then 11.0 else 0.0 end from generate_series(1, $3::int) s),
         jsonb_build_object('id', ${car('i')})
       from generate_series(1, $1::int) i where i % 3 <> 0`,
      [shape.cars, start, slots, PLANS],
    ],
  ];
  for (const [text, params] of statements) await db.query(text, params);
  if (ids !== undefined) await db.query('drop table fleet_vehicle_ids');
  await db.query('analyze');
}
