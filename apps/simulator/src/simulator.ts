import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { SimulatorClock, type ClockMode, type ClockOptions } from './clock.ts';
import { SimulatorEngine, type RegisteredApp, type TestAccount, type VehiclePatch } from './engine.ts';
import { buildHttpApp } from './http/server.ts';
import type { RateLimits } from './rate-limit.ts';
import { loadSnapshot, SnapshotWriter } from './state/persistence.ts';
import type { ConnectMode, ForcedError, VehicleRecord, WebhookRecord } from './state/records.ts';
import { SimulatorStore } from './state/store.ts';
import type { SignalCode } from '@voltkit/core/v3';
import { createV3Platform, type V3DeliveryAttempt, type V3WebhookRecord } from './v3/index.ts';
import { DASHBOARD_PREFIX, DemoReceiver, registerDashboard, RequestLog, Ring } from './dashboard/index.ts';
import type { DeliveryAttemptRecord } from './webhooks/delivery-attempt.ts';

/** The app every simulator registers at start, so Connect test suites need no setup. */
export const DEMO_APP = {
  name: 'Voltkit Demo',
  clientId: 'voltkit-demo-client',
  clientSecret: 'voltkit-demo-secret',
  managementToken: 'voltkit-demo-amt',
  // Exact URIs; on the loopback hosts any port matches (RFC 8252 §7.3), so local apps and test servers on
  // ephemeral ports use these paths.
  redirectUris: [
    'https://example.com/auth',
    'http://localhost/callback',
    'http://127.0.0.1/callback',
    'http://localhost/connect/callback',
    'http://127.0.0.1/connect/callback',
  ],
} as const satisfies RegisteredApp;

export interface SimulatorOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Directory for the state snapshot; omitted = in memory only. */
  dataDir?: string;
  /** @default { mode: 'real' } */
  clock?: ClockOptions;
  /** Bearer token of the `/_simulator` management API; random when omitted (see `managementToken`). */
  managementToken?: string;
  /** A pino/fastify logger; omitted = silent. Request logs carry method, route and status only. */
  logger?: FastifyBaseLogger;
  /** Rate limits per app and per vehicle; omitted = unlimited. */
  rateLimits?: RateLimits;
  /** First retry delay of a v3 webhook delivery, real ms (then doubled, 3 retries). @default 1000 */
  webhookRetryBaseMs?: number;
  /** Requests the dashboard's request log keeps (a ring: the oldest falls out). @default 500 */
  requestLogSize?: number;
}

/** Vehicle API v3 webhooks (VERIFY, VEHICLE_STATE, VEHICLE_ERROR). */
export interface SimulatorV3 {
  /** Registers a v3 webhook and runs its VERIFY challenge against `url`. */
  createWebhook(input: {
    clientId: string;
    url: string;
    name?: string;
    triggers: readonly SignalCode[];
    signals?: readonly SignalCode[];
  }): Promise<V3WebhookRecord>;
  /** Subscribes a connected vehicle; sends the FIRST_DELIVERY event. */
  subscribe(webhookId: string, vehicleId: string): void;
  unsubscribe(webhookId: string, vehicleId: string): void;
  webhooks(): V3WebhookRecord[];
  /** Every delivery attempt (retries share the eventId). */
  deliveries(webhookId?: string): V3DeliveryAttempt[];
}

export interface SimulatorClockControl {
  readonly mode: ClockMode;
  now(): Date;
  /** Manual clock only: moves time, runs physics and due webhooks, waits for deliveries. */
  advance(ms: number): Promise<void>;
  /** Real/accelerated clock only: simulated ms per wall-clock ms. */
  setSpeed(speed: number): void;
}

