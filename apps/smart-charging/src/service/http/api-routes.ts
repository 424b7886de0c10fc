import { isVoltkitError } from '@voltkit/core/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type CommandRecord } from '../../store/command-log.ts';
import { listCommandPage } from '../../store/command-pages.ts';
import { CursorError } from '../../store/cursor.ts';
import { listGrantPage } from '../../store/grant-listing.ts';
import { findGrant, GRANT_STATUSES } from '../../store/grants.ts';
import { assignVehiclesToNode, GridNodeIdSchema, GridTreeError } from '../../store/grid-nodes.ts';
import {
  addGridEvent,
  GridEventInputSchema,
  GridSettingsSchema,
  listGridEvents,
  loadGridSettings,
  saveGridSettings,
} from '../../store/grid.ts';
import { unitsOfVehicles } from '../../store/work-units.ts';
import {
  ChargingPreferencesSchema,
  DEFAULT_PREFERENCES,
  loadPreferences,
  savePreferences,
  type ChargingPreferences,
} from '../../store/preferences.ts';
import { loadPrices, savePrices } from '../../store/prices.ts';
import {
  findVehicleListing,
  findVehicleOwner,
  listVehiclePage,
  ownerVehicleIds,
  type VehicleListing,
} from '../../store/vehicle-listing.ts';
import type { Principal } from '../auth/identity.ts';
import { startSession } from '../auth/identity.ts';
import { nextDeparture } from '../departure.ts';
import { EnrollmentError, newBrowserBinding } from '../enrollment.ts';
import type { SmartChargingService } from '../smart-charging-service.ts';
import type { ChargingState } from '../vehicle-gateway.ts';
import { ApiError, defineRoute, type ApiRoute } from './api-route.ts';
import {
  clearConnectCookie,
  CONNECT_COOKIE,
  readCookie,
  SESSION_COOKIE,
  setConnectCookie,
  setSessionCookie,
} from './cookies.ts';
import { DashboardDataSchema, PriceCoverageViewSchema } from './dashboard-data.ts';
import { MAX_DASHBOARD_VEHICLES } from '../dashboard.ts';
import { createGridNodeRoutes } from './grid-node-routes.ts';
import { ReplanReportSchema } from './replan-report.ts';
import { CursorQuerySchema, pageSchema } from './paging.ts';
import { priceCoverageView } from '../price-coverage.ts';

const HOUR_MS = 3_600_000;
const instant = z.iso.datetime({ offset: true });
const VehicleParamsSchema = z
  .object({
    vehicleId: z.string().regex(/^[\w.:-]{1,100}$/, 'expected a vehicle id ([A-Za-z0-9_.:-], at most 100)'),
  })
  .strict();
const GrantParamsSchema = z.object({ grantId: z.string().min(1).max(200) }).strict();

export const VehicleViewSchema = z.object({
  id: z.string(),
  make: z.string(),
  model: z.string(),
  year: z.number(),
  batteryCapacityKwh: z.number().nullable(),
  grantId: z.string(),
  grantStatus: z.enum(GRANT_STATUSES),
  grantStatusReason: z.string().nullable(),
  /** Present when the grant is revoked or expired: POST it (signed in) for a Connect link to re-authorise. */
  reconnectPath: z.string().nullable(),
  state: z
    .object({
      soc: z.number(),
      pluggedIn: z.boolean(),
      charging: z.string(),
      chargeLimit: z.number().nullable(),
      /** When the state was true: how old what is shown is (cars are not all read every round). */
      readAt: z.string(),
      /** `poll`: read from the vehicle API; `webhook`: pushed by it. */
      source: z.enum(['poll', 'webhook']),
    })
    .nullable(),
  nextDeparture: z.string().nullable(),
  chargeNow: z.boolean(),
  /** smart: planned; now: charge now; off: not managed (no plan, no commands). */
  mode: z.enum(['smart', 'now', 'off']),
  /** The grid node the car hangs on (its limits and every ancestor's apply), null when none. */
  gridNodeId: z.string().nullable(),
});
export type VehicleView = z.infer<typeof VehicleViewSchema>;

