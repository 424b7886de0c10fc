import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VEHICLE_ENDPOINTS, type VehicleEndpointName } from '@voltkit/core/permissions';
import { isSignalCode, SIGNAL_CODES, type SignalCode } from '@voltkit/core/v3';
import { z } from 'zod';
import { ApiError } from '../api-error.ts';
import { safeEqual } from '../credentials.ts';
import type { SimulatorEngine, VehicleAccess } from '../engine.ts';
import { headerValue, intParam, parseOrThrow, sendJson } from '../http/reply.ts';
import { unitSystemOf } from '../http/vehicle-routes.ts';
import type { VehicleRecord } from '../state/records.ts';
import { v3AccessFor, type ApplicationTokens } from './access.ts';
import { answeringV3Errors } from './errors.ts';
import {
  isServedSignalCode,
  providesSignal,
  readSignal,
  signalCodesFor,
  signalMeta,
} from './signal-values.ts';
import type { V3Webhooks } from './webhooks.ts';

const MAX_PAGE_SIZE = 100;
// One page holds every signal of any car: the official SDK's getSignals() cannot ask for a second page.
const DEFAULT_PAGE_SIZE = 50;

interface VehicleParams {
  id: string;
}

export interface V3RouteDeps {
  readonly engine: SimulatorEngine;
  readonly tokens: ApplicationTokens;
  readonly webhooks: V3Webhooks;
  readonly managementToken: string;
}

