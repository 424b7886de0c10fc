import { z } from 'zod';
import { decodeCursor, encodeCursor, CursorError } from '../../store/cursor.ts';
import { gridNodeAggregates } from '../../store/grid-aggregates.ts';
import {
  assignVehiclesToNode,
  deleteGridNode,
  findGridNode,
  GRID_NODE_KINDS,
  GridNodeIdSchema,
  GridNodeInputSchema,
  GridNodeUpdateSchema,
  GridTreeError,
  listGridNodes,
  saveGridNode,
} from '../../store/grid-nodes.ts';
import type { SqlClient } from '../../store/sql-client.ts';
import { retireUnitPlans } from '../../store/plans.ts';
import { listWorkUnits, unitOfNode, unitsOfVehicles } from '../../store/work-units.ts';
import type { SmartChargingService } from '../smart-charging-service.ts';
import { ReplanReportSchema } from './replan-report.ts';
import { ApiError, defineRoute, type ApiRoute } from './api-route.ts';
import { CursorQuerySchema, limitSchema, pageSchema } from './paging.ts';

const GridNodeViewSchema = z.object({
  id: z.string(),
  parentId: z.string().nullable(),
  kind: z.enum(GRID_NODE_KINDS),
  name: z.string(),
  limitKw: z.number(),
  baseLoadKwhPerYear: z.number(),
  limitMode: z.enum(['average', 'hard']),
});

const GridNodeAggregateSchema = z.object({
  nodeId: z.string(),
  cars: z.number(),
  plugged: z.number(),
  charging: z.number(),
  baseLoadKwhPerYear: z.number(),
  /** Summed planned charging of the subtree's cars per slot of the current plan. */
  plannedKw: z.array(z.object({ start: z.string(), kw: z.number() })),
});

const NodeParamsSchema = z.object({ nodeId: GridNodeIdSchema }).strict();
const NodeListQuerySchema = CursorQuerySchema.extend({
  kind: z.enum(GRID_NODE_KINDS).optional(),
  /** Children of this node. */
  parentId: GridNodeIdSchema.optional(),
  /** `true`: top-level nodes only (plans shard by these). */
  topLevel: z.enum(['true'], 'expected true (or leave it out)').optional(),
}).strict();
const NodeCursorSchema = z.tuple([z.string().min(1).max(200)]);
/** One bulk assignment: a page of the vehicle list's size. */
const MAX_BULK_VEHICLES = 1000;
const BulkAssignmentSchema = z
  .object({
    vehicleIds: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(MAX_BULK_VEHICLES, `at most ${MAX_BULK_VEHICLES} vehicle ids per call`)
      .refine((ids) => new Set(ids).size === ids.length, 'each vehicle id once'),
  })
  .strict();

/** A refused tree change as an answer naming the body field at fault. */
function treeProblem(error: unknown): never {
  if (!(error instanceof GridTreeError)) throw error;
  if (error.code === 'DUPLICATE') throw new ApiError(409, 'CONFLICT', `body.id: ${error.message}`);
  if (error.code === 'NOT_FOUND') throw new ApiError(404, 'NOT_FOUND', `params.nodeId: ${error.message}`);
  if (error.code === 'IN_USE') throw new ApiError(409, 'CONFLICT', `params.nodeId: ${error.message}`);
  throw new ApiError(400, 'VALIDATION', `body.${error.field}: ${error.message}`);
}

/**
 * The grid tree (substation → feeder → transformer → connection) and its per-node aggregates. Reading is
 * for operators, changing for admins. The planner still plans against the site grid (`/api/grid`); these
 * nodes are what it will shard by.
 */
