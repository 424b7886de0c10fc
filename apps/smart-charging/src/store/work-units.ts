/**
 * Work units: what plans are made per, and what the jobs shard by. Each top-level grid node (with
 * everything below it) is one unit, planned on its own since units share no limit; cars hung on no node
 * form the `site` unit behind the site's connection limit, as before there was a tree.
 */
import type { BuiltQuery } from './cursor.ts';
import { MAX_TREE_DEPTH, subtreeSql, toNode, type GridNode, type GridNodeRow } from './grid-nodes.ts';
import { ChargingPreferencesSchema, DEFAULT_PREFERENCES, type ChargingPreferences } from './preferences.ts';
import type { SqlQueryable } from './sql-client.ts';
import { toRecord, type VehicleRecord, type VehicleRow } from './vehicles.ts';

export const SITE_UNIT = 'site';
const NODE_PREFIX = 'node:';

/** The unit of a top-level node (prefixed, so a node called "site" is not the site). */
export const nodeUnit = (rootId: string): string => `${NODE_PREFIX}${rootId}`;

/** The root node id of a node unit; undefined for the site. */
export function unitRootId(unit: string): string | undefined {
  return unit.startsWith(NODE_PREFIX) ? unit.slice(NODE_PREFIX.length) : undefined;
}

/**
 * Every unit with something to plan: each top-level node, and the site while a car hangs on no node (or
 * no tree exists, so an empty store still has its one plan).
 */
export async function listWorkUnits(tx: SqlQueryable): Promise<string[]> {
  const rows = await tx.query<{ id: string | null; site: boolean }>(
    `select id, false as site from grid_nodes where parent_id is null
     union all
     select null, exists (select 1 from vehicles where grid_node_id is null)
     order by id nulls first`,
  );
  const roots = rows.filter((row) => row.id !== null).map((row) => nodeUnit(row.id!));
  const siteHasCars = rows.some((row) => row.site);
  return siteHasCars || roots.length === 0 ? [SITE_UNIT, ...roots] : roots;
}

/** A car of a unit with what planning needs of it, read in one query. */
export interface UnitVehicle<TState> extends VehicleRecord {
  readonly gridNodeId: string | null;
  readonly grantStatus: string | null;
  readonly known: { readonly state: TState; readonly readAt: Date } | null;
  readonly preferences: ChargingPreferences;
}

/**
 * `columns` of the unit's cars (`v`) and whatever `joins` add to them, in id order: the cars under the
 * unit's node, or, for the site unit, the cars on no node.
 */
function unitVehiclesSelect(unit: string, columns: string, joins = ''): BuiltQuery {
  const rootId = unitRootId(unit);
  if (rootId === undefined)
    return {
      text: `select ${columns} from vehicles v ${joins} where v.grid_node_id is null order by v.id`,
      params: [],
    };
  return {
    text: `with tree as (${subtreeSql('array[$1::text]')})
      select ${columns} from tree join vehicles v on v.grid_node_id = tree.id ${joins}
      order by v.id`,
    params: [rootId],
  };
}

/** What `UnitVehicle` is read from: the car, its grant's status, its last state, its preferences. */
const WITH_STATE_COLUMNS = `v.*, g.status as grant_status, s.body as state_body, s.read_at as state_read_at,
      p.body as preferences_body`;
const WITH_STATE_JOINS = `left join grants g on g.id = v.grant_id
    left join vehicle_states s on s.vehicle_id = v.id
    left join preferences p on p.vehicle_id = v.id`;

/** The unit's cars in id order, each with its grant's status, last stored state and preferences. */
export function unitVehiclesQuery(unit: string): BuiltQuery {
  return unitVehiclesSelect(unit, WITH_STATE_COLUMNS, WITH_STATE_JOINS);
}

/** The given cars (or every car) as `unitVehiclesQuery` reads them, in id order: by primary key. */
export function vehiclesWithStateQuery(vehicleIds?: readonly string[]): BuiltQuery {
  return {
    text: `select ${WITH_STATE_COLUMNS} from vehicles v ${WITH_STATE_JOINS}
      ${vehicleIds === undefined ? '' : 'where v.id = any($1::text[])'} order by v.id`,
    params: vehicleIds === undefined ? [] : [vehicleIds],
  };
}

type WithStateRow = VehicleRow & {
  grid_node_id: string | null;
  grant_status: string | null;
  state_body: unknown;
  state_read_at: Date | string | null;
  preferences_body: unknown;
};

