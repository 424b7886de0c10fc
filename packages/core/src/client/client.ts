import { isVoltkitError, VoltkitError } from '../errors.ts';
import { isScope } from '../permissions/check.ts';
import type { Scope } from '../permissions/catalog.ts';
import {
  type Compatibility,
  type CompatibilityMatrix,
  CompatibilityMatrixSchema,
  type CompatibilityRegion,
  CompatibilitySchema,
  type ConnectMode,
  type Connections,
  ConnectionsSchema,
  type DeletedConnections,
  DeletedConnectionsSchema,
  type Powertrain,
} from '../types/app.ts';
import { type Access, TokenResponseSchema } from '../types/auth.ts';
import {
  type PagingOptions,
  type StatusResponse,
  StatusResponseSchema,
  type UnitSystem,
  type WithMeta,
} from '../types/common.ts';
import { type User, UserSchema, type VehicleList, VehicleListSchema } from '../types/vehicle.ts';
import {
  type AuthUrlOptions,
  buildAuthUrl,
  type CallbackResult,
  type Flags,
  formatFlags,
  parseCallback,
  scopeParam,
  toAccess,
} from './auth.ts';
import {
  type FetchLike,
  fetchTransport,
  type HttpConfig,
  type HttpResponse,
  resolveRetry,
  type RetryOptions,
  send,
  undiciTransport,
} from './http.ts';
import { memoryTokenStore, type TokenStore } from './token-store.ts';
import { type ApiCall, type ApiCaller, createVehicleHandle, type VehicleHandle } from './vehicle.ts';

/** Where each part of the API lives. */
export interface Origins {
  /** Vehicle API v2.0. @default 'https://api.smartcar.com' */
  api: string;
  /** Connect (OAuth authorize UI). @default 'https://connect.smartcar.com' */
  connect: string;
  /** Token endpoint. @default 'https://auth.smartcar.com' */
  auth: string;
  /** Management API. @default 'https://management.smartcar.com' */
  management: string;
}

export const DEFAULT_ORIGINS: Readonly<Origins> = {
  api: 'https://api.smartcar.com',
  connect: 'https://connect.smartcar.com',
  auth: 'https://auth.smartcar.com',
  management: 'https://management.smartcar.com',
};

export interface ClientOptions {
  clientId: string;
  clientSecret: string;
  /** Must equal a redirect URI of the application; used in Connect and the code exchange. */
  redirectUri?: string | undefined;
  /** One origin for api, connect, auth and management (a simulator). `origins` wins per part. */
  origin?: string | undefined;
  origins?: Partial<Origins> | undefined;
  /** A WHATWG `fetch` to send requests with. @default undici with keep-alive connections */
  fetch?: FetchLike | undefined;
  /** @default memoryTokenStore() */
  tokenStore?: TokenStore | undefined;
  /** Retry policy for safe requests; `false` turns retries off. */
  retry?: RetryOptions | false | undefined;
  /** Timeout of one attempt. @default 30_000 */
  timeoutMs?: number | undefined;
  /** Default unit system of vehicle handles. @default 'metric' */
  unitSystem?: UnitSystem | undefined;
  /** Refresh the access token when it expires within this many ms. @default 300_000 */
  refreshMarginMs?: number | undefined;
  /** Clock (ms since epoch), injectable for tests. @default Date.now */
  now?: (() => number) | undefined;
  userAgent?: string | undefined;
}

export interface ExchangeOptions {
  /** The id the tokens are stored under (your user or grant id). */
  grantId: string;
  flags?: Flags | undefined;
  signal?: AbortSignal | undefined;
}

export interface VehicleHandleOptions<TScopes extends readonly Scope[]> {
  /** The scopes the grant holds (as requested in Connect); they decide which methods exist. */
  scopes: TScopes;
  unitSystem?: UnitSystem | undefined;
  flags?: Flags | undefined;
}