export function createGridNodeRoutes(
  db: SqlClient,
  service: Pick<SmartChargingService, 'replanAfterChange'>,
): ApiRoute[] {
  /** Plans the units a tree change touched (before and after it); each is planned once. */
  const replanUnits = (reason: string, units: readonly (string | undefined)[]) =>
    service.replanAfterChange(reason, {
      units: [...new Set(units.filter((unit): unit is string => unit !== undefined))].sort(),
    });

  async function nodePage(query: z.infer<typeof NodeListQuerySchema>) {
    if (query.topLevel !== undefined && query.parentId !== undefined)
      throw new ApiError(400, 'VALIDATION', 'query.topLevel: give topLevel or parentId, not both');
    let after: string | undefined;
    try {
      after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, NodeCursorSchema)[0];
    } catch (error) {
      if (error instanceof CursorError)
        throw new ApiError(400, 'VALIDATION', `query.cursor: ${error.message}`);
      throw error;
    }
    const rows = await listGridNodes(db, {
      limit: query.limit + 1,
      ...(query.kind === undefined ? {} : { kind: query.kind }),
      ...(query.topLevel ? { parentId: null } : {}),
      ...(query.parentId === undefined ? {} : { parentId: query.parentId }),
      ...(after === undefined ? {} : { after }),
    });
    const items = rows.slice(0, query.limit);
    return {
      items,
      nextCursor: rows.length > query.limit ? encodeCursor([items.at(-1)!.id]) : null,
    };
  }

  return [
    defineRoute({
      method: 'GET',
      url: '/api/grid/nodes',
      tag: 'grid',
      summary: 'Grid nodes in id order, a page at a time; filter by kind, parent or top level',
      access: 'operator',
      query: NodeListQuerySchema,
      response: pageSchema(GridNodeViewSchema),
      handler: ({ query }) => nodePage(query),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/grid/nodes',
      tag: 'grid',
      summary:
        'Add a grid node under an existing parent (or at the top); kinds nest substation → feeder → transformer → connection',
      access: 'admin',
      body: GridNodeInputSchema,
      response: GridNodeViewSchema,
      successStatus: 201,
      async handler({ body }) {
        try {
          return await saveGridNode(db, body, 'create');
        } catch (error) {
          return treeProblem(error);
        }
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/grid/nodes/:nodeId',
      tag: 'grid',
      summary: 'One grid node',
      access: 'operator',
      params: NodeParamsSchema,
      response: GridNodeViewSchema,
      async handler({ params }) {
        const node = await findGridNode(db, params.nodeId);
        if (!node) throw new ApiError(404, 'NOT_FOUND', `params.nodeId: no grid node "${params.nodeId}"`);
        return node;
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/grid/nodes/:nodeId',
      tag: 'grid',
      summary:
        'Replace a grid node’s fields (moving it under another parent too; never into its own subtree)',
      access: 'admin',
      params: NodeParamsSchema,
      body: GridNodeUpdateSchema,
      response: GridNodeViewSchema.extend({ replan: ReplanReportSchema }),
      async handler({ params, body }) {
        const unitBefore = await unitOfNode(db, params.nodeId);
        let node;
        try {
          node = await saveGridNode(db, { ...body, id: params.nodeId }, 'replace');
        } catch (error) {
          return treeProblem(error);
        }
        // A limit, base load or parent changed: the cars below plan anew (in the old unit and the new).
        const replan = await replanUnits(`grid node ${params.nodeId} changed`, [
          unitBefore,
          await unitOfNode(db, params.nodeId),
        ]);
        return { ...node, replan };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/grid/nodes/:nodeId',
      tag: 'grid',
      summary:
        'Remove a grid node that has no child nodes and no cars (409 saying how many otherwise: move them first)',
      access: 'admin',
      params: NodeParamsSchema,
      response: z.object({ deleted: z.string() }),
      async handler({ params }) {
        try {
          await db.transaction(async (tx) => {
            await deleteGridNode(tx, params.nodeId);
            // A deleted top node's (empty) plan is no unit's current plan any more.
            await retireUnitPlans(tx, await listWorkUnits(tx));
          });
        } catch (error) {
          return treeProblem(error);
        }
        return { deleted: params.nodeId };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/grid/nodes/:nodeId/vehicles',
      tag: 'grid',
      summary: `Hang up to ${MAX_BULK_VEHICLES} vehicles on this node at once; all or none (an unknown id refuses the whole call)`,
      access: 'admin',
      params: NodeParamsSchema,
      body: BulkAssignmentSchema,
      response: z.object({
        nodeId: z.string(),
        vehicleIds: z.array(z.string()),
        replan: ReplanReportSchema,
      }),
      async handler({ params, body }) {
        const unitsBefore = await unitsOfVehicles(db, body.vehicleIds);
        let assigned: string[];
        try {
          assigned = await db.transaction(async (tx) => {
            const found = await assignVehiclesToNode(tx, body.vehicleIds, params.nodeId);
            if (found.length < body.vehicleIds.length) {
              const known = new Set(found);
              const index = body.vehicleIds.findIndex((id) => !known.has(id));
              // Thrown inside the transaction: nothing of the call is stored.
              throw new ApiError(
                404,
                'NOT_FOUND',
                `body.vehicleIds.${index}: no vehicle "${body.vehicleIds[index]}" (nothing was assigned)`,
              );
            }
            return found;
          });
        } catch (error) {
          return treeProblem(error);
        }
        const replan = await replanUnits(`${assigned.length} vehicle(s) hung on grid node ${params.nodeId}`, [
          ...unitsBefore,
          await unitOfNode(db, params.nodeId),
        ]);
        return { nodeId: params.nodeId, vehicleIds: assigned.sort(), replan };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/grid/nodes/:nodeId/aggregate',
      tag: 'grid',
      summary:
        'A node’s cars, plugged and charging, base load and planned charging kW per slot, summed over its whole subtree',
      access: 'operator',
      params: NodeParamsSchema,
      response: GridNodeAggregateSchema,
      async handler({ params }) {
        const [aggregate] = await gridNodeAggregates(db, [params.nodeId]);
        if (!aggregate)
          throw new ApiError(404, 'NOT_FOUND', `params.nodeId: no grid node "${params.nodeId}"`);
        return aggregate;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/grid/aggregates',
      tag: 'grid',
      summary:
        'Per-node aggregates for dashboards (e.g. every feeder), a page of nodes at a time; same filters as the node list',
      access: 'operator',
      query: NodeListQuerySchema.extend({ limit: limitSchema(100, 20) }),
      response: pageSchema(GridNodeAggregateSchema),
      async handler({ query }) {
        const page = await nodePage(query);
        return {
          items: await gridNodeAggregates(
            db,
            page.items.map((node) => node.id),
          ),
          nextCursor: page.nextCursor,
        };
      },
    }),
  ];
}
