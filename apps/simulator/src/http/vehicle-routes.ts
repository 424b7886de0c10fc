import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  BatchRequestSchema,
  ChargeActionRequestSchema,
  NavigationDestinationRequestSchema,
  SecurityActionRequestSchema,
  SetChargeLimitRequestSchema,
} from '@voltkit/core/types';
import { ApiError } from '../api-error.ts';
import type { SimulatorEngine, VehicleAccess } from '../engine.ts';
import type { VehicleRecord } from '../state/records.ts';
import { resolveVehicleEndpoint, type ResolvedEndpoint } from '../vehicle/endpoints.ts';
import type { DataEndpointName, UnitSystem } from '../vehicle/readings.ts';
import { headerValue, intParam, parseOrThrow, sendJson } from './reply.ts';

const COMMAND_OK = { status: 'success', message: 'Successfully sent request to vehicle' } as const;

// Request bodies are checked with core's schemas (the charge limit may be a string, as the Node SDK sends it).
const MAX_BATCH_REQUESTS = 50;

interface VehicleParams {
  id: string;
  '*'?: string;
}

export function unitSystemOf(request: FastifyRequest): UnitSystem {
  return headerValue(request, 'sc-unit-system') === 'imperial' ? 'imperial' : 'metric';
}

/** Every `/v2.0/vehicles/{id}/…` endpoint: auth, limits, scope, capability, then the endpoint itself. */
export function registerVehicleRoutes(app: FastifyInstance, engine: SimulatorEngine): void {
  const handler = (request: FastifyRequest<{ Params: VehicleParams }>, reply: FastifyReply) =>
    handleVehicleRequest(engine, request, reply);
  app.route({ method: ['GET', 'POST', 'DELETE'], url: '/v2.0/vehicles/:id', handler });
  app.route({ method: ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'], url: '/v2.0/vehicles/:id/*', handler });
}

function handleVehicleRequest(
  engine: SimulatorEngine,
  request: FastifyRequest<{ Params: VehicleParams }>,
  reply: FastifyReply,
): FastifyReply {
  const vehicleId = request.params.id;
  const endpoint = resolveVehicleEndpoint(request.method, request.params['*'] ?? '');
  const authorization = headerValue(request, 'authorization');

  // Unsubscribing is done with the application management token, not a user's access token.
  if (endpoint?.name === 'unsubscribe') {
    const app = engine.appByManagementBearer(authorization);
    if (app === undefined) throw new ApiError('AUTHENTICATION', null);
    return sendJson(
      request,
      reply,
      200,
      engine.unsubscribe(app, vehicleId, endpoint.params['webhookId'] ?? ''),
    );
  }

  const access = engine.accessFor(authorization);
  const vehicle = engine.vehicleFor(access, vehicleId);
  if (endpoint === undefined) {
    // Make-specific endpoints (`/tesla/speedometer`, `/bmw/charge/records` …) exist on the platform but
    // are not simulated: say so as the API does for unsupported features, rather than "no such path".
    const first = (request.params['*'] ?? '').split('/').find((part) => part !== '');
    if (first !== undefined && first === vehicle.make.toLowerCase().replace(/[^a-z]/g, '')) {
      throw new ApiError('COMPATIBILITY', 'SMARTCAR_NOT_CAPABLE');
    }
    throw new ApiError('RESOURCE_NOT_FOUND', 'PATH');
  }
  if (endpoint.definition.kind !== 'meta' || endpoint.name === 'batch')
    engine.checkRateLimits(access.app, vehicle);

  switch (endpoint.definition.kind) {
    case 'data':
      return sendData(engine, request, reply, access, vehicle, endpoint);
    case 'command':
      return sendCommand(engine, request, reply, access, vehicle, endpoint);
    case 'meta':
      return sendMeta(engine, request, reply, access, vehicle, endpoint);
  }
}

function sendData(
  engine: SimulatorEngine,
  request: FastifyRequest,
  reply: FastifyReply,
  access: VehicleAccess,
  vehicle: VehicleRecord,
  endpoint: ResolvedEndpoint,
): FastifyReply {
  engine.checkVehicleEndpoint(access, vehicle, endpoint.name, endpoint.definition.scope);
  const units = unitSystemOf(request);
  const query = request.query as Record<string, string | undefined>;
  const result = engine.read(vehicle, endpoint.name as DataEndpointName, units, query);
  return sendJson(request, reply, 200, result.body, {
    'sc-data-age': result.dataAge,
    'sc-fetched-at': result.fetchedAt,
    'sc-unit-system': units,
  });
}

function sendCommand(
  engine: SimulatorEngine,
  request: FastifyRequest,
  reply: FastifyReply,
  access: VehicleAccess,
  vehicle: VehicleRecord,
  endpoint: ResolvedEndpoint,
): FastifyReply {
  const scope = endpoint.definition.scope;
  switch (endpoint.path) {
    case '/security': {
      const { action } = parseOrThrow(SecurityActionRequestSchema, request.body);
      engine.checkVehicleEndpoint(access, vehicle, action === 'LOCK' ? 'lock' : 'unlock', scope);
      engine.setLocked(vehicle, action === 'LOCK');
      break;
    }
    case '/charge': {
      const { action } = parseOrThrow(ChargeActionRequestSchema, request.body);
      engine.checkVehicleEndpoint(access, vehicle, action === 'START' ? 'startCharge' : 'stopCharge', scope);
      const idempotent = access.grant.mode === 'test';
      if (action === 'START') engine.startCharge(vehicle, idempotent);
      else engine.stopCharge(vehicle, idempotent);
      break;
    }
    case '/charge/limit': {
      const { limit } = parseOrThrow(SetChargeLimitRequestSchema, request.body);
      engine.checkVehicleEndpoint(access, vehicle, 'setChargeLimit', scope);
      engine.setChargeLimit(vehicle, limit);
      break;
    }
    case '/navigation/destination': {
      const { latitude, longitude } = parseOrThrow(NavigationDestinationRequestSchema, request.body);
      engine.checkVehicleEndpoint(access, vehicle, 'sendDestination', scope);
      engine.sendDestination(vehicle, latitude, longitude);
      break;
    }
    default:
      throw new ApiError('RESOURCE_NOT_FOUND', 'PATH');
  }
  return sendJson(request, reply, 200, COMMAND_OK);
}

function sendMeta(
  engine: SimulatorEngine,
  request: FastifyRequest,
  reply: FastifyReply,
  access: VehicleAccess,
  vehicle: VehicleRecord,
  endpoint: ResolvedEndpoint,
): FastifyReply {
  if (endpoint.name === 'permissions') {
    const query = request.query as Record<string, unknown>;
    const limit = intParam(query['limit'], 'limit', 25, 100);
    const offset = intParam(query['offset'], 'offset', 0);
    const all = access.grant.scopes;
    return sendJson(request, reply, 200, {
      permissions: all.slice(offset, offset + limit),
      paging: { count: all.length, offset },
    });
  }
  if (endpoint.name === 'disconnect') {
    engine.disconnect(access.grant, vehicle.id);
    return sendJson(request, reply, 200, { status: 'success' });
  }
  if (endpoint.name === 'subscribe') {
    return sendJson(
      request,
      reply,
      200,
      engine.subscribe(access, vehicle, endpoint.params['webhookId'] ?? ''),
    );
  }
  if (endpoint.name === 'batch') {
    const { requests } = parseOrThrow(BatchRequestSchema, request.body);
    if (requests.length > MAX_BATCH_REQUESTS) {
      throw new ApiError('VALIDATION', 'PARAMETER', {
        detail: [
          { field: ['requests'], message: `"requests" must hold at most ${MAX_BATCH_REQUESTS} items` },
        ],
      });
    }
    const units = unitSystemOf(request);
    const responses = requests.map(({ path }) => engine.batchItem(access, vehicle, path, units, request.id));
    return sendJson(request, reply, 200, { responses });
  }
  throw new ApiError('RESOURCE_NOT_FOUND', 'PATH');
}
