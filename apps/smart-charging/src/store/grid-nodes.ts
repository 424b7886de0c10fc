import { z } from 'zod';
import type { BuiltQuery } from './cursor.ts';
import type { SqlClient, SqlQueryable } from './sql-client.ts';

/**
 * A utility's nested limits: substation → feeder → transformer → household connection. Each node has its
 * own limit and base load; a car hangs on one node and counts against that node and every ancestor.
 */
export const GRID_NODE_KINDS = ['substation', 'feeder', 'transformer', 'connection'] as const;
export type GridNodeKind = (typeof GRID_NODE_KINDS)[number];
const kindRank = (kind: GridNodeKind) => GRID_NODE_KINDS.indexOf(kind);

export const GridNodeIdSchema = z
  .string()
  .regex(/^[\w.:-]{1,100}$/, 'expected a grid node id ([A-Za-z0-9_.:-], at most 100)');

const GridNodeFieldsSchema = z.object({
  /** Null for a top-level node (plans shard by these). */
  parentId: GridNodeIdSchema.nullable(),
  kind: z.enum(GRID_NODE_KINDS),
  name: z.string().trim().min(1).max(200),
  /** What the node may carry, kW. */
  limitKw: z.number().positive().finite(),
  /** Yearly consumption behind this node that is not the cars, scaling the standard load profile. */
  baseLoadKwhPerYear: z.number().min(0).finite().default(0),
  /** As for the site grid: `average` per slot (a meter) or `hard` in every minute (a fuse). */
  limitMode: z.enum(['average', 'hard']).default('average'),
});

export const GridNodeInputSchema = GridNodeFieldsSchema.extend({ id: GridNodeIdSchema }).strict();
export const GridNodeUpdateSchema = GridNodeFieldsSchema.strict();
export type GridNodeInput = z.input<typeof GridNodeInputSchema>;
export type GridNodeUpdate = z.input<typeof GridNodeUpdateSchema>;
export type GridNode = z.infer<typeof GridNodeInputSchema>;

export type GridTreeErrorCode =
  'NOT_FOUND' | 'DUPLICATE' | 'PARENT_NOT_FOUND' | 'CYCLE' | 'KIND_ORDER' | 'IN_USE';

