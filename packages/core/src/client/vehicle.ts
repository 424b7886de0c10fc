import { z } from 'zod';
import { type AnyVoltkitError, VoltkitError } from '../errors.ts';
import {
  type DataPath,
  normalizeVehiclePath,
  type Scope,
  VEHICLE_ENDPOINTS,
  type VehicleEndpointName,
} from '../permissions/catalog.ts';
import { checkEndpoint, checkRequest, missingScopeError, REQUIRED_PREFIX } from '../permissions/check.ts';
import { WebhookSubscriptionSchema, type WebhookSubscription } from '../types/app.ts';
import { type BatchResponse, BatchResponseSchema } from '../types/batch.ts';
import {
  type CommandResponse,
  CommandResponseSchema,
  type PagingOptions,
  type ResponseMeta,
  type StatusResponse,
  StatusResponseSchema,
  type UnitSystem,
  type WithMeta,
} from '../types/common.ts';
import {
  type Attributes,
  AttributesSchema,
  type Battery,
  type BatteryCapacity,
  BatteryCapacitySchema,
  BatterySchema,
  type Charge,
  type ChargeLimit,
  ChargeLimitSchema,
  ChargeSchema,
  type DiagnosticSystemStatus,
  DiagnosticSystemStatusSchema,
  type DiagnosticTroubleCodes,
  DiagnosticTroubleCodesSchema,
  type Disconnect,
  DisconnectSchema,
  type EngineOil,
  EngineOilSchema,
  type Fuel,
  FuelSchema,
  type Location,
  LocationSchema,
  NavigationDestinationRequestSchema,
  type LockStatus,
  LockStatusSchema,
  type NominalCapacity,
  NominalCapacitySchema,
  type Odometer,
  OdometerSchema,
  type Permissions,
  PermissionsSchema,
  type ServiceHistory,
  ServiceHistorySchema,
  type TirePressure,
  TirePressureSchema,
  type Vin,
  VinSchema,
} from '../types/vehicle.ts';
import { type Flags, formatFlags } from './auth.ts';
import { errorFromBody, type HttpResponse, parseMeta } from './http.ts';

/** The parsed body each vehicle endpoint answers with, by client method name. */
export interface VehicleResponses {
  attributes: Attributes;
  vin: Vin;
  location: Location;
  odometer: Odometer;
  battery: Battery;
  batteryCapacity: BatteryCapacity;
  nominalCapacity: NominalCapacity;
  charge: Charge;
  getChargeLimit: ChargeLimit;
  fuel: Fuel;
  tirePressure: TirePressure;
  engineOil: EngineOil;
  lockStatus: LockStatus;
  diagnosticSystemStatus: DiagnosticSystemStatus;
  diagnosticTroubleCodes: DiagnosticTroubleCodes;
  serviceHistory: ServiceHistory;
  permissions: Permissions;
  lock: CommandResponse;
  unlock: CommandResponse;
  startCharge: CommandResponse;
  stopCharge: CommandResponse;
  setChargeLimit: CommandResponse;
  sendDestination: CommandResponse;
  disconnect: Disconnect;
  subscribe: WebhookSubscription;
  unsubscribe: StatusResponse;
}

/** The schema of each endpoint's body, by client method name. */
export const ENDPOINT_SCHEMAS: {
  readonly [K in keyof VehicleResponses]: z.ZodType<VehicleResponses[K], unknown>;
} = {
  attributes: AttributesSchema,
  vin: VinSchema,
  location: LocationSchema,
  odometer: OdometerSchema,
  battery: BatterySchema,
  batteryCapacity: BatteryCapacitySchema,
  nominalCapacity: NominalCapacitySchema,
  charge: ChargeSchema,
  getChargeLimit: ChargeLimitSchema,
  fuel: FuelSchema,
  tirePressure: TirePressureSchema,
  engineOil: EngineOilSchema,
  lockStatus: LockStatusSchema,
  diagnosticSystemStatus: DiagnosticSystemStatusSchema,
  diagnosticTroubleCodes: DiagnosticTroubleCodesSchema,
  serviceHistory: ServiceHistorySchema,
  permissions: PermissionsSchema,
  lock: CommandResponseSchema,
  unlock: CommandResponseSchema,
  startCharge: CommandResponseSchema,
  stopCharge: CommandResponseSchema,
  setChargeLimit: CommandResponseSchema,
  sendDestination: CommandResponseSchema,
  disconnect: DisconnectSchema,
  subscribe: WebhookSubscriptionSchema,
  unsubscribe: StatusResponseSchema,
};

