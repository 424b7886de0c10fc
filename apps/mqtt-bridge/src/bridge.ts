import { z } from 'zod';
import { haStatusTopic, redactConfig } from './config.ts';
import type { BridgeConfig } from './config.ts';
import { parseCommand } from './commands.ts';
import type { CommandResult, ParsedCommand } from './commands.ts';
import {
  BRIDGE_VERSION,
  buildBridgeDiscovery,
  buildComponentDiscovery,
  buildDeviceDiscovery,
  deviceObjectId,
  discoveryRemovals,
} from './discovery.ts';
import type { DiscoveryContext, DiscoveryVehicle } from './discovery.ts';
import { ENTITY_CATALOG, entitiesFor, renderValues } from './entities.ts';
import type { Activity, EntityDefinition, VehicleView } from './entities.ts';
import type { Logger } from './logger.ts';
import { createMqttConnection } from './mqtt-adapter.ts';
import type { MqttConnection, MqttMessage } from './mqtt-adapter.ts';
import { backoffMs, DailyBudget, nextPollDelayMs } from './poll-policy.ts';
import { RetainedPublisher } from './publisher.ts';
import { createTopics, toSlug } from './topics.ts';
import type { CommandName, Topics } from './topics.ts';
import { isVehicleSourceError, VEHICLE_FIELDS, VehicleSourceError } from './vehicle-source.ts';
import type {
  ChargePlanSource,
  ChargePlanWindow,
  VehicleField,
  VehicleInfo,
  VehiclePush,
  VehicleReading,
  VehicleSource,
} from './vehicle-source.ts';

/** A full read of every supported field at least this often, so slow-moving values (tires, oil) stay fresh. */
const FULL_READ_EVERY_MS = 6 * 3600_000;
const RESULT_EXPIRY_SECONDS = 300;
const LIST_RETRY_MS = 30_000;

const FIELDS_BY_ACTIVITY: Record<Activity, readonly VehicleField[]> = {
  charging: ['battery', 'charge', 'chargeLimit'],
  driving: ['battery', 'charge', 'location', 'odometer'],
  plugged: ['battery', 'charge', 'chargeLimit', 'location', 'odometer', 'security'],
  parked: ['battery', 'charge', 'chargeLimit', 'location', 'odometer', 'security'],
  unknown: VEHICLE_FIELDS,
  asleep: VEHICLE_FIELDS,
};

const BridgeInfoSchema = z.object({
  vehicles: z.array(
    z.object({ slug: z.string(), entities: z.array(z.object({ key: z.string(), platform: z.string() })) }),
  ),
  discoveryMode: z.string().optional(),
});

interface VehicleRuntime {
  readonly info: VehicleInfo;
  readonly slug: string;
  readonly name: string;
  supported: Set<VehicleField>;
  entities: EntityDefinition[];
  reading: VehicleReading;
  activity: Activity;
  lastUpdated: Date | undefined;
  plan: ChargePlanWindow | null | undefined;
  available: boolean | undefined;
  budget: DailyBudget;
  fastUntil: number;
  notBefore: number;
  failures: number;
  lastFullReadAt: number;
  timer: NodeJS.Timeout | undefined;
  polling: Promise<void> | undefined;
  /** Commands run one at a time per car, in arrival order. */
  queue: Promise<void>;
  discoveryPublished: boolean;
  removed: boolean;
}

export interface BridgeOptions {
  readonly config: BridgeConfig;
  readonly source: VehicleSource;
  /** Broker to use: the configured one or the embedded broker's URL. */
  readonly brokerUrl: string;
  /** 4 when talking to the embedded aedes broker, which has no MQTT 5. */
  readonly protocolVersion?: 4 | 5;
  readonly chargePlan?: ChargePlanSource;
  readonly logger: Logger;
}

