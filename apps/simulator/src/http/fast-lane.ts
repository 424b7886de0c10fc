import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { ApiError, errorBody } from '../api-error.ts';
import type { SimulatorEngine, VehicleAccess } from '../engine.ts';
import type { VehicleRecord } from '../state/records.ts';
import { resolveVehicleEndpoint, type ResolvedEndpoint } from '../vehicle/endpoints.ts';
import type { DataEndpointName } from '../vehicle/readings.ts';

const PREFIX = '/v2.0/vehicles/';
/** Fastify's `maxParamLength` for the vehicle id (longer ones get its 414 error). */
const MAX_ID_LENGTH = 500;

/** The request handler of node's server: `false` hands the request on (to Fastify). */
export type FastLane = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface FastLaneOptions {
  readonly engine: SimulatorEngine;
  readonly logger?: FastifyBaseLogger | undefined;
  /** True once the app is closing: Fastify then answers 503 itself. */
  readonly closing: () => boolean;
}

/**
 * The vehicle data reads (`GET /v2.0/vehicles/{id}/battery` …, most of what an app sends) answered from
 * node's request event, with the same checks in the same order as the Fastify route (token, connection,
 * rate limits, scope, capability, forced errors, sleep) and the same response bytes; Fastify's routing,
 * request and reply objects were a third of the simulator's time per request. Only the success path runs
 * here: a query, percent-encoding, a body, or any check that fails returns `false` before anything changed
 * (no rate-limit token taken), and the route answers the request as before, error body and all.
 */
export function createFastLane(options: FastLaneOptions): FastLane {
  const { engine, logger, closing } = options;
  return (request, response) => {
    if (request.method !== 'GET') return false;
    const url = request.url ?? '';
    if (!url.startsWith(PREFIX) || url.includes('?') || url.includes('%') || url.includes('//')) return false;
    const headers = request.headers;
    if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) return false;
    if (closing()) return false;
    const slash = url.indexOf('/', PREFIX.length);
    const vehicleId = url.slice(PREFIX.length, slash === -1 ? undefined : slash);
    const rest = slash === -1 ? '' : url.slice(slash + 1);
    if (vehicleId === '' || vehicleId.length > MAX_ID_LENGTH) return false;
    if ((slash !== -1 && rest === '') || rest.endsWith('/')) return false;
    const endpoint = resolveVehicleEndpoint('GET', rest);
    if (endpoint?.definition.kind !== 'data') return false;
    const started = logger === undefined ? 0 : performance.now();

    const admitted = admit(engine, headers.authorization, vehicleId, endpoint);
    if (admitted === undefined) return false;
    const { access, vehicle } = admitted;
    const requestId = randomUUID();
    const units = headers['sc-unit-system'] === 'imperial' ? 'imperial' : 'metric';
    let status = 200;
    try {
      // Committed from here on: the request counts against the limits (admit() saw room), and is answered here.
      engine.checkRateLimits(access.app, vehicle);
      const result = engine.read(vehicle, endpoint.name as DataEndpointName, units, {});
      const body = JSON.stringify(result.body);
      response.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'sc-request-id': requestId,
        'sc-data-age': result.dataAge,
        'sc-fetched-at': result.fetchedAt,
        'sc-unit-system': units,
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    } catch (error) {
      // As the app's error handler does for anything unexpected: a 500 body, the message in the log.
      status = 500;
      logger?.error(
        { err: { message: error instanceof Error ? error.message : String(error) } },
        'unexpected error',
      );
      const body = JSON.stringify(errorBody(new ApiError('SERVER', 'INTERNAL'), requestId));
      response.writeHead(500, {
        'content-type': 'application/json; charset=utf-8',
        'sc-request-id': requestId,
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    }
    logger?.info(
      {
        method: 'GET',
        route: slash === -1 ? '/v2.0/vehicles/:id' : '/v2.0/vehicles/:id/*',
        status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
    return true;
  };
}

/** The grant and vehicle when every check of the route would pass; `undefined` changes nothing. */
function admit(
  engine: SimulatorEngine,
  authorization: string | undefined,
  vehicleId: string,
  endpoint: ResolvedEndpoint,
): { access: VehicleAccess; vehicle: VehicleRecord } | undefined {
  try {
    const access = engine.accessFor(authorization);
    const vehicle = engine.vehicleFor(access, vehicleId);
    if (!engine.rateLimitsAllow(access.app, vehicle)) return undefined;
    engine.checkVehicleEndpoint(access, vehicle, endpoint.name, endpoint.definition.scope);
    return { access, vehicle };
  } catch {
    // The route repeats the checks and answers the error (or the 500 of an unexpected one).
    return undefined;
  }
}