/** What a method returns for a body: arrays come as `{ data, meta }`, objects as `{ ...body, meta }`. */
export type Returned<T> = T extends readonly unknown[] ? WithMeta<{ data: T }> : WithMeta<T>;

type DataEndpointName = {
  [K in VehicleEndpointName]: (typeof VEHICLE_ENDPOINTS)[K]['kind'] extends 'data' ? K : never;
}[VehicleEndpointName];

type PathOfData<K extends DataEndpointName> = (typeof VEHICLE_ENDPOINTS)[K]['path'] extends ''
  ? '/'
  : (typeof VEHICLE_ENDPOINTS)[K]['path'];

/** Data paths a batch may ask for with the scopes `TScopes`. */
export type BatchPath<TScopes extends Scope> = {
  [K in DataEndpointName]: (typeof VEHICLE_ENDPOINTS)[K]['scope'] extends TScopes ? PathOfData<K> : never;
}[DataEndpointName];

/** The body a data path answers with. */
export type ResponseForPath<TPath extends DataPath> = {
  [K in DataEndpointName]: PathOfData<K> extends TPath ? VehicleResponses[K] : never;
}[DataEndpointName];

/** One batch item: the parsed value, or the error the item carried. */
export type BatchItem<T> =
  | { readonly ok: true; readonly value: Returned<T> }
  | { readonly ok: false; readonly error: AnyVoltkitError };

export interface BatchResult<TPath extends DataPath> {
  /** Metadata of the outer response. */
  readonly meta: ResponseMeta;
  readonly results: { readonly [P in TPath]: BatchItem<ResponseForPath<P>> };
  /** The value of one path, or throws its error. */
  get<P extends TPath>(path: P): Returned<ResponseForPath<P>>;
}

/** Options every vehicle call takes. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  flags?: Flags | undefined;
}

/** Options of data reads: the unit system overrides the handle's for this call. */
export interface ReadOptions extends CallOptions {
  unitSystem?: UnitSystem | undefined;
}

export interface ServiceHistoryOptions extends ReadOptions {
  /** `YYYY-MM-DD` or ISO date-time. */
  startDate?: string | undefined;
  endDate?: string | undefined;
}

export interface RawRequestOptions {
  body?: unknown;
  headers?: Readonly<Record<string, string>> | undefined;
  query?: Readonly<Record<string, string>> | undefined;
  unitSystem?: UnitSystem | undefined;
  signal?: AbortSignal | undefined;
}

/** Every endpoint method; a {@link VehicleHandle} exposes those its scopes allow. */
export interface VehicleMethods<TScopes extends Scope> {
  attributes(options?: ReadOptions): Promise<Returned<Attributes>>;
  vin(options?: ReadOptions): Promise<Returned<Vin>>;
  location(options?: ReadOptions): Promise<Returned<Location>>;
  odometer(options?: ReadOptions): Promise<Returned<Odometer>>;
  battery(options?: ReadOptions): Promise<Returned<Battery>>;
  batteryCapacity(options?: ReadOptions): Promise<Returned<BatteryCapacity>>;
  nominalCapacity(options?: ReadOptions): Promise<Returned<NominalCapacity>>;
  charge(options?: ReadOptions): Promise<Returned<Charge>>;
  getChargeLimit(options?: ReadOptions): Promise<Returned<ChargeLimit>>;
  fuel(options?: ReadOptions): Promise<Returned<Fuel>>;
  tirePressure(options?: ReadOptions): Promise<Returned<TirePressure>>;
  engineOil(options?: ReadOptions): Promise<Returned<EngineOil>>;
  lockStatus(options?: ReadOptions): Promise<Returned<LockStatus>>;
  diagnosticSystemStatus(options?: ReadOptions): Promise<Returned<DiagnosticSystemStatus>>;
  diagnosticTroubleCodes(options?: ReadOptions): Promise<Returned<DiagnosticTroubleCodes>>;
  serviceHistory(options?: ServiceHistoryOptions): Promise<Returned<ServiceHistory>>;
  /** Permissions of this grant on this vehicle (names without `required:`). */
  permissions(options?: ReadOptions & PagingOptions): Promise<Returned<Permissions>>;
  lock(options?: CallOptions): Promise<Returned<CommandResponse>>;
  unlock(options?: CallOptions): Promise<Returned<CommandResponse>>;
  startCharge(options?: CallOptions): Promise<Returned<CommandResponse>>;
  stopCharge(options?: CallOptions): Promise<Returned<CommandResponse>>;
  /** `limit` is a fraction in [0.5, 1]. */
  setChargeLimit(limit: number, options?: CallOptions): Promise<Returned<CommandResponse>>;
  sendDestination(
    latitude: number,
    longitude: number,
    options?: CallOptions,
  ): Promise<Returned<CommandResponse>>;
  /** Revokes this application's access to the vehicle. */
  disconnect(options?: CallOptions): Promise<Returned<Disconnect>>;
  subscribe(webhookId: string, options?: CallOptions): Promise<Returned<WebhookSubscription>>;
  /** Needs the application management token (AMT), not the owner's token. */
  unsubscribe(
    amt: string,
    webhookId: string,
    options?: CallOptions,
  ): Promise<WithMeta<Partial<StatusResponse>>>;
  /** Several reads in one request; each path's result is typed, and an error item does not fail the others. */
  batch<const TPaths extends readonly BatchPath<TScopes>[]>(
    paths: TPaths,
    options?: ReadOptions,
  ): Promise<BatchResult<TPaths[number]>>;
}

