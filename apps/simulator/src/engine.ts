import { randomUUID } from 'node:crypto';
import type { Scope, VehicleEndpointName } from '@voltkit/core/permissions';
import { ApiError, errorBody, isErrorType } from './api-error.ts';
import {
  BRANDS,
  findBrand,
  findModel,
  type BrandSpec,
  type ModelSpec,
  type Region,
} from './catalog/brands.ts';
import type { SimulatorClock } from './clock.ts';
import { errorFromEmail } from './connect-rules.ts';
import { decodeBasic, bearer, safeEqual } from './credentials.ts';
import { ConsentService } from './oauth/consent.ts';
import { redirectUriProblem } from './oauth/redirect-uri.ts';
import { TokenService, type VehicleAccess } from './oauth/tokens.ts';
import { TokenBuckets, type RateLimits } from './rate-limit.ts';
import type {
  AccountRecord,
  AppRecord,
  ConnectMode,
  ForcedError,
  GrantRecord,
  VehicleRecord,
  WebhookRecord,
} from './state/records.ts';
import type { SimulatorStore } from './state/store.ts';
import { batchPath, resolveVehicleEndpoint } from './vehicle/endpoints.ts';
import { createVehicleRecord } from './vehicle/factory.ts';
import { advanceVehicle, settleChargeState } from './vehicle/physics.ts';
import { readEndpoint, type DataEndpointName, type UnitSystem } from './vehicle/readings.ts';
import { V2Webhooks } from './webhooks/v2-webhooks.ts';

export interface RegisteredApp {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly managementToken: string;
  readonly name: string;
  readonly redirectUris: readonly string[];
}

export interface VehicleSummary {
  readonly id: string;
  readonly vin: string;
  readonly make: string;
  readonly model: string;
  readonly year: number;
}

export interface TestAccount {
  readonly userId: string;
  readonly email: string;
  readonly vehicles: readonly VehicleSummary[];
}

export type { VehicleAccess } from './oauth/tokens.ts';

export interface ReadResult {
  readonly body: unknown;
  readonly dataAge: string;
  readonly fetchedAt: string;
}

export interface BatchItem {
  path: string;
  code: number;
  body: unknown;
  headers: Record<string, string>;
}

/** Endpoints that keep answering even for an error-trigger vehicle (static data and grant bookkeeping). */
const STATIC_ENDPOINTS: ReadonlySet<VehicleEndpointName> = new Set([
  'attributes',
  'vin',
  'permissions',
  'disconnect',
  'subscribe',
  'unsubscribe',
  'batch',
]);

/**
 * Smartcar's test mode answers the diagnostics endpoints without `read_diagnostics` (the official SDK's
 * end-to-end suite reads them with a grant that lacks it); simulated and live grants are checked.
 */
const TEST_MODE_UNSCOPED: ReadonlySet<VehicleEndpointName> = new Set([
  'diagnosticSystemStatus',
  'diagnosticTroubleCodes',
]);

let lastIsoMs = Number.NaN;
let lastIso = '';

/** `Date#toISOString()` of an epoch ms; the last one is kept, as consecutive requests share their millisecond. */
function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

function regionOf(brand: BrandSpec): Region {
  return brand.regions.includes('US') ? 'US' : (brand.regions[0] ?? 'US');
}

export interface EngineOptions {
  readonly store: SimulatorStore;
  readonly clock: SimulatorClock;
  readonly rateLimits?: RateLimits;
  readonly warn?: (message: string) => void;
}

/**
 * The simulated platform: apps, accounts, grants and tokens, vehicles and their physics, commands,
 * webhooks and rate limits. The HTTP layer and the in-process helpers both call into it.
 */
