import { componentTopics, MONETARY_KEYS } from './entities.ts';
import type { EntityDefinition, Platform } from './entities.ts';
import { toEntitySlug } from './topics.ts';
import type { Topics } from './topics.ts';
import { manufacturerName } from './vehicle-naming.ts';
import type { VehicleInfo } from './vehicle-source.ts';

export const BRIDGE_VERSION = '0.1.0';

export const ORIGIN = {
  name: 'Voltkit MQTT bridge',
  sw_version: BRIDGE_VERSION,
  support_url: 'https://github.com/voltkit/voltkit/tree/main/apps/mqtt-bridge',
} as const;

export interface DiscoveryVehicle {
  readonly slug: string;
  readonly name: string;
  readonly info: VehicleInfo;
  readonly entities: readonly EntityDefinition[];
}

export interface DiscoveryContext {
  readonly topics: Topics;
  readonly currency?: string;
  /** Where the owner manages the car's link (the bridge's Connect page); HA shows it as "Visit". */
  readonly configurationUrl?: string | undefined;
}

export interface DiscoveryMessage {
  readonly topic: string;
  /** Empty string = remove (published retained, it also clears the broker's copy). */
  readonly payload: string;
}

/** `<base>_<slug>`: unique per bridge instance and car, so two bridges on one broker never collide. */
export function deviceObjectId(topics: Topics, slug: string): string {
  return `${topics.base.replace(/[^a-zA-Z0-9_-]/g, '_')}_${slug}`;
}

function deviceBlock(vehicle: DiscoveryVehicle, context: DiscoveryContext): Record<string, unknown> {
  const { info } = vehicle;
  const device: Record<string, unknown> = {
    identifiers: [deviceObjectId(context.topics, vehicle.slug)],
    name: vehicle.name,
    via_device: `${deviceObjectId(context.topics, 'bridge')}`,
  };
  if (info.make) device['manufacturer'] = manufacturerName(info.make);
  // `model_id` is a manufacturer's model code, which the API does not give; the year is not one.
  if (info.model) device['model'] = info.model;
  if (info.vin) device['serial_number'] = info.vin;
  if (context.configurationUrl) device['configuration_url'] = context.configurationUrl;
  return device;
}

/**
 * Entity id HA should give a new entity: from the device's unique object id (VIN-based by default), so
 * two cars with the same name never collide. `object_id` carries the same for HA 2024.12–2025.9, which
 * predates `default_entity_id`; newer HA prefers `default_entity_id` and drops unknown keys.
 */
function entityIds(platform: Platform, objectId: string, key: string): Record<string, string> {
  const id = `${toEntitySlug(objectId)}_${key}`;
  return { default_entity_id: `${platform}.${id}`, object_id: id };
}

/**
 * Bridge, vehicle API AND car must be online: one offline bridge, or the API down, greys out every car at
 * once.
 */
function availabilityBlock(topics: Topics, slug: string): Record<string, unknown> {
  return {
    availability: [
      { topic: topics.bridgeState },
      { topic: topics.apiState },
      { topic: topics.vehicle(slug).availability },
    ],
    availability_mode: 'all',
  };
}

function componentConfig(
  entity: EntityDefinition,
  vehicle: DiscoveryVehicle,
  context: DiscoveryContext,
): Record<string, unknown> {
  const objectId = deviceObjectId(context.topics, vehicle.slug);
  const config: Record<string, unknown> = {
    platform: entity.platform,
    unique_id: `${objectId}_${entity.key}`,
    ...entityIds(entity.platform, objectId, entity.key),
    name: entity.name,
    ...entity.options,
    ...componentTopics(entity, context.topics.vehicle(vehicle.slug)),
  };
  if (MONETARY_KEYS.has(entity.key)) config['unit_of_measurement'] = context.currency ?? 'EUR';
  return config;
}