/** One owner's authorisation: tokens from the store, refreshed automatically. */
export interface Grant {
  readonly id: string;
  /** A valid access token (refreshed first if it is about to expire). */
  accessToken(): Promise<string>;
  /** Refreshes now (at most one refresh per grant in flight). */
  refresh(): Promise<Access>;
  user(options?: { signal?: AbortSignal | undefined }): Promise<WithMeta<User>>;
  vehicles(options?: PagingOptions & { signal?: AbortSignal | undefined }): Promise<WithMeta<VehicleList>>;
  /** Every vehicle id of the grant, following the pages. */
  allVehicleIds(options?: { signal?: AbortSignal | undefined }): Promise<string[]>;
  /** A handle whose methods follow from `scopes` (checked at compile time and again before sending). */
  vehicle<const TScopes extends readonly Scope[]>(
    vehicleId: string,
    options: VehicleHandleOptions<TScopes>,
  ): VehicleHandle<TScopes[number]>;
  /**
   * A handle built from the permissions the grant actually holds (`GET /permissions`, all pages). Its type
   * allows only scope-free methods; narrow it with `handle.can('read_battery')`.
   */
  vehicleFromPermissions(
    vehicleId: string,
    options?: {
      unitSystem?: UnitSystem | undefined;
      flags?: Flags | undefined;
      signal?: AbortSignal | undefined;
    },
  ): Promise<VehicleHandle<never>>;
  /** Forgets the grant's tokens. */
  forget(): Promise<void>;
}

