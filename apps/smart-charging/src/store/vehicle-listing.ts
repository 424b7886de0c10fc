import { z } from 'zod';
import { decodeCursor, SqlBuilder, toPage, type BuiltQuery, type Page } from './cursor.ts';
import type { GrantStatus } from './grants.ts';
import { subtreeSql } from './grid-nodes.ts';
import type { SqlQueryable } from './sql-client.ts';

/** A car with what its views need (grant, last state, preferences), read in one query. */
export interface VehicleListing {
  readonly id: string;
  readonly grantId: string;
  readonly make: string;
  readonly model: string;
  readonly year: number;
  readonly batteryCapacityKwh: number | null;
  readonly gridNodeId: string | null;
  /** Null when the grant row is gone. */
  readonly grantStatus: GrantStatus | null;
  readonly grantStatusReason: string | null;
  readonly ownerId: string | null;
  readonly state: {
    readonly body: unknown;
    readonly readAt: Date;
    readonly source: 'poll' | 'webhook';
  } | null;
  /** The stored preferences body, null until set (defaults apply). */
  readonly preferences: unknown;
}

export interface VehicleListFilter {
  /** Only this owner's cars (an owner's view); absent = every car (operators). */
  readonly ownerId?: string;
  /** Only cars on this grid node or any node below it. */
  readonly nodeId?: string;
  readonly grantStatus?: GrantStatus;
  readonly pluggedIn?: boolean;
  /** Cursor from the previous page. */
  readonly cursor?: string;
  readonly limit: number;
}

interface ListingRow extends Record<string, unknown> {
  id: string;
  grant_id: string;
  make: string;
  model: string;
  year: number;
  battery_capacity_kwh: number | null;
  grid_node_id: string | null;
  grant_status: GrantStatus | null;
  grant_status_reason: string | null;
  owner_id: string | null;
  state_body: unknown;
  state_read_at: Date | string | null;
  state_source: 'poll' | 'webhook' | null;
  preferences_body: unknown;
}

const LISTING_COLUMNS = `v.id, v.grant_id, v.make, v.model, v.year, v.battery_capacity_kwh, v.grid_node_id,
  g.status as grant_status, g.status_reason as grant_status_reason, g.owner_id,
  s.body as state_body, s.read_at as state_read_at, s.source as state_source, p.body as preferences_body
  from vehicles v
  left join grants g on g.id = v.grant_id
  left join vehicle_states s on s.vehicle_id = v.id
  left join preferences p on p.vehicle_id = v.id`;

const toListing = (row: ListingRow): VehicleListing => ({
  id: row.id,
  grantId: row.grant_id,
  make: row.make,
  model: row.model,
  year: row.year,
  batteryCapacityKwh: row.battery_capacity_kwh,
  gridNodeId: row.grid_node_id,
  grantStatus: row.grant_status,
  grantStatusReason: row.grant_status_reason,
  ownerId: row.owner_id,
  state:
    row.state_read_at === null
      ? null
      : {
          body: parseJson(row.state_body),
          readAt: new Date(row.state_read_at),
          source: row.state_source ?? 'poll',
        },
  preferences: row.preferences_body === null ? null : parseJson(row.preferences_body),
});

const parseJson = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

const VehicleCursorSchema = z.tuple([z.string().min(1).max(200)]);

/**
 * Cars in id order, a keyset on the primary key (the 1,000th page costs what the first does). The page's
 * ids are found first, with only the joins the filters need; the columns of the views are then read for
 * those ids alone. A grid-node filter walks the subtree node by node (each node's cars by index), so a
 * small feeder never scans the fleet.
 */