/** One retained payload per car (HA ≥ 2024.12). */
export function buildDeviceDiscovery(
  vehicle: DiscoveryVehicle,
  context: DiscoveryContext,
  removedComponents: ReadonlyArray<{ key: string; platform: Platform }> = [],
): DiscoveryMessage {
  const components: Record<string, unknown> = {};
  for (const entity of vehicle.entities) components[entity.key] = componentConfig(entity, vehicle, context);
  // HA removes a component when its entry shrinks to just the platform.
  for (const removed of removedComponents) components[removed.key] = { platform: removed.platform };
  const payload = {
    device: deviceBlock(vehicle, context),
    origin: ORIGIN,
    ...availabilityBlock(context.topics, vehicle.slug),
    qos: 1,
    components,
  };
  return {
    topic: context.topics.discoveryDevice(deviceObjectId(context.topics, vehicle.slug)),
    payload: JSON.stringify(payload),
  };
}

/** One retained payload per entity, for consumers without device discovery. */
export function buildComponentDiscovery(
  vehicle: DiscoveryVehicle,
  context: DiscoveryContext,
): DiscoveryMessage[] {
  const objectId = deviceObjectId(context.topics, vehicle.slug);
  return vehicle.entities.map((entity) => {
    const { platform: _platform, ...config } = componentConfig(entity, vehicle, context);
    const payload = {
      ...config,
      device: deviceBlock(vehicle, context),
      origin: ORIGIN,
      ...availabilityBlock(context.topics, vehicle.slug),
      qos: 1,
    };
    return {
      topic: context.topics.discoveryComponent(entity.platform, objectId, entity.key),
      payload: JSON.stringify(payload),
    };
  });
}

/** The bridge's own device: its connection state, so "bridge down" is visible even when every car is greyed out. */
export function buildBridgeDiscovery(
  context: DiscoveryContext,
  mode: 'device' | 'component',
): DiscoveryMessage[] {
  const objectId = deviceObjectId(context.topics, 'bridge');
  const device = {
    identifiers: [objectId],
    name: 'Voltkit MQTT bridge',
    manufacturer: 'Voltkit',
    sw_version: BRIDGE_VERSION,
    ...(context.configurationUrl ? { configuration_url: context.configurationUrl } : {}),
  };
  const connection = {
    unique_id: `${objectId}_connection_state`,
    ...entityIds('binary_sensor', objectId, 'connection_state'),
    name: 'Connection state',
    device_class: 'connectivity',
    entity_category: 'diagnostic',
    state_topic: context.topics.bridgeState,
    payload_on: 'online',
    payload_off: 'offline',
  };
  // Whether the vehicle API answers: while it does not, every car is unavailable (their availability lists it).
  const api = {
    unique_id: `${objectId}_vehicle_api`,
    ...entityIds('binary_sensor', objectId, 'vehicle_api'),
    name: 'Vehicle API',
    device_class: 'connectivity',
    entity_category: 'diagnostic',
    state_topic: context.topics.apiState,
    json_attributes_topic: context.topics.apiAttributes,
    payload_on: 'online',
    payload_off: 'offline',
    availability: [{ topic: context.topics.bridgeState }],
  };
  if (mode === 'device') {
    const payload = {
      device,
      origin: ORIGIN,
      qos: 1,
      components: {
        connection_state: { platform: 'binary_sensor', ...connection },
        vehicle_api: { platform: 'binary_sensor', ...api },
      },
    };
    return [{ topic: context.topics.discoveryDevice(objectId), payload: JSON.stringify(payload) }];
  }
  return [
    {
      topic: context.topics.discoveryComponent('binary_sensor', objectId, 'connection_state'),
      payload: JSON.stringify({ ...connection, device, origin: ORIGIN, qos: 1 }),
    },
    {
      topic: context.topics.discoveryComponent('binary_sensor', objectId, 'vehicle_api'),
      payload: JSON.stringify({ ...api, device, origin: ORIGIN, qos: 1 }),
    },
  ];
}

/** Empty retained payloads that delete a car's discovery in both modes (also what was left by a mode switch). */
export function discoveryRemovals(
  slug: string,
  entities: readonly EntityDefinition[],
  topics: Topics,
): DiscoveryMessage[] {
  const objectId = deviceObjectId(topics, slug);
  return [
    { topic: topics.discoveryDevice(objectId), payload: '' },
    ...entities.map((entity) => ({
      topic: topics.discoveryComponent(entity.platform, objectId, entity.key),
      payload: '',
    })),
  ];
}