export interface Bridge {
  readonly topics: Topics;
  readonly connection: MqttConnection;
  /** Slugs of the cars currently bridged. */
  vehicleSlugs(): string[];
  /** Re-reads the vehicle list now (new cars appear, gone cars are removed from MQTT and Home Assistant). */
  syncVehicles(): Promise<void>;
  /** Resolves when every publish issued so far has completed. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Chooses what the car is doing from what changed between two reads. */
function inferActivity(previous: VehicleReading, next: VehicleReading): Activity {
  if (next.chargeState === 'charging') return 'charging';
  const movedKm =
    next.odometerKm !== undefined && previous.odometerKm !== undefined
      ? next.odometerKm - previous.odometerKm
      : 0;
  const moved =
    movedKm > 0.05 ||
    (next.location !== undefined &&
      previous.location !== undefined &&
      (Math.abs(next.location.latitude - previous.location.latitude) > 0.0005 ||
        Math.abs(next.location.longitude - previous.location.longitude) > 0.0005));
  if (moved) return 'driving';
  if (next.pluggedIn) return 'plugged';
  return 'parked';
}

/** JSON view of a car's plain values: numbers as numbers, ON/OFF as booleans, JSON values inline. */
function toJsonState(values: Map<string, string>, available: boolean | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of values) {
    if (value === 'ON' || value === 'OFF') out[key] = value === 'ON';
    else if (value.startsWith('{')) out[key] = JSON.parse(value) as unknown;
    else if (value !== '' && Number.isFinite(Number(value))) out[key] = Number(value);
    else out[key] = value;
  }
  out['available'] = available ?? null;
  return out;
}

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const { config, source, logger } = options;
  const polling = config.polling;
  const topics = createTopics(config.baseTopic, config.homeAssistant.discoveryPrefix);
  const discoveryMode = config.homeAssistant.discoveryMode;
  const statusTopic = haStatusTopic(config);
  const context: DiscoveryContext = { topics, currency: config.currency };
  const vehicles = new Map<string, VehicleRuntime>(); // by vehicle id
  const bySlug = new Map<string, VehicleRuntime>();
  let stopped = false;
  let previousRun: z.infer<typeof BridgeInfoSchema> | undefined;
  let listTimer: NodeJS.Timeout | undefined;
  let birthTimer: NodeJS.Timeout | undefined;
  let listRetryTimer: NodeJS.Timeout | undefined;

  const connection = await createMqttConnection({
    ...config.mqtt,
    protocolVersion: options.protocolVersion ?? config.mqtt.protocolVersion,
    url: options.brokerUrl,
    will: { topic: topics.bridgeState, payload: 'offline', qos: 1, retain: true },
    logger,
  });
  const publisher = new RetainedPublisher(connection, logger);

  // ---------------------------------------------------------------- publishing

  const view = (car: VehicleRuntime): VehicleView => ({
    reading: car.reading,
    activity: car.activity,
    lastUpdated: car.lastUpdated,
    requestsRemaining: car.budget.remaining(Date.now()),
    plan: car.plan,
  });

  const discoveryVehicle = (car: VehicleRuntime): DiscoveryVehicle => ({
    slug: car.slug,
    name: car.name,
    info: car.info,
    entities: car.entities,
  });

  const publishDiscovery = (car: VehicleRuntime, removed: readonly EntityDefinition[] = []): void => {
    if (discoveryMode === 'off' || car.removed) return;
    if (discoveryMode === 'device') {
      if (removed.length > 0) {
        // HA drops a component when its entry shrinks to the platform; then the clean payload follows.
        const shrink = buildDeviceDiscovery(discoveryVehicle(car), context, removed);
        publisher.set(shrink.topic, shrink.payload);
      }
      const message = buildDeviceDiscovery(discoveryVehicle(car), context);
      publisher.set(message.topic, message.payload);
    } else {
      const objectId = deviceObjectId(topics, car.slug);
      for (const entity of removed)
        publisher.clear(topics.discoveryComponent(entity.platform, objectId, entity.key));
      for (const message of buildComponentDiscovery(discoveryVehicle(car), context))
        publisher.set(message.topic, message.payload);
    }
    car.discoveryPublished = true;
  };

  const publishState = (car: VehicleRuntime): void => {
    if (car.removed) return;
    const vt = topics.vehicle(car.slug);
    if (car.available !== undefined) publisher.set(vt.availability, car.available ? 'online' : 'offline');
    const values = renderValues(car.entities, view(car));
    for (const [key, value] of values) publisher.set(vt.value(key), value);
    publisher.set(vt.state, JSON.stringify(toJsonState(values, car.available)));
  };

  const publishBridgeInfo = (): void => {
    const info = {
      version: BRIDGE_VERSION,
      discoveryMode,
      vehicles: [...vehicles.values()].map((car) => ({
        slug: car.slug,
        id: car.info.id,
        name: car.name,
        entities: car.entities.map((e) => ({ key: e.key, platform: e.platform })),
      })),
      config: redactConfig(config),
    };
    publisher.set(topics.bridgeInfo, JSON.stringify(info));
  };

  const sendResult = (slug: string, result: CommandResult, message?: MqttMessage): void => {
    const vt = topics.vehicle(slug);
    const payload = JSON.stringify(result);
    publisher.send(vt.result(result.command), payload, {
      messageExpirySeconds: RESULT_EXPIRY_SECONDS,
      contentType: 'application/json',
    });
    if (message?.responseTopic) {
      publisher.send(message.responseTopic, payload, {
        messageExpirySeconds: RESULT_EXPIRY_SECONDS,
        contentType: 'application/json',
        ...(message.correlationData ? { correlationData: message.correlationData } : {}),
      });
    }
    const eventType =
      result.status === 'pending'
        ? 'command_pending'
        : result.status === 'ok'
          ? 'command_succeeded'
          : 'command_failed';
    publisher.send(
      vt.event,
      JSON.stringify({
        event_type: eventType,
        command: result.command,
        ...(result.value !== undefined ? { value: result.value } : {}),
        ...(result.error ? { message: result.error } : {}),
        ...(result.transaction ? { transaction: result.transaction } : {}),
      }),
      { messageExpirySeconds: RESULT_EXPIRY_SECONDS },
    );
  };

  /** Order for a full republish: bridge state, discovery, availability, then values. */
  const republishOrder = (all: string[]): string[] => {
    const rank = (topic: string): number => {
      if (topic === topics.bridgeState) return 0;
      if (topic.startsWith(`${config.homeAssistant.discoveryPrefix}/`)) return 1;
      if (topic.endsWith('/availability')) return 2;
      return 3;
    };
    return [...all].sort((a, b) => rank(a) - rank(b));
  };

  // ---------------------------------------------------------------- polling

  // At most `maxConcurrentReads` API reads at once: a fleet starting up must not burst past the app's rate limit.
  let readsInFlight = 0;
  const readWaiters: Array<() => void> = [];
  const withReadSlot = async <T>(read: () => Promise<T>): Promise<T> => {
    while (readsInFlight >= polling.maxConcurrentReads)
      await new Promise<void>((resolve) => readWaiters.push(resolve));
    readsInFlight += 1;
    try {
      return await read();
    } finally {
      readsInFlight -= 1;
      readWaiters.shift()?.();
    }
  };

  const schedule = (car: VehicleRuntime): void => {
    if (stopped || car.removed) return;
    if (car.timer) clearTimeout(car.timer);
    car.timer = undefined;
    const now = Date.now();
    const fields = fieldsFor(car, false);
    let delay = nextPollDelayMs(
      {
        now,
        activity: car.activity,
        fastUntil: car.fastUntil,
        notBefore: car.notBefore,
        budgetRemaining: car.budget.remaining(now),
        msUntilBudgetReset: car.budget.msUntilReset(now),
        pollCost: fields.length,
      },
      polling,
    );
    if (delay === null) return; // asleep: wait for refresh, a command or a push
    // An unreachable car is retried on the backoff schedule, not only at its (slow) normal interval.
    if (car.available === false && car.failures > 0)
      delay = Math.min(delay, Math.max(0, car.notBefore - now));
    // ±10 % jitter so a fleet polled at the same rate does not hit the API in lockstep.
    delay = Math.round(delay * (0.9 + Math.random() * 0.2));
    car.timer = setTimeout(() => {
      car.timer = undefined;
      void poll(car, { wake: false });
    }, delay);
  };

  const fieldsFor = (car: VehicleRuntime, full: boolean): VehicleField[] => {
    const wanted =
      full || Date.now() - car.lastFullReadAt > FULL_READ_EVERY_MS
        ? VEHICLE_FIELDS
        : FIELDS_BY_ACTIVITY[car.activity];
    return wanted.filter((field) => car.supported.has(field));
  };

  const dropUnsupported = (car: VehicleRuntime, fields: readonly VehicleField[]): void => {
    for (const field of fields) car.supported.delete(field);
    const before = car.entities;
    car.entities = entitiesFor(car.supported, options.chargePlan !== undefined);
    const removed = before.filter((e) => !car.entities.includes(e));
    if (removed.length === 0) return;
    const vt = topics.vehicle(car.slug);
    for (const entity of removed)
      if (publisher.has(vt.value(entity.key))) publisher.clear(vt.value(entity.key));
    if (car.discoveryPublished) publishDiscovery(car, removed);
    publishBridgeInfo();
  };

  /**
   * Reads the car and publishes what changed. Returns the error that stopped the read, if any, so a
   * refresh can report it. `wake` (refresh) reads even a sleeping car and every supported field.
   */
  const readCar = async (car: VehicleRuntime, wake: boolean): Promise<VehicleSourceError | undefined> => {
    const now = Date.now();
    const fields = fieldsFor(car, wake || car.lastFullReadAt === 0);
    if (fields.length === 0) return undefined;
    if (car.budget.remaining(now) < fields.length) {
      return new VehicleSourceError('rate_limited', 'daily request budget used up; it resets at 00:00 UTC');
    }
    let failure: VehicleSourceError | undefined;
    try {
      const result = await withReadSlot(() => source.read(car.info.id, fields));
      car.budget.spend(result.requestCount, Date.now());
      if (stopped || car.removed) return undefined;
      const unsupported = [...result.errors]
        .filter(([, e]) => e.kind === 'unsupported')
        .map(([field]) => field);
      const previous = car.reading;
      car.reading = { ...previous, ...result.reading };
      car.activity = inferActivity(previous, car.reading);
      car.lastUpdated = result.reading.dataAge ?? new Date();
      car.available = true;
      car.failures = 0;
      if (unsupported.length > 0) dropUnsupported(car, unsupported);
      if ([...car.supported].every((field) => fields.includes(field))) car.lastFullReadAt = Date.now();
      if (options.chargePlan) {
        car.plan = await options.chargePlan.nextWindow(car.info.id).catch((error: unknown) => {
          logger.warn({ vehicle: car.slug, err: error }, 'charge plan unavailable');
          return car.plan;
        });
      }
    } catch (error) {
      failure = isVehicleSourceError(error)
        ? error
        : new VehicleSourceError('unavailable', (error as Error).message ?? 'read failed', { cause: error });
      if (stopped || car.removed) return failure;
      car.budget.spend(1, Date.now());
      switch (failure.kind) {
        case 'asleep':
          // Keep the last values; the car is reachable, just sleeping.
          car.activity = 'asleep';
          car.available = true;
          car.failures = 0;
          break;
        case 'rate_limited':
          car.notBefore = Date.now() + (failure.retryAfterSeconds ?? polling.errorBackoffSeconds) * 1000;
          break;
        case 'unsupported':
          dropUnsupported(car, fields);
          break;
        case 'rejected':
        case 'unavailable':
          car.failures += 1;
          car.available = false;
          car.notBefore = Date.now() + backoffMs(car.failures, polling);
          break;
      }
      logger.warn({ vehicle: car.slug, kind: failure.kind, message: failure.message }, 'vehicle read failed');
    }
    if (!car.discoveryPublished) publishDiscovery(car);
    publishState(car);
    return failure;
  };

  const poll = async (
    car: VehicleRuntime,
    { wake }: { wake: boolean },
  ): Promise<VehicleSourceError | undefined> => {
    // One read at a time per car: a refresh during a poll waits for it and then reads again.
    while (car.polling) await car.polling;
    let failure: VehicleSourceError | undefined;
    const run = readCar(car, wake).then((f) => {
      failure = f;
    });
    car.polling = run;
    try {
      await run;
    } finally {
      car.polling = undefined;
      schedule(car);
    }
    return failure;
  };

  // ---------------------------------------------------------------- vehicles

  const addVehicle = (info: VehicleInfo): VehicleRuntime => {
    const override = config.vehicles.find((v) => v.id === info.id);
    let slug = override?.slug ?? toSlug(info.vin ?? info.id);
    if (bySlug.has(slug)) slug = `${slug}_${toSlug(info.id).slice(0, 8)}`;
    const fallbackName = [info.make, info.model].filter(Boolean).join(' ') || `Vehicle ${slug}`;
    const supported = new Set<VehicleField>(info.fields ?? VEHICLE_FIELDS);
    const car: VehicleRuntime = {
      info,
      slug,
      name: override?.name ?? fallbackName,
      supported,
      entities: entitiesFor(supported, options.chargePlan !== undefined),
      reading: {},
      activity: 'unknown',
      lastUpdated: undefined,
      plan: undefined,
      available: undefined,
      budget: new DailyBudget(polling.dailyRequestBudget, Date.now()),
      fastUntil: 0,
      notBefore: 0,
      failures: 0,
      lastFullReadAt: 0,
      timer: undefined,
      polling: undefined,
      queue: Promise.resolve(),
      discoveryPublished: false,
      removed: false,
    };
    vehicles.set(info.id, car);
    bySlug.set(slug, car);
    logger.info({ vehicle: slug, name: car.name }, 'vehicle added');
    void poll(car, { wake: false });
    return car;
  };

  /** Deletes everything a car had on the broker: discovery (both modes), values, availability, state. */
  const clearVehicleTopics = (slug: string, entities: readonly { key: string; platform: string }[]): void => {
    const definitions = ENTITY_CATALOG.filter((e) => entities.some((x) => x.key === e.key)).concat(
      ENTITY_CATALOG.filter((e) => !entities.some((x) => x.key === e.key)),
    );
    for (const message of discoveryRemovals(slug, definitions, topics)) publisher.clear(message.topic);
    const vt = topics.vehicle(slug);
    for (const entity of ENTITY_CATALOG) if (entity.hasState) publisher.clear(vt.value(entity.key));
    publisher.clear(vt.state);
    publisher.clear(vt.availability);
  };

  const removeVehicle = (car: VehicleRuntime): void => {
    car.removed = true;
    if (car.timer) clearTimeout(car.timer);
    vehicles.delete(car.info.id);
    bySlug.delete(car.slug);
    clearVehicleTopics(car.slug, car.entities);
    logger.info({ vehicle: car.slug }, 'vehicle removed');
  };

  const syncVehicles = async (): Promise<void> => {
    let list: VehicleInfo[];
    try {
      list = await source.listVehicles();
    } catch (error) {
      // API down or auth failing at the moment: keep the current cars and try again soon, not in an hour.
      logger.warn(
        { err: { message: (error as Error).message } },
        'cannot list vehicles; keeping the current ones',
      );
      if (!stopped && !listRetryTimer) {
        listRetryTimer = setTimeout(() => {
          listRetryTimer = undefined;
          void syncVehicles();
        }, LIST_RETRY_MS);
      }
      return;
    }
    if (stopped) return;
    const ids = new Set(list.map((v) => v.id));
    for (const car of [...vehicles.values()]) if (!ids.has(car.info.id)) removeVehicle(car);
    for (const info of list) if (!vehicles.has(info.id)) addVehicle(info);
    // Cars a previous run published but that are gone now (removed while the bridge was down).
    if (previousRun) {
      for (const old of previousRun.vehicles)
        if (!bySlug.has(old.slug)) clearVehicleTopics(old.slug, old.entities);
      previousRun = undefined;
    }
    publishBridgeInfo();
  };

  // ---------------------------------------------------------------- commands

  const handleCommand = (message: MqttMessage, slug: string, name: CommandName): void => {
    if (message.payload.length === 0) return; // our own clear of a retained command, or someone else's
    if (message.retain) {
      // A retained command is stale by definition (it may be days old): never act on it, and remove it.
      logger.warn({ topic: message.topic }, 'ignoring retained command');
      publisher.send(message.topic, '', { retain: true });
      return;
    }
    const ts = (): string => new Date().toISOString();
    const car = bySlug.get(slug);
    if (!car) {
      sendResult(
        slug,
        { status: 'error', command: name, error: `unknown vehicle ${slug}`, ts: ts() },
        message,
      );
      return;
    }
    const parsed = parseCommand(name, message.payload);
    if (!parsed.ok) {
      sendResult(
        slug,
        {
          status: 'error',
          command: name,
          error: parsed.error,
          ...(parsed.transaction ? { transaction: parsed.transaction } : {}),
          ts: ts(),
        },
        message,
      );
      return;
    }
    const command = parsed.command;
    const base = {
      command: name,
      value: command.value,
      ...(command.transaction ? { transaction: command.transaction } : {}),
    };
    sendResult(slug, { status: 'pending', ...base, ts: ts() }, message);
    car.queue = car.queue.then(async () => {
      const error = await executeCommand(car, command);
      if (error) sendResult(slug, { status: 'error', ...base, error, ts: ts() }, message);
      else sendResult(slug, { status: 'ok', ...base, ts: ts() }, message);
    });
  };

  /** Runs a command, then reads the car back so the state follows. Returns an error message or undefined. */
  const executeCommand = async (car: VehicleRuntime, command: ParsedCommand): Promise<string | undefined> => {
    car.fastUntil = Date.now() + polling.fastWindowSeconds * 1000;
    if (command.kind === 'refresh') {
      const failure = await poll(car, { wake: true });
      return failure ? `refresh failed: ${failure.message}` : undefined;
    }
    const vt = topics.vehicle(car.slug);
    const lockTopic = vt.value('lock');
    if (command.command.kind === 'lock' || command.command.kind === 'unlock') {
      // Transitional state for the HA lock card; the read-back sets the real one.
      publisher.set(lockTopic, command.command.kind === 'lock' ? 'LOCKING' : 'UNLOCKING');
    }
    if (car.budget.remaining(Date.now()) < 1) {
      publishState(car);
      return 'daily request budget used up; it resets at 00:00 UTC';
    }
    try {
      await source.command(car.info.id, command.command);
      car.budget.spend(1, Date.now());
      if (command.command.kind === 'setChargeLimit')
        car.reading = { ...car.reading, chargeLimitPercent: command.command.percent };
    } catch (error) {
      car.budget.spend(1, Date.now());
      const failure = isVehicleSourceError(error)
        ? error
        : new VehicleSourceError('unavailable', String((error as Error).message));
      if (failure.kind === 'rate_limited' && failure.retryAfterSeconds)
        car.notBefore = Date.now() + failure.retryAfterSeconds * 1000;
      // Put back what the car really shows (e.g. the switch flips back to OFF in HA).
      if (car.reading.locked === undefined && publisher.has(lockTopic)) publisher.clear(lockTopic);
      publishState(car);
      return failure.message;
    }
    await poll(car, { wake: false });
    return undefined;
  };

  // ---------------------------------------------------------------- MQTT wiring

  connection.onMessage((message) => {
    if (message.topic === statusTopic) {
      if (message.payload.toString() !== config.homeAssistant.birthPayload || message.retain) return;
      // HA restarted: it forgot every entity until discovery is processed again. Republish after a random
      // delay so a broker full of bridges does not get hit all at once.
      const { birthDelayMinMs: min, birthDelayMaxMs: max } = config.homeAssistant;
      const delay = min + Math.floor(Math.random() * (max - min + 1));
      if (birthTimer) clearTimeout(birthTimer);
      birthTimer = setTimeout(() => {
        birthTimer = undefined;
        const count = publisher.republishAll(republishOrder);
        logger.info({ count }, 'republished after Home Assistant birth');
      }, delay);
      return;
    }
    if (message.topic === topics.bridgeInfo) {
      if (!message.retain || previousRun !== undefined) return;
      try {
        const parsed = BridgeInfoSchema.safeParse(JSON.parse(message.payload.toString()));
        if (parsed.success) previousRun = parsed.data;
      } catch {
        // Not ours or corrupt: nothing to clean up from it.
      }
      return;
    }
    const command = topics.parseCommandTopic(message.topic);
    if (command) handleCommand(message, command.slug, command.command);
  });

  let firstConnect = true;
  let previousRunRead: () => void = () => undefined;
  const previousRunReady = new Promise<void>((resolve) => {
    previousRunRead = resolve;
  });
  connection.onConnect(async () => {
    // Subscribe first so no command published right after our "online" is missed.
    await connection.subscribe([topics.commandFilter], { qos: 1, skipRetained: true });
    await connection.subscribe([statusTopic], { qos: 1, skipRetained: true });
    if (firstConnect) {
      firstConnect = false;
      // Read what the previous run published (retained), to clean up cars that are gone.
      try {
        await connection.subscribe([topics.bridgeInfo], { qos: 1 });
        // Retained messages follow the SUBACK right away; a short grace covers a busy broker.
        await new Promise((resolve) => setTimeout(resolve, 250));
        await connection.unsubscribe([topics.bridgeInfo]);
      } finally {
        previousRunRead();
      }
    }
    publisher.set(topics.bridgeState, 'online');
    // Everything, every time: a broker without persistence lost it, and HA may have missed it.
    const count = publisher.republishAll(republishOrder);
    logger.info({ count }, 'published bridge state, discovery and vehicle states');
  });

  // Wait for the first connection (bounded: the bridge keeps retrying in the background anyway).
  await new Promise<void>((resolve) => {
    if (connection.isConnected()) return resolve();
    const timer = setTimeout(resolve, 10_000);
    const off = connection.onConnect(() => {
      clearTimeout(timer);
      off();
      resolve();
    });
  });
  // Let the first connect handler read the previous run's info before vehicles are listed (bounded).
  await Promise.race([previousRunReady, new Promise((resolve) => setTimeout(resolve, 3000))]);

  if (discoveryMode !== 'off') {
    for (const message of buildBridgeDiscovery(context, discoveryMode))
      publisher.set(message.topic, message.payload);
  }
  await syncVehicles();
  if (polling.vehicleListSeconds > 0) {
    listTimer = setInterval(() => void syncVehicles(), polling.vehicleListSeconds * 1000);
  }

  const unsubscribePush = source.onPush?.((push: VehiclePush) => {
    const car = vehicles.get(push.vehicleId);
    if (!car || car.removed) return;
    const previous = car.reading;
    car.reading = { ...previous, ...push.reading };
    car.activity = inferActivity(previous, car.reading);
    car.lastUpdated = push.reading.dataAge ?? new Date();
    car.available = true;
    if (!car.discoveryPublished) publishDiscovery(car);
    publishState(car);
    schedule(car); // a push means the car is awake: resume polling at the matching rate
  });

  return {
    topics,
    connection,
    vehicleSlugs: () => [...bySlug.keys()],
    syncVehicles,
    flush: () => publisher.idle(),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (listTimer) clearInterval(listTimer);
      if (birthTimer) clearTimeout(birthTimer);
      if (listRetryTimer) clearTimeout(listRetryTimer);
      unsubscribePush?.();
      for (const car of vehicles.values()) if (car.timer) clearTimeout(car.timer);
      await Promise.allSettled(
        [...vehicles.values()].flatMap((car) => (car.polling ? [car.polling, car.queue] : [car.queue])),
      );
      await connection.close([
        { topic: topics.bridgeState, payload: 'offline', options: { qos: 1, retain: true } },
      ]);
    },
  };
}