function toUnitVehicle<TState>(row: WithStateRow): UnitVehicle<TState> {
  const json = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);
  return {
    ...toRecord(row),
    gridNodeId: row.grid_node_id,
    grantStatus: row.grant_status,
    known:
      row.state_read_at === null
        ? null
        : { state: json(row.state_body) as TState, readAt: new Date(row.state_read_at) },
    preferences:
      row.preferences_body === null
        ? DEFAULT_PREFERENCES
        : ChargingPreferencesSchema.parse(json(row.preferences_body)),
  };
}

/**
 * The given cars (an owner's, say) with what `loadUnitVehicles` reads, without reading anyone else's;
 * every car without `vehicleIds`.
 */
export async function loadVehiclesWithState<TState>(
  tx: SqlQueryable,
  vehicleIds?: readonly string[],
): Promise<UnitVehicle<TState>[]> {
  if (vehicleIds?.length === 0) return [];
  const query = vehiclesWithStateQuery(vehicleIds);
  return (await tx.query<WithStateRow>(query.text, query.params)).map((row) => toUnitVehicle<TState>(row));
}

export async function loadUnitVehicles<TState>(
  tx: SqlQueryable,
  unit: string,
): Promise<UnitVehicle<TState>[]> {
  const query = unitVehiclesQuery(unit);
  return (await tx.query<WithStateRow>(query.text, query.params)).map((row) => toUnitVehicle<TState>(row));
}

/** Only the ids of the unit's cars (what a unit's command dispatch needs), in id order. */
export function unitVehicleIdsQuery(unit: string): BuiltQuery {
  return unitVehiclesSelect(unit, 'v.id');
}

export async function loadUnitVehicleIds(tx: SqlQueryable, unit: string): Promise<string[]> {
  const query = unitVehicleIdsQuery(unit);
  return (await tx.query<{ id: string }>(query.text, query.params)).map((row) => row.id);
}

/** The unit's nodes, the root first and every node after its parent (the order planning needs). */
export function unitTreeQuery(rootId: string): BuiltQuery {
  return {
    text: `with tree as (${subtreeSql('array[$1::text]')})
      select n.* from tree join grid_nodes n on n.id = tree.id`,
    params: [rootId],
  };
}

export async function loadUnitTree(tx: SqlQueryable, rootId: string): Promise<GridNode[]> {
  const query = unitTreeQuery(rootId);
  // `subtreeSql` lists level by level, so parents come before children.
  return (await tx.query<GridNodeRow>(query.text, query.params)).map(toNode);
}

/** The top of a node's tree: `a.parent_id` followed up at most four levels. */
const ROOT_OF_NODE = `coalesce(${Array.from({ length: MAX_TREE_DEPTH + 1 }, (_, level) => `n${MAX_TREE_DEPTH - level}.id`).join(', ')})`;
const ANCESTOR_JOINS = Array.from(
  { length: MAX_TREE_DEPTH },
  (_, level) => `left join grid_nodes n${level + 1} on n${level + 1}.id = n${level}.parent_id`,
).join('\n');

/** The units the given cars are in now (a car on no node is in the site's). */
export function unitsOfVehiclesQuery(vehicleIds: readonly string[]): BuiltQuery {
  return {
    text: `select distinct ${ROOT_OF_NODE} as root_id
      from vehicles v left join grid_nodes n0 on n0.id = v.grid_node_id
      ${ANCESTOR_JOINS}
      where v.id = any($1::text[])`,
    params: [vehicleIds],
  };
}

export async function unitsOfVehicles(tx: SqlQueryable, vehicleIds: readonly string[]): Promise<string[]> {
  if (vehicleIds.length === 0) return [];
  const query = unitsOfVehiclesQuery(vehicleIds);
  const rows = await tx.query<{ root_id: string | null }>(query.text, query.params);
  return rows.map((row) => (row.root_id === null ? SITE_UNIT : nodeUnit(row.root_id))).sort();
}

/** The unit a node is in (its top-level ancestor's); undefined for an unknown node. */
export async function unitOfNode(tx: SqlQueryable, nodeId: string): Promise<string | undefined> {
  const rows = await tx.query<{ root_id: string }>(
    `select ${ROOT_OF_NODE} as root_id from grid_nodes n0 ${ANCESTOR_JOINS} where n0.id = $1`,
    [nodeId],
  );
  return rows[0] && nodeUnit(rows[0].root_id);
}