export interface Simulator {
  /** Origin of everything (API, Connect, tokens, management), e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly managementToken: string;
  /** The developer dashboard (sign in with {@link managementToken}). */
  readonly dashboardUrl: string;
  readonly demoApp: RegisteredApp;
  readonly clock: SimulatorClockControl;
  /** Environment that points the unmodified Smartcar SDKs at this simulator. */
  readonly sdkEnv: Readonly<
    Record<
      | 'SMARTCAR_API_ORIGIN'
      | 'SMARTCAR_AUTH_ORIGIN'
      | 'SMARTCAR_MANAGEMENT_API_ORIGIN'
      | 'SMARTCAR_API_V3_ORIGIN',
      string
    >
  >;
  readonly v3: SimulatorV3;
  registerApp(input: { name: string; redirectUris: readonly string[] }): RegisteredApp;
  createTestAccount(input: {
    email: string;
    brand?: string;
    model?: string;
    password?: string;
    vehicleCount?: number;
  }): TestAccount;
  authorize(input: {
    clientId: string;
    redirectUri?: string;
    scope: string | readonly string[];
    email: string;
    make?: string;
    state?: string;
    mode?: ConnectMode;
  }): { code: string; state?: string; userId: string; vehicleIds: string[] };
  /** A copy of the vehicle's current record (physics brought up to now). */
  vehicle(vehicleId: string): VehicleRecord;
  updateVehicle(vehicleId: string, patch: VehiclePatch): VehicleRecord;
  plugIn(vehicleId: string, options?: { stationKw?: number }): VehicleRecord;
  unplug(vehicleId: string): VehicleRecord;
  setSoc(vehicleId: string, soc: number): VehicleRecord;
  setAsleep(vehicleId: string, asleep: boolean): VehicleRecord;
  setUnreachable(vehicleId: string, unreachable: boolean): VehicleRecord;
  /** Make a vehicle answer every data and command endpoint with this error (`null` clears it). */
  injectError(vehicleId: string, error: ForcedError | null): VehicleRecord;
  drive(vehicleId: string, input: { distanceKm: number; speedKph?: number }): VehicleRecord;
  /** Registers a webhook for an app and runs the verification challenge against `url`. */
  createWebhook(input: {
    clientId: string;
    url: string;
    type?: 'scheduled' | 'eventBased';
    intervalMs?: number;
    paths?: readonly string[];
  }): Promise<WebhookRecord>;
  /** Waits until every webhook delivery started so far has finished. */
  flushWebhooks(): Promise<void>;
  setRateLimits(limits: RateLimits): void;
  close(): Promise<void>;
}

const HEARTBEAT_MS = 1_000;

/**
 * Starts a Smartcar-v2-compatible vehicle platform on one origin.
 * @example
 * const sim = await createSimulator({ clock: { mode: 'manual' } });
 * process.env.SMARTCAR_API_ORIGIN = sim.url; // likewise AUTH and MANAGEMENT_API origins
 * const { code } = sim.authorize({ clientId: sim.demoApp.clientId, redirectUri: 'https://example.com/auth',
 *   scope: 'read_battery read_charge', email: 'me@example.com', make: 'TESLA' });
 */
