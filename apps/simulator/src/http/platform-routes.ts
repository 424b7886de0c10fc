import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../api-error.ts';
import { BRANDS } from '../catalog/brands.ts';
import { compatibilityForVin, compatibilityMatrix } from '../catalog/compatibility.ts';
import { parseScopeParam } from '../connect-rules.ts';
import type { SimulatorEngine } from '../engine.ts';
import { headerValue, intParam, parseOrThrow, presentValue, sendJson } from './reply.ts';

const RegionSchema = z.enum(['US', 'CA', 'EUROPE']);

function listParam(value: unknown): string[] | undefined {
  const present = presentValue(value);
  return present === undefined ? undefined : present.split(/[\s+,]+/).filter(Boolean);
}

/**
 * Makes named in a space-separated list, where a make may itself hold a space (`LAND ROVER`): each brand
 * whose make (or DOM id, or make with `_`) appears as a whole run of words is selected.
 */
function makesParam(value: unknown): string[] | undefined {
  const words = listParam(value);
  if (words === undefined) return undefined;
  const padded = ` ${words.join(' ').toUpperCase()} `;
  return BRANDS.filter((b) =>
    [b.make, b.id, b.make.replace(/ /g, '_')].some((name) => padded.includes(` ${name} `)),
  ).map((b) => b.make);
}

/** Opaque paging cursor of the management API: the offset, base64url-encoded. */
function decodeCursor(value: unknown): number {
  const present = presentValue(value);
  if (present === undefined) return 0;
  const offset = Number(Buffer.from(present, 'base64url').toString('utf8'));
  if (!Number.isInteger(offset) || offset < 0) {
    throw new ApiError('VALIDATION', 'PARAMETER', {
      detail: [{ field: ['cursor'], message: '"cursor" is not valid' }],
    });
  }
  return offset;
}

/** User-level endpoints, compatibility (client credentials) and management connections (AMT). */
export function registerPlatformRoutes(app: FastifyInstance, engine: SimulatorEngine): void {
  app.get('/v2.0/vehicles', (request, reply) => {
    const access = engine.accessFor(headerValue(request, 'authorization'));
    const query = request.query as Record<string, unknown>;
    const limit = intParam(query['limit'], 'limit', 10, 50);
    const offset = intParam(query['offset'], 'offset', 0);
    const ids = access.grant.vehicles.map((v) => v.vehicleId);
    return sendJson(request, reply, 200, {
      paging: { count: ids.length, offset },
      vehicles: ids.slice(offset, offset + limit),
    });
  });

  app.get('/v2.0/user', (request, reply) => {
    const access = engine.accessFor(headerValue(request, 'authorization'));
    return sendJson(request, reply, 200, { id: access.grant.userId });
  });

  app.get('/v2.0/compatibility', (request, reply) => {
    if (engine.authenticateClient(headerValue(request, 'authorization')) === undefined) {
      throw new ApiError('AUTHENTICATION', null);
    }
    const query = request.query as Record<string, unknown>;
    const vin = presentValue(query['vin']);
    if (vin === undefined || vin.length !== 17) {
      throw new ApiError('VALIDATION', 'PARAMETER', {
        detail: [{ field: ['vin'], message: '"vin" must be 17 characters' }],
      });
    }
    const parsed = parseScopeParam(presentValue(query['scope']) ?? '');
    if ('unknown' in parsed || presentValue(query['scope']) === undefined) {
      throw new ApiError('VALIDATION', 'PARAMETER', {
        detail: [{ field: ['scope'], message: '"scope" must list known permissions' }],
      });
    }
    const country = (presentValue(query['country']) ?? 'US').toUpperCase();
    const known = engine.store.findVehicleByVin(vin);
    const spec = known === undefined ? undefined : engine.specOf(known);
    const currentYear = new Date(engine.now()).getUTCFullYear();
    return sendJson(request, reply, 200, compatibilityForVin(vin, parsed.scopes, country, spec, currentYear));
  });

  app.get('/v2.0/compatibility/matrix', (request, reply) => {
    if (engine.authenticateClient(headerValue(request, 'authorization')) === undefined) {
      throw new ApiError('AUTHENTICATION', null);
    }
    const query = request.query as Record<string, unknown>;
    const region = parseOrThrow(RegionSchema, (presentValue(query['region']) ?? 'US').toUpperCase());
    const filter: Parameters<typeof compatibilityMatrix>[0] = { region };
    const types = listParam(query['type'])?.map((t) => t.toUpperCase());
    const makes = makesParam(query['make']);
    const scopes = listParam(query['scope']);
    if (types !== undefined) filter.types = types;
    if (makes !== undefined) filter.makes = makes;
    if (scopes !== undefined) filter.scopes = scopes;
    return sendJson(request, reply, 200, compatibilityMatrix(filter));
  });

  app.get('/v2.0/management/connections', (request, reply) => {
    const owner = engine.authenticateManagement(headerValue(request, 'authorization'));
    if (owner === undefined) throw new ApiError('AUTHENTICATION', null);
    const query = request.query as Record<string, unknown>;
    const limit = intParam(query['limit'], 'limit', 10, 100);
    const offset = decodeCursor(query['cursor']);
    const all = engine.connections(owner, connectionFilter(query));
    const page = all.slice(offset, offset + limit);
    const next =
      offset + limit < all.length ? Buffer.from(String(offset + limit)).toString('base64url') : null;
    return sendJson(request, reply, 200, { connections: page, paging: { cursor: next } });
  });

  app.delete('/v2.0/management/connections', (request, reply) => {
    const owner = engine.authenticateManagement(headerValue(request, 'authorization'));
    if (owner === undefined) throw new ApiError('AUTHENTICATION', null);
    const filter = connectionFilter(request.query as Record<string, unknown>);
    if (filter.userId === undefined && filter.vehicleId === undefined) {
      throw new ApiError('VALIDATION', 'PARAMETER', {
        detail: [{ field: ['user_id'], message: 'give "user_id" or "vehicle_id"' }],
      });
    }
    return sendJson(request, reply, 200, { connections: engine.deleteConnections(owner, filter) });
  });
}

function connectionFilter(query: Record<string, unknown>): { userId?: string; vehicleId?: string } {
  const filter: { userId?: string; vehicleId?: string } = {};
  const userId = presentValue(query['user_id']);
  const vehicleId = presentValue(query['vehicle_id']);
  if (userId !== undefined) filter.userId = userId;
  if (vehicleId !== undefined) filter.vehicleId = vehicleId;
  return filter;
}