export class SimulatorEngine {
  readonly store: SimulatorStore;
  readonly clock: SimulatorClock;
  readonly appLimits: TokenBuckets;
  readonly vehicleLimits: TokenBuckets;
  /** v2.0 webhooks: verification, subscriptions, event-based and scheduled deliveries. */
  readonly webhooks: V2Webhooks;
  readonly #warn: (message: string) => void;
  readonly #pendingDeliveries = new Set<Promise<void>>();
  /** Client authentication, codes, access and refresh tokens. */
  readonly tokens: TokenService;
  /** Grants and the approvals that make them. */
  readonly consent: ConsentService;
  readonly #vehicleListeners: ((vehicles: readonly VehicleRecord[]) => void)[] = [];
  readonly #specs = new WeakMap<VehicleRecord, { make: string; model: string; spec: ModelSpec }>();

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.appLimits = new TokenBuckets(options.rateLimits?.app ?? null);
    this.vehicleLimits = new TokenBuckets(options.rateLimits?.vehicle ?? null);
    this.#warn = options.warn ?? (() => {});
    this.tokens = new TokenService(this.store, this.clock);
    this.consent = new ConsentService(this, this.tokens);
    this.webhooks = new V2Webhooks({
      store: this.store,
      now: () => this.now(),
      warn: this.#warn,
      track: (delivery) => this.trackDelivery(delivery),
      batchItem: (access, vehicle, path, requestId) =>
        this.batchItem(access, vehicle, path, 'metric', requestId),
    });
  }

  now(): number {
    return this.clock.now();
  }

  // ---------------------------------------------------------------- apps

  registerApp(input: {
    name: string;
    redirectUris: readonly string[];
    clientId?: string;
    clientSecret?: string;
    managementToken?: string;
  }): RegisteredApp {
    for (const uri of input.redirectUris) {
      const problem = redirectUriProblem(uri);
      if (problem !== undefined) throw new Error(`redirect URI ${uri} ${problem}`);
    }
    const app: AppRecord = {
      clientId: input.clientId ?? randomUUID(),
      clientSecret: input.clientSecret ?? randomUUID(),
      managementToken: input.managementToken ?? randomUUID(),
      name: input.name,
      redirectUris: [...input.redirectUris],
      createdAt: this.now(),
    };
    const existing = this.store.apps.get(app.clientId);
    if (existing !== undefined) this.store.appsByManagementToken.delete(existing.managementToken);
    this.store.addApp(app);
    this.store.changed();
    return publicApp(app);
  }

  /** Checks `Authorization: Basic base64(client_id:client_secret)`. */
  authenticateClient(header: string | undefined): AppRecord | undefined {
    return this.tokens.authenticateClient(header);
  }

  /** Checks the management API's `Basic base64("default:" + AMT)`. */
  authenticateManagement(header: string | undefined): AppRecord | undefined {
    const credentials = decodeBasic(header);
    if (credentials === undefined) return undefined;
    return this.store.appsByManagementToken.get(credentials.password);
  }

  appByManagementBearer(header: string | undefined): AppRecord | undefined {
    const token = bearer(header);
    return token === undefined ? undefined : this.store.appsByManagementToken.get(token);
  }

  // ---------------------------------------------------------------- accounts & vehicles

  createTestAccount(input: {
    email: string;
    password?: string | null;
    brand?: string;
    model?: string;
    vehicleCount?: number;
    error?: ForcedError | null;
    /** `test` (Smartcar's random-data mode) parks new EVs on their charger, idle. */
    mode?: ConnectMode;
  }): TestAccount {
    const email = input.email.trim().toLowerCase();
    let account = this.store.accountsByEmail.get(email);
    if (account === undefined) {
      account = {
        id: randomUUID(),
        email,
        password: input.password ?? null,
        forcedError: input.error ?? errorFromEmail(email),
        createdAt: this.now(),
      };
      this.store.addAccount(account);
    }
    const brand = findBrand(input.brand ?? 'TESLA');
    if (brand === undefined) throw new Error(`unknown brand: ${input.brand ?? ''}`);
    const spec = input.model === undefined ? brand.models[0] : findModel(brand.make, input.model);
    if (spec === undefined) throw new Error(`unknown model ${input.model ?? ''} for brand ${brand.make}`);
    const wanted = input.vehicleCount ?? 1;
    const existing = this.store.vehiclesOfAccount(account.id).filter((v) => v.make === brand.make);
    for (let i = existing.length; i < wanted; i++)
      this.addVehicle(account, brand, spec, input.mode ?? 'simulated');
    this.store.changed();
    return this.describeAccount(account);
  }

  addVehicle(account: AccountRecord, brand: BrandSpec, spec: ModelSpec, mode: ConnectMode): VehicleRecord {
    const vehicle = createVehicleRecord({
      accountId: account.id,
      spec,
      region: regionOf(brand),
      now: this.now(),
      forcedError: account.forcedError,
      // Suites written for Smartcar's test mode start and stop charging without plugging in first.
      pluggedIn: mode === 'test',
    });
    this.store.addVehicle(vehicle);
    this.store.changed();
    return vehicle;
  }

  describeAccount(account: AccountRecord): TestAccount {
    return {
      userId: account.id,
      email: account.email,
      vehicles: this.store.vehiclesOfAccount(account.id).map(summarizeVehicle),
    };
  }

  /**
   * Connect sign-in. Test and simulated modes: any email and password; a new email makes an account,
   * and the account gets a vehicle of the chosen brand if it has none. Live mode: only existing
   * accounts, with their password if one was set.
   */
  signIn(input: {
    email: string;
    password: string;
    mode: ConnectMode;
    brand: BrandSpec;
  }): { ok: true; account: AccountRecord } | { ok: false; message: string } {
    const email = input.email.trim().toLowerCase();
    if (email === '') return { ok: false, message: 'Please enter your email address.' };
    let account = this.store.accountsByEmail.get(email);
    if (input.mode === 'live') {
      if (account === undefined) return { ok: false, message: 'No account with this email and password.' };
      if (account.password !== null && !safeEqual(account.password, input.password)) {
        return { ok: false, message: 'No account with this email and password.' };
      }
    }
    if (account === undefined) {
      this.createTestAccount({ email, brand: input.brand.make, mode: input.mode });
      account = this.store.accountsByEmail.get(email);
      if (account === undefined) return { ok: false, message: 'Could not create the account.' };
    } else if (!this.store.vehiclesOfAccount(account.id).some((v) => v.make === input.brand.make)) {
      const first = input.brand.models[0];
      if (first !== undefined && input.mode !== 'live')
        this.addVehicle(account, input.brand, first, input.mode);
    }
    return { ok: true, account };
  }

  /** The catalogue model of a vehicle; remembered per record, as every request asks up to three times. */
  specOf(vehicle: VehicleRecord): ModelSpec {
    const cached = this.#specs.get(vehicle);
    if (cached !== undefined && cached.make === vehicle.make && cached.model === vehicle.model)
      return cached.spec;
    const spec = findModel(vehicle.make, vehicle.model);
    if (spec === undefined) throw new ApiError('SERVER', 'RECORD_NOT_FOUND');
    this.#specs.set(vehicle, { make: vehicle.make, model: vehicle.model, spec });
    return spec;
  }

  /** The grant behind `Authorization: Bearer <access token>`, or a 401. */
  accessFor(header: string | undefined): VehicleAccess {
    return this.tokens.accessFor(header);
  }

  vehicleFor(access: VehicleAccess, vehicleId: string): VehicleRecord {
    const connected = access.grant.vehicles.some((v) => v.vehicleId === vehicleId);
    const vehicle = connected ? this.store.vehicles.get(vehicleId) : undefined;
    if (vehicle === undefined) throw new ApiError('AUTHENTICATION', null);
    return vehicle;
  }

  /** Takes one request from the app's and the vehicle's buckets, or throws 429 with Retry-After. */
  checkRateLimits(app: AppRecord, vehicle: VehicleRecord | undefined): void {
    const now = this.now();
    const appWait = this.appLimits.take(app.clientId, now);
    if (appWait > 0) throw new ApiError('RATE_LIMIT', 'SMARTCAR_API', { retryAfterSeconds: appWait });
    if (vehicle === undefined) return;
    const vehicleWait = this.vehicleLimits.take(vehicle.id, now);
    if (vehicleWait > 0) throw new ApiError('RATE_LIMIT', 'VEHICLE', { retryAfterSeconds: vehicleWait });
  }

  /** Whether {@link checkRateLimits} would let a request through now; takes nothing. */
  rateLimitsAllow(app: AppRecord, vehicle: VehicleRecord): boolean {
    const now = this.now();
    return this.appLimits.wouldAllow(app.clientId, now) && this.vehicleLimits.wouldAllow(vehicle.id, now);
  }

  /**
   * Everything that stands between a granted request and the vehicle, in Smartcar's order:
   * scope (403), capability (501), a forced test-mode error, then sleep and reachability (409).
   */
  checkVehicleEndpoint(
    access: VehicleAccess,
    vehicle: VehicleRecord,
    name: VehicleEndpointName,
    scope: Scope | null,
  ): void {
    const unscoped = access.grant.mode === 'test' && TEST_MODE_UNSCOPED.has(name);
    if (scope !== null && !unscoped && !access.scopes.has(scope)) throw new ApiError('PERMISSION', null);
    const spec = this.specOf(vehicle);
    if (!spec.capabilities.has(name)) throw new ApiError('COMPATIBILITY', 'VEHICLE_NOT_CAPABLE');
    if (STATIC_ENDPOINTS.has(name)) return;
    const forced = vehicle.forcedError;
    if (forced !== null && isErrorType(forced.type)) {
      throw new ApiError(
        forced.type,
        forced.code,
        forced.type === 'RATE_LIMIT' ? { retryAfterSeconds: 60 } : {},
      );
    }
    if (vehicle.state.unreachable) throw new ApiError('VEHICLE_STATE', 'UNREACHABLE');
    if (vehicle.state.asleep) throw new ApiError('VEHICLE_STATE', 'ASLEEP');
  }

  // ---------------------------------------------------------------- physics

  /** Brings one vehicle's physics up to the current simulated time. */
  syncVehicle(vehicle: VehicleRecord): void {
    const now = this.now();
    if (now <= vehicle.state.updatedAt) return;
    const events = advanceVehicle(vehicle.state, this.specOf(vehicle), now);
    if (events.length > 0) this.webhooks.chargingEvents(vehicle, events);
  }

  /** Advances every vehicle and runs due scheduled webhooks (the clock's heartbeat). */
  tick(): void {
    const now = this.now();
    const moved: VehicleRecord[] = [];
    for (const vehicle of this.store.vehicles.values()) {
      const busy = vehicle.state.chargeState === 'CHARGING' || vehicle.state.drive !== null;
      if (now > vehicle.state.updatedAt) {
        this.syncVehicle(vehicle);
        if (busy) moved.push(vehicle);
      }
    }
    this.webhooks.runScheduled(now);
    if (moved.length > 0) {
      this.store.changed();
      this.#notifyVehicles(moved);
    }
  }

  /** Reads a data endpoint of a vehicle after the usual checks were made. */
  read(
    vehicle: VehicleRecord,
    name: DataEndpointName,
    units: UnitSystem,
    query: Record<string, string | undefined>,
  ): ReadResult {
    this.syncVehicle(vehicle);
    const now = this.now();
    const body = readEndpoint(name, vehicle, this.specOf(vehicle), { units, query, now });
    return { body, dataAge: isoTime(vehicle.state.recordedAt), fetchedAt: isoTime(now) };
  }

  /** One batch item (also the element of scheduled webhook payloads): never throws. */
  batchItem(
    access: VehicleAccess,
    vehicle: VehicleRecord,
    rawPath: string,
    units: UnitSystem,
    requestId: string,
  ): BatchItem {
    const path = batchPath(rawPath);
    try {
      const endpoint = resolveVehicleEndpoint('GET', path === '/' ? '' : path);
      if (endpoint === undefined || endpoint.definition.kind !== 'data')
        throw new ApiError('RESOURCE_NOT_FOUND', 'PATH');
      this.checkVehicleEndpoint(access, vehicle, endpoint.name, endpoint.definition.scope);
      const result = this.read(vehicle, endpoint.name as DataEndpointName, units, {});
      return {
        path,
        code: 200,
        body: result.body,
        headers: {
          'sc-data-age': result.dataAge,
          'sc-fetched-at': result.fetchedAt,
          'sc-unit-system': units,
        },
      };
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError('SERVER', 'INTERNAL');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (apiError.retryAfterSeconds !== undefined)
        headers['retry-after'] = String(apiError.retryAfterSeconds);
      return { path, code: apiError.statusCode, body: errorBody(apiError, requestId), headers };
    }
  }

  // ---------------------------------------------------------------- commands

  setLocked(vehicle: VehicleRecord, locked: boolean): void {
    this.syncVehicle(vehicle);
    const s = vehicle.state;
    if (locked) {
      if (s.drive !== null) throw new ApiError('VEHICLE_STATE', 'IN_MOTION');
      if (Object.values(s.doors).includes('OPEN')) throw new ApiError('VEHICLE_STATE', 'DOOR_OPEN');
      if (s.trunk === 'OPEN') throw new ApiError('VEHICLE_STATE', 'TRUNK_OPEN');
      if (s.hood === 'OPEN') throw new ApiError('VEHICLE_STATE', 'HOOD_OPEN');
    }
    s.isLocked = locked;
    this.#commandDone(vehicle);
  }

  /**
   * Start charging. `idempotent` (grants made in Smartcar's test mode, where commands always succeed)
   * accepts a start while charging or full as a no-op instead of answering 409.
   */
  startCharge(vehicle: VehicleRecord, idempotent = false): void {
    this.syncVehicle(vehicle);
    const s = vehicle.state;
    if (!s.pluggedIn) throw new ApiError('VEHICLE_STATE', 'CHARGING_PLUG_NOT_CONNECTED');
    if (!idempotent && s.chargeState === 'CHARGING')
      throw new ApiError('VEHICLE_STATE', 'CHARGING_IN_PROGRESS');
    if (!idempotent && s.chargeState === 'FULLY_CHARGED')
      throw new ApiError('VEHICLE_STATE', 'FULLY_CHARGED');
    s.chargeEnabled = true;
    this.#commandDone(vehicle);
  }

  stopCharge(vehicle: VehicleRecord, idempotent = false): void {
    this.syncVehicle(vehicle);
    const s = vehicle.state;
    if (!s.pluggedIn) throw new ApiError('VEHICLE_STATE', 'CHARGING_PLUG_NOT_CONNECTED');
    if (!idempotent && s.chargeState !== 'CHARGING') throw new ApiError('VEHICLE_STATE', 'NOT_CHARGING');
    s.chargeEnabled = false;
    this.#commandDone(vehicle);
  }

  setChargeLimit(vehicle: VehicleRecord, limit: number): void {
    this.syncVehicle(vehicle);
    vehicle.state.chargeLimit = limit;
    // A car charged above a lowered limit simply stops drawing power; it is not discharged.
    this.#commandDone(vehicle);
  }

  sendDestination(vehicle: VehicleRecord, latitude: number, longitude: number): void {
    this.syncVehicle(vehicle);
    vehicle.state.destination = { latitude, longitude };
    this.#commandDone(vehicle);
  }

  #commandDone(vehicle: VehicleRecord): void {
    const now = this.now();
    const event = settleChargeState(vehicle.state, now);
    if (event !== undefined) this.webhooks.chargingEvents(vehicle, [event]);
    vehicle.state.recordedAt = now;
    this.store.changed();
    this.#notifyVehicles([vehicle]);
  }

  /** Listens for vehicles whose state may have changed: physics ticks, commands and admin changes. */
  onVehiclesChanged(listener: (vehicles: readonly VehicleRecord[]) => void): void {
    this.#vehicleListeners.push(listener);
  }

  #notifyVehicles(vehicles: readonly VehicleRecord[]): void {
    for (const listener of this.#vehicleListeners) {
      try {
        listener(vehicles);
      } catch (error) {
        this.#warn(
          `vehicle change listener failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  // ---------------------------------------------------------------- admin mutations

  vehicleById(vehicleId: string): VehicleRecord {
    const vehicle = this.store.vehicles.get(vehicleId);
    if (vehicle === undefined) throw new Error(`unknown vehicle: ${vehicleId}`);
    return vehicle;
  }

  /** Applies an admin change (plug, SoC, doors, sleep, forced error …) and settles the charge state. */
  updateVehicle(vehicleId: string, patch: VehiclePatch): VehicleRecord {
    const vehicle = this.vehicleById(vehicleId);
    this.syncVehicle(vehicle);
    const s = vehicle.state;
    const spec = this.specOf(vehicle);
    if (patch.soc !== undefined) {
      if (s.soc === null) throw new Error('this vehicle has no high-voltage battery');
      s.soc = patch.soc;
    }
    if (patch.fuelPercent !== undefined) {
      if (s.fuelLiters === null || spec.tankLiters === null) throw new Error('this vehicle has no fuel tank');
      s.fuelLiters = spec.tankLiters * patch.fuelPercent;
    }
    if (patch.pluggedIn !== undefined) {
      if (s.soc === null && patch.pluggedIn) throw new Error('a combustion vehicle cannot be plugged in');
      if (patch.pluggedIn && s.drive !== null) throw new Error('a moving vehicle cannot be plugged in');
      // Plugging in starts a charge, as most cars do by default.
      if (patch.pluggedIn && !s.pluggedIn) s.chargeEnabled = true;
      s.pluggedIn = patch.pluggedIn;
      s.chargingPort = patch.pluggedIn ? 'OPEN' : 'CLOSED';
    }
    if (patch.stationKw !== undefined) s.stationKw = patch.stationKw;
    if (patch.chargeLimit !== undefined) s.chargeLimit = patch.chargeLimit;
    if (patch.asleep !== undefined) s.asleep = patch.asleep;
    if (patch.unreachable !== undefined) s.unreachable = patch.unreachable;
    if (patch.isLocked !== undefined) s.isLocked = patch.isLocked;
    if (patch.doors !== undefined) assignCorners(s.doors, patch.doors);
    if (patch.windows !== undefined) assignCorners(s.windows, patch.windows);
    if (patch.trunk !== undefined) s.trunk = patch.trunk;
    if (patch.hood !== undefined) s.hood = patch.hood;
    if (patch.sunroof !== undefined) s.sunroof = patch.sunroof;
    if (patch.tiresKpa !== undefined) assignCorners(s.tiresKpa, patch.tiresKpa);
    if (patch.oilLife !== undefined) s.oilLife = patch.oilLife;
    if (patch.location !== undefined) {
      s.latitude = patch.location.latitude;
      s.longitude = patch.location.longitude;
    }
    if (patch.dtcs !== undefined)
      s.dtcs = patch.dtcs.map((code) => ({ code, timestamp: new Date(this.now()).toISOString() }));
    if (patch.forcedError !== undefined) vehicle.forcedError = patch.forcedError;
    this.#commandDone(vehicle);
    return vehicle;
  }

  /** Starts a drive: over the following simulated time the car covers `distanceKm` at `speedKph`. */
  drive(vehicleId: string, input: { distanceKm: number; speedKph?: number }): VehicleRecord {
    const vehicle = this.vehicleById(vehicleId);
    this.syncVehicle(vehicle);
    const s = vehicle.state;
    if (s.pluggedIn) {
      s.pluggedIn = false;
      s.chargingPort = 'CLOSED';
    }
    s.asleep = false;
    // The driver unlocks, gets in and closes everything before setting off.
    s.isLocked = false;
    s.doors = { frontLeft: 'CLOSED', frontRight: 'CLOSED', backLeft: 'CLOSED', backRight: 'CLOSED' };
    s.trunk = 'CLOSED';
    s.hood = 'CLOSED';
    s.drive = { remainingKm: input.distanceKm, speedKph: input.speedKph ?? 50 };
    this.#commandDone(vehicle);
    return vehicle;
  }

  // ---------------------------------------------------------------- webhooks (v2: ./webhooks/v2-webhooks.ts)

  createWebhook(input: {
    clientId: string;
    url: string;
    type?: 'scheduled' | 'eventBased';
    intervalMs?: number;
    paths?: readonly string[];
  }): Promise<WebhookRecord> {
    return this.webhooks.create(input);
  }

  verifyWebhook(webhookId: string): Promise<boolean> {
    return this.webhooks.verify(webhookId);
  }

  subscribe(
    access: VehicleAccess,
    vehicle: VehicleRecord,
    webhookId: string,
  ): { webhookId: string; vehicleId: string } {
    return this.webhooks.subscribe(access, vehicle, webhookId);
  }

  unsubscribe(app: AppRecord, vehicleId: string, webhookId: string): { status: 'success' } {
    return this.webhooks.unsubscribe(app, vehicleId, webhookId);
  }

  /** Resolves once every webhook delivery started so far has finished (or failed). */
  async whenDeliveriesSettled(): Promise<void> {
    for (let round = 0; round < 10 && this.#pendingDeliveries.size > 0; round++) {
      await Promise.all([...this.#pendingDeliveries]);
    }
  }

  /** Lets {@link whenDeliveriesSettled} wait for a delivery (v2 and v3 webhooks). */
  trackDelivery(delivery: Promise<void>): void {
    const settled = delivery.catch((error: unknown) => {
      this.#warn(`webhook delivery failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    this.#pendingDeliveries.add(settled);
    void settled.finally(() => this.#pendingDeliveries.delete(settled));
  }

  // ---------------------------------------------------------------- connections

  /** Removes one vehicle from a grant; the grant's tokens are revoked with its last vehicle. */
  disconnect(grant: GrantRecord, vehicleId: string): void {
    this.#dropConnection(grant, vehicleId);
    if (grant.vehicles.length === 0) this.store.revokeGrant(grant.id);
    this.store.changed();
  }

  /** The vehicle leaves the grant and the app's webhook subscriptions; the grant and its tokens stay. */
  #dropConnection(grant: GrantRecord, vehicleId: string): void {
    grant.vehicles = grant.vehicles.filter((v) => v.vehicleId !== vehicleId);
    this.webhooks.forgetVehicle(grant.clientId, vehicleId);
  }

  connections(app: AppRecord, filter: { userId?: string; vehicleId?: string }): Connection[] {
    const result: Connection[] = [];
    for (const grant of this.store.grants.values()) {
      if (grant.clientId !== app.clientId) continue;
      if (filter.userId !== undefined && grant.userId !== filter.userId) continue;
      for (const v of grant.vehicles) {
        if (filter.vehicleId !== undefined && v.vehicleId !== filter.vehicleId) continue;
        result.push({
          userId: grant.userId,
          vehicleId: v.vehicleId,
          connectedAt: new Date(v.connectedAt).toISOString(),
          mode: grant.mode,
        });
      }
    }
    return result.sort(
      (a, b) => a.connectedAt.localeCompare(b.connectedAt) || a.vehicleId.localeCompare(b.vehicleId),
    );
  }

  /**
   * Management delete, as Smartcar's behaves (its own e2e suite calls `/vehicles` and `/user` with the
   * user's token after deleting all of the user's connections): each matching vehicle leaves the app's
   * grants, so it is no longer listed and its endpoints answer 401 to that token, but the grants and
   * their access and refresh tokens stay valid; `/vehicles` lists what is left (possibly nothing).
   */
  deleteConnections(
    app: AppRecord,
    filter: { userId?: string; vehicleId?: string },
  ): { userId: string; vehicleId: string }[] {
    const removed = this.connections(app, filter);
    const affected = new Set<GrantRecord>();
    for (const grant of this.store.grants.values()) {
      if (grant.clientId !== app.clientId) continue;
      for (const connection of removed) {
        if (grant.userId !== connection.userId) continue;
        if (!grant.vehicles.some((v) => v.vehicleId === connection.vehicleId)) continue;
        this.#dropConnection(grant, connection.vehicleId);
        affected.add(grant);
      }
    }
    if (affected.size > 0) this.store.changed();
    return removed.map(({ userId, vehicleId }) => ({ userId, vehicleId }));
  }

  /** Brands, for the Connect brand picker. */
  brands(): readonly BrandSpec[] {
    return BRANDS;
  }
}

