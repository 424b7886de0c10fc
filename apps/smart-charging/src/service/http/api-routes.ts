import { isVoltkitError } from '@voltkit/core/client';
import { z } from 'zod';
import { listCommands, type CommandRecord } from '../../store/command-log.ts';
import { findGrant, listGrants, type GrantSummary } from '../../store/grants.ts';
import {
  addGridEvent,
  GridEventInputSchema,
  GridSettingsSchema,
  listGridEvents,
  loadGridSettings,
  saveGridSettings,
} from '../../store/grid.ts';
import { loadCurrentPlan } from '../../store/plans.ts';
import { ChargingPreferencesSchema, loadPreferences, savePreferences } from '../../store/preferences.ts';
import { loadPrices, savePrices } from '../../store/prices.ts';
import { findVehicle, listVehicles, loadVehicleStates, type VehicleRecord } from '../../store/vehicles.ts';
import { nextDeparture } from '../departure.ts';
import type { SmartChargingService, StoredPlanBody } from '../smart-charging-service.ts';
import type { ChargingState } from '../vehicle-gateway.ts';
import { ApiError, defineRoute, type ApiRoute } from './api-route.ts';
import { DashboardDataSchema } from './dashboard-data.ts';

const HOUR_MS = 3_600_000;
const instant = z.iso.datetime({ offset: true });
const VehicleParamsSchema = z
  .object({
    vehicleId: z.string().regex(/^[\w.:-]{1,100}$/, 'expected a vehicle id ([A-Za-z0-9_.:-], at most 100)'),
  })
  .strict();
const GrantParamsSchema = z.object({ grantId: z.string().min(1).max(200) }).strict();