export const CommandViewSchema = z.object({
  id: z.string(),
  planId: z.string().nullable(),
  vehicleId: z.string(),
  action: z.enum(['start_charge', 'stop_charge', 'set_charge_limit']),
  value: z.number().nullable(),
  dueAt: z.string(),
  status: z.enum(['pending', 'sending', 'confirmed', 'failed', 'cancelled']),
  attempts: z.number(),
  /** Why the last attempt failed, or why the command was cancelled. */
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  sentAt: z.string().nullable(),
  confirmedAt: z.string().nullable(),
  /** The service instance that sent it (operators only: it names a host). */
  instanceId: z.string().nullable(),
});

const PriceSlotInputSchema = z
  .object({ start: instant, end: instant, pricePerKwh: z.number().finite() })
  .strict()
  .refine((slot) => Date.parse(slot.end) > Date.parse(slot.start), {
    message: 'end must be after start',
    path: ['end'],
  });

const GrantViewSchema = z.object({
  id: z.string(),
  status: z.enum(GRANT_STATUSES),
  statusReason: z.string().nullable(),
  scopes: z.array(z.string()),
  vehicleIds: z.array(z.string()),
});

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

function commandView(command: CommandRecord, showInstance: boolean): z.infer<typeof CommandViewSchema> {
  return {
    id: command.id,
    planId: command.planId,
    vehicleId: command.vehicleId,
    action: command.action,
    value: command.value ?? null,
    dueAt: command.dueAt.toISOString(),
    status: command.status,
    attempts: command.attempts,
    lastError: command.lastError,
    nextAttemptAt: iso(command.nextAttemptAt),
    sentAt: iso(command.sentAt),
    confirmedAt: iso(command.confirmedAt),
    instanceId: showInstance ? command.instanceId : null,
  };
}

/**
 * The cars an owner may see (their own, through their grants); undefined for operators (every car).
 * Object-level authorisation starts here; only for owners, who have a handful of cars.
 */
async function visibleVehicleIds(
  service: SmartChargingService,
  principal: Principal,
): Promise<ReadonlySet<string> | undefined> {
  if (principal.kind === 'operator') return undefined;
  if (principal.kind === 'anonymous') return new Set();
  return new Set(await ownerVehicleIds(service.apiDb, principal.ownerId));
}

/** Whether the principal may see a car with this owner: another owner's car is a 404 like a missing one. */
function maySee(principal: Principal, ownerId: string | null): boolean {
  return principal.kind === 'operator' || (principal.kind === 'owner' && ownerId === principal.ownerId);
}

/** The car exists and the principal may see it (one indexed row), else a 404. */
async function requireVehicle(
  service: SmartChargingService,
  vehicleId: string,
  principal: Principal,
): Promise<void> {
  const vehicle = await findVehicleOwner(service.apiDb, vehicleId);
  if (!vehicle || !maySee(principal, vehicle.ownerId))
    throw new ApiError(404, 'NOT_FOUND', `params.vehicleId: no vehicle "${vehicleId}"`);
}

/** A new browser-binding secret for a Connect flow, set as this browser's cookie (a newer flow replaces it). */
function browserBinding(request: FastifyRequest, reply: FastifyReply): string {
  const binding = newBrowserBinding();
  setConnectCookie(request, reply, binding);
  return binding;
}

/** A stored preferences body, or the defaults; a body that no longer parses is shown as the defaults. */
function preferencesOf(stored: unknown): ChargingPreferences {
  if (stored === null) return DEFAULT_PREFERENCES;
  const parsed = ChargingPreferencesSchema.safeParse(stored);
  return parsed.success ? parsed.data : DEFAULT_PREFERENCES;
}

