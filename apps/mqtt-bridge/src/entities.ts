import { CHARGE_EVENT_TYPES } from './charging-telemetry.ts';
import type { ChargingTelemetry } from './charging-telemetry.ts';
import type { ChargePlanWindow, OpenState, VehicleField, VehicleReading } from './vehicle-source.ts';
import type { CommandName, VehicleTopics } from './topics.ts';
import { SMART_CHARGING_MODES } from './smart-charging-link.ts';
import type { SmartChargingView } from './smart-charging-link.ts';

/** What the car is doing, as far as the bridge can tell; drives the polling interval. */
export const ACTIVITIES = ['charging', 'driving', 'plugged', 'parked', 'asleep', 'unknown'] as const;
export type Activity = (typeof ACTIVITIES)[number];

export const CHARGE_STATE_OPTIONS = ['charging', 'fully_charged', 'not_charging', 'disconnected'] as const;

export const EVENT_TYPES = [
  'command_pending',
  'command_succeeded',
  'command_failed',
  'command_superseded',
] as const;

/** Everything the bridge knows about one car; entities render their plain values from it. */
export interface VehicleView {
  readonly reading: VehicleReading;
  readonly activity: Activity;
  readonly lastUpdated: Date | undefined;
  readonly requestsRemaining: number;
  readonly plan: ChargePlanWindow | null | undefined;
  /** What smart charging plans for the car, when the bridge is linked to the service. */
  readonly smart?: SmartChargingView | undefined;
  readonly telemetry: ChargingTelemetry;
  /** When the location was last read (ISO), shown on the tracker. */
  readonly locationReadAt?: string | undefined;
}

/** Attribute groups besides the vehicle fields: values the bridge derives. */
export const TELEMETRY_GROUP = 'charging_telemetry';
/** The plan's slots (start, kW, price, SoC) and its reason, for chart cards. */
export const SMART_CHARGING_GROUP = 'smart_charging';

export type Platform =
  | 'sensor'
  | 'binary_sensor'
  | 'switch'
  | 'number'
  | 'lock'
  | 'button'
  | 'device_tracker'
  | 'event'
  | 'select'
  | 'text';

/** Which vehicle capability an entity needs; `always` entities exist for every car. */
export type EntityRequirement = VehicleField | 'chargePlan' | 'smartCharging' | 'always';

export interface EntityDefinition {
  /** Component id in device discovery, topic key and unique_id suffix. Never rename: HA keys entities on it. */
  readonly key: string;
  readonly platform: Platform;
  readonly name: string | null;
  readonly requires: EntityRequirement;
  /** Platform-specific discovery options (besides ids, name and the topics added by `componentTopics`). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The command this entity sends, if any. */
  readonly command?: CommandName;
  /** Whether the entity has a plain value topic `<base>/<vid>/<key>`. */
  readonly hasState: boolean;
  /** Plain value for the state topic, or undefined while unknown (then nothing is published). */
  readonly render?: (view: VehicleView) => string | undefined;
  /**
   * Attributes topic group (`<base>/<vid>/attributes/<group>`): its read time, the car's data age and for
   * derived values how they were derived. Defaults to the vehicle field the entity needs.
   */
  readonly attributes?: VehicleField | typeof TELEMETRY_GROUP | typeof SMART_CHARGING_GROUP;
  /**
   * Whether the car reports what this entity shows at all (a car without a sunroof sends an empty list).
   * Entities whose answer is false after a read of their field are dropped.
   */
  readonly reported?: (reading: VehicleReading) => boolean;
}

const num = (value: number | null | undefined, digits = 1): string | undefined => {
  if (value === undefined || value === null || !Number.isFinite(value)) return undefined;
  const factor = 10 ** digits;
  return String(Math.round(value * factor) / factor);
};
const onOff = (value: boolean | undefined): string | undefined =>
  value === undefined ? undefined : value ? 'ON' : 'OFF';

