import type { z } from 'zod';
import type { Grant } from '../client/client.ts';
import {
  type FetchLike,
  fetchTransport,
  type HttpConfig,
  type HttpResponse,
  nodeTransport,
  resolveRetry,
  type RetryOptions,
  send,
} from '../client/http.ts';
import { isVoltkitError, VoltkitError } from '../errors.ts';
import type { ResponseMeta, UnitSystem } from '../types/common.ts';
import {
  ApplicationTokenResponseSchema,
  type CommandExecution,
  CommandExecutionSchema,
  type Signal,
  SignalResourceSchema,
  SignalsPageBodySchema,
  type SignalResource,
  typeSignal,
  type UnrecognizedSignal,
  type V3CommandType,
  type V3Vehicle,
  V3VehicleSchema,
} from './schemas.ts';
import { isSignalCode, type SignalCode } from './signals.ts';
import { v3ErrorTransport } from './transport.ts';

/** Where the v3 API and the application-token endpoint live. */
export interface V3Origins {
  /** Vehicle API v3. @default 'https://vehicle.api.smartcar.com' */
  vehicle: string;
  /** Client-credentials token endpoint (`POST /oauth2/token`). @default 'https://iam.smartcar.com' */
  iam: string;
}

export const DEFAULT_V3_ORIGINS: Readonly<V3Origins> = {
  vehicle: 'https://vehicle.api.smartcar.com',
  iam: 'https://iam.smartcar.com',
};

export interface V3ClientOptions {
  /** API credentials (the application token is requested with them). */
  clientId: string;
  clientSecret: string;
  /** One origin for both parts (a simulator). `origins` wins per part. */
  origin?: string | undefined;
  origins?: Partial<V3Origins> | undefined;
  fetch?: FetchLike | undefined;
  /** Retry policy for reads; `false` turns retries off. Commands are never retried. */
  retry?: RetryOptions | false | undefined;
  /** @default 30_000 */
  timeoutMs?: number | undefined;
  /** @default 'metric' */
  unitSystem?: UnitSystem | undefined;
  /** Renew the application token when it expires within this many ms (at most half its life). @default 60_000 */
  refreshMarginMs?: number | undefined;
  now?: (() => number) | undefined;
  userAgent?: string | undefined;
}

export interface V3CallOptions {
  signal?: AbortSignal | undefined;
  unitSystem?: UnitSystem | undefined;
}

/** One page of signals: the typed ones, and those whose code this version does not know. */
export interface SignalsPage {
  signals: Signal[];
  unrecognized: UnrecognizedSignal[];
  page: number;
  pageSize: number;
  totalCount: number;
  meta: ResponseMeta;
}

export type WithResponseMeta<T> = T & { readonly meta: ResponseMeta };

export interface V3VehicleHandle {
  readonly id: string;
  /** `GET /v3/vehicles/{id}`. */
  get(options?: V3CallOptions): Promise<WithResponseMeta<V3Vehicle>>;
  /** One page of `GET /v3/vehicles/{id}/signals` (pages start at 1). */
  signals(options?: V3CallOptions & { page?: number; pageSize?: number }): Promise<SignalsPage>;
  /** Every signal, following the pages. */
  allSignals(options?: V3CallOptions): Promise<{ signals: Signal[]; unrecognized: UnrecognizedSignal[] }>;
  /** `GET /v3/vehicles/{id}/signals/{code}`, typed by `code`. */
  signal<TCode extends SignalCode>(
    code: TCode,
    options?: V3CallOptions,
  ): Promise<WithResponseMeta<Signal<TCode>>>;
  startCharge(options?: V3CallOptions): Promise<WithResponseMeta<CommandExecution>>;
  stopCharge(options?: V3CallOptions): Promise<WithResponseMeta<CommandExecution>>;
  /** `percent` in 50..100. */
  setChargeLimit(percent: number, options?: V3CallOptions): Promise<WithResponseMeta<CommandExecution>>;
  lock(options?: V3CallOptions): Promise<WithResponseMeta<CommandExecution>>;
  unlock(options?: V3CallOptions): Promise<WithResponseMeta<CommandExecution>>;
}