export interface CompatibilityOptions {
  vin: string;
  scope: readonly Scope[];
  /** @default 'US' */
  country?: string | undefined;
  mode?: ConnectMode | undefined;
  flags?: Flags | undefined;
  /** Simulated answer in test mode (forces `mode=test`). */
  testModeCompatibilityLevel?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface CompatibilityMatrixOptions {
  region: CompatibilityRegion;
  scope?: readonly Scope[] | undefined;
  make?: readonly string[] | string | undefined;
  type?: Powertrain | undefined;
  mode?: ConnectMode | undefined;
  signal?: AbortSignal | undefined;
}

export interface ConnectionsFilter {
  userId?: string | undefined;
  vehicleId?: string | undefined;
  /** ≤ 100. @default 10 */
  limit?: number | undefined;
  cursor?: string | undefined;
  mode?: ConnectMode | undefined;
  signal?: AbortSignal | undefined;
}

export interface VoltkitClient {
  readonly origins: Readonly<Origins>;
  /** The Connect URL to send the owner to. */
  getAuthUrl(options?: AuthUrlOptions): string;
  /** Reads Connect's redirect; throws an `OAUTH` error for `?error=`. */
  parseCallback(url: string | URL): CallbackResult;
  /** Exchanges an authorization code and stores the tokens under `grantId` before returning them. */
  exchangeCode(code: string, options: ExchangeOptions): Promise<Access>;
  /** Refreshes the tokens of a stored grant now. */
  refreshGrant(grantId: string): Promise<Access>;
  /** Stores tokens obtained elsewhere under `grantId`. */
  importGrant(grantId: string, access: Access): Promise<void>;
  grant(grantId: string): Grant;
  compatibility(options: CompatibilityOptions): Promise<WithMeta<Compatibility>>;
  compatibilityMatrix(options: CompatibilityMatrixOptions): Promise<WithMeta<{ data: CompatibilityMatrix }>>;
  /** Management API: the app's connections (Basic auth with the application management token). */
  connections(amt: string, filter?: ConnectionsFilter): Promise<WithMeta<Connections>>;
  deleteConnections(
    amt: string,
    filter:
      { userId: string; vehicleId?: string | undefined } | { userId?: string | undefined; vehicleId: string },
    options?: { signal?: AbortSignal | undefined },
  ): Promise<WithMeta<DeletedConnections>>;
  /** Webhook unsubscribe with the application management token. */
  unsubscribe(
    amt: string,
    target: { vehicleId: string; webhookId: string },
    options?: { signal?: AbortSignal | undefined },
  ): Promise<WithMeta<Partial<StatusResponse>>>;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function withQuery(url: string, query: Readonly<Record<string, string | undefined>> | undefined): string {
  if (query === undefined) return url;
  const parts: string[] = [];
  for (const key in query) {
    const value = query[key];
    if (value !== undefined) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  }
  return parts.length === 0 ? url : `${url}?${parts.join('&')}`;
}

function trimOrigin(origin: string): string {
  return origin.replace(/\/+$/, '');
}

/**
 * Creates a client for the Smartcar v2.0 API or any compatible server.
 * @example
 * const smartcar = createClient({ clientId, clientSecret, redirectUri, origin: 'http://127.0.0.1:4010' });
 * const car = smartcar.grant('owner-1').vehicle(id, { scopes: ['read_battery'] });
 * const { percentRemaining } = await car.battery();
 */
export function createClient(options: ClientOptions): VoltkitClient {
  if (options.clientId === '' || options.clientSecret === '') {
    throw new VoltkitError({
      type: 'INVALID_INPUT',
      code: 'ARGUMENT',
      description: 'clientId and clientSecret are required.',
    });
  }
  const single =
    options.origin === undefined
      ? {}
      : { api: options.origin, connect: options.origin, auth: options.origin, management: options.origin };
  const origins: Origins = { ...DEFAULT_ORIGINS, ...single, ...options.origins };
  for (const key of Object.keys(origins) as (keyof Origins)[]) origins[key] = trimOrigin(origins[key]);
  const store = options.tokenStore ?? memoryTokenStore();
  const now = options.now ?? Date.now;
  const refreshMarginMs = options.refreshMarginMs ?? 300_000;
  const defaultUnitSystem = options.unitSystem ?? 'metric';
  const http: HttpConfig = {
    transport: options.fetch === undefined ? undiciTransport() : fetchTransport(options.fetch),
    timeoutMs: options.timeoutMs ?? 30_000,
    retry: resolveRetry(options.retry),
    userAgent: options.userAgent ?? 'voltkit/0.1 (node)',
  };
  const clientBasic = basic(options.clientId, options.clientSecret);
  const appSecrets = [options.clientSecret, clientBasic.slice('Basic '.length)];

  /** Tokens that were issued but could not be written to the store yet: never used until they are. */
  const unsaved = new Map<string, Access>();
  const inflight = new Map<string, Promise<Access>>();
  /** When this process received an access token: short-lived tokens get a proportionally short margin. */
  const receivedAt = new Map<string, number>();
  /** Every token this client has seen, to scrub from error texts. */
  const knownTokens = new Set<string>();

  const remember = (access: Access): void => {
    knownTokens.add(access.accessToken);
    knownTokens.add(access.refreshToken);
  };
  const secrets = (...extra: string[]): string[] => [...appSecrets, ...knownTokens, ...extra];
  const knownSecrets = (): string[] => secrets();

  async function persist(grantId: string, access: Access): Promise<void> {
    remember(access);
    unsaved.set(grantId, access);
    try {
      await store.set(grantId, access);
    } catch (cause) {
      throw new VoltkitError({
        type: 'UNKNOWN',
        code: 'UNKNOWN',
        description:
          'The token store could not save the new tokens. They are kept in memory, not used, and saving is retried on the next call.',
        cause,
      });
    }
    if (unsaved.get(grantId) === access) unsaved.delete(grantId);
  }

  async function load(grantId: string): Promise<Access> {
    const pending = unsaved.get(grantId);
    if (pending !== undefined) {
      await persist(grantId, pending);
      return pending;
    }
    const access = await store.get(grantId);
    if (access === undefined) {
      throw new VoltkitError({
        type: 'AUTHENTICATION',
        code: 'GRANT_NOT_FOUND',
        description: `No tokens are stored for the grant "${grantId}". Send the owner through Connect.`,
        resolution: { type: 'REAUTHENTICATE' },
      });
    }
    remember(access);
    return access;
  }

  async function tokenRequest(
    form: Record<string, string>,
    flags: Flags | undefined,
    signal: AbortSignal | undefined,
    label: string,
  ): Promise<Access> {
    const query =
      flags === undefined || Object.keys(flags).length === 0 ? undefined : { flags: formatFlags(flags) };
    const response = await send(http, {
      method: 'POST',
      url: withQuery(`${origins.auth}/oauth/token`, query),
      headers: {
        authorization: clientBasic,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(form).toString(),
      schema: TokenResponseSchema,
      retryable: false,
      signal,
      secrets: secrets(...Object.values(form)),
      label,
    });
    const received = now();
    const access = toAccess(response.body, received);
    receivedAt.set(access.accessToken, received);
    return access;
  }

  /** Refreshes a grant; concurrent callers share one request. `staleToken`: only refresh if still current. */
  function refresh(grantId: string, staleToken?: string): Promise<Access> {
    const running = inflight.get(grantId);
    if (running !== undefined) return running;
    const flight = (async () => {
      const current = await load(grantId);
      if (staleToken !== undefined && current.accessToken !== staleToken) return current;
      if (current.refreshExpiration.getTime() <= now()) {
        throw new VoltkitError({
          type: 'AUTHENTICATION',
          code: 'REFRESH_TOKEN_EXPIRED',
          description: `The refresh token of the grant "${grantId}" has expired. Send the owner through Connect.`,
          resolution: { type: 'REAUTHENTICATE' },
        });
      }
      const next = await tokenRequest(
        { grant_type: 'refresh_token', refresh_token: current.refreshToken },
        undefined,
        undefined,
        'POST /oauth/token (refresh)',
      );
      // Durable before use: Smartcar invalidates the old refresh token shortly after this exchange.
      await persist(grantId, next);
      return next;
    })().finally(() => inflight.delete(grantId));
    inflight.set(grantId, flight);
    return flight;
  }

  async function validAccess(grantId: string): Promise<Access> {
    const running = inflight.get(grantId);
    if (running !== undefined) return running;
    const access = await load(grantId);
    const expires = access.expiration.getTime();
    const received = receivedAt.get(access.accessToken);
    // A token that lives shorter than twice the margin is used for the first half of its life, so that a
    // server issuing short-lived tokens does not cause a refresh on every call.
    const margin =
      received === undefined ? refreshMarginMs : Math.min(refreshMarginMs, (expires - received) / 2);
    if (expires - now() > margin) return access;
    return refresh(grantId);
  }

  function appRequest<T>(
    call: Omit<ApiCall<T>, 'path'> & { url: string; authorization: string; extraSecrets?: string[] },
  ): Promise<HttpResponse<T>> {
    return send(http, {
      method: call.method,
      url: withQuery(call.url, call.query),
      headers: { authorization: call.authorization, 'content-type': 'application/json', ...call.headers },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      schema: call.schema,
      retryable: call.retryable,
      allowEmpty: call.allowEmpty,
      signal: call.signal,
      secrets: () => secrets(...(call.extraSecrets ?? [])),
      label: call.label,
    });
  }

  function grantCaller(grantId: string): ApiCaller {
    // Built directly rather than through appRequest(): this is the hot path of every vehicle call.
    const sendWith = <T>(call: ApiCall<T>, token: string): Promise<HttpResponse<T>> => {
      const headers: Record<string, string> = {
        'user-agent': http.userAgent,
        authorization: `Bearer ${call.bearer ?? token}`,
      };
      // Only a request with a body says what it is (no `content-type` on GET: fewer bytes each way).
      if (call.body !== undefined) headers['content-type'] = 'application/json';
      const extra = call.headers;
      if (extra !== undefined) for (const name in extra) headers[name] = extra[name]!;
      return send(http, {
        method: call.method,
        url: withQuery(`${origins.api}${call.path}`, call.query),
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        schema: call.schema,
        retryable: call.retryable,
        allowEmpty: call.allowEmpty,
        signal: call.signal,
        // The grant's own token is among the known ones (loaded or refreshed through this client).
        secrets: call.bearer === undefined ? knownSecrets : () => secrets(token, call.bearer ?? ''),
        label: call.label,
      });
    };
    return {
      secrets: () => secrets(),
      async call<T>(call: ApiCall<T>): Promise<HttpResponse<T>> {
        if (call.bearer !== undefined) return sendWith(call, call.bearer);
        const access = await validAccess(grantId);
        try {
          return await sendWith(call, access.accessToken);
        } catch (error) {
          // The token was rejected before anything ran: refresh once (shared) and send again.
          if (!isVoltkitError(error) || error.type !== 'AUTHENTICATION' || error.status !== 401) throw error;
          const next = await refresh(grantId, access.accessToken);
          return sendWith(call, next.accessToken);
        }
      },
    };
  }

  function grant(grantId: string): Grant {
    const caller = grantCaller(grantId);
    const userOrList = <T>(
      path: string,
      schema: ApiCall<T>['schema'],
      query: ApiCall<T>['query'],
      signal: AbortSignal | undefined,
    ) =>
      caller
        .call({ method: 'GET', path, query, schema, retryable: true, signal, label: `GET ${path}` })
        .then((response) => ({ ...(response.body as object), meta: response.meta }) as WithMeta<T>);

    const self: Grant = {
      id: grantId,
      accessToken: async () => (await validAccess(grantId)).accessToken,
      refresh: () => refresh(grantId),
      user: (call) => userOrList('/v2.0/user', UserSchema, undefined, call?.signal),
      vehicles: (call) =>
        userOrList(
          '/v2.0/vehicles',
          VehicleListSchema,
          {
            limit: call?.limit === undefined ? undefined : String(call.limit),
            offset: call?.offset === undefined ? undefined : String(call.offset),
          },
          call?.signal,
        ),
      async allVehicleIds(call) {
        const ids: string[] = [];
        // Bounded: at most 1000 pages of 50.
        for (let page = 0; page < 1000; page++) {
          const list = await self.vehicles({ limit: 50, offset: ids.length, signal: call?.signal });
          ids.push(...list.vehicles);
          if (list.vehicles.length === 0 || ids.length >= list.paging.count) break;
        }
        return ids;
      },
      vehicle: (vehicleId, handleOptions) =>
        createVehicleHandle(caller, vehicleId, handleOptions.scopes, {
          unitSystem: handleOptions.unitSystem ?? defaultUnitSystem,
          flags: handleOptions.flags,
        }),
      async vehicleFromPermissions(vehicleId, handleOptions) {
        const probe = createVehicleHandle(caller, vehicleId, [] as Scope[], {
          unitSystem: defaultUnitSystem,
        });
        const granted: Scope[] = [];
        let offset = 0;
        for (let page = 0; page < 100; page++) {
          const result = await probe.permissions({ limit: 50, offset, signal: handleOptions?.signal });
          for (const name of result.permissions)
            if (isScope(name) && !granted.includes(name)) granted.push(name);
          offset += result.permissions.length;
          if (result.permissions.length === 0 || offset >= result.paging.count) break;
        }
        return createVehicleHandle(caller, vehicleId, granted, {
          unitSystem: handleOptions?.unitSystem ?? defaultUnitSystem,
          flags: handleOptions?.flags,
        });
      },
      forget: async () => {
        unsaved.delete(grantId);
        await store.delete(grantId);
      },
    };
    return self;
  }

  return {
    origins,
    getAuthUrl: (authOptions) =>
      buildAuthUrl(origins.connect, options.clientId, options.redirectUri, authOptions),
    parseCallback,
    async exchangeCode(code, exchange) {
      const access = await tokenRequest(
        options.redirectUri === undefined
          ? { code, grant_type: 'authorization_code' }
          : { code, grant_type: 'authorization_code', redirect_uri: options.redirectUri },
        exchange.flags,
        exchange.signal,
        'POST /oauth/token (authorization code)',
      );
      await persist(exchange.grantId, access);
      return access;
    },
    refreshGrant: (grantId) => refresh(grantId),
    importGrant: (grantId, access) => persist(grantId, access),
    grant,
    async compatibility(query) {
      const response = await appRequest({
        method: 'GET',
        url: `${origins.api}/v2.0/compatibility`,
        query: {
          vin: query.vin,
          scope: scopeParam(query.scope),
          country: query.country ?? 'US',
          mode: query.testModeCompatibilityLevel === undefined ? query.mode : 'test',
          test_mode_compatibility_level: query.testModeCompatibilityLevel,
          flags: query.flags === undefined ? undefined : formatFlags(query.flags),
        },
        authorization: clientBasic,
        schema: CompatibilitySchema,
        retryable: true,
        signal: query.signal,
        label: 'GET /v2.0/compatibility',
      });
      return { ...response.body, meta: response.meta };
    },
    async compatibilityMatrix(query) {
      const response = await appRequest({
        method: 'GET',
        url: `${origins.api}/v2.0/compatibility/matrix`,
        query: {
          mode: query.mode,
          region: query.region,
          scope: query.scope === undefined ? undefined : scopeParam(query.scope),
          make:
            query.make === undefined
              ? undefined
              : typeof query.make === 'string'
                ? query.make
                : query.make.join(' '),
          type: query.type,
        },
        authorization: clientBasic,
        schema: CompatibilityMatrixSchema,
        retryable: true,
        signal: query.signal,
        label: 'GET /v2.0/compatibility/matrix',
      });
      return { data: response.body, meta: response.meta };
    },
    async connections(amt, filter = {}) {
      const response = await appRequest({
        method: 'GET',
        url: `${origins.management}/v2.0/management/connections`,
        query: {
          user_id: filter.userId,
          vehicle_id: filter.vehicleId,
          limit: filter.limit === undefined ? undefined : String(filter.limit),
          cursor: filter.cursor,
          mode: filter.mode,
        },
        authorization: basic('default', amt),
        extraSecrets: [amt, basic('default', amt).slice('Basic '.length)],
        schema: ConnectionsSchema,
        retryable: true,
        signal: filter.signal,
        label: 'GET /v2.0/management/connections',
      });
      return { ...response.body, meta: response.meta };
    },
    async deleteConnections(amt, filter, call) {
      if (filter.userId === undefined && filter.vehicleId === undefined) {
        throw new VoltkitError({
          type: 'INVALID_INPUT',
          code: 'ARGUMENT',
          description: 'deleteConnections needs a userId or a vehicleId.',
        });
      }
      const response = await appRequest({
        method: 'DELETE',
        url: `${origins.management}/v2.0/management/connections`,
        query: { user_id: filter.userId, vehicle_id: filter.vehicleId },
        authorization: basic('default', amt),
        extraSecrets: [amt, basic('default', amt).slice('Basic '.length)],
        schema: DeletedConnectionsSchema,
        retryable: false,
        signal: call?.signal,
        label: 'DELETE /v2.0/management/connections',
      });
      return { ...response.body, meta: response.meta };
    },
    async unsubscribe(amt, target, call) {
      const response = await appRequest({
        method: 'DELETE',
        url: `${origins.api}/v2.0/vehicles/${encodeURIComponent(target.vehicleId)}/webhooks/${encodeURIComponent(target.webhookId)}`,
        authorization: `Bearer ${amt}`,
        extraSecrets: [amt],
        schema: StatusResponseSchema,
        allowEmpty: true,
        retryable: false,
        signal: call?.signal,
        label: 'DELETE /v2.0/vehicles/{id}/webhooks/{webhookId}',
      });
      return { ...(response.body as StatusResponse | undefined), meta: response.meta };
    },
  };
}
