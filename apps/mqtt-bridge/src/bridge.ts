import { z } from 'zod';
import { createApiHealth } from './api-health.ts';
import { emptyTelemetry } from './charging-telemetry.ts';
import { createCommandHandling } from './command-handling.ts';
import { haStatusTopic } from './config.ts';
import type { BridgeConfig } from './config.ts';
import { buildBridgeDiscovery } from './discovery.ts';
import { entitiesFor } from './entities.ts';
import type { Logger } from './logger.ts';
import { createMqttConnection } from './mqtt-adapter.ts';
import type { MqttConnection } from './mqtt-adapter.ts';
import { DailyBudget } from './poll-policy.ts';
import { createPoller } from './polling.ts';
import { RetainedPublisher } from './publisher.ts';
import type { ServiceVehicleSource } from './service-vehicle-source.ts';
import type { SmartChargingLink } from './smart-charging-link.ts';
import { createSmartChargingSync } from './smart-charging-sync.ts';
import { createStatePublishing } from './state-publishing.ts';
import { createTopics, toSlug } from './topics.ts';
import type { Topics } from './topics.ts';
import { vehicleDisplayName } from './vehicle-naming.ts';
import { applyReading } from './vehicle-runtime.ts';
import type { VehicleRuntime } from './vehicle-runtime.ts';
import { isVehicleSourceError, VEHICLE_FIELDS } from './vehicle-source.ts';
import type {
  ChargePlanSource,
  VehicleField,
  VehicleInfo,
  VehiclePush,
  VehicleReading,
  VehicleSource,
} from './vehicle-source.ts';

const LIST_RETRY_MS = 30_000;

/** Which fields a pushed reading carries, for their freshness. */
function pushedFields(reading: VehicleReading): VehicleField[] {
  const fields: VehicleField[] = [];
  if (reading.socPercent !== undefined) fields.push('battery');
  if (reading.pluggedIn !== undefined || reading.chargeState !== undefined) fields.push('charge');
  if (reading.chargeLimitPercent !== undefined) fields.push('chargeLimit');
  if (reading.odometerKm !== undefined) fields.push('odometer');
  if (reading.location !== undefined) fields.push('location');
  if (reading.locked !== undefined) fields.push('security');
  if (reading.tirePressureKpa !== undefined) fields.push('tires');
  if (reading.fuelPercent !== undefined) fields.push('fuel');
  if (reading.oilLifePercent !== undefined) fields.push('engineOil');
  return fields;
}

const BridgeInfoSchema = z.object({
  vehicles: z.array(
    z.object({ slug: z.string(), entities: z.array(z.object({ key: z.string(), platform: z.string() })) }),
  ),
  discoveryMode: z.string().optional(),
});

export interface BridgeOptions {
  readonly config: BridgeConfig;
  readonly source: VehicleSource;
  /** Broker to use: the configured one or the embedded broker's URL. */
  readonly brokerUrl: string;
  /** 4 when talking to the embedded aedes broker, which has no MQTT 5. */
  readonly protocolVersion?: 4 | 5;
  readonly chargePlan?: ChargePlanSource;
  /**
   * The smart-charging service (in this process or over HTTP): per car a mode, targets, departure and the
   * plan in HA, and the charging switch maps to charge now / the plan while the service owns the car.
   */
  readonly smartCharging?: {
    readonly link: SmartChargingLink;
    /** How often changes made in the service are brought to HA. @default 5 */
    readonly pollSeconds?: number;
    /** When the bridge's cars are the service's (the standalone layout): refreshed with each poll. */
    readonly serviceSource?: ServiceVehicleSource;
  };
  /** Where owners manage their cars' links (the Connect page); HA shows it on every device. */
  readonly configurationUrl?: string;
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

/**
 * Wires the bridge together: the MQTT connection and its handlers, the set of cars, and the modules that
 * poll them (polling.ts), take commands (command-handling.ts), publish discovery and state
 * (state-publishing.ts) and fetch the charge plan (plan-handoff.ts).
 */
export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const { config, source, logger } = options;
  const polling = config.polling;
  const topics = createTopics(config.baseTopic, config.homeAssistant.discoveryPrefix);
  const discoveryMode = config.homeAssistant.discoveryMode;
  const statusTopic = haStatusTopic(config);
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
  const publishing = createStatePublishing(config, topics, publisher, options.configurationUrl);
  const publishBridgeInfo = (): void => publishing.publishBridgeInfo(vehicles.values());
  const api = createApiHealth({
    topics,
    publisher,
    source,
    polling,
    logger,
    onRecovered: () => {
      // Read every car again now; sleeping ones only get their timer back (a read could wake them).
      for (const car of vehicles.values()) {
        if (car.activity === 'asleep') poller.schedule(car);
        else void poller.poll(car, { wake: false });
      }
    },
  });
  const smartCharging = options.smartCharging
    ? createSmartChargingSync({
        link: options.smartCharging.link,
        cars: () => vehicles.values(),
        publishing,
        pollSeconds: options.smartCharging.pollSeconds ?? 5,
        serviceSource: options.smartCharging.serviceSource,
        onVehicleListChanged: () => void syncVehicles(),
        logger,
      })
    : undefined;
  const poller = createPoller({
    api,
    polling,
    source,
    logger,
    publishing,
    chargePlan: options.chargePlan,
    smartCharging: smartCharging !== undefined,
    isStopped: () => stopped,
    onEntitiesChanged: publishBridgeInfo,
  });
  const commands = createCommandHandling({
    topics,
    publisher,
    publishing,
    poller,
    api,
    source,
    polling,
    queueLimit: config.commandQueueLimit,
    smartCharging,
    logger,
    carBySlug: (slug) => bySlug.get(slug),
    ownsTopic: (topic) =>
      topic === topics.base ||
      topic.startsWith(`${topics.base}/`) ||
      topic.startsWith(`${config.homeAssistant.discoveryPrefix}/`) ||
      topic === statusTopic,
  });