export interface V3Client {
  readonly origins: Readonly<V3Origins>;
  /** A valid application token (client credentials; cached and renewed before it expires). */
  applicationToken(options?: { signal?: AbortSignal | undefined }): Promise<string>;
  /** A vehicle of one of the app's users: application token plus `sc-user-id`. */
  vehicle(
    vehicleId: string,
    options: { userId: string; unitSystem?: UnitSystem | undefined },
  ): V3VehicleHandle;
  /** A vehicle read with a v2 grant's user access token (refreshed once if it is rejected). */
  vehicleWithGrant(vehicleId: string, grant: Grant, options?: { unitSystem?: UnitSystem }): V3VehicleHandle;
}

const COMMAND_PATHS: Readonly<Record<V3CommandType, string>> = {
  'charge-start': 'charge/start',
  'charge-stop': 'charge/stop',
  'charge-set-limit': 'charge/set-limit',
  'security-lock': 'security/lock',
  'security-unlock': 'security/unlock',
};

/** Pages are bounded so that a server that never ends its paging cannot loop the client forever. */
const MAX_SIGNAL_PAGES = 100;
const SIGNALS_PAGE_SIZE = 50;

interface Authorizer {
  headers(): Promise<Record<string, string>>;
  /** After a 401: renew credentials once; `false` when there is nothing to renew. */
  renew(rejected: Record<string, string>): Promise<boolean>;
  secrets(): string[];
}

/**
 * Creates a client for Smartcar's Vehicle API v3 (signals, v3 commands, application tokens) or a
 * compatible server. Errors, retries and timeouts are those of the v2.0 client.
 * @example
 * const v3 = createV3Client({ clientId, clientSecret, origin: 'http://127.0.0.1:4010' });
 * const soc = await v3.vehicle(vehicleId, { userId }).signal('tractionbattery-stateofcharge');
 * soc.body?.value; // number, percent
 */