/** The v3 surface: `POST /oauth2/token`, `/v3/vehicles/{id}[/signals[/{code}]]`, v3 commands, admin. */
export function registerV3Routes(app: FastifyInstance, deps: V3RouteDeps): void {
  const { engine, tokens } = deps;

  app.post('/oauth2/token', (request, reply) => {
    const form = typeof request.body === 'object' && request.body !== null ? request.body : {};
    const issued = tokens.issue(form as Record<string, unknown>, headerValue(request, 'authorization'));
    reply.header('cache-control', 'no-store');
    return sendJson(request, reply, 200, issued);
  });

  const authorized = (request: FastifyRequest<{ Params: VehicleParams }>) => {
    const access = v3AccessFor(
      engine,
      tokens,
      headerValue(request, 'authorization'),
      headerValue(request, 'sc-user-id'),
    );
    const vehicle = engine.vehicleFor(access, request.params.id);
    engine.checkRateLimits(access.app, vehicle);
    return { access, vehicle };
  };

  app.get(
    '/v3/vehicles/:id',
    answeringV3Errors((request: FastifyRequest<{ Params: VehicleParams }>, reply) => {
      const { access, vehicle } = authorized(request);
      engine.checkVehicleEndpoint(access, vehicle, 'attributes', VEHICLE_ENDPOINTS.attributes.scope);
      const spec = engine.specOf(vehicle);
      return sendJson(request, reply, 200, {
        id: vehicle.id,
        type: 'vehicle',
        attributes: {
          make: vehicle.make,
          model: vehicle.model,
          year: vehicle.year,
          powertrainType: spec.powertrain,
          mode: access.grant.mode.toUpperCase(),
        },
        links: { self: `/vehicles/${vehicle.id}` },
      });
    }),
  );

  app.get(
    '/v3/vehicles/:id/signals',
    answeringV3Errors(
      (request: FastifyRequest<{ Params: VehicleParams; Querystring: Record<string, unknown> }>, reply) => {
        const { access, vehicle } = authorized(request);
        const page = Math.max(1, intParam(request.query['page'], 'page', 1));
        const pageSize = intParam(request.query['pageSize'], 'pageSize', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
        if (pageSize < 1) {
          throw new ApiError('VALIDATION', 'PARAMETER', {
            detail: [{ field: ['pageSize'], message: `"pageSize" must be between 1 and ${MAX_PAGE_SIZE}` }],
          });
        }
        checkReadable(engine, access, vehicle);
        engine.syncVehicle(vehicle);
        const spec = engine.specOf(vehicle);
        // Only the signals the grant may read are listed; a car without a signal does not list it.
        const codes = signalCodesFor(spec).filter((code) => access.scopes.has(signalMeta(code).scope));
        const slice = codes.slice((page - 1) * pageSize, page * pageSize);
        const lastPage = Math.max(1, Math.ceil(codes.length / pageSize));
        const link = (n: number) => `/vehicles/${vehicle.id}/signals?page=${n}&pageSize=${pageSize}`;
        return sendJson(request, reply, 200, {
          data: slice.map((code) => signalResource(engine, vehicle, code, unitSystemOf(request))),
          meta: { page, pageSize, totalCount: codes.length },
          links: {
            self: link(page),
            first: link(1),
            previous: page > 1 ? link(page - 1) : null,
            next: page < lastPage ? link(page + 1) : null,
            last: link(lastPage),
          },
          included: { vehicle: vehicleResource(vehicle) },
        });
      },
    ),
  );

  app.get(
    '/v3/vehicles/:id/signals/:code',
    answeringV3Errors((request: FastifyRequest<{ Params: VehicleParams & { code: string } }>, reply) => {
      const { access, vehicle } = authorized(request);
      const code = request.params.code;
      if (!isServedSignalCode(code) || !isSignalCode(code)) {
        throw new ApiError('RESOURCE_NOT_FOUND', 'PATH', {
          description: `There is no signal with the code "${code}".`,
        });
      }
      if (!access.scopes.has(signalMeta(code).scope)) throw new ApiError('PERMISSION', null);
      if (!providesSignal(engine.specOf(vehicle), code))
        throw new ApiError('COMPATIBILITY', 'VEHICLE_NOT_CAPABLE');
      checkReadable(engine, access, vehicle);
      engine.syncVehicle(vehicle);
      return sendJson(request, reply, 200, signalResource(engine, vehicle, code, unitSystemOf(request)));
    }),
  );

  const command = (
    name: VehicleEndpointName,
    type: string,
    run: (vehicle: VehicleRecord, access: VehicleAccess, body: unknown) => Record<string, unknown>,
  ) =>
    answeringV3Errors((request: FastifyRequest<{ Params: VehicleParams }>, reply) => {
      const { access, vehicle } = authorized(request);
      const definition = VEHICLE_ENDPOINTS[name];
      engine.checkVehicleEndpoint(access, vehicle, name, definition.scope);
      const parameters = run(vehicle, access, request.body);
      const at = new Date(engine.now()).toISOString();
      return sendJson(request, reply, 200, {
        data: {
          id: request.id,
          type: 'command-execution',
          attributes: {
            commandType: type,
            status: { value: 'SUCCESS' },
            executionMode: 'sync',
            parameters,
          },
          meta: { executedAt: at, completedAt: at },
        },
      });
    });
  const testMode = (access: VehicleAccess) => access.grant.mode === 'test';
  const commands = '/v3/vehicles/:id/commands';
  app.post(
    `${commands}/charge/start`,
    command('startCharge', 'charge-start', (vehicle, access) => {
      engine.startCharge(vehicle, testMode(access));
      return {};
    }),
  );
  app.post(
    `${commands}/charge/stop`,
    command('stopCharge', 'charge-stop', (vehicle, access) => {
      engine.stopCharge(vehicle, testMode(access));
      return {};
    }),
  );
  app.post(
    `${commands}/charge/set-limit`,
    command('setChargeLimit', 'charge-set-limit', (vehicle, _access, body) => {
      const { percent } = parseOrThrow(SetLimitSchema, body).data.attributes;
      engine.setChargeLimit(vehicle, percent / 100);
      return { percent };
    }),
  );
  app.post(
    `${commands}/security/lock`,
    command('lock', 'security-lock', (vehicle) => {
      engine.setLocked(vehicle, true);
      return {};
    }),
  );
  app.post(
    `${commands}/security/unlock`,
    command('unlock', 'security-unlock', (vehicle) => {
      engine.setLocked(vehicle, false);
      return {};
    }),
  );

  // Anything else under /v3 is an unknown path, answered in the v3 error shape.
  app.all(
    '/v3/*',
    answeringV3Errors(() => {
      throw new ApiError('RESOURCE_NOT_FOUND', 'PATH');
    }),
  );

  registerV3AdminRoutes(app, deps);
}

const SetLimitSchema = z.object({
  data: z.object({ attributes: z.object({ percent: z.number().min(50).max(100) }) }),
});

/**
 * A test-mode error trigger (or an injected error), an unreachable or a sleeping car answer a signal read
 * with that error, as v2 data endpoints do: the odometer is the one endpoint every car has, so checking
 * it runs exactly those checks.
 */
function checkReadable(engine: SimulatorEngine, access: VehicleAccess, vehicle: VehicleRecord): void {
  engine.checkVehicleEndpoint(access, vehicle, 'odometer', null);
}

function vehicleResource(vehicle: VehicleRecord) {
  return {
    id: vehicle.id,
    type: 'vehicle',
    attributes: { make: vehicle.make, model: vehicle.model, year: vehicle.year },
    links: { self: `/vehicles/${vehicle.id}` },
  };
}

function signalResource(
  engine: SimulatorEngine,
  vehicle: VehicleRecord,
  code: SignalCode,
  units: 'metric' | 'imperial',
) {
  const meta = signalMeta(code);
  return {
    id: code,
    type: 'signal',
    attributes: {
      code,
      name: meta.name,
      group: meta.group,
      status: { value: 'SUCCESS' },
      body: readSignal(code, vehicle, engine.specOf(vehicle), units),
    },
    meta: { retrievedAt: engine.now(), oemUpdatedAt: vehicle.state.recordedAt },
    links: {
      self: `/vehicles/${vehicle.id}/signals/${code}`,
      values: `/vehicles/${vehicle.id}/signals/${code}/values`,
      vehicle: `/vehicles/${vehicle.id}`,
    },
  };
}

const CreateWebhookSchema = z.object({
  clientId: z.string().min(1),
  url: z.url(),
  name: z.string().min(1).optional(),
  triggers: z.array(z.enum(SIGNAL_CODES as [SignalCode, ...SignalCode[]])).min(1),
  signals: z.array(z.enum(SIGNAL_CODES as [SignalCode, ...SignalCode[]])).optional(),
});

/** `/_simulator/v3/webhooks…`: create (runs VERIFY), list, subscribe vehicles, see every delivery attempt. */
function registerV3AdminRoutes(app: FastifyInstance, deps: V3RouteDeps): void {
  const { webhooks, managementToken } = deps;
  const guard = (request: FastifyRequest) => {
    const header = headerValue(request, 'authorization') ?? '';
    if (!safeEqual(header, `Bearer ${managementToken}`)) throw new ApiError('AUTHENTICATION', null);
  };
  const asValidation = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError('VALIDATION', null, {
        description: error instanceof Error ? error.message : 'invalid',
      });
    }
  };
  const prefix = '/_simulator/v3/webhooks';
  app.post(prefix, async (request: FastifyRequest, reply: FastifyReply) => {
    guard(request);
    const input = parseOrThrow(CreateWebhookSchema, request.body);
    const created = await asValidation(() =>
      webhooks.create({
        clientId: input.clientId,
        url: input.url,
        triggers: input.triggers,
        ...(input.name === undefined ? {} : { name: input.name }),
        ...(input.signals === undefined ? {} : { signals: input.signals }),
      }),
    );
    return sendJson(request, reply, 200, created);
  });
  app.get(prefix, (request, reply) => {
    guard(request);
    return sendJson(request, reply, 200, webhooks.list());
  });
  app.get(
    `${prefix}/:webhookId/deliveries`,
    (request: FastifyRequest<{ Params: { webhookId: string } }>, reply) => {
      guard(request);
      return sendJson(request, reply, 200, webhooks.deliveries(request.params.webhookId));
    },
  );
  app.put(
    `${prefix}/:webhookId/vehicles/:vehicleId`,
    (request: FastifyRequest<{ Params: { webhookId: string; vehicleId: string } }>, reply) => {
      guard(request);
      asValidation(() => webhooks.subscribe(request.params.webhookId, request.params.vehicleId));
      return sendJson(request, reply, 200, { status: 'success' });
    },
  );
  app.delete(
    `${prefix}/:webhookId/vehicles/:vehicleId`,
    (request: FastifyRequest<{ Params: { webhookId: string; vehicleId: string } }>, reply) => {
      guard(request);
      asValidation(() => webhooks.unsubscribe(request.params.webhookId, request.params.vehicleId));
      return sendJson(request, reply, 200, { status: 'success' });
    },
  );
}