/** ON when any part is open, OFF when all are closed, unknown otherwise. */
const anyOpen = (states: ReadonlyArray<OpenState | undefined> | undefined): string | undefined => {
  if (!states || states.length === 0) return undefined;
  if (states.includes('open')) return 'ON';
  return states.every((state) => state === 'closed') ? 'OFF' : undefined;
};

const OPENINGS = [
  ['doors', 'Doors', 'door', (r: VehicleReading) => r.openings?.doors && Object.values(r.openings.doors)],
  [
    'windows',
    'Windows',
    'window',
    (r: VehicleReading) => r.openings?.windows && Object.values(r.openings.windows),
  ],
  ['sunroof', 'Sunroof', 'window', (r: VehicleReading) => r.openings?.sunroof && [r.openings.sunroof]],
  ['trunk', 'Trunk', 'opening', (r: VehicleReading) => r.openings?.trunk && [r.openings.trunk]],
  ['frunk', 'Frunk', 'opening', (r: VehicleReading) => r.openings?.frunk && [r.openings.frunk]],
  [
    'charge_port',
    'Charge port',
    'opening',
    (r: VehicleReading) => r.openings?.chargePort && [r.openings.chargePort],
  ],
] as const;

const TIRES = [
  ['front_left', 'frontLeft', 'Tire pressure front left'],
  ['front_right', 'frontRight', 'Tire pressure front right'],
  ['rear_left', 'backLeft', 'Tire pressure rear left'],
  ['rear_right', 'backRight', 'Tire pressure rear right'],
] as const;

