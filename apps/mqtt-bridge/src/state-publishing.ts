import { redactConfig } from './config.ts';
import type { BridgeConfig } from './config.ts';
import {
  BRIDGE_VERSION,
  buildComponentDiscovery,
  buildDeviceDiscovery,
  deviceObjectId,
  discoveryRemovals,
} from './discovery.ts';
import type { DiscoveryContext, DiscoveryVehicle } from './discovery.ts';
import {
  attributeGroup,
  ENTITY_CATALOG,
  renderValues,
  SMART_CHARGING_GROUP,
  TELEMETRY_GROUP,
} from './entities.ts';
import type { EntityDefinition, VehicleView } from './entities.ts';
import type { RetainedPublisher } from './publisher.ts';
import type { Topics } from './topics.ts';
import type { ChargeEventType } from './charging-telemetry.ts';
import type { VehicleRuntime } from './vehicle-runtime.ts';
import { VEHICLE_FIELDS } from './vehicle-source.ts';
import type { VehicleField } from './vehicle-source.ts';

const snake = (corner: string): string => corner.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Each door and window on its own, for cards that show them: `{"doors":{"front_left":"closed",…}}`. */
function snakeOpenings(car: VehicleRuntime): Record<string, unknown> {
  const o = car.reading.openings ?? {};
  const corners = (map: Record<string, string> | undefined) =>
    map ? Object.fromEntries(Object.entries(map).map(([k, v]) => [snake(k), v])) : undefined;
  return {
    ...(o.doors ? { doors: corners(o.doors) } : {}),
    ...(o.windows ? { windows: corners(o.windows) } : {}),
    ...(o.sunroof ? { sunroof: o.sunroof } : {}),
    ...(o.trunk ? { trunk: o.trunk } : {}),
    ...(o.frunk ? { frunk: o.frunk } : {}),
    ...(o.chargePort ? { charge_port: o.chargePort } : {}),
  };
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

export interface StatePublishing {
  publishDiscovery(car: VehicleRuntime, removed?: readonly EntityDefinition[]): void;
  publishState(car: VehicleRuntime): void;
  /** Plug and charge transitions on the car's charging event entity (not retained). */
  publishChargeEvents(car: VehicleRuntime, events: readonly ChargeEventType[]): void;
  publishBridgeInfo(cars: Iterable<VehicleRuntime>): void;
  /** Deletes everything a car had on the broker: discovery (both modes), values, availability, state. */
  clearVehicleTopics(slug: string, entities: readonly { key: string; platform: string }[]): void;
  /** Clears the value topics of entities a car lost, then republishes its discovery without them. */
  removeEntities(car: VehicleRuntime, removed: readonly EntityDefinition[]): void;
  /** Order for a full republish: bridge state, discovery, availability, then values. */
  republishOrder(all: string[]): string[];
}

/** Discovery, values and bridge info on MQTT, through the retained publisher's cache. */
export function createStatePublishing(
  config: BridgeConfig,
  topics: Topics,
  publisher: RetainedPublisher,
  configurationUrl: string | undefined,
): StatePublishing {
  const discoveryMode = config.homeAssistant.discoveryMode;
  const context: DiscoveryContext = { topics, currency: config.currency, configurationUrl };

  const view = (car: VehicleRuntime): VehicleView => ({
    reading: car.reading,
    activity: car.activity,
    lastUpdated: car.lastUpdated,
    requestsRemaining: car.budget.remaining(Date.now()),
    plan: car.plan,
    smart: car.smart,
    telemetry: car.telemetry,
    locationReadAt: car.freshness.get('location')?.readAt.toISOString(),
  });

  /** One attributes payload per group the car's entities show: freshness, and how derived values came about. */
  const attributePayloads = (car: VehicleRuntime): Map<string, string> => {
    const out = new Map<string, string>();
    for (const group of new Set(car.entities.map(attributeGroup))) {
      if (group === undefined) continue;
      let attributes: Record<string, unknown>;
      if (group === SMART_CHARGING_GROUP) {
        const smart = car.smart;
        if (!smart) continue;
        attributes = {
          mode: smart.mode,
          next_departure: smart.nextDeparture,
          currency: smart.currency,
          shortfall: smart.shortfall,
          plan_reason: smart.planReason,
          slots: smart.slots,
        };
      } else if (group === TELEMETRY_GROUP) {
        const battery = car.freshness.get('battery');
        if (!battery) continue;
        attributes = { read_at: battery.readAt.toISOString(), ...car.telemetry.basis };
      } else {
        const freshness = car.freshness.get(group as VehicleField);
        if (!freshness) continue;
        attributes = {
          read_at: freshness.readAt.toISOString(),
          recorded_at: freshness.recordedAt?.toISOString() ?? null,
          source: freshness.source,
        };
        if (group === 'security' && car.reading.openings)
          attributes = { ...attributes, ...snakeOpenings(car) };
      }
      out.set(group, JSON.stringify(attributes));
    }
    return out;
  };

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
    for (const [group, payload] of attributePayloads(car))
      publisher.set(vt.attributes(group), payload, { qos: 0 });
    publisher.set(vt.state, JSON.stringify(toJsonState(values, car.available)));
  };

  return {
    publishDiscovery,
    publishState,
    publishChargeEvents(car, events) {
      if (car.removed || !car.entities.some((e) => e.key === 'charge_event')) return;
      for (const event of events) {
        publisher.send(
          topics.vehicle(car.slug).chargeEvent,
          JSON.stringify({
            event_type: event,
            soc: car.reading.socPercent ?? null,
            ...(car.telemetry.energyAddedKwh !== undefined
              ? { energy_added_kwh: Math.round(car.telemetry.energyAddedKwh * 1000) / 1000 }
              : {}),
            ts: new Date().toISOString(),
          }),
          { messageExpirySeconds: 300 },
        );
      }
    },
    publishBridgeInfo(cars) {
      const info = {
        version: BRIDGE_VERSION,
        discoveryMode,
        vehicles: [...cars].map((car) => ({
          slug: car.slug,
          id: car.info.id,
          name: car.name,
          entities: car.entities.map((e) => ({ key: e.key, platform: e.platform })),
        })),
        config: redactConfig(config),
      };
      publisher.set(topics.bridgeInfo, JSON.stringify(info));
    },
    clearVehicleTopics(slug, entities) {
      const definitions = ENTITY_CATALOG.filter((e) => entities.some((x) => x.key === e.key)).concat(
        ENTITY_CATALOG.filter((e) => !entities.some((x) => x.key === e.key)),
      );
      for (const message of discoveryRemovals(slug, definitions, topics)) publisher.clear(message.topic);
      const vt = topics.vehicle(slug);
      for (const entity of ENTITY_CATALOG) if (entity.hasState) publisher.clear(vt.value(entity.key));
      for (const group of [...VEHICLE_FIELDS, TELEMETRY_GROUP, SMART_CHARGING_GROUP])
        publisher.clear(vt.attributes(group));
      publisher.clear(vt.state);
      publisher.clear(vt.availability);
    },
    removeEntities(car, removed) {
      const vt = topics.vehicle(car.slug);
      for (const entity of removed)
        if (publisher.has(vt.value(entity.key))) publisher.clear(vt.value(entity.key));
      if (car.discoveryPublished) publishDiscovery(car, removed);
    },
    republishOrder(all) {
      const rank = (topic: string): number => {
        if (topic === topics.bridgeState) return 0;
        if (topic.startsWith(`${config.homeAssistant.discoveryPrefix}/`)) return 1;
        if (topic.endsWith('/availability')) return 2;
        return 3;
      };
      return [...all].sort((a, b) => rank(a) - rank(b));
    },
  };
}