/** A change the tree refuses; `field` names the input field at fault (`parentId`, `kind`, `id`). */
export class GridTreeError extends Error {
  override name = 'GridTreeError';
  readonly code: GridTreeErrorCode;
  readonly field: string;
  constructor(code: GridTreeErrorCode, field: string, message: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

export interface GridNodeRow extends Record<string, unknown> {
  id: string;
  parent_id: string | null;
  kind: GridNodeKind;
  name: string;
  limit_kw: number;
  base_load_kwh_per_year: number;
  limit_mode: 'average' | 'hard';
}

export const toNode = (row: GridNodeRow): GridNode => ({
  id: row.id,
  parentId: row.parent_id,
  kind: row.kind,
  name: row.name,
  limitKw: row.limit_kw,
  baseLoadKwhPerYear: row.base_load_kwh_per_year,
  limitMode: row.limit_mode,
});

export async function findGridNode(tx: SqlQueryable, id: string): Promise<GridNode | undefined> {
  const rows = await tx.query<GridNodeRow>('select * from grid_nodes where id = $1', [id]);
  return rows[0] && toNode(rows[0]);
}

/** Nodes in id order, optionally one kind's or one parent's children (`parentId: null` = top level). */
export function gridNodeListQuery(filter: {
  readonly kind?: GridNodeKind;
  readonly parentId?: string | null;
  readonly after?: string;
  readonly limit: number;
}): BuiltQuery {
  const params: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  if (filter.kind !== undefined) where.push(`kind = ${param(filter.kind)}`);
  if (filter.parentId === null) where.push('parent_id is null');
  else if (filter.parentId !== undefined) where.push(`parent_id = ${param(filter.parentId)}`);
  if (filter.after !== undefined) where.push(`id > ${param(filter.after)}`);
  return {
    text: `select * from grid_nodes ${where.length ? `where ${where.join(' and ')}` : ''}
           order by id limit ${param(filter.limit)}`,
    params,
  };
}

export async function listGridNodes(
  tx: SqlQueryable,
  filter: Parameters<typeof gridNodeListQuery>[0],
): Promise<GridNode[]> {
  const query = gridNodeListQuery(filter);
  return (await tx.query<GridNodeRow>(query.text, query.params)).map(toNode);
}

/**
 * Creates a node, or with `replace` replaces an existing one's fields. Refuses a missing parent, a parent
 * in the node's own subtree (a cycle) and a kind not strictly below its parent's and above its children's.
 * Tree writes are serialised (table lock), so two concurrent moves cannot close a cycle together.
 */
export async function saveGridNode(
  db: Pick<SqlClient, 'transaction'>,
  input: GridNodeInput,
  mode: 'create' | 'replace',
): Promise<GridNode> {
  const node = GridNodeInputSchema.parse(input);
  return db.transaction((tx) => checkAndSave(tx, node, mode));
}

async function checkAndSave(tx: SqlQueryable, node: GridNode, mode: 'create' | 'replace'): Promise<GridNode> {
  await tx.query('lock table grid_nodes in share row exclusive mode');
  const existing = await findGridNode(tx, node.id);
  if (mode === 'create' && existing)
    throw new GridTreeError('DUPLICATE', 'id', `a grid node "${node.id}" exists already`);
  if (mode === 'replace' && !existing)
    throw new GridTreeError('NOT_FOUND', 'id', `no grid node "${node.id}"`);
  if (node.parentId !== null) {
    const parent = await findGridNode(tx, node.parentId);
    if (!parent)
      throw new GridTreeError(
        'PARENT_NOT_FOUND',
        'parentId',
        `no grid node "${node.parentId}" to hang it on`,
      );
    // The cycle first: kinds would refuse it too, but "its own subtree" says what is wrong.
    if (mode === 'replace') {
      const inSubtree = await tx.query<{ id: string }>(
        `with subtree as (${subtreeSql('array[$1::text]')}) select id from subtree where id = $2`,
        [node.id, node.parentId],
      );
      if (inSubtree.length > 0)
        throw new GridTreeError(
          'CYCLE',
          'parentId',
          `"${node.parentId}" is "${node.id}" or below it: the node cannot hang on its own subtree`,
        );
    }
    if (kindRank(node.kind) <= kindRank(parent.kind))
      throw new GridTreeError(
        'KIND_ORDER',
        'kind',
        `a ${node.kind} cannot sit under a ${parent.kind}: kinds nest ${GRID_NODE_KINDS.join(' → ')}`,
      );
  }
  if (mode === 'replace') {
    const children = await tx.query<{ kind: GridNodeKind }>(
      'select distinct kind from grid_nodes where parent_id = $1',
      [node.id],
    );
    const clash = children.find((child) => kindRank(child.kind) <= kindRank(node.kind));
    if (clash)
      throw new GridTreeError(
        'KIND_ORDER',
        'kind',
        `"${node.id}" has a ${clash.kind} below it, which cannot sit under a ${node.kind}`,
      );
  }
  await tx.query(
    `insert into grid_nodes (id, parent_id, kind, name, limit_kw, base_load_kwh_per_year, limit_mode)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (id) do update set parent_id = excluded.parent_id, kind = excluded.kind, name = excluded.name,
       limit_kw = excluded.limit_kw, base_load_kwh_per_year = excluded.base_load_kwh_per_year,
       limit_mode = excluded.limit_mode, updated_at = now()`,
    [node.id, node.parentId, node.kind, node.name, node.limitKw, node.baseLoadKwhPerYear, node.limitMode],
  );
  return node;
}

/** Levels below the top: kinds nest strictly, so a tree is at most four levels deep. */
export const MAX_TREE_DEPTH = GRID_NODE_KINDS.length - 1;

/**
 * The nodes `roots` (a SQL expression of node ids, e.g. `$1::text[]`) and every node below them, as rows
 * `(root_id, id, base_load)`. Written level by level rather than recursively: with at most four levels,
 * each level is one indexed join on `parent_id` that the planner estimates from real statistics (a
 * recursive CTE's guess of its own size makes it hash the whole node table instead).
 */
export function subtreeSql(roots: string): string {
  const levels = [
    `select n0.id as root_id, n0.id, n0.base_load_kwh_per_year as base_load from grid_nodes n0 where n0.id = any(${roots})`,
  ];
  for (let depth = 1; depth <= MAX_TREE_DEPTH; depth++) {
    const joins = Array.from(
      { length: depth },
      (_, level) => `join grid_nodes n${level + 1} on n${level + 1}.parent_id = n${level}.id`,
    ).join(' ');
    levels.push(
      `select n0.id, n${depth}.id, n${depth}.base_load_kwh_per_year from grid_nodes n0 ${joins} where n0.id = any(${roots})`,
    );
  }
  return levels.join('\n union all ');
}

/** Hangs cars on a node (null = on none); returns the ids that exist. */
export async function assignVehiclesToNode(
  tx: SqlQueryable,
  vehicleIds: readonly string[],
  nodeId: string | null,
): Promise<string[]> {
  if (nodeId !== null && !(await findGridNode(tx, nodeId)))
    throw new GridTreeError('NOT_FOUND', 'nodeId', `no grid node "${nodeId}"`);
  const rows = await tx.query<{ id: string }>(
    'update vehicles set grid_node_id = $2 where id = any($1::text[]) returning id',
    [vehicleIds, nodeId],
  );
  return rows.map((row) => row.id);
}

/**
 * Removes a node that nothing hangs on. A node with child nodes or cars is refused (`IN_USE`, saying how
 * many): deleting it would silently drop limits that cars below it are planned against.
 */
export async function deleteGridNode(tx: SqlQueryable, nodeId: string): Promise<void> {
  const rows = await tx.query<{ id: string; children: number; cars: number }>(
    `select n.id,
       (select count(*)::int from grid_nodes c where c.parent_id = n.id) as children,
       (select count(*)::int from vehicles v where v.grid_node_id = n.id) as cars
     from grid_nodes n where n.id = $1 for update`,
    [nodeId],
  );
  const row = rows[0];
  if (!row) throw new GridTreeError('NOT_FOUND', 'nodeId', `no grid node "${nodeId}"`);
  if (row.children > 0 || row.cars > 0)
    throw new GridTreeError(
      'IN_USE',
      'nodeId',
      `grid node "${nodeId}" still has ${row.children} child node(s) and ${row.cars} car(s): move or remove them first`,
    );
  await tx.query('delete from grid_nodes where id = $1', [nodeId]);
}
