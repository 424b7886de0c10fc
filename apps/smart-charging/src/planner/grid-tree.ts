/**
 * The grid as a tree: substation → feeders → transformers → household connections, each node with
 * its own import limit and base load. A node's constraint in each slot:
 *
 *   Σ charging of the vehicles in its subtree + Σ base load of the nodes in its subtree ≤ its limit
 *
 * `baseLoadKw` is the non-EV load connected at the node itself (the households on a connection, a
 * transformer's street lights), never its descendants' load: base loads add up the tree and nothing
 * is counted twice, so no node's base load has to agree with its children's. Several top-level nodes
 * form a forest (substations that share nothing but prices).
 */
import { z } from 'zod';
import { PlanInputError, type PlanInputIssue } from './errors.ts';

export const GRID_NODE_KINDS = ['substation', 'feeder', 'transformer', 'connection'] as const;
export type GridNodeKind = (typeof GRID_NODE_KINDS)[number];

const ABOVE_ZERO = 'must be a power in kW above 0';
const AT_LEAST_ZERO = 'must be a power in kW, 0 or more';
const LimitKwSchema = z.union([z.number().positive(ABOVE_ZERO), z.array(z.number().positive(ABOVE_ZERO))], {
  error: 'must be a power in kW (> 0), or an array with one value (> 0) per slot',
});
const BaseLoadKwSchema = z.union(
  [z.number().min(0, AT_LEAST_ZERO), z.array(z.number().min(0, AT_LEAST_ZERO))],
  {
    error: 'must be a power in kW (≥ 0), or an array with one value (≥ 0) per slot',
  },
);

export const GridTreeNodeSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(GRID_NODE_KINDS, {
    error: `must be one of ${GRID_NODE_KINDS.map((k) => `"${k}"`).join(', ')}`,
  }),
  /** The node above this one; absent for a top-level node. */
  parentId: z.string().min(1).optional(),
  /** Import limit of the node (kW): one number, or one per slot. */
  limitKw: LimitKwSchema,
  /** Non-EV load connected at this node itself, not below it (kW): one number, or one per slot. */
  baseLoadKw: BaseLoadKwSchema.default(0),
});

export const GridTreeSchema = z
  .object({ nodes: z.array(GridTreeNodeSchema).min(1, 'give at least one node') })
  .superRefine((tree, ctx) => {
    for (const issue of treeShapeIssues(tree.nodes))
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
export type GridTreeInput = z.input<typeof GridTreeSchema>;
export type GridTree = z.infer<typeof GridTreeSchema>;
export type GridTreeNode = z.infer<typeof GridTreeNodeSchema>;

/** Unique ids, parents that exist, no cycles, kinds that go down the tree. */
function treeShapeIssues(nodes: readonly GridTreeNode[]): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const index = new Map<string, number>();
  nodes.forEach((node, k) => {
    const earlier = index.get(node.id);
    if (earlier !== undefined)
      issues.push({
        path: ['nodes', k, 'id'],
        message: `"${node.id}" is already the id of nodes.${earlier}; ids must be unique`,
      });
    else index.set(node.id, k);
  });
  if (issues.length > 0) return issues;
  const rank = (kind: GridNodeKind) => GRID_NODE_KINDS.indexOf(kind);
  nodes.forEach((node, k) => {
    if (node.parentId === undefined) return;
    const parent = index.get(node.parentId);
    if (parent === undefined) {
      issues.push({
        path: ['nodes', k, 'parentId'],
        message: `no node has the id "${node.parentId}"; give the id of another node, or leave it out for a top-level node`,
      });
      return;
    }
    const above = nodes[parent]!;
    if (rank(node.kind) <= rank(above.kind))
      issues.push({
        path: ['nodes', k, 'kind'],
        message: `a ${node.kind} cannot be below the ${above.kind} "${above.id}": each node's kind must be lower than its parent's (${GRID_NODE_KINDS.join(' › ')})`,
      });
  });
  if (issues.length > 0) return issues;
  // Kinds strictly descend, so a cycle cannot pass the check above; guard anyway for a clear error.
  nodes.forEach((node, k) => {
    const seen = new Set<string>([node.id]);
    for (let up = node.parentId; up !== undefined; up = nodes[index.get(up)!]!.parentId) {
      if (seen.has(up)) {
        issues.push({
          path: ['nodes', k, 'parentId'],
          message: `the parents form a cycle (${[...seen, up].join(' → ')})`,
        });
        return;
      }
      seen.add(up);
    }
  });
  return issues;
}

/** Validates an untrusted tree; throws `PlanInputError` naming each bad field (under `prefix`). */
export function parseGridTree(input: unknown, prefix = 'gridTree'): GridTree {
  const result = GridTreeSchema.safeParse(input);
  if (!result.success)
    throw new PlanInputError(
      result.error.issues.map((i) => ({
        path: [prefix, ...i.path.map(String)].filter((p) => p !== '').join('.'),
        message: i.message,
      })),
    );
  return result.data;
}

/** A validated tree laid out per slot for the solver. */
export interface ResolvedGridTree {
  readonly ids: readonly string[];
  readonly kinds: readonly GridNodeKind[];
  /** Parent index of each node, −1 for a top-level node. */
  readonly parent: Int32Array;
  readonly indexOf: ReadonlyMap<string, number>;
  readonly slotCount: number;
  /** Limit per node and slot (kW), `node * slotCount + slot`. */
  readonly limitKw: Float64Array;
  /** Base load of each node's whole subtree per slot (kW), what its limit must also carry. */
  readonly subtreeBaseKw: Float64Array;
  /** max(0, limit − subtree base): what chargers below the node may draw together (kW). */
  readonly headroomKw: Float64Array;
}

/** Checks each series has one value per slot and lays the tree out; errors name the field. */
export function resolveGridTree(tree: GridTree, slotCount: number, prefix = 'gridTree'): ResolvedGridTree {
  const T = slotCount;
  const V = tree.nodes.length;
  const issues: PlanInputIssue[] = [];
  const indexOf = new Map(tree.nodes.map((node, k) => [node.id, k]));
  const limit = new Float64Array(V * T);
  const own = new Float64Array(V * T);
  const fill = (target: Float64Array, n: number, value: number | number[], field: string): void => {
    if (typeof value === 'number') target.fill(value, n * T, (n + 1) * T);
    else if (value.length !== T)
      issues.push({
        path: `${prefix}.nodes.${n}.${field}`,
        message: `has ${value.length} values; give one number or one value per slot (${T} slots)`,
      });
    else target.set(value, n * T);
  };
  tree.nodes.forEach((node, n) => {
    fill(limit, n, node.limitKw, 'limitKw');
    fill(own, n, node.baseLoadKw, 'baseLoadKw');
  });
  if (issues.length > 0) throw new PlanInputError(issues);
  const parent = Int32Array.from(tree.nodes, (node) =>
    node.parentId === undefined ? -1 : indexOf.get(node.parentId)!,
  );
  const subtreeBase = new Float64Array(V * T);
  for (let n = 0; n < V; n++) {
    for (let u = n; u !== -1; u = parent[u]!) {
      for (let t = 0; t < T; t++) subtreeBase[u * T + t] = subtreeBase[u * T + t]! + own[n * T + t]!;
    }
  }
  return {
    ids: tree.nodes.map((node) => node.id),
    kinds: tree.nodes.map((node) => node.kind),
    parent,
    indexOf,
    slotCount: T,
    limitKw: limit,
    subtreeBaseKw: subtreeBase,
    headroomKw: Float64Array.from(limit, (l, k) => Math.max(0, l - subtreeBase[k]!)),
  };
}