export function vehicleListQuery(filter: VehicleListFilter): BuiltQuery {
  const sql = new SqlBuilder();
  const where: string[] = [];
  const joins: string[] = [];
  let prefix = '';
  if (filter.nodeId !== undefined)
    prefix = `with subtree as (${subtreeSql(`array[${sql.param(filter.nodeId)}::text]`)}) `;
  if (filter.ownerId !== undefined) {
    joins.push('join grants g on g.id = v.grant_id');
    where.push(`g.owner_id = ${sql.param(filter.ownerId)}`);
  }
  // Few grants are revoked or expired: find them by status (an index) rather than walk every car.
  if (filter.grantStatus !== undefined)
    where.push(
      `v.grant_id = any(array(select id from grants where status = ${sql.param(filter.grantStatus)}))`,
    );
  if (filter.pluggedIn !== undefined) {
    joins.push('join vehicle_states s on s.vehicle_id = v.id');
    where.push(`(s.body ->> 'pluggedIn')::boolean = ${sql.param(filter.pluggedIn)}`);
  }
  if (filter.cursor !== undefined) {
    const [afterId] = decodeCursor(filter.cursor, VehicleCursorSchema);
    where.push(`v.id > ${sql.param(afterId)}`);
  }
  const limit = sql.param(filter.limit + 1);
  const ids = (extra: string[]) => {
    const conditions = [...extra, ...where];
    return `select v.id from vehicles v ${joins.join(' ')}
      ${conditions.length ? `where ${conditions.join(' and ')}` : ''} order by v.id limit ${limit}`;
  };
  const page =
    filter.nodeId === undefined
      ? ids([])
      : `select car.id from subtree cross join lateral (${ids(['v.grid_node_id = subtree.id'])}) car
         order by car.id limit ${limit}`;
  return {
    text: `${prefix}select ${LISTING_COLUMNS.replace('from vehicles v', `from (${page}) page join vehicles v on v.id = page.id`)}
      order by v.id`,
    params: sql.params,
  };
}

export async function listVehiclePage(
  tx: SqlQueryable,
  filter: VehicleListFilter,
): Promise<Page<VehicleListing>> {
  const query = vehicleListQuery(filter);
  const rows = await tx.query<ListingRow>(query.text, query.params);
  return toPage(rows, filter.limit, toListing, (row) => [row.id]);
}

/** One car by primary key: what `GET /api/vehicles/:id` reads, and nothing of any other car. */
export function oneVehicleQuery(vehicleId: string): BuiltQuery {
  return { text: `select ${LISTING_COLUMNS} where v.id = $1`, params: [vehicleId] };
}

export async function findVehicleListing(
  tx: SqlQueryable,
  vehicleId: string,
): Promise<VehicleListing | undefined> {
  const query = oneVehicleQuery(vehicleId);
  const rows = await tx.query<ListingRow>(query.text, query.params);
  return rows[0] && toListing(rows[0]);
}

/** Who owns a car (through its grant): the object-level check of every per-car route, one row. */
export function vehicleOwnerQuery(vehicleId: string): BuiltQuery {
  return {
    text: `select v.id, g.owner_id from vehicles v left join grants g on g.id = v.grant_id where v.id = $1`,
    params: [vehicleId],
  };
}

export async function findVehicleOwner(
  tx: SqlQueryable,
  vehicleId: string,
): Promise<{ readonly ownerId: string | null } | undefined> {
  const query = vehicleOwnerQuery(vehicleId);
  const rows = await tx.query<{ id: string; owner_id: string | null }>(query.text, query.params);
  return rows[0] && { ownerId: rows[0].owner_id };
}

export function ownerVehicleIdsQuery(ownerId: string): BuiltQuery {
  return {
    text: `select v.id from grants g join vehicles v on v.grant_id = g.id where g.owner_id = $1 order by v.id`,
    params: [ownerId],
  };
}

/** An owner's car ids (an owner has a handful; never used for operators). */
export async function ownerVehicleIds(tx: SqlQueryable, ownerId: string): Promise<string[]> {
  const query = ownerVehicleIdsQuery(ownerId);
  return (await tx.query<{ id: string }>(query.text, query.params)).map((row) => row.id);
}