export async function createSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const snapshot = options.dataDir === undefined ? undefined : await loadSnapshot(options.dataDir);
  const clockOptions = options.clock ?? { mode: 'real' };
  // A restored simulator continues its own timeline, except a real clock, which is the wall clock.
  const clock = new SimulatorClock(
    clockOptions,
    clockOptions.mode === 'real' ? undefined : snapshot?.clockMs,
  );
  const store = snapshot === undefined ? new SimulatorStore() : SimulatorStore.fromSnapshot(snapshot);
  const logger = options.logger;
  const engine = new SimulatorEngine({
    store,
    clock,
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
    warn: (message) => logger?.warn(message),
  });

  const writer =
    options.dataDir === undefined
      ? undefined
      : new SnapshotWriter(
          options.dataDir,
          () => store.toSnapshot(clock.now()),
          (error) =>
            logger?.error(
              { err: error instanceof Error ? error.message : String(error) },
              'snapshot write failed',
            ),
        );
  if (writer !== undefined) store.onChange(() => writer.schedule());

  const demo = store.apps.get(DEMO_APP.clientId);
  // A snapshot from an older simulator may hold the demo app with other (e.g. wildcard) redirect URIs.
  const demoCurrent =
    demo !== undefined &&
    demo.clientSecret === DEMO_APP.clientSecret &&
    JSON.stringify(demo.redirectUris) === JSON.stringify(DEMO_APP.redirectUris);
  if (!demoCurrent) engine.registerApp(DEMO_APP);

  const managementToken = options.managementToken ?? randomUUID();
  const advance = async (ms: number) => {
    clock.moveForward(ms);
    engine.tick();
    await engine.whenDeliveriesSettled();
  };
  const setSpeed = (speed: number) => clock.setSpeed(speed);

  const v3 = createV3Platform(engine, {
    ...(options.webhookRetryBaseMs === undefined ? {} : { retryBaseMs: options.webhookRetryBaseMs }),
    warn: (message) => logger?.warn(message),
  });
  const requestLog = new RequestLog(
    {
      store,
      managementToken,
      applicationTokenApp: (token) => v3.tokens.appFor(token)?.clientId,
    },
    options.requestLogSize,
  );
  const deliveries = new Ring<DeliveryAttemptRecord>(500);
  engine.webhooks.onAttempt((attempt) => deliveries.push(attempt));
  v3.webhooks.onAttempt((attempt) => deliveries.push(attempt));
  const receiver = new DemoReceiver();
  const app = buildHttpApp({
    engine,
    managementToken,
    v3,
    adminHooks: { advance, setSpeed },
    ...(logger === undefined ? {} : { logger }),
  });
  const detachRequestLog = requestLog.attach(app.server);
  let url = '';
  receiver.register(app, store);
  registerDashboard(
    app,
    { engine, v3, requestLog, deliveries, receiver, origin: () => url },
    managementToken,
  );
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the simulator has no TCP address');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `http://${host}:${address.port}`;

  const heartbeat = clock.mode === 'manual' ? undefined : setInterval(() => engine.tick(), HEARTBEAT_MS);
  heartbeat?.unref();

  const copy = (vehicle: VehicleRecord): VehicleRecord => structuredClone(vehicle);
  const update = (vehicleId: string, patch: VehiclePatch) => copy(engine.updateVehicle(vehicleId, patch));

  let closed = false;
  return {
    url,
    managementToken,
    dashboardUrl: `${url}${DASHBOARD_PREFIX}/`,
    demoApp: { ...DEMO_APP, redirectUris: [...DEMO_APP.redirectUris] },
    sdkEnv: {
      SMARTCAR_API_ORIGIN: url,
      SMARTCAR_AUTH_ORIGIN: url,
      SMARTCAR_MANAGEMENT_API_ORIGIN: url,
      SMARTCAR_API_V3_ORIGIN: url,
    },
    v3: {
      createWebhook: (input) => v3.webhooks.create(input),
      subscribe: (webhookId, vehicleId) => v3.webhooks.subscribe(webhookId, vehicleId),
      unsubscribe: (webhookId, vehicleId) => v3.webhooks.unsubscribe(webhookId, vehicleId),
      webhooks: () => v3.webhooks.list(),
      deliveries: (webhookId) => v3.webhooks.deliveries(webhookId),
    },
    clock: {
      mode: clock.mode,
      now: () => new Date(clock.now()),
      advance,
      setSpeed,
    },
    registerApp: (input) => engine.registerApp(input),
    createTestAccount: (input) => engine.createTestAccount(input),
    authorize: (input) => {
      const result = engine.consent.authorize(input);
      return input.state === undefined ? result : { ...result, state: input.state };
    },
    vehicle: (vehicleId) => {
      const vehicle = engine.vehicleById(vehicleId);
      engine.syncVehicle(vehicle);
      return copy(vehicle);
    },
    updateVehicle: update,
    plugIn: (vehicleId, plug) =>
      update(vehicleId, {
        pluggedIn: true,
        ...(plug?.stationKw === undefined ? {} : { stationKw: plug.stationKw }),
      }),
    unplug: (vehicleId) => update(vehicleId, { pluggedIn: false }),
    setSoc: (vehicleId, soc) => update(vehicleId, { soc }),
    setAsleep: (vehicleId, asleep) => update(vehicleId, { asleep }),
    setUnreachable: (vehicleId, unreachable) => update(vehicleId, { unreachable }),
    injectError: (vehicleId, error) => update(vehicleId, { forcedError: error }),
    drive: (vehicleId, input) => copy(engine.drive(vehicleId, input)),
    createWebhook: (input) => engine.createWebhook(input),
    flushWebhooks: () => engine.whenDeliveriesSettled(),
    setRateLimits: (limits) => {
      if (limits.app !== undefined) engine.appLimits.setLimit(limits.app);
      if (limits.vehicle !== undefined) engine.vehicleLimits.setLimit(limits.vehicle);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (heartbeat !== undefined) clearInterval(heartbeat);
      await app.close();
      detachRequestLog();
      await engine.whenDeliveriesSettled();
      await writer?.flush();
    },
  };
}