const ReplanReportSchema = z.union([
  z.object({
    ok: z.literal(true),
    planId: z.string(),
    skipped: z.array(z.object({ vehicleId: z.string(), reason: z.string() })),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

export const VehicleViewSchema = z.object({
  id: z.string(),
  make: z.string(),
  model: z.string(),
  year: z.number(),
  batteryCapacityKwh: z.number().nullable(),
  grantId: z.string(),
  grantStatus: z.enum(['pending', 'active', 'revoked', 'expired']),
  grantStatusReason: z.string().nullable(),
  /** Present when the grant is revoked or expired: where the owner re-authorises. */
  reconnectUrl: z.string().nullable(),
  state: z
    .object({
      soc: z.number(),
      pluggedIn: z.boolean(),
      charging: z.string(),
      chargeLimit: z.number().nullable(),
      readAt: z.string(),
    })
    .nullable(),
  nextDeparture: z.string().nullable(),
  chargeNow: z.boolean(),
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
  status: z.enum(['pending', 'active', 'revoked', 'expired']),
  statusReason: z.string().nullable(),
  scopes: z.array(z.string()),
  vehicleIds: z.array(z.string()),
});

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

function commandView(command: CommandRecord): z.infer<typeof CommandViewSchema> {
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
  };
}

async function requireVehicle(service: SmartChargingService, vehicleId: string): Promise<VehicleRecord> {
  const vehicle = await findVehicle(service.db, vehicleId);
  if (!vehicle) throw new ApiError(404, 'NOT_FOUND', `params.vehicleId: no vehicle "${vehicleId}"`);
  return vehicle;
}

async function vehicleViews(service: SmartChargingService, now: Date): Promise<VehicleView[]> {
  const { db } = service;
  const grants = new Map((await listGrants(db)).map((grant) => [grant.id, grant]));
  const states = await loadVehicleStates<ChargingState>(db);
  const chargeNow = new Set(service.chargeNowVehicles());
  const views: VehicleView[] = [];
  for (const vehicle of await listVehicles(db)) {
    const grant: GrantSummary | undefined = grants.get(vehicle.grantId);
    const stored = states.get(vehicle.id);
    const departure = nextDeparture(await loadPreferences(db, vehicle.id), now.getTime(), service.timeZone);
    const unusable = grant === undefined || grant.status === 'revoked' || grant.status === 'expired';
    views.push({
      id: vehicle.id,
      make: vehicle.make,
      model: vehicle.model,
      year: vehicle.year,
      batteryCapacityKwh: vehicle.batteryCapacityKwh,
      grantId: vehicle.grantId,
      grantStatus: grant?.status ?? 'revoked',
      grantStatusReason: grant?.statusReason ?? (grant ? null : 'grant missing'),
      reconnectUrl: unusable ? (await service.enrollment.reconnect(vehicle.grantId)).connectUrl : null,
      state: stored
        ? {
            soc: stored.state.soc,
            pluggedIn: stored.state.pluggedIn,
            charging: stored.state.charging,
            chargeLimit: stored.state.chargeLimit,
            readAt: stored.readAt.toISOString(),
          }
        : null,
      nextDeparture: departure === null ? null : new Date(departure).toISOString(),
      chargeNow: chargeNow.has(vehicle.id),
    });
  }
  return views;
}

/**
 * The smart-charging API as a route table: each route's zod schemas validate the request and generate
 * the OpenAPI description. Every change to an input of the plan re-plans before answering.
 */
export function createApiRoutes(service: SmartChargingService, now: () => Date): ApiRoute[] {
  const { db } = service;
  const routes = [
    // Enrollment
    defineRoute({
      method: 'POST',
      url: '/api/enrollments',
      tag: 'enrollment',
      summary: 'Start enrolling an owner: returns the Connect link to send them to',
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
      response: z.object({ grantId: z.string(), connectUrl: z.string() }),
      successStatus: 201,
      handler: ({ body }) =>
        service.enrollment.start({
          ownerName: body.ownerName,
          ...(body.make === undefined ? {} : { makeBypass: body.make }),
        }),
    }),
    defineRoute({
      method: 'GET',
      url: '/connect/callback',
      tag: 'enrollment',
      summary: 'OAuth callback from Connect: links the vehicles, re-plans and redirects to the dashboard',
      query: z.looseObject({
        state: z.string().min(1).max(200),
        code: z.string().min(1).max(2000).optional(),
        error: z.string().max(200).optional(),
      }),
      successStatus: 303,
      async handler({ query, request, reply }) {
        if (!(await findGrant(db, query.state)))
          throw new ApiError(400, 'VALIDATION', 'query.state: not an enrollment started here');
        try {
          const result = await service.completeEnrollment(new URL(request.url, 'http://localhost'));
          return reply.redirect(`../?enrolled=${encodeURIComponent(result.grantId)}`, 303);
        } catch (error) {
          // The owner declined, or the code was refused: back to the dashboard, which says so.
          if (!isVoltkitError(error)) throw error;
          const code = error.code ?? error.type;
          return reply.redirect(`../?enrollment_error=${encodeURIComponent(code)}`, 303);
        }
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/grants',
      tag: 'enrollment',
      summary: 'Owners’ grants with their status (pending, active, revoked, expired); never tokens',
      response: z.array(GrantViewSchema),
      async handler() {
        const vehicles = await listVehicles(db);
        return (await listGrants(db)).map((grant) => ({
          id: grant.id,
          status: grant.status,
          statusReason: grant.statusReason,
          scopes: [...grant.scopes],
          vehicleIds: vehicles.filter((vehicle) => vehicle.grantId === grant.id).map((vehicle) => vehicle.id),
        }));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/grants/:grantId/reconnect',
      tag: 'enrollment',
      summary: 'A Connect link that re-authorises a revoked, expired or unfinished grant',
      params: GrantParamsSchema,
      response: z.object({ connectUrl: z.string() }),
      async handler({ params }) {
        if (!(await findGrant(db, params.grantId)))
          throw new ApiError(404, 'NOT_FOUND', `params.grantId: no grant "${params.grantId}"`);
        return service.enrollment.reconnect(params.grantId);
      },
    }),

    // Vehicles, preferences, overrides
    defineRoute({
      method: 'GET',
      url: '/api/vehicles',
      tag: 'vehicles',
      summary: 'Enrolled vehicles with last-known state, grant status and next departure',
      response: z.array(VehicleViewSchema),
      handler: () => vehicleViews(service, now()),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/vehicles/:vehicleId',
      tag: 'vehicles',
      summary: 'One vehicle',
      params: VehicleParamsSchema,
      response: VehicleViewSchema,
      async handler({ params }) {
        await requireVehicle(service, params.vehicleId);
        return (await vehicleViews(service, now())).find((view) => view.id === params.vehicleId);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/vehicles/:vehicleId/preferences',
      tag: 'vehicles',
      summary: 'Charging preferences (defaults until set)',
      params: VehicleParamsSchema,
      response: ChargingPreferencesSchema,
      async handler({ params }) {
        await requireVehicle(service, params.vehicleId);
        return loadPreferences(db, params.vehicleId);
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/vehicles/:vehicleId/preferences',
      tag: 'vehicles',
      summary: 'Replace the charging preferences; re-plans',
      params: VehicleParamsSchema,
      body: ChargingPreferencesSchema,
      response: z.object({ preferences: ChargingPreferencesSchema, replan: ReplanReportSchema }),
      async handler({ params, body }) {
        await requireVehicle(service, params.vehicleId);
        await savePreferences(db, params.vehicleId, body);
        const replan = await service.replanAfterChange(`preferences of ${params.vehicleId} changed`);
        return { preferences: body, replan };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/vehicles/:vehicleId/charge-now',
      tag: 'overrides',
      summary: 'Charge now (to the target, whatever the price) on or off; re-plans',
      params: VehicleParamsSchema,
      body: z.object({ enabled: z.boolean() }).strict(),
      response: z.object({ vehicleId: z.string(), chargeNow: z.boolean(), replan: ReplanReportSchema }),
      async handler({ params, body }) {
        await requireVehicle(service, params.vehicleId);
        const replan = await service.setChargeNow(params.vehicleId, body.enabled);
        return { vehicleId: params.vehicleId, chargeNow: body.enabled, replan };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/overrides',
      tag: 'overrides',
      summary: 'Vehicles with charge now switched on',
      response: z.object({ chargeNow: z.array(z.string()) }),
      handler: () => Promise.resolve({ chargeNow: [...service.chargeNowVehicles()].sort() }),
    }),

    // Plan
    defineRoute({
      method: 'GET',
      url: '/api/plan',
      tag: 'plan',
      summary: 'The current fleet plan: slots, per-vehicle power and SoC, costs, skipped vehicles',
      async handler() {
        const current = await loadCurrentPlan<StoredPlanBody>(db);
        if (!current) throw new ApiError(404, 'NOT_FOUND', 'no plan yet');
        return {
          id: current.id,
          reason: current.reason,
          createdAt: current.createdAt.toISOString(),
          horizonStart: current.horizonStart.toISOString(),
          horizonEnd: current.horizonEnd.toISOString(),
          ...current.body,
        };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/plan',
      tag: 'plan',
      summary: 'Re-plan the fleet now',
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
      summary: 'Stored prices of the configured source overlapping [from, to) (default: now to +48 h)',
      query: z.object({ from: instant.optional(), to: instant.optional() }).strict(),
      response: z.object({
        source: z.string(),
        slots: z.array(z.object({ start: z.string(), end: z.string(), pricePerKwh: z.number() })),
      }),
      async handler({ query }) {
        const from = query.from === undefined ? now() : new Date(query.from);
        const to = query.to === undefined ? new Date(from.getTime() + 48 * HOUR_MS) : new Date(query.to);
        if (!(to > from)) throw new ApiError(400, 'VALIDATION', 'query.to: must be after from');
        const slots = await loadPrices(db, service.priceSource, from, to);
        return {
          source: service.priceSource,
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
        await db.transaction((tx) => savePrices(tx, service.priceSource, slots));
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
      response: GridSettingsSchema,
      handler: () => loadGridSettings(db),
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/grid',
      tag: 'grid',
      summary: 'Replace the grid settings; re-plans',
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

    // Commands and dashboard
    defineRoute({
      method: 'GET',
      url: '/api/commands',
      tag: 'commands',
      summary: 'Command log with outcomes, oldest first; filter by vehicle, due time and status',
      query: z
        .object({
          vehicleId: z
            .string()
            .regex(/^[\w.:-]{1,100}$/, 'expected a vehicle id')
            .optional(),
          since: instant.optional(),
          status: z.enum(['pending', 'sending', 'confirmed', 'failed', 'cancelled']).optional(),
        })
        .strict(),
      response: z.array(CommandViewSchema),
      async handler({ query }) {
        const commands = await listCommands(db, {
          ...(query.vehicleId === undefined ? {} : { vehicleId: query.vehicleId }),
          ...(query.since === undefined ? {} : { since: new Date(query.since) }),
          ...(query.status === undefined ? {} : { status: query.status }),
        });
        return commands.map(commandView);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/dashboard',
      tag: 'dashboard',
      summary: 'Everything the dashboard draws: vehicles, fleet slots, costs',
      response: DashboardDataSchema,
      handler: () => service.dashboard(),
    }),
  ];
  return routes;
}