/** What a page of views shares: the clock, the charge-now set, departures already worked out. */
interface ViewContext {
  readonly now: Date;
  readonly chargeNow: ReadonlySet<string>;
  /**
   * Next departure by weekly schedule and one-off: the zone arithmetic costs ~0.2 ms a car, and cars
   * share schedules, so a page works each distinct one out once.
   */
  readonly departures: Map<string, number | null>;
}

function viewContext(service: SmartChargingService, now: Date): ViewContext {
  return { now, chargeNow: new Set(service.chargeNowVehicles()), departures: new Map() };
}

function vehicleView(
  service: SmartChargingService,
  context: ViewContext,
  vehicle: VehicleListing,
): VehicleView {
  const preferences = preferencesOf(vehicle.preferences);
  const key = JSON.stringify([preferences.departures, preferences.oneOffDeparture]);
  let departure = context.departures.get(key);
  if (departure === undefined) {
    departure = nextDeparture(preferences, context.now.getTime(), service.timeZone);
    context.departures.set(key, departure);
  }
  const { chargeNow } = context;
  const unusable =
    vehicle.grantStatus === null || vehicle.grantStatus === 'revoked' || vehicle.grantStatus === 'expired';
  const state = vehicle.state && (vehicle.state.body as ChargingState);
  return {
    id: vehicle.id,
    make: vehicle.make,
    model: vehicle.model,
    year: vehicle.year,
    batteryCapacityKwh: vehicle.batteryCapacityKwh,
    grantId: vehicle.grantId,
    grantStatus: vehicle.grantStatus ?? 'revoked',
    grantStatusReason: vehicle.grantStatus === null ? 'grant missing' : vehicle.grantStatusReason,
    reconnectPath: unusable ? `api/grants/${encodeURIComponent(vehicle.grantId)}/reconnect` : null,
    state:
      state && vehicle.state
        ? {
            soc: state.soc,
            pluggedIn: state.pluggedIn,
            charging: state.charging,
            chargeLimit: state.chargeLimit,
            readAt: vehicle.state.readAt.toISOString(),
            source: vehicle.state.source,
          }
        : null,
    nextDeparture: departure === null ? null : new Date(departure).toISOString(),
    chargeNow: chargeNow.has(vehicle.id),
    mode: service.modeOf(vehicle.id),
    gridNodeId: vehicle.gridNodeId,
  };
}

/** A cursor the list did not give out is the caller's mistake: a 400 naming the field. */
async function withCursor<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof CursorError) throw new ApiError(400, 'VALIDATION', `query.cursor: ${error.message}`);
    throw error;
  }
}

/**
 * The smart-charging API as a route table: each route's zod schemas validate the request and generate
 * the OpenAPI description. Every change to an input of the plan re-plans before answering.
 */
