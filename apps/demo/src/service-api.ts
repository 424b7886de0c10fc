import type { ServiceTransport } from '@voltkit/mqtt-bridge';
import { CommandViewSchema, VehicleViewSchema, type SmartChargingHttp } from '@voltkit/smart-charging';
import { z } from 'zod';

const EnrollmentSchema = z.object({ connectUrl: z.string().url(), expiresAt: z.string() });
const GrantSchema = z.object({ id: z.string(), status: z.string() });
const PricesSchema = z.object({
  source: z.string(),
  slots: z.array(z.object({ start: z.string(), end: z.string(), pricePerKwh: z.number() })),
  missing: z.array(z.object({ start: z.string(), end: z.string() })),
  problem: z.string().nullable(),
});
/** Preferences travel as the API has them; only the fields the demo changes are typed here. */
const PreferencesSchema = z.looseObject({
  departures: z.record(z.string(), z.string().nullable()),
  targetSoc: z.number(),
  minimumSoc: z.number(),
  chargerPowerKw: z.number(),
});
export type Preferences = z.infer<typeof PreferencesSchema>;
export type CommandView = z.infer<typeof CommandViewSchema>;
export type VehicleView = z.infer<typeof VehicleViewSchema>;

export class ServiceApiError extends Error {
  override name = 'ServiceApiError';
}

/**
 * The smart-charging service through its own HTTP API (fastify's in-process `inject`: the same routes,
 * validation and answers as over the network). Every answer is parsed with zod.
 */
export function createServiceApi(http: Pick<SmartChargingHttp, 'app'>, adminToken: string) {
  async function send(method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) {
    return http.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  }
  async function call<T>(
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    schema: z.ZodType<T>,
    body?: unknown,
  ): Promise<T> {
    const response = await send(method, url, body);
    if (response.statusCode >= 300) {
      throw new ServiceApiError(
        `${method} ${url.split('?')[0]} answered ${response.statusCode}: ${response.body.slice(0, 300)}`,
      );
    }
    return schema.parse(response.json());
  }
  /** Every item of a paged list, following its cursors. */
  async function all<T>(url: string, item: z.ZodType<T>): Promise<T[]> {
    const page = z.object({ items: z.array(item), nextCursor: z.string().nullable() });
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const next: z.infer<typeof page> = await call(
        'GET',
        `${url}?limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        page,
      );
      items.push(...next.items);
      cursor = next.nextCursor;
    } while (cursor !== null);
    return items;
  }
  return {
    /**
     * A Connect link and the cookie that binds it to the "browser" that asked (the demo's Connect walk
     * carries it to the callback, as a browser would).
     */
    async startEnrollment(ownerName: string, make: string | undefined) {
      const response = await send('POST', '/api/enrollments', {
        ownerName,
        ...(make === undefined ? {} : { make }),
      });
      if (response.statusCode !== 201)
        throw new ServiceApiError(
          `POST /api/enrollments answered ${response.statusCode}: ${response.body.slice(0, 300)}`,
        );
      const binding = response.cookies.find((cookie) => cookie.name === 'vk_connect');
      if (!binding) throw new ServiceApiError('POST /api/enrollments set no Connect cookie');
      return { ...EnrollmentSchema.parse(response.json()), cookie: `${binding.name}=${binding.value}` };
    },
    activeGrantIds: async () =>
      (await all('/api/grants', GrantSchema))
        .filter((grant) => grant.status === 'active')
        .map((grant) => grant.id),
    vehicles: () => all('/api/vehicles', VehicleViewSchema),
    preferences: (vehicleId: string) =>
      call('GET', `/api/vehicles/${encodeURIComponent(vehicleId)}/preferences`, PreferencesSchema),
    setPreferences: (vehicleId: string, preferences: Preferences) =>
      call('PUT', `/api/vehicles/${encodeURIComponent(vehicleId)}/preferences`, z.unknown(), preferences),
    setGrid: (limitKw: number, baseLoadKwhPerYear: number, limitMode: 'average' | 'hard' = 'average') =>
      call('PUT', '/api/grid', z.unknown(), { limitKw, baseLoadKwhPerYear, limitMode }),
    commands: () => all('/api/commands', CommandViewSchema),
    prices: (from: Date, to: Date) =>
      call('GET', `/api/prices?from=${from.toISOString()}&to=${to.toISOString()}`, PricesSchema),
  };
}

export type ServiceApi = ReturnType<typeof createServiceApi>;

/**
 * The bridge's smart-charging link in one process: the service's own routes through fastify's `inject`
 * (no socket, no port), with an operator token. The same routes as a standalone bridge calls over HTTP,
 * so access rules, validation and re-planning cannot differ between the two layouts.
 */
export function injectTransport(http: Pick<SmartChargingHttp, 'app'>, token: string): ServiceTransport {
  return async (method, path, body) => {
    const response = await http.app.inject({
      method,
      url: `/${path}`,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    const text = response.body;
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: response.statusCode, body: parsed };
  };
}