  // ---------------------------------------------------------------- vehicles

  const addVehicle = (info: VehicleInfo): VehicleRuntime => {
    const override = config.vehicles.find((v) => v.id === info.id);
    let slug = override?.slug ?? toSlug(info.vin ?? info.id);
    if (bySlug.has(slug)) slug = `${slug}_${toSlug(info.id).slice(0, 8)}`;
    const supported = new Set<VehicleField>(info.fields ?? VEHICLE_FIELDS);
    const car: VehicleRuntime = {
      info,
      slug,
      name: override?.name ?? vehicleDisplayName(info, slug),
      supported,
      entities: entitiesFor(
        supported,
        options.chargePlan !== undefined,
        new Set(),
        smartCharging !== undefined,
      ),
      reading: {},
      freshness: new Map(),
      telemetry: emptyTelemetry(),
      dropped: new Set(),
      activity: 'unknown',
      lastUpdated: undefined,
      plan: undefined,
      smart: undefined,
      available: undefined,
      budget: new DailyBudget(polling.dailyRequestBudget, Date.now()),
      fastUntil: 0,
      notBefore: 0,
      failures: 0,
      lastFullReadAt: 0,
      lastRegularReadAt: 0,
      timer: undefined,
      polling: undefined,
      discoveryPublished: false,
      removed: false,
    };
    vehicles.set(info.id, car);
    bySlug.set(slug, car);
    logger.info({ vehicle: slug, name: car.name }, 'vehicle added');
    smartCharging?.apply(car);
    void poller.poll(car, { wake: false });
    return car;
  };

  const removeVehicle = (car: VehicleRuntime): void => {
    car.removed = true;
    poller.cancel(car);
    commands.forget(car);
    vehicles.delete(car.info.id);
    bySlug.delete(car.slug);
    publishing.clearVehicleTopics(car.slug, car.entities);
    logger.info({ vehicle: car.slug }, 'vehicle removed');
  };

  const syncVehicles = async (): Promise<void> => {
    let list: VehicleInfo[];
    try {
      list = await source.listVehicles();
    } catch (error) {
      if (isVehicleSourceError(error)) api.reportFailure(error);
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
    api.reportSuccess();
    const ids = new Set(list.map((v) => v.id));
    for (const car of [...vehicles.values()]) if (!ids.has(car.info.id)) removeVehicle(car);
    for (const info of list) if (!vehicles.has(info.id)) addVehicle(info);
    // Cars a previous run published but that are gone now (removed while the bridge was down).
    if (previousRun) {
      for (const old of previousRun.vehicles)
        if (!bySlug.has(old.slug)) publishing.clearVehicleTopics(old.slug, old.entities);
      previousRun = undefined;
    }
    publishBridgeInfo();
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
        const count = publisher.republishAll((all) => publishing.republishOrder(all));
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
    if (command) commands.handle(message, command.slug, command.command);
  });

  let firstConnect = true;
  let previousRunRead: () => void = () => undefined;
  const previousRunReady = new Promise<void>((resolve) => {
    previousRunRead = resolve;
  });
  connection.onConnect(async () => {
    // Subscribe first so no command published right after our "online" is missed.
    // Commands arrive with their retain flag as published, and retained ones are delivered too: both are
    // stale or misconfigured, so the handler clears them instead of running them.
    await connection.subscribe([topics.commandFilter], { qos: 1, retainAsPublished: true });
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
    const count = publisher.republishAll((all) => publishing.republishOrder(all));
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
    for (const message of buildBridgeDiscovery(
      { topics, currency: config.currency, configurationUrl: options.configurationUrl },
      discoveryMode,
    ))
      publisher.set(message.topic, message.payload);
  }
  await syncVehicles();
  if (smartCharging) {
    await smartCharging.refresh();
    smartCharging.start();
  }
  if (polling.vehicleListSeconds > 0) {
    listTimer = setInterval(() => void syncVehicles(), polling.vehicleListSeconds * 1000);
  }

  const unsubscribePush = source.onPush?.((push: VehiclePush) => {
    const car = vehicles.get(push.vehicleId);
    if (!car || car.removed) return;
    const wasAsleep = car.activity === 'asleep';
    const fields = pushedFields(push.reading);
    const events = applyReading(car, push.reading, { fields, source: 'webhook' });
    car.available = true;
    if (!car.discoveryPublished) publishing.publishDiscovery(car);
    publishing.publishState(car);
    publishing.publishChargeEvents(car, events);
    // A push means the car is awake: a car we thought asleep is read at once, the others resume their rate.
    if (wasAsleep) void poller.poll(car, { wake: false });
    else poller.schedule(car);
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
      api.stop();
      smartCharging?.stop();
      unsubscribePush?.();
      for (const car of vehicles.values()) poller.cancel(car);
      await Promise.allSettled([
        commands.idle(),
        ...[...vehicles.values()].flatMap((car) => (car.polling ? [car.polling] : [])),
      ]);
      await connection.close([
        { topic: topics.bridgeState, payload: 'offline', options: { qos: 1, retain: true } },
      ]);
    },
  };
}