export interface Connection {
  userId: string;
  vehicleId: string;
  connectedAt: string;
  mode: ConnectMode;
}

type OpenClosed = 'OPEN' | 'CLOSED';
type CornerPatch<T> = { [K in 'frontLeft' | 'frontRight' | 'backLeft' | 'backRight']?: T | undefined };

function assignCorners<T>(
  target: Record<'frontLeft' | 'frontRight' | 'backLeft' | 'backRight', T>,
  patch: CornerPatch<T>,
): void {
  for (const key of ['frontLeft', 'frontRight', 'backLeft', 'backRight'] as const) {
    const value = patch[key];
    if (value !== undefined) target[key] = value;
  }
}

/** Admin changes to a vehicle; every field is optional. */
export interface VehiclePatch {
  soc?: number;
  fuelPercent?: number;
  pluggedIn?: boolean;
  stationKw?: number;
  chargeLimit?: number;
  asleep?: boolean;
  unreachable?: boolean;
  isLocked?: boolean;
  doors?: CornerPatch<OpenClosed>;
  windows?: CornerPatch<OpenClosed>;
  trunk?: OpenClosed;
  hood?: OpenClosed;
  sunroof?: OpenClosed;
  tiresKpa?: CornerPatch<number>;
  oilLife?: number;
  location?: { latitude: number; longitude: number };
  dtcs?: string[];
  forcedError?: ForcedError | null;
}

export function summarizeVehicle(v: VehicleRecord): VehicleSummary {
  return { id: v.id, vin: v.vin, make: v.make, model: v.model, year: v.year };
}

function publicApp(app: AppRecord): RegisteredApp {
  return {
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    managementToken: app.managementToken,
    name: app.name,
    redirectUris: [...app.redirectUris],
  };
}