export const ENTITY_CATALOG: readonly EntityDefinition[] = [
  {
    key: 'soc',
    platform: 'sensor',
    name: 'Battery',
    requires: 'battery',
    hasState: true,
    options: {
      device_class: 'battery',
      state_class: 'measurement',
      unit_of_measurement: '%',
      suggested_display_precision: 0,
    },
    render: (v) => num(v.reading.socPercent),
  },
  {
    key: 'range',
    platform: 'sensor',
    name: 'Range',
    requires: 'battery',
    hasState: true,
    options: {
      device_class: 'distance',
      state_class: 'measurement',
      unit_of_measurement: 'km',
      suggested_display_precision: 0,
    },
    render: (v) => num(v.reading.rangeKm),
  },
  {
    key: 'plugged_in',
    platform: 'binary_sensor',
    name: 'Charging cable',
    requires: 'charge',
    hasState: true,
    options: { device_class: 'plug', payload_on: 'ON', payload_off: 'OFF' },
    render: (v) => onOff(v.reading.pluggedIn),
  },
  {
    key: 'charge_state',
    platform: 'sensor',
    name: 'Charging state',
    requires: 'charge',
    hasState: true,
    options: { device_class: 'enum', options: [...CHARGE_STATE_OPTIONS], icon: 'mdi:ev-station' },
    render: (v) => (v.reading.pluggedIn === false ? 'disconnected' : v.reading.chargeState),
  },
  {
    key: 'charging',
    platform: 'switch',
    name: 'Charging',
    requires: 'charge',
    hasState: true,
    command: 'charging',
    options: {
      payload_on: 'ON',
      payload_off: 'OFF',
      state_on: 'ON',
      state_off: 'OFF',
      optimistic: false,
      icon: 'mdi:ev-plug-type2',
    },
    // While smart charging owns the car the switch is "charge now" (ON) or "follow the plan" (OFF), so it
    // does not flip as the planner starts and pauses the car; with smart charging off it is the car's own.
    render: (v) =>
      v.smart !== undefined && v.smart.mode !== 'off'
        ? onOff(v.smart.mode === 'now')
        : v.reading.chargeState === undefined
          ? undefined
          : onOff(v.reading.chargeState === 'charging'),
  },
  {
    key: 'charge_limit',
    platform: 'number',
    name: 'Charge limit',
    requires: 'chargeLimit',
    hasState: true,
    command: 'charge_limit',
    options: {
      device_class: 'battery',
      unit_of_measurement: '%',
      min: 50,
      max: 100,
      step: 1,
      mode: 'slider',
      optimistic: false,
    },
    render: (v) => num(v.reading.chargeLimitPercent, 0),
  },
  {
    key: 'battery_capacity',
    platform: 'sensor',
    name: 'Battery capacity',
    requires: 'batteryCapacity',
    hasState: true,
    options: {
      device_class: 'energy_storage',
      state_class: 'measurement',
      unit_of_measurement: 'kWh',
      suggested_display_precision: 1,
      entity_category: 'diagnostic',
    },
    render: (v) => num(v.reading.batteryCapacityKwh),
  },
  {
    key: 'odometer',
    platform: 'sensor',
    name: 'Odometer',
    requires: 'odometer',
    hasState: true,
    options: {
      device_class: 'distance',
      state_class: 'total_increasing',
      unit_of_measurement: 'km',
      suggested_display_precision: 0,
    },
    render: (v) => num(v.reading.odometerKm),
  },
  {
    key: 'location',
    platform: 'device_tracker',
    name: 'Location',
    requires: 'location',
    hasState: true,
    options: { source_type: 'gps', icon: 'mdi:car' },
    render: (v) => {
      const location = v.reading.location;
      if (!location) return undefined;
      // gps_accuracy and heading only where the API reports them (Smartcar v2 /location does not).
      return JSON.stringify({
        latitude: location.latitude,
        longitude: location.longitude,
        ...(location.accuracyM !== undefined ? { gps_accuracy: location.accuracyM } : {}),
        ...(location.headingDeg !== undefined ? { heading: location.headingDeg } : {}),
        ...(v.locationReadAt ? { read_at: v.locationReadAt } : {}),
      });
    },
  },
  {
    key: 'lock',
    platform: 'lock',
    name: 'Door lock',
    requires: 'security',
    hasState: true,
    command: 'lock',
    options: {
      payload_lock: 'LOCK',
      payload_unlock: 'UNLOCK',
      state_locked: 'LOCKED',
      state_unlocked: 'UNLOCKED',
      state_locking: 'LOCKING',
      state_unlocking: 'UNLOCKING',
      state_jammed: 'JAMMED',
      optimistic: false,
    },
    render: (v) => (v.reading.locked === undefined ? undefined : v.reading.locked ? 'LOCKED' : 'UNLOCKED'),
  },
  ...OPENINGS.map(([key, name, deviceClass, states]): EntityDefinition => ({
    key,
    platform: 'binary_sensor',
    name,
    requires: 'security',
    hasState: true,
    options: { device_class: deviceClass, payload_on: 'ON', payload_off: 'OFF' },
    render: (v) => anyOpen(states(v.reading) || undefined),
    reported: (r) => r.openings === undefined || (states(r) || []).length > 0,
  })),
  ...TIRES.map(([key, field, name]): EntityDefinition => ({
    key: `tire_pressure_${key}`,
    platform: 'sensor',
    name,
    requires: 'tires',
    hasState: true,
    options: {
      device_class: 'pressure',
      state_class: 'measurement',
      unit_of_measurement: 'kPa',
      suggested_display_precision: 0,
      entity_category: 'diagnostic',
    },
    render: (v) => num(v.reading.tirePressureKpa?.[field]),
  })),
  {
    key: 'fuel',
    platform: 'sensor',
    name: 'Fuel level',
    requires: 'fuel',
    hasState: true,
    // No device_class: `battery` would be wrong for a tank and none other fits.
    options: {
      state_class: 'measurement',
      unit_of_measurement: '%',
      suggested_display_precision: 0,
      icon: 'mdi:gas-station',
    },
    render: (v) => num(v.reading.fuelPercent),
  },
  {
    key: 'fuel_range',
    platform: 'sensor',
    name: 'Fuel range',
    requires: 'fuel',
    hasState: true,
    options: {
      device_class: 'distance',
      state_class: 'measurement',
      unit_of_measurement: 'km',
      suggested_display_precision: 0,
    },
    render: (v) => num(v.reading.fuelRangeKm),
  },
  {
    key: 'fuel_amount',
    platform: 'sensor',
    name: 'Fuel',
    requires: 'fuel',
    hasState: true,
    options: {
      device_class: 'volume_storage',
      state_class: 'measurement',
      unit_of_measurement: 'L',
      suggested_display_precision: 0,
      icon: 'mdi:gas-station',
    },
    render: (v) => num(v.reading.fuelLiters),
  },
  {
    key: 'charging_power',
    platform: 'sensor',
    name: 'Charging power',
    requires: 'batteryCapacity',
    attributes: TELEMETRY_GROUP,
    hasState: true,
    options: {
      device_class: 'power',
      state_class: 'measurement',
      unit_of_measurement: 'kW',
      suggested_display_precision: 1,
    },
    render: (v) => num(v.telemetry.powerKw, 2),
  },
  {
    key: 'energy_added',
    platform: 'sensor',
    name: 'Energy added this session',
    requires: 'batteryCapacity',
    attributes: TELEMETRY_GROUP,
    hasState: true,
    // total_increasing: a new session starts again from 0, which HA's Energy dashboard reads as a reset.
    options: {
      device_class: 'energy',
      state_class: 'total_increasing',
      unit_of_measurement: 'kWh',
      suggested_display_precision: 2,
    },
    render: (v) => num(v.telemetry.energyAddedKwh, 3),
  },
  {
    key: 'time_to_full',
    platform: 'sensor',
    name: 'Time to charge limit',
    requires: 'batteryCapacity',
    attributes: TELEMETRY_GROUP,
    hasState: true,
    options: {
      device_class: 'duration',
      state_class: 'measurement',
      unit_of_measurement: 'min',
      suggested_display_precision: 0,
    },
    // "None" = unknown in HA: not charging, or no rate yet.
    render: (v) =>
      v.reading.chargeState === undefined ? undefined : (num(v.telemetry.minutesToFull, 0) ?? 'None'),
  },
  {
    key: 'charge_complete',
    platform: 'sensor',
    name: 'Charge complete',
    requires: 'batteryCapacity',
    attributes: TELEMETRY_GROUP,
    hasState: true,
    options: { device_class: 'timestamp' },
    render: (v) =>
      v.reading.chargeState === undefined ? undefined : (v.telemetry.completeAt?.toISOString() ?? 'None'),
  },
  {
    key: 'charge_event',
    platform: 'event',
    name: 'Charging event',
    requires: 'charge',
    hasState: false,
    options: { event_types: [...CHARGE_EVENT_TYPES], icon: 'mdi:ev-plug-type2' },
  },
  {
    key: 'oil_life',
    platform: 'sensor',
    name: 'Oil life',
    requires: 'engineOil',
    hasState: true,
    options: {
      state_class: 'measurement',
      unit_of_measurement: '%',
      suggested_display_precision: 0,
      icon: 'mdi:oil',
      entity_category: 'diagnostic',
    },
    render: (v) => num(v.reading.oilLifePercent, 0),
  },
  {
    key: 'vehicle_state',
    platform: 'sensor',
    name: 'Vehicle state',
    requires: 'always',
    hasState: true,
    options: { device_class: 'enum', options: [...ACTIVITIES], icon: 'mdi:car-info' },
    render: (v) => v.activity,
  },
  {
    key: 'last_updated',
    platform: 'sensor',
    name: 'Last updated',
    requires: 'always',
    hasState: true,
    // Changes on every read: off by default so it does not flood the recorder; each entity's attributes carry its own age.
    options: { device_class: 'timestamp', entity_category: 'diagnostic', enabled_by_default: false },
    render: (v) => v.lastUpdated?.toISOString(),
  },
  {
    key: 'requests_remaining',
    platform: 'sensor',
    name: 'API requests left today',
    requires: 'always',
    hasState: true,
    // Changes on every read: off by default.
    options: {
      state_class: 'measurement',
      icon: 'mdi:counter',
      entity_category: 'diagnostic',
      enabled_by_default: false,
    },
    render: (v) => String(v.requestsRemaining),
  },
  {
    key: 'refresh',
    platform: 'button',
    name: 'Refresh',
    requires: 'always',
    hasState: false,
    command: 'refresh',
    // Reads every field now, even of a sleeping car (which may wake it): the user's explicit choice.
    options: { payload_press: 'PRESS', icon: 'mdi:refresh' },
  },
  {
    key: 'command_result',
    platform: 'event',
    name: 'Command result',
    requires: 'always',
    hasState: false,
    options: { event_types: [...EVENT_TYPES], icon: 'mdi:message-reply-text' },
  },
  {
    key: 'next_charge_start',
    platform: 'sensor',
    name: 'Next charge start',
    requires: 'chargePlan',
    attributes: SMART_CHARGING_GROUP,
    hasState: true,
    options: { device_class: 'timestamp' },
    render: (v) => (v.plan === undefined ? undefined : (v.plan?.start.toISOString() ?? 'None')),
  },
  {
    key: 'next_charge_end',
    platform: 'sensor',
    name: 'Next charge end',
    requires: 'chargePlan',
    hasState: true,
    options: { device_class: 'timestamp' },
    render: (v) => (v.plan === undefined ? undefined : (v.plan?.end.toISOString() ?? 'None')),
  },
  {
    key: 'next_charge_cost',
    platform: 'sensor',
    name: 'Next charge cost',
    requires: 'chargePlan',
    hasState: true,
    // Unit is the plan's currency; set per car in discovery once known.
    options: { device_class: 'monetary', state_class: 'total', suggested_display_precision: 2 },
    render: (v) =>
      v.plan === undefined
        ? undefined
        : v.plan === null || v.plan.cost === null
          ? 'None'
          : num(v.plan.cost, 2),
  },
  {
    key: 'smart_charging_mode',
    platform: 'select',
    name: 'Smart charging',
    requires: 'smartCharging',
    hasState: true,
    command: 'smart_charging_mode',
    // smart: the plan decides; now: charge at once to the target; off: the service leaves the car alone.
    options: { options: [...SMART_CHARGING_MODES], optimistic: false, icon: 'mdi:ev-station' },
    render: (v) => v.smart?.mode,
  },
  {
    key: 'target_soc',
    platform: 'number',
    name: 'Charge target',
    requires: 'smartCharging',
    hasState: true,
    command: 'target_soc',
    options: {
      device_class: 'battery',
      unit_of_measurement: '%',
      min: 5,
      max: 100,
      step: 1,
      mode: 'box',
      optimistic: false,
    },
    render: (v) => num(v.smart?.targetSocPercent, 0),
  },
  {
    key: 'minimum_soc',
    platform: 'number',
    name: 'Minimum charge',
    requires: 'smartCharging',
    hasState: true,
    command: 'minimum_soc',
    // Charged at once whatever the price, up to this.
    options: {
      device_class: 'battery',
      unit_of_measurement: '%',
      min: 0,
      max: 100,
      step: 1,
      mode: 'box',
      optimistic: false,
    },
    render: (v) => num(v.smart?.minimumSocPercent, 0),
  },
  {
    key: 'departure_time',
    platform: 'text',
    name: 'Departure time',
    requires: 'smartCharging',
    hasState: true,
    command: 'departure_time',
    // HH:MM (24 h) for every day the car leaves, or "off" for no departures.
    options: {
      mode: 'text',
      min: 3,
      max: 5,
      pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|off)$',
      icon: 'mdi:clock-outline',
    },
    render: (v) => (v.smart === undefined ? undefined : (v.smart.departureTime ?? 'off')),
  },
  {
    key: 'next_charge_energy',
    platform: 'sensor',
    name: 'Next charge energy',
    requires: 'smartCharging',
    hasState: true,
    // Planned, not metered: no state_class, so HA keeps no long-term statistics of it.
    options: { device_class: 'energy', unit_of_measurement: 'kWh', suggested_display_precision: 1 },
    render: (v) => (v.smart === undefined ? undefined : num(v.smart.next?.energyKwh ?? 0, 2)),
  },
  {
    key: 'expected_soc_at_departure',
    platform: 'sensor',
    name: 'Expected charge at departure',
    requires: 'smartCharging',
    hasState: true,
    options: {
      device_class: 'battery',
      state_class: 'measurement',
      unit_of_measurement: '%',
      suggested_display_precision: 0,
    },
    render: (v) =>
      v.smart === undefined ? undefined : (num(v.smart.expectedSocAtDeparturePercent, 1) ?? 'None'),
  },
  {
    key: 'planned_savings',
    platform: 'sensor',
    name: 'Planned savings',
    requires: 'smartCharging',
    hasState: true,
    // Charging on arrival minus the plan, same energy. Unit is the plan's currency, set in discovery.
    options: { device_class: 'monetary', state_class: 'total', suggested_display_precision: 2 },
    render: (v) => (v.smart === undefined ? undefined : (num(v.smart.savings, 2) ?? 'None')),
  },
];