/** Method names the scopes `TScopes` allow (endpoints without a scope are always allowed). */
export type AllowedMethod<TScopes extends Scope> = {
  [K in VehicleEndpointName]: (typeof VEHICLE_ENDPOINTS)[K]['scope'] extends null
    ? K
    : (typeof VEHICLE_ENDPOINTS)[K]['scope'] extends TScopes
      ? K
      : never;
}[VehicleEndpointName];

/** Members every handle has, whatever its scopes. */
export interface VehicleHandleBase<TScopes extends Scope> {
  readonly id: string;
  /** The scopes this handle was built with (for a permissions-based handle: the granted ones); every method checks them before sending. */
  readonly scopes: readonly Scope[];
  readonly unitSystem: UnitSystem;
  /** Whether the handle holds `scopes`; narrows it so that their methods become callable. */
  can<const TMore extends readonly Scope[]>(...scopes: TMore): this is VehicleHandle<TScopes | TMore[number]>;
  /** The same vehicle with another default unit system. */
  withUnitSystem(unitSystem: UnitSystem): VehicleHandle<TScopes>;
  /**
   * Escape hatch: any request below `/v2.0/vehicles/{id}` (make-specific endpoints). The body is not
   * validated; the scope is checked when the path is a known endpoint. Never retried unless it is a `GET`.
   */
  request(
    method: string,
    path: string,
    options?: RawRequestOptions,
  ): Promise<{ status: number; body: unknown; meta: ResponseMeta }>;
}

/** A vehicle seen through a grant: only the methods its scopes allow exist. */
export type VehicleHandle<TScopes extends Scope> = VehicleHandleBase<TScopes> &
  Pick<VehicleMethods<TScopes>, AllowedMethod<TScopes>>;

/** Internal: the request a handle wants sent (the grant adds the token, origin and retries). */
export interface ApiCall<T> {
  method: string;
  /** Path after the API origin, e.g. `/v2.0/vehicles/{id}/battery`. */
  path: string;
  query?: Readonly<Record<string, string | undefined>> | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  body?: unknown;
  schema: z.ZodType<T, unknown> | null;
  retryable: boolean;
  allowEmpty?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Use this bearer token instead of the grant's (webhook unsubscribe uses the AMT). */
  bearer?: string | undefined;
  label: string;
}

/** Internal: sends {@link ApiCall}s with the grant's token. */
export interface ApiCaller {
  call<T>(call: ApiCall<T>): Promise<HttpResponse<T>>;
  /** Secrets to scrub from batch item errors. */
  secrets(): readonly string[];
}

export interface VehicleOptions {
  unitSystem: UnitSystem;
  flags?: Flags | undefined;
}