export function createApiRoutes(
  service: SmartChargingService,
  now: () => Date,
  authNow: () => Date = () => new Date(),
): ApiRoute[] {
  const { apiDb: db } = service;
  const routes = [
    // Enrollment
    defineRoute({
      method: 'POST',
      url: '/api/enrollments',
      tag: 'enrollment',
      summary:
        'Start Connect in this browser (an owner signs in with their car account): a Connect link bound to this browser by cookie, valid 10 minutes, single use',
      access: 'public',
      rateLimited: true,
      body: z
        .object({
          ownerName: z.string().trim().min(1).max(200),
          /** Skips Connect's brand picker, e.g. `TESLA`. */
          make: z
            .string()
            .regex(/^[A-Z][A-Z0-9_]*$/, 'expected an upper-case make such as TESLA')
            .optional(),
        })
        .strict(),
      response: z.object({ connectUrl: z.string(), expiresAt: z.string() }),
      successStatus: 201,
      async handler({ body, request, reply }) {
        const link = await service.enrollment.start({
          ownerName: body.ownerName,
          browserBinding: browserBinding(request, reply),
          ...(body.make === undefined ? {} : { makeBypass: body.make }),
        });
        return { connectUrl: link.connectUrl, expiresAt: link.expiresAt.toISOString() };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/connect/callback',
      tag: 'enrollment',
      summary:
        'OAuth callback from Connect: checks the state against this browser, links the signed-in user’s cars, signs the owner in, re-plans and redirects to the dashboard',
      access: 'public',
      rateLimited: true,
      query: z.looseObject({
        state: z.string().min(1).max(200),
        code: z.string().min(1).max(2000).optional(),
        error: z.string().max(200).optional(),
      }),
      successStatus: 303,
      async handler({ principal, request, reply }) {
        clearConnectCookie(request, reply);
        let result;
        try {
          result = await service.completeEnrollment(
            new URL(request.url, 'http://localhost'),
            readCookie(request, CONNECT_COOKIE),
          );
        } catch (error) {
          if (error instanceof EnrollmentError && error.code === 'STATE_REJECTED')
            throw new ApiError(400, 'VALIDATION', `query.state: ${error.message}`);
          // Another account than the grant's, the owner declined, or the code was refused: the dashboard says so.
          const code =
            error instanceof EnrollmentError
              ? error.code
              : isVoltkitError(error)
                ? (error.code ?? error.type)
                : undefined;
          if (code === undefined) throw error;
          return reply.redirect(`../?enrollment_error=${encodeURIComponent(code)}`, 303);
        }
        // Connect is how owners sign in: a new session (never the one the browser came with). An operator
        // enrolling a car on someone's behalf stays the operator.
        if (principal.kind !== 'operator') {
          const session = await startSession(
            db,
            { ownerId: result.ownerId },
            { now: authNow(), previousSecret: readCookie(request, SESSION_COOKIE) },
          );
          setSessionCookie(request, reply, session.secret, session.expiresAt);
        }
        return reply.redirect(`../?enrolled=${encodeURIComponent(result.grantId)}`, 303);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/grants',
      tag: 'enrollment',
      summary:
        'Grants with their status (pending, active, revoked, expired) and cars, never tokens, in id order, a page at a time: an owner’s own, or all for operators; filter by status',
      access: 'signed-in',
      query: CursorQuerySchema.extend({
        status: z.enum(GRANT_STATUSES).optional(),
      }).strict(),
      response: pageSchema(GrantViewSchema),
      async handler({ principal, query }) {
        if (principal.kind === 'anonymous') return { items: [], nextCursor: null };
        const page = await withCursor(() =>
          listGrantPage(db, {
            limit: query.limit,
            ...(principal.kind === 'owner' ? { ownerId: principal.ownerId } : {}),
            ...(query.status === undefined ? {} : { status: query.status }),
            ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
          }),
        );
        return {
          items: page.items.map((grant) => ({
            id: grant.id,
            status: grant.status,
            statusReason: grant.statusReason,
            scopes: [...grant.scopes],
            vehicleIds: [...grant.vehicleIds],
          })),
          nextCursor: page.nextCursor,
        };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/grants/:grantId/reconnect',
      tag: 'enrollment',
      summary:
        'A Connect link (bound to this browser) that re-authorises a grant; only the grant’s own car account can complete it',
      access: 'owner-or-admin',
      rateLimited: true,
      params: GrantParamsSchema,
      response: z.object({ connectUrl: z.string(), expiresAt: z.string() }),
      async handler({ params, principal, request, reply }) {
        const grant = await findGrant(db, params.grantId);
        if (!grant || (principal.kind === 'owner' && grant.ownerId !== principal.ownerId))
          throw new ApiError(404, 'NOT_FOUND', `params.grantId: no grant "${params.grantId}"`);
        const link = await service.enrollment.reconnect(grant.id, browserBinding(request, reply));
        return { connectUrl: link.connectUrl, expiresAt: link.expiresAt.toISOString() };
      },
    }),

    // Vehicles, preferences, overrides
    defineRoute({
      method: 'GET',
      url: '/api/vehicles',
      tag: 'vehicles',
      summary:
        'Vehicles with last-known state, grant status and next departure, in id order, a page at a time: an owner’s own, or all; filter by grid node (its whole subtree), grant status and plugged in',
      access: 'signed-in',
      query: CursorQuerySchema.extend({
        /** Cars on this node or any node below it. */
        nodeId: GridNodeIdSchema.optional(),
        grantStatus: z.enum(GRANT_STATUSES).optional(),
        pluggedIn: z
          .enum(['true', 'false'], 'expected true or false')
          .transform((value) => value === 'true')
          .optional(),
      }).strict(),
      response: pageSchema(VehicleViewSchema),
      async handler({ principal, query }) {
        if (principal.kind === 'anonymous') return { items: [], nextCursor: null };
        const page = await withCursor(() =>
          listVehiclePage(db, {
            limit: query.limit,
            ...(principal.kind === 'owner' ? { ownerId: principal.ownerId } : {}),
            ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
            ...(query.nodeId === undefined ? {} : { nodeId: query.nodeId }),
            ...(query.grantStatus === undefined ? {} : { grantStatus: query.grantStatus }),
            ...(query.pluggedIn === undefined ? {} : { pluggedIn: query.pluggedIn }),
          }),
        );
        const context = viewContext(service, now());
        return {
          items: page.items.map((vehicle) => vehicleView(service, context, vehicle)),
          nextCursor: page.nextCursor,
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/vehicles/:vehicleId',
      tag: 'vehicles',
      summary: 'One vehicle (an owner’s own; another’s is 404); reads that car’s rows only',
      access: 'signed-in',
      params: VehicleParamsSchema,
      response: VehicleViewSchema,
      async handler({ params, principal }) {
        const vehicle = await findVehicleListing(db, params.vehicleId);
        if (!vehicle || !maySee(principal, vehicle.ownerId))
          throw new ApiError(404, 'NOT_FOUND', `params.vehicleId: no vehicle "${params.vehicleId}"`);
        return vehicleView(service, viewContext(service, now()), vehicle);
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/vehicles/:vehicleId/grid-node',
      tag: 'grid',
      summary:
        'Hang a vehicle on a grid node (null: on none); its load then counts against that node and every node above it',
      access: 'admin',
      params: VehicleParamsSchema,
      body: z.object({ nodeId: GridNodeIdSchema.nullable() }).strict(),
      response: z.object({
        vehicleId: z.string(),
        gridNodeId: z.string().nullable(),
        replan: ReplanReportSchema,
      }),
      async handler({ params, body }) {
        let assigned: string[];
        // The car leaves one unit's plan and joins another's: both are planned again.
        const unitsBefore = await unitsOfVehicles(db, [params.vehicleId]);
        try {
          assigned = await db.transaction((tx) => assignVehiclesToNode(tx, [params.vehicleId], body.nodeId));
        } catch (error) {
          if (error instanceof GridTreeError)
            throw new ApiError(404, 'NOT_FOUND', `body.nodeId: ${error.message}`);
          throw error;
        }
        if (assigned.length === 0)
          throw new ApiError(404, 'NOT_FOUND', `params.vehicleId: no vehicle "${params.vehicleId}"`);
        const replan = await service.replanAfterChange(
          `${params.vehicleId} hung on ${body.nodeId === null ? 'no grid node' : `grid node ${body.nodeId}`}`,
          { units: [...new Set([...unitsBefore, ...(await unitsOfVehicles(db, [params.vehicleId]))])] },
        );
        return { vehicleId: params.vehicleId, gridNodeId: body.nodeId, replan };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/vehicles/:vehicleId/preferences',
      tag: 'vehicles',
      summary: 'Charging preferences (defaults until set)',
      access: 'signed-in',
      params: VehicleParamsSchema,
      response: ChargingPreferencesSchema,
      async handler({ params, principal }) {
        await requireVehicle(service, params.vehicleId, principal);
        return loadPreferences(db, params.vehicleId);
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/vehicles/:vehicleId/preferences',
      tag: 'vehicles',
      summary: 'Replace the charging preferences; re-plans',
      access: 'owner-or-admin',
      params: VehicleParamsSchema,
      body: ChargingPreferencesSchema,
      response: z.object({ preferences: ChargingPreferencesSchema, replan: ReplanReportSchema }),
      async handler({ params, body, principal }) {
        await requireVehicle(service, params.vehicleId, principal);
        await savePreferences(db, params.vehicleId, body);
        const replan = await service.replanAfterChange(`preferences of ${params.vehicleId} changed`, {
          vehicleIds: [params.vehicleId],
        });
        return { preferences: body, replan };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/vehicles/:vehicleId/charge-now',
      tag: 'overrides',
      summary: 'Charge now (to the target, whatever the price) on or off; re-plans',
      access: 'owner-or-admin',
      params: VehicleParamsSchema,
      body: z.object({ enabled: z.boolean() }).strict(),
      response: z.object({ vehicleId: z.string(), chargeNow: z.boolean(), replan: ReplanReportSchema }),
      async handler({ params, body, principal }) {
        await requireVehicle(service, params.vehicleId, principal);
        const replan = await service.setChargeNow(params.vehicleId, body.enabled);
        return { vehicleId: params.vehicleId, chargeNow: body.enabled, replan };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/vehicles/:vehicleId/mode',
      tag: 'overrides',
      summary:
        'Smart-charging mode: smart (planned), now (charge now) or off (not managed: no plan, no commands); re-plans',
      access: 'owner-or-admin',
      params: VehicleParamsSchema,
      body: z.object({ mode: z.enum(['smart', 'now', 'off']) }).strict(),
      response: z.object({
        vehicleId: z.string(),
        mode: z.enum(['smart', 'now', 'off']),
        replan: ReplanReportSchema,
      }),
      async handler({ params, body, principal }) {
        await requireVehicle(service, params.vehicleId, principal);
        const replan = await service.setMode(params.vehicleId, body.mode);
        return { vehicleId: params.vehicleId, mode: body.mode, replan };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/overrides',
      tag: 'overrides',
      summary: 'Vehicles with charge now switched on (an owner’s own, or all)',
      access: 'signed-in',
      response: z.object({ chargeNow: z.array(z.string()) }),
      async handler({ principal }) {
        const visible = await visibleVehicleIds(service, principal);
        return {
          chargeNow: service
            .chargeNowVehicles()
            .filter((id) => visible === undefined || visible.has(id))
            .sort(),
        };
      },
    }),

    // Plan
    defineRoute({
      method: 'GET',
      url: '/api/plan',
      tag: 'plan',
      summary: 'The current fleet plan: slots, per-vehicle power and SoC, costs, skipped vehicles',
      access: 'operator',
      query: z
        .object({
          unit: z
            .string()
            .regex(/^(site|node:[\w.:-]{1,100})$/, 'expected "site" or "node:<top-level grid node id>"')
            .optional(),
        })
        .strict(),
      async handler({ query }) {
        const current = await service.currentPlan(query.unit);
        if (!current)
          throw new ApiError(
            404,
            'NOT_FOUND',
            query.unit === undefined ? 'no plan yet' : `query.unit: no plan of unit "${query.unit}"`,
          );
        return {
          id: current.id,
          reason: current.reason,
          createdAt: current.createdAt.toISOString(),
          horizonStart: current.horizonStart.toISOString(),
          horizonEnd: current.horizonEnd.toISOString(),
          ...current.body,
          units: current.units.map((unit) => ({ ...unit, createdAt: unit.createdAt.toISOString() })),
        };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/plan',
      tag: 'plan',
      summary: 'Re-plan the fleet now',
      access: 'admin',
      body: z
        .object({ reason: z.string().trim().min(1).max(200).optional() })
        .strict()
        .optional(),
      response: ReplanReportSchema,
      async handler({ body, reply }) {
        const report = await service.replanAfterChange(body?.reason ?? 'requested through the API');
        if (!report.ok) reply.status(502);
        return report;
      },
    }),

    // Prices
    defineRoute({
      method: 'GET',
      url: '/api/prices',
      tag: 'prices',
      summary:
        'Stored prices of the configured source overlapping [from, to) (default: now to +48 h), with the windows no price covers',
      access: 'signed-in',
      query: z.object({ from: instant.optional(), to: instant.optional() }).strict(),
      response: PriceCoverageViewSchema.extend({
        slots: z.array(z.object({ start: z.string(), end: z.string(), pricePerKwh: z.number() })),
      }),
      async handler({ query }) {
        const from = query.from === undefined ? now() : new Date(query.from);
        const to = query.to === undefined ? new Date(from.getTime() + 48 * HOUR_MS) : new Date(query.to);
        if (!(to > from)) throw new ApiError(400, 'VALIDATION', 'query.to: must be after from');
        const slots = await loadPrices(db, service.priceSource, from, to);
        return {
          ...priceCoverageView(await service.priceCoverage(from, to)),
          slots: slots.map((slot) => ({
            start: slot.start.toISOString(),
            end: slot.end.toISOString(),
            pricePerKwh: slot.pricePerKwh,
          })),
        };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/prices',
      tag: 'prices',
      summary:
        'Import a price series (stored under the configured source; replaces every stored slot it overlaps); re-plans',
      access: 'admin',
      body: z
        .object({
          slots: z
            .array(PriceSlotInputSchema)
            .min(1)
            .max(10_000)
            .superRefine((slots, context) => {
              slots.forEach((slot, index) => {
                const previous = slots[index - 1];
                if (previous && Date.parse(slot.start) < Date.parse(previous.end))
                  context.addIssue({
                    code: 'custom',
                    path: [index, 'start'],
                    message: 'slots must be in time order without overlapping',
                  });
              });
            }),
        })
        .strict(),
      response: z.object({ stored: z.number(), replan: ReplanReportSchema }),
      async handler({ body }) {
        const slots = body.slots.map((slot) => ({
          start: new Date(slot.start),
          end: new Date(slot.end),
          pricePerKwh: slot.pricePerKwh,
        }));
        // The series replaces every stored slot it overlaps, whatever their length (the file feed too).
        // The same lock as the price job's import: two imports of one source never interleave.
        await db.withLock(`prices:${service.priceSource}`, () =>
          db.transaction((tx) => savePrices(tx, service.priceSource, slots)),
        );
        const replan = await service.replanAfterChange(`${body.slots.length} prices imported`);
        return { stored: body.slots.length, replan };
      },
    }),

    // Grid
    defineRoute({
      method: 'GET',
      url: '/api/grid',
      tag: 'grid',
      summary: 'Grid connection: limit and yearly base load',
      access: 'operator',
      response: GridSettingsSchema,
      handler: () => loadGridSettings(db),
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/grid',
      tag: 'grid',
      summary: 'Replace the grid settings; re-plans',
      access: 'admin',
      body: GridSettingsSchema,
      response: z.object({ grid: GridSettingsSchema, replan: ReplanReportSchema }),
      async handler({ body }) {
        await saveGridSettings(db, body);
        const replan = await service.replanAfterChange(`grid limit ${body.limitKw} kW`);
        return { grid: body, replan };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/grid/events',
      tag: 'grid',
      summary: 'Demand-response events overlapping [from, to) (default: the last day and the next two)',
      access: 'operator',
      query: z.object({ from: instant.optional(), to: instant.optional() }).strict(),
      async handler({ query }) {
        const from =
          query.from === undefined ? new Date(now().getTime() - 24 * HOUR_MS) : new Date(query.from);
        const to = query.to === undefined ? new Date(now().getTime() + 48 * HOUR_MS) : new Date(query.to);
        if (!(to > from)) throw new ApiError(400, 'VALIDATION', 'query.to: must be after from');
        return listGridEvents(db, from, to);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/grid/events',
      tag: 'grid',
      summary: 'Announce a demand-response event (a lower limit for a window); re-plans',
      access: 'admin',
      body: GridEventInputSchema,
      successStatus: 201,
      async handler({ body }) {
        const event = await addGridEvent(db, body);
        const replan = await service.replanAfterChange(
          `demand response ${event.startsAt}–${event.endsAt} at ${event.limitKw} kW`,
        );
        return { event, replan };
      },
    }),

    defineRoute({
      method: 'DELETE',
      url: '/api/grid/events/:eventId',
      tag: 'grid',
      summary: 'Cancel a demand-response event; re-plans',
      access: 'admin',
      params: z.object({ eventId: z.uuid() }).strict(),
      async handler({ params }) {
        const removed = await db.query<{ id: string }>('delete from grid_events where id = $1 returning id', [
          params.eventId,
        ]);
        if (removed.length === 0)
          throw new ApiError(404, 'NOT_FOUND', `params.eventId: no grid event "${params.eventId}"`);
        const replan = await service.replanAfterChange(`demand-response event ${params.eventId} cancelled`);
        return { cancelled: params.eventId, replan };
      },
    }),

    // Commands and dashboard
    defineRoute({
      method: 'GET',
      url: '/api/commands',
      tag: 'commands',
      summary:
        'Command log with outcomes, oldest first (or newest first), a page at a time (an owner’s own cars, or all); filter by vehicle, due time window and status',
      access: 'signed-in',
      query: CursorQuerySchema.extend({
        vehicleId: z
          .string()
          .regex(/^[\w.:-]{1,100}$/, 'expected a vehicle id')
          .optional(),
        /** Due at or after. */
        since: instant.optional(),
        /** Due before. */
        until: instant.optional(),
        status: z.enum(['pending', 'sending', 'confirmed', 'failed', 'cancelled']).optional(),
        /** `newest`: latest due first. */
        order: z.enum(['oldest', 'newest']).optional(),
      }).strict(),
      response: pageSchema(CommandViewSchema),
      async handler({ query, principal }) {
        if (principal.kind === 'anonymous') return { items: [], nextCursor: null };
        const page = await withCursor(() =>
          listCommandPage(db, {
            limit: query.limit,
            ...(principal.kind === 'owner' ? { ownerId: principal.ownerId } : {}),
            ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
            ...(query.vehicleId === undefined ? {} : { vehicleId: query.vehicleId }),
            ...(query.since === undefined ? {} : { since: new Date(query.since) }),
            ...(query.until === undefined ? {} : { until: new Date(query.until) }),
            ...(query.status === undefined ? {} : { status: query.status }),
            ...(query.order === undefined ? {} : { order: query.order }),
          }),
        );
        const showInstance = principal.kind !== 'owner';
        return {
          items: page.items.map((command) => commandView(command, showInstance)),
          nextCursor: page.nextCursor,
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/dashboard',
      tag: 'dashboard',
      summary:
        'What the dashboard draws: an owner’s cars with their plans and costs; for operators the fleet’s slots, costs and planned load per work unit, and the cars named in vehicleIds (a page of a table)',
      access: 'signed-in',
      query: z
        .object({
          /** Comma-separated car ids to list in full (an owner's view is narrowed to them). */
          vehicleIds: z
            .string()
            .transform((list) => list.split(','))
            .pipe(
              z
                .array(z.string().regex(/^[\w.:-]{1,100}$/, 'expected vehicle ids separated by commas'))
                .max(MAX_DASHBOARD_VEHICLES, `at most ${MAX_DASHBOARD_VEHICLES} vehicle ids`),
            )
            .optional(),
        })
        .strict(),
      response: DashboardDataSchema,
      async handler({ principal, query }) {
        const visible = await visibleVehicleIds(service, principal);
        if (visible === undefined)
          return service.dashboard({
            kind: 'fleet',
            ...(query.vehicleIds ? { vehicleIds: query.vehicleIds } : {}),
          });
        const named = query.vehicleIds;
        return service.dashboard({
          kind: 'owner',
          vehicleIds: named === undefined ? visible : new Set(named.filter((id) => visible.has(id))),
        });
      },
    }),
    ...createGridNodeRoutes(db, service),
  ];
  return routes;
}