/** Entities whose unit is the plan's currency. */
export const MONETARY_KEYS: ReadonlySet<string> = new Set(['next_charge_cost', 'planned_savings']);

/**
 * Entities a car gets, given the fields it supports, whether a charge plan source runs alongside and the
 * entities it turned out not to report (`dropped`).
 */
export function entitiesFor(
  fields: ReadonlySet<VehicleField>,
  withChargePlan: boolean,
  dropped: ReadonlySet<string> = new Set(),
  withSmartCharging = false,
): EntityDefinition[] {
  return ENTITY_CATALOG.filter((entity) => {
    if (dropped.has(entity.key)) return false;
    if (entity.requires === 'always') return true;
    if (entity.requires === 'chargePlan') return withChargePlan || withSmartCharging;
    if (entity.requires === 'smartCharging') return withSmartCharging;
    return fields.has(entity.requires);
  });
}

/** The state/command topics an entity's discovery config points at. */
export function componentTopics(entity: EntityDefinition, topics: VehicleTopics): Record<string, string> {
  const out: Record<string, string> = {};
  if (entity.platform === 'device_tracker') out['json_attributes_topic'] = topics.value(entity.key);
  else if (entity.key === 'charge_event') out['state_topic'] = topics.chargeEvent;
  else if (entity.platform === 'event') out['state_topic'] = topics.event;
  else if (entity.hasState) out['state_topic'] = topics.value(entity.key);
  const group = attributeGroup(entity);
  if (group && entity.platform !== 'device_tracker') out['json_attributes_topic'] = topics.attributes(group);
  if (entity.command) out['command_topic'] = topics.command(entity.command);
  return out;
}

/** Renders every plain value of a car; keys with unknown values are left out. */
export function renderValues(entities: readonly EntityDefinition[], view: VehicleView): Map<string, string> {
  const values = new Map<string, string>();
  for (const entity of entities) {
    const value = entity.render?.(view);
    if (value !== undefined) values.set(entity.key, value);
  }
  return values;
}

/** The attributes group an entity shows, if any. */
export function attributeGroup(entity: EntityDefinition): string | undefined {
  if (entity.attributes) return entity.attributes;
  if (entity.platform === 'event') return undefined;
  return entity.requires === 'always' ||
    entity.requires === 'chargePlan' ||
    entity.requires === 'smartCharging'
    ? undefined
    : entity.requires;
}