function withMeta<T>(body: T, meta: ResponseMeta): Returned<T> {
  if (Array.isArray(body)) return { data: body, meta } as Returned<T>;
  // Bodies come fresh from JSON.parse and zod, owned by nobody else: `meta` joins in place instead of a
  // copy of every field (a copy cost more than the schema check of a small body).
  if (typeof body === 'object' && body !== null && Object.isExtensible(body)) {
    (body as { meta?: ResponseMeta }).meta = meta;
    return body as Returned<T>;
  }
  return { ...(body as object), meta } as Returned<T>;
}

function invalidArgument(description: string): VoltkitError<'INVALID_INPUT'> {
  return new VoltkitError({ type: 'INVALID_INPUT', code: 'ARGUMENT', description });
}

const ChargeLimitInputSchema = z.object({ limit: z.number().min(0.5).max(1) });

/** Validates an argument before anything is sent; a bad one is an `INVALID_INPUT` error naming the field. */
function checkInput<T>(schema: z.ZodType<T>, value: unknown, description: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new VoltkitError({
    type: 'INVALID_INPUT',
    code: 'ARGUMENT',
    description,
    issues: parsed.error.issues,
  });
}

/** Builds a vehicle handle. The runtime object has every method; each checks its scope before sending. */
export function createVehicleHandle<TScopes extends Scope>(
  caller: ApiCaller,
  id: string,
  scopes: readonly TScopes[],
  options: VehicleOptions,
): VehicleHandle<TScopes> {
  if (id === '' || id.includes('/') || id.includes('?'))
    throw invalidArgument('A vehicle id must be a plain non-empty id.');
  const granted = new Set<string>(scopes);
  // The scopes without their `required:` prefix, once: the check before every call is one lookup.
  const held = new Set<string>(
    scopes.map((scope) => (scope.startsWith(REQUIRED_PREFIX) ? scope.slice(REQUIRED_PREFIX.length) : scope)),
  );
  const base = `/v2.0/vehicles/${encodeURIComponent(id)}`;

  const guard = (name: VehicleEndpointName): void => {
    const scope = VEHICLE_ENDPOINTS[name].scope;
    if (scope === null || held.has(scope)) return;
    const result = checkEndpoint(granted, name);
    if (!result.allowed) throw missingScopeError(result.missing, `${name}()`);
  };

  const flagsQuery = (call: CallOptions | undefined): Record<string, string | undefined> | undefined => {
    const flags = call?.flags ?? options.flags;
    return flags === undefined || Object.keys(flags).length === 0 ? undefined : { flags: formatFlags(flags) };
  };

  /** What does not change between calls of one endpoint: built on its first call. */
  interface Route {
    method: string;
    path: string;
    label: string;
    retryable: boolean;
  }
  const routes = new Map<keyof VehicleResponses, Route>();
  const routeOf = (name: keyof VehicleResponses): Route => {
    let route = routes.get(name);
    if (route === undefined) {
      const endpoint = VEHICLE_ENDPOINTS[name];
      route = {
        method: endpoint.method,
        path: `${base}${endpoint.path}`,
        label: `${endpoint.method} /v2.0/vehicles/{id}${endpoint.path}`,
        retryable: endpoint.method === 'GET',
      };
      routes.set(name, route);
    }
    return route;
  };

  async function run<K extends keyof VehicleResponses>(
    name: K,
    call: ReadOptions | undefined,
    extra?: {
      body?: unknown;
      query?: Record<string, string | undefined>;
      path?: string;
      bearer?: string;
      allowEmpty?: boolean;
    },
  ): Promise<Returned<VehicleResponses[K]>> {
    guard(name);
    const route = routeOf(name);
    const flags = flagsQuery(call);
    const extraQuery = extra?.query;
    const extraPath = extra?.path;
    const response = await caller.call({
      method: route.method,
      path: extraPath === undefined ? route.path : `${base}${extraPath}`,
      query: extraQuery === undefined ? flags : { ...flags, ...extraQuery },
      headers: { 'sc-unit-system': call?.unitSystem ?? options.unitSystem },
      body: extra?.body,
      schema: ENDPOINT_SCHEMAS[name],
      retryable: route.retryable,
      allowEmpty: extra?.allowEmpty,
      signal: call?.signal,
      bearer: extra?.bearer,
      label:
        extraPath === undefined
          ? route.label
          : `${route.method} /v2.0/vehicles/{id}${VEHICLE_ENDPOINTS[name].path.replace(/\{.*\}/, '{webhookId}')}`,
    });
    return withMeta(response.body, response.meta);
  }

  const handle = {
    id,
    scopes,
    unitSystem: options.unitSystem,
    can: (...wanted: readonly Scope[]) => wanted.every((scope) => granted.has(scope)),
    withUnitSystem: (unitSystem: UnitSystem) =>
      createVehicleHandle(caller, id, scopes, { ...options, unitSystem }),

    attributes: (call?: ReadOptions) => run('attributes', call),
    vin: (call?: ReadOptions) => run('vin', call),
    location: (call?: ReadOptions) => run('location', call),
    odometer: (call?: ReadOptions) => run('odometer', call),
    battery: (call?: ReadOptions) => run('battery', call),
    batteryCapacity: (call?: ReadOptions) => run('batteryCapacity', call),
    nominalCapacity: (call?: ReadOptions) => run('nominalCapacity', call),
    charge: (call?: ReadOptions) => run('charge', call),
    getChargeLimit: (call?: ReadOptions) => run('getChargeLimit', call),
    fuel: (call?: ReadOptions) => run('fuel', call),
    tirePressure: (call?: ReadOptions) => run('tirePressure', call),
    engineOil: (call?: ReadOptions) => run('engineOil', call),
    lockStatus: (call?: ReadOptions) => run('lockStatus', call),
    diagnosticSystemStatus: (call?: ReadOptions) => run('diagnosticSystemStatus', call),
    diagnosticTroubleCodes: (call?: ReadOptions) => run('diagnosticTroubleCodes', call),
    serviceHistory: (call?: ServiceHistoryOptions) =>
      run('serviceHistory', call, { query: { start_date: call?.startDate, end_date: call?.endDate } }),
    permissions: (call?: ReadOptions & PagingOptions) =>
      run('permissions', call, {
        query: {
          limit: call?.limit === undefined ? undefined : String(call.limit),
          offset: call?.offset === undefined ? undefined : String(call.offset),
        },
      }),
    lock: (call?: CallOptions) => run('lock', call, { body: { action: 'LOCK' } }),
    unlock: (call?: CallOptions) => run('unlock', call, { body: { action: 'UNLOCK' } }),
    startCharge: (call?: CallOptions) => run('startCharge', call, { body: { action: 'START' } }),
    stopCharge: (call?: CallOptions) => run('stopCharge', call, { body: { action: 'STOP' } }),
    setChargeLimit: async (limit: number, call?: CallOptions) => {
      guard('setChargeLimit');
      const body = checkInput(
        ChargeLimitInputSchema,
        { limit },
        'The charge limit must be a fraction between 0.5 and 1.',
      );
      return run('setChargeLimit', call, { body });
    },
    sendDestination: async (latitude: number, longitude: number, call?: CallOptions) => {
      guard('sendDestination');
      const body = checkInput(
        NavigationDestinationRequestSchema,
        { latitude, longitude },
        'The destination needs a latitude within ±90 and a longitude within ±180.',
      );
      return run('sendDestination', call, { body });
    },
    disconnect: (call?: CallOptions) => run('disconnect', call),
    subscribe: (webhookId: string, call?: CallOptions) =>
      run('subscribe', call, { path: `/webhooks/${encodeURIComponent(webhookId)}` }),
    unsubscribe: (amt: string, webhookId: string, call?: CallOptions) =>
      // An empty answer is a success too (the SDK's own fixture sends none); it comes back as `{ meta }`.
      run('unsubscribe', call, {
        path: `/webhooks/${encodeURIComponent(webhookId)}`,
        bearer: amt,
        allowEmpty: true,
      }),
    batch: (paths: readonly string[], call?: ReadOptions) => runBatch(paths, call),
    request: (method: string, path: string, call?: RawRequestOptions) => {
      const result = checkRequest(granted, method, path);
      if (!result.allowed)
        return Promise.reject(missingScopeError(result.missing, `${method.toUpperCase()} ${path}`));
      const normalized = normalizeVehiclePath(path);
      const [, query] = path.split('?', 2);
      const extraQuery = Object.fromEntries(new URLSearchParams(query ?? ''));
      return caller
        .call({
          method: method.toUpperCase(),
          path: `${base}${normalized}`,
          query: { ...extraQuery, ...call?.query },
          headers: { 'sc-unit-system': call?.unitSystem ?? options.unitSystem, ...call?.headers },
          body: call?.body,
          schema: null,
          retryable: method.toUpperCase() === 'GET',
          signal: call?.signal,
          label: `${method.toUpperCase()} /v2.0/vehicles/{id}${normalized}`,
        })
        .then((response) => ({ status: response.status, body: response.body, meta: response.meta }));
    },
  };

  async function runBatch(
    paths: readonly string[],
    call: ReadOptions | undefined,
  ): Promise<BatchResult<DataPath>> {
    guard('batch');
    if (paths.length === 0) throw invalidArgument('A batch needs at least one path.');
    const byPath = new Map<string, keyof VehicleResponses>();
    for (const path of paths) {
      const name = dataEndpointForPath(path);
      if (name === undefined) throw invalidArgument(`"${path}" is not a data path a batch can read.`);
      const result = checkEndpoint(granted, name);
      if (!result.allowed) throw missingScopeError(result.missing, `batch path ${path}`);
      byPath.set(path, name);
    }
    const unitSystem = call?.unitSystem ?? options.unitSystem;
    const response = await caller.call<BatchResponse>({
      method: 'POST',
      path: `${base}/batch`,
      headers: { 'sc-unit-system': unitSystem },
      body: { requests: paths.map((path) => ({ path })) },
      schema: BatchResponseSchema,
      // A batch only reads, so it is as safe to repeat as a GET.
      retryable: true,
      signal: call?.signal,
      label: 'POST /v2.0/vehicles/{id}/batch',
    });
    const results: Record<string, BatchItem<unknown>> = {};
    const items = response.body.responses;
    for (const [path, name] of byPath) {
      const key = canonicalPath(path);
      const index = items.findIndex((item) => canonicalPath(item.path) === key);
      results[key] = batchItem(name, key, index, items[index], response.meta);
    }
    const get = (path: string): unknown => {
      const item = results[canonicalPath(path)];
      if (item === undefined) throw invalidArgument(`"${path}" was not part of this batch.`);
      if (!item.ok) throw item.error;
      return item.value;
    };
    return { meta: response.meta, results, get } as unknown as BatchResult<DataPath>;
  }

  function batchItem(
    name: keyof VehicleResponses,
    path: string,
    index: number,
    item: BatchResponse['responses'][number] | undefined,
    outer: ResponseMeta,
  ): BatchItem<unknown> {
    const label = `batch item ${path}`;
    if (item === undefined) {
      return {
        ok: false,
        error: new VoltkitError({
          type: 'INVALID_RESPONSE',
          code: 'BODY',
          description: `The batch response has no item for ${path}.`,
          requestId: outer.requestId,
        }),
      };
    }
    if (item.code < 200 || item.code > 299) {
      return {
        ok: false,
        error: errorFromBody(item.code, item.body, {
          label,
          secrets: caller.secrets(),
          requestId: outer.requestId,
        }),
      };
    }
    let meta: ResponseMeta;
    try {
      meta = { ...outer, ...parseMeta(item.headers, label, item.code) };
    } catch (error) {
      return { ok: false, error: error as AnyVoltkitError };
    }
    const parsed = ENDPOINT_SCHEMAS[name].safeParse(item.body);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({
        ...issue,
        path: ['responses', index, 'body', ...issue.path],
      }));
      return {
        ok: false,
        error: new VoltkitError({
          type: 'INVALID_RESPONSE',
          code: 'BODY',
          description: `The batch item for ${path} does not match the schema.`,
          status: item.code,
          requestId: meta.requestId,
          issues,
        }),
      };
    }
    return { ok: true, value: withMeta(parsed.data, meta) };
  }

  return handle as unknown as VehicleHandle<TScopes>;
}

/** `engine/oil/` → `/engine/oil`, `''` → `/`: the key of a batch result. */
function canonicalPath(path: string): string {
  return normalizeVehiclePath(path) || '/';
}

/** The data endpoint a batch path reads (`/battery`, `battery/`, `/` for attributes). */
export function dataEndpointForPath(path: string): keyof VehicleResponses | undefined {
  const normalized = normalizeVehiclePath(path);
  for (const [name, endpoint] of Object.entries(VEHICLE_ENDPOINTS)) {
    if (endpoint.kind === 'data' && endpoint.path === normalized) return name as keyof VehicleResponses;
  }
  return undefined;
}