export function createV3Client(options: V3ClientOptions): V3Client {
  if (options.clientId === '' || options.clientSecret === '') {
    throw new VoltkitError({
      type: 'INVALID_INPUT',
      code: 'ARGUMENT',
      description: 'clientId and clientSecret are required.',
    });
  }
  const single = options.origin === undefined ? {} : { vehicle: options.origin, iam: options.origin };
  const origins: V3Origins = { ...DEFAULT_V3_ORIGINS, ...single, ...options.origins };
  origins.vehicle = origins.vehicle.replace(/\/+$/, '');
  origins.iam = origins.iam.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const refreshMarginMs = options.refreshMarginMs ?? 60_000;
  const defaultUnits = options.unitSystem ?? 'metric';
  const http: HttpConfig = {
    transport: v3ErrorTransport(
      options.fetch === undefined ? nodeTransport() : fetchTransport(options.fetch),
    ),
    timeoutMs: options.timeoutMs ?? 30_000,
    retry: resolveRetry(options.retry),
    userAgent: options.userAgent ?? 'voltkit/0.1 (node)',
  };
  const appSecrets = [options.clientSecret];
  const knownTokens = new Set<string>();

  let appToken: { token: string; expiresAt: number; renewAt: number } | undefined;
  let appTokenFlight: Promise<string> | undefined;

  function fetchApplicationToken(signal: AbortSignal | undefined): Promise<string> {
    if (appTokenFlight !== undefined) return appTokenFlight;
    const flight = (async () => {
      const requestedAt = now();
      const response = await send(http, {
        method: 'POST',
        url: `${origins.iam}/oauth2/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: options.clientId,
          client_secret: options.clientSecret,
        }).toString(),
        schema: ApplicationTokenResponseSchema,
        retryable: true,
        signal,
        secrets: [...appSecrets, ...knownTokens],
        label: 'POST /oauth2/token (client credentials)',
      });
      const lifetime = response.body.expires_in * 1000;
      knownTokens.add(response.body.access_token);
      appToken = {
        token: response.body.access_token,
        expiresAt: requestedAt + lifetime,
        renewAt: requestedAt + lifetime - Math.min(refreshMarginMs, lifetime / 2),
      };
      return appToken.token;
    })().finally(() => {
      appTokenFlight = undefined;
    });
    appTokenFlight = flight;
    return flight;
  }

  async function applicationToken(call?: { signal?: AbortSignal | undefined }): Promise<string> {
    if (appToken !== undefined && now() < appToken.renewAt) return appToken.token;
    return fetchApplicationToken(call?.signal);
  }

  function userAuthorizer(userId: string): Authorizer {
    if (userId === '') {
      throw new VoltkitError({
        type: 'INVALID_INPUT',
        code: 'ARGUMENT',
        description: 'userId is required: it is sent as sc-user-id with the application token.',
      });
    }
    return {
      headers: async () => ({ authorization: `Bearer ${await applicationToken()}`, 'sc-user-id': userId }),
      async renew(rejected) {
        // Only renew the token that was refused; a concurrent caller may have renewed it already.
        if (appToken !== undefined && rejected['authorization'] === `Bearer ${appToken.token}`) {
          appToken = undefined;
        }
        await applicationToken();
        return true;
      },
      secrets: () => [...appSecrets, ...knownTokens],
    };
  }

  function grantAuthorizer(grant: Grant): Authorizer {
    return {
      async headers() {
        const token = await grant.accessToken();
        knownTokens.add(token);
        return { authorization: `Bearer ${token}` };
      },
      async renew() {
        knownTokens.add((await grant.refresh()).accessToken);
        return true;
      },
      secrets: () => [...appSecrets, ...knownTokens],
    };
  }

  function handle(vehicleId: string, auth: Authorizer, unitSystem: UnitSystem): V3VehicleHandle {
    if (vehicleId === '') {
      throw new VoltkitError({
        type: 'INVALID_INPUT',
        code: 'ARGUMENT',
        description: 'vehicleId is required.',
      });
    }
    const base = `/v3/vehicles/${encodeURIComponent(vehicleId)}`;

    async function call<T>(request: {
      method: 'GET' | 'POST';
      path: string;
      label: string;
      schema: z.ZodType<T, unknown>;
      query?: Record<string, string>;
      body?: unknown;
      options: V3CallOptions | undefined;
    }): Promise<HttpResponse<T>> {
      const query = request.query === undefined ? '' : `?${new URLSearchParams(request.query).toString()}`;
      const attempt = async (headers: Record<string, string>) =>
        send(http, {
          method: request.method,
          url: `${origins.vehicle}${base}${request.path}${query}`,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'sc-unit-system': request.options?.unitSystem ?? unitSystem,
          },
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          schema: request.schema,
          retryable: request.method === 'GET',
          signal: request.options?.signal,
          secrets: auth.secrets(),
          label: request.label,
        });
      const headers = await auth.headers();
      try {
        return await attempt(headers);
      } catch (error) {
        // The credentials were refused before anything ran: renew once and send again.
        if (!isVoltkitError(error) || error.type !== 'AUTHENTICATION' || error.status !== 401) throw error;
        if (!(await auth.renew(headers))) throw error;
        return attempt(await auth.headers());
      }
    }

    const pageOf = (body: { data: SignalResource[] }, meta: ResponseMeta) => {
      const signals: Signal[] = [];
      const unrecognized: UnrecognizedSignal[] = [];
      body.data.forEach((resource, index) => {
        const typed = typeSignal({ ...resource.attributes, meta: resource.meta }, [
          'data',
          index,
          'attributes',
        ]);
        if (isSignalCode(typed.code)) signals.push(typed as Signal);
        else unrecognized.push(typed);
      });
      return { signals, unrecognized, meta };
    };

    const command = async (type: V3CommandType, callOptions: V3CallOptions | undefined, body?: unknown) => {
      const response = await call({
        method: 'POST',
        path: `/commands/${COMMAND_PATHS[type]}`,
        label: `POST /v3/vehicles/{id}/commands/${COMMAND_PATHS[type]}`,
        schema: CommandExecutionSchema,
        body: body ?? {},
        options: callOptions,
      });
      return { ...response.body, meta: response.meta };
    };

    const self: V3VehicleHandle = {
      id: vehicleId,
      async get(callOptions) {
        const response = await call({
          method: 'GET',
          path: '',
          label: 'GET /v3/vehicles/{id}',
          schema: V3VehicleSchema,
          options: callOptions,
        });
        return { ...response.body, meta: response.meta };
      },
      async signals(callOptions) {
        const page = callOptions?.page ?? 1;
        const pageSize = callOptions?.pageSize ?? SIGNALS_PAGE_SIZE;
        if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1) {
          throw new VoltkitError({
            type: 'INVALID_INPUT',
            code: 'ARGUMENT',
            description: 'page and pageSize must be integers of at least 1.',
          });
        }
        const response = await call({
          method: 'GET',
          path: '/signals',
          label: 'GET /v3/vehicles/{id}/signals',
          schema: SignalsPageBodySchema,
          query: { page: String(page), pageSize: String(pageSize) },
          options: callOptions,
        });
        return { ...pageOf(response.body, response.meta), ...response.body.meta };
      },
      async allSignals(callOptions) {
        const signals: Signal[] = [];
        const unrecognized: UnrecognizedSignal[] = [];
        for (let page = 1; page <= MAX_SIGNAL_PAGES; page++) {
          const result = await self.signals({ ...callOptions, page, pageSize: SIGNALS_PAGE_SIZE });
          signals.push(...result.signals);
          unrecognized.push(...result.unrecognized);
          const seen = signals.length + unrecognized.length;
          if (result.signals.length + result.unrecognized.length === 0 || seen >= result.totalCount) break;
        }
        return { signals, unrecognized };
      },
      async signal<TCode extends SignalCode>(code: TCode, callOptions?: V3CallOptions) {
        if (!isSignalCode(code)) {
          throw new VoltkitError({
            type: 'INVALID_INPUT',
            code: 'ARGUMENT',
            description: `"${String(code)}" is not a signal code this version types.`,
          });
        }
        const response = await call({
          method: 'GET',
          path: `/signals/${encodeURIComponent(code)}`,
          label: `GET /v3/vehicles/{id}/signals/${code}`,
          schema: SignalResourceSchema,
          options: callOptions,
        });
        const resource = response.body;
        const typed = typeSignal({ ...resource.attributes, meta: resource.meta }, ['attributes']);
        if (typed.code !== code) {
          throw new VoltkitError({
            type: 'INVALID_RESPONSE',
            code: 'BODY',
            description: `asked for signal ${code}, the server answered ${typed.code}`,
            status: response.status,
            requestId: response.meta.requestId,
          });
        }
        return { ...(typed as Signal<TCode>), meta: response.meta } as WithResponseMeta<Signal<TCode>>;
      },
      startCharge: (callOptions) => command('charge-start', callOptions),
      stopCharge: (callOptions) => command('charge-stop', callOptions),
      setChargeLimit(percent, callOptions) {
        if (!Number.isFinite(percent) || percent < 50 || percent > 100) {
          return Promise.reject(
            new VoltkitError({
              type: 'INVALID_INPUT',
              code: 'ARGUMENT',
              description: `percent must be between 50 and 100, got ${percent}.`,
            }),
          );
        }
        return command('charge-set-limit', callOptions, { data: { attributes: { percent } } });
      },
      lock: (callOptions) => command('security-lock', callOptions),
      unlock: (callOptions) => command('security-unlock', callOptions),
    };
    return self;
  }

  return {
    origins,
    applicationToken,
    vehicle: (vehicleId, vehicleOptions) =>
      handle(vehicleId, userAuthorizer(vehicleOptions.userId), vehicleOptions.unitSystem ?? defaultUnits),
    vehicleWithGrant: (vehicleId, grant, vehicleOptions) =>
      handle(vehicleId, grantAuthorizer(grant), vehicleOptions?.unitSystem ?? defaultUnits),
  };
}
