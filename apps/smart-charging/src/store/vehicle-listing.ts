import { z } from 'zod';
import { decodeCursor, SqlBuilder, toPage, type BuiltQuery, type Page } from './cursor.ts';
import type { GrantStatus } from './grants.ts';
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
  readonly state: { readonly body: unknown; readonly readAt: Date } | null;
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
  preferences_body: unknown;
}

const LISTING_COLUMNS = `v.id, v.grant_id, v.make, v.model, v.year, v.battery_capacity_kwh, v.grid_node_id,
  g.status as grant_status, g.status_reason as grant_status_reason, g.owner_id,
  s.body as state_body, s.read_at as state_read_at, p.body as preferences_body
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
      : { body: parseJson(row.state_body), readAt: new Date(row.state_read_at) },
  preferences: row.preferences_body === null ? null : parseJson(row.preferences_body),
});

const parseJson = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

const VehicleCursorSchema = z.tuple([z.string().min(1).max(200)]);

/** Cars in id order (a keyset on the primary key, so the 1,000th page costs what the first does). */
export function vehicleListQuery(filter: VehicleListFilter): BuiltQuery {
  const sql = new SqlBuilder();
  const where: string[] = [];
  let prefix = '';
  if (filter.nodeId !== undefined) {
    prefix = `with recursive subtree(id) as (
      select id from grid_nodes where id = ${sql.param(filter.nodeId)}
      union all
      select child.id from grid_nodes child join subtree on child.parent_id = subtree.id) `;
    where.push('v.grid_node_id in (select id from subtree)');
  }
  if (filter.ownerId !== undefined) where.push(`g.owner_id = ${sql.param(filter.ownerId)}`);
  if (filter.grantStatus !== undefined) where.push(`g.status = ${sql.param(filter.grantStatus)}`);
  if (filter.pluggedIn !== undefined)
    where.push(`(s.body ->> 'pluggedIn')::boolean = ${sql.param(filter.pluggedIn)}`);
  if (filter.cursor !== undefined) {
    const [afterId] = decodeCursor(filter.cursor, VehicleCursorSchema);
    where.push(`v.id > ${sql.param(afterId)}`);
  }
  return {
    text: `${prefix}select ${LISTING_COLUMNS}
      ${where.length ? `where ${where.join(' and ')}` : ''}
      order by v.id limit ${sql.param(filter.limit + 1)}`,
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
