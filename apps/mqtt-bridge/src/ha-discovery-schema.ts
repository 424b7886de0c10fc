import { z } from 'zod';

/**
 * Home Assistant's documented MQTT discovery schema (home-assistant.io `*.mqtt.markdown` and the MQTT
 * integration's device-class tables), per component, for the keys this bridge uses. Abbreviated keys are
 * expanded first, as HA does (`stat_t` → `state_topic`); a key given both ways fails. Strict: an unknown or
 * misspelt key fails, an `object_id` without a matching `default_entity_id` fails, and
 * device_class/unit/state_class combinations HA would reject or warn about fail.
 */

/** HA's abbreviations (homeassistant/components/mqtt/abbreviations.py) for the keys these schemas know. */
const ABBREVIATIONS: Readonly<Record<string, string>> = {
  avty: 'availability',
  avty_mode: 'availability_mode',
  avty_t: 'availability_topic',
  cmd_t: 'command_topic',
  cmd_tpl: 'command_template',
  cmps: 'components',
  def_ent_id: 'default_entity_id',
  dev: 'device',
  dev_cla: 'device_class',
  e: 'encoding',
  en: 'enabled_by_default',
  ent_cat: 'entity_category',
  evt_typ: 'event_types',
  exp_aft: 'expire_after',
  frc_upd: 'force_update',
  ic: 'icon',
  json_attr_t: 'json_attributes_topic',
  json_attr_tpl: 'json_attributes_template',
  o: 'origin',
  obj_id: 'object_id',
  ops: 'options',
  opt: 'optimistic',
  p: 'platform',
  pl_avail: 'payload_available',
  pl_not_avail: 'payload_not_available',
  pl_lock: 'payload_lock',
  pl_unlk: 'payload_unlock',
  pl_off: 'payload_off',
  pl_on: 'payload_on',
  pl_prs: 'payload_press',
  pl_rst: 'payload_reset',
  ret: 'retain',
  src_type: 'source_type',
  stat_cla: 'state_class',
  stat_jam: 'state_jammed',
  stat_locked: 'state_locked',
  stat_locking: 'state_locking',
  stat_off: 'state_off',
  stat_on: 'state_on',
  stat_t: 'state_topic',
  stat_unlocked: 'state_unlocked',
  stat_unlocking: 'state_unlocking',
  sug_dsp_prc: 'suggested_display_precision',
  uniq_id: 'unique_id',
  unit_of_meas: 'unit_of_measurement',
  val_tpl: 'value_template',
};
const DEVICE_ABBREVIATIONS: Readonly<Record<string, string>> = {
  cns: 'connections',
  cu: 'configuration_url',
  hw: 'hw_version',
  ids: 'identifiers',
  mdl: 'model',
  mdl_id: 'model_id',
  mf: 'manufacturer',
  sa: 'suggested_area',
  sn: 'serial_number',
  sw: 'sw_version',
};
const ORIGIN_ABBREVIATIONS: Readonly<Record<string, string>> = { sw: 'sw_version', url: 'support_url' };

/** Expands abbreviated keys (also inside device, origin and each component); a key present twice is an error. */
export function expandAbbreviations(payload: unknown, errors: string[] = [], path = '(root)'): unknown {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return payload;
  const expand = (object: Record<string, unknown>, table: Readonly<Record<string, string>>, at: string) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(object)) {
      const full = table[key] ?? key;
      if (full in out) errors.push(`${at}.${full}: given both abbreviated and in full`);
      out[full] = value;
    }
    return out;
  };
  const out = expand(payload as Record<string, unknown>, ABBREVIATIONS, path);
  const nested = (key: string, table: Readonly<Record<string, string>>) => {
    const value = out[key];
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      out[key] = expand(value as Record<string, unknown>, table, `${path}.${key}`);
  };
  nested('device', DEVICE_ABBREVIATIONS);
  nested('origin', ORIGIN_ABBREVIATIONS);
  const components = out['components'];
  if (typeof components === 'object' && components !== null && !Array.isArray(components)) {
    out['components'] = Object.fromEntries(
      Object.entries(components as Record<string, unknown>).map(([id, c]) => [
        id,
        expandAbbreviations(c, errors, id),
      ]),
    );
  }
  return out;
}

const topic = z
  .string()
  .min(1)
  .refine((t) => !t.includes('+') && !t.includes('#'), 'topics must not contain wildcards');
const entityIdFor = (platform: string) =>
  z
    .string()
    .regex(new RegExp(`^${platform}\\.[a-z0-9_]+$`), `must be a full entity id "${platform}.<object_id>"`);

const AvailabilitySchema = z
  .object({
    topic,
    payload_available: z.string().optional(),
    payload_not_available: z.string().optional(),
    value_template: z.string().optional(),
  })
  .strict();

export const DeviceSchema = z
  .object({
    identifiers: z.array(z.string().min(1)).min(1).optional(),
    connections: z.array(z.tuple([z.string(), z.string()])).optional(),
    name: z.string().min(1).optional(),
    manufacturer: z.string().optional(),
    model: z.string().optional(),
    model_id: z.string().optional(),
    serial_number: z.string().optional(),
    hw_version: z.string().optional(),
    sw_version: z.string().optional(),
    suggested_area: z.string().optional(),
    configuration_url: z
      .string()
      .regex(/^(https?:\/\/[^\s]+|homeassistant:\/\/[^\s]+)$/, 'an http(s):// or homeassistant:// URL')
      .optional(),
    via_device: z.string().optional(),
  })
  .strict()
  .refine(
    (d) => d.identifiers !== undefined || d.connections !== undefined,
    'device needs identifiers or connections',
  );

export const OriginSchema = z
  .object({
    name: z.string().min(1),
    sw_version: z.string().optional(),
    support_url: z.string().url().optional(),
  })
  .strict();

const commonEntityShape = {
  unique_id: z.string().min(1).optional(),
  name: z.string().min(1).nullable().optional(),
  icon: z
    .string()
    .regex(/^mdi:[a-z0-9-]+$/)
    .optional(),
  entity_category: z.enum(['config', 'diagnostic']).optional(),
  enabled_by_default: z.boolean().optional(),
  availability: z.array(AvailabilitySchema).min(1).optional(),
  availability_mode: z.enum(['all', 'any', 'latest']).optional(),
  availability_topic: topic.optional(),
  payload_available: z.string().optional(),
  payload_not_available: z.string().optional(),
  json_attributes_topic: topic.optional(),
  json_attributes_template: z.string().optional(),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  encoding: z.string().optional(),
  device: DeviceSchema.optional(),
  origin: OriginSchema.optional(),
  // Only HA 2024.12–2025.9 read it; newer HA drops it. Allowed only beside a matching `default_entity_id`.
  object_id: z
    .string()
    .regex(/^[a-z0-9_]+$/)
    .optional(),
};

/** `object_id` must never stand alone (deprecated since HA 2025.10) and must name the same entity. */
function objectIdMatches(c: {
  object_id?: string | undefined;
  default_entity_id?: string | undefined;
}): boolean {
  if (c.object_id === undefined) return true;
  return c.default_entity_id !== undefined && c.default_entity_id.split('.')[1] === c.object_id;
}
const OBJECT_ID_RULE = {
  message: 'object_id is only a fallback beside a default_entity_id naming the same entity',
  path: ['object_id'],
};

/** Sensor device classes and the units / state classes HA accepts for those this bridge could use. */
const SENSOR_DEVICE_CLASSES = [
  'apparent_power',
  'aqi',
  'area',
  'atmospheric_pressure',
  'battery',
  'blood_glucose_concentration',
  'carbon_dioxide',
  'carbon_monoxide',
  'conductivity',
  'current',
  'data_rate',
  'data_size',
  'date',
  'distance',
  'duration',
  'energy',
  'energy_distance',
  'energy_storage',
  'enum',
  'frequency',
  'gas',
  'humidity',
  'illuminance',
  'irradiance',
  'moisture',
  'monetary',
  'nitrogen_dioxide',
  'nitrogen_monoxide',
  'nitrous_oxide',
  'ozone',
  'ph',
  'pm1',
  'pm10',
  'pm25',
  'power',
  'power_factor',
  'precipitation',
  'precipitation_intensity',
  'pressure',
  'reactive_energy',
  'reactive_power',
  'signal_strength',
  'sound_pressure',
  'speed',
  'sulphur_dioxide',
  'temperature',
  'timestamp',
  'volatile_organic_compounds',
  'volatile_organic_compounds_parts',
  'voltage',
  'volume',
  'volume_flow_rate',
  'volume_storage',
  'water',
  'weight',
  'wind_direction',
  'wind_speed',
] as const;

const SENSOR_UNITS: Partial<Record<(typeof SENSOR_DEVICE_CLASSES)[number], readonly string[] | 'currency'>> =
  {
    battery: ['%'],
    distance: ['km', 'm', 'cm', 'mm', 'mi', 'nmi', 'yd', 'in', 'ft'],
    pressure: ['Pa', 'hPa', 'kPa', 'bar', 'cbar', 'mbar', 'mmHg', 'inHg', 'psi', 'inH₂O'],
    energy_storage: [
      'J',
      'kJ',
      'MJ',
      'GJ',
      'mWh',
      'Wh',
      'kWh',
      'MWh',
      'GWh',
      'TWh',
      'cal',
      'kcal',
      'Mcal',
      'Gcal',
    ],
    energy: ['J', 'kJ', 'MJ', 'GJ', 'mWh', 'Wh', 'kWh', 'MWh', 'GWh', 'TWh', 'cal', 'kcal', 'Mcal', 'Gcal'],
    power: ['mW', 'W', 'kW', 'MW', 'GW', 'TW', 'BTU/h'],
    voltage: ['V', 'mV', 'µV', 'kV', 'MV'],
    current: ['A', 'mA'],
    duration: ['d', 'h', 'min', 's', 'ms', 'µs'],
    volume_storage: ['L', 'mL', 'gal', 'fl. oz.', 'm³', 'ft³', 'CCF', 'MCF'],
    monetary: 'currency',
  };

const SENSOR_STATE_CLASSES: Partial<Record<(typeof SENSOR_DEVICE_CLASSES)[number], readonly string[]>> = {
  battery: ['measurement'],
  distance: ['measurement', 'total', 'total_increasing'],
  pressure: ['measurement'],
  energy_storage: ['measurement'],
  energy: ['total', 'total_increasing'],
  power: ['measurement'],
  duration: ['measurement', 'total', 'total_increasing'],
  volume_storage: ['measurement'],
  monetary: ['total'],
  timestamp: [],
  enum: [],
  date: [],
};

export const SensorSchema = z
  .object({
    ...commonEntityShape,
    platform: z.literal('sensor').optional(),
    state_topic: topic,
    default_entity_id: entityIdFor('sensor').optional(),
    device_class: z.enum(SENSOR_DEVICE_CLASSES).nullable().optional(),
    state_class: z.enum(['measurement', 'measurement_angle', 'total', 'total_increasing']).optional(),
    unit_of_measurement: z.string().min(1).optional(),
    suggested_display_precision: z.number().int().nonnegative().optional(),
    options: z.array(z.string().min(1)).min(1).optional(),
    value_template: z.string().optional(),
    expire_after: z.number().int().nonnegative().optional(),
    force_update: z.boolean().optional(),
    last_reset_value_template: z.string().optional(),
  })
  .strict()
  .refine(objectIdMatches, OBJECT_ID_RULE)
  .superRefine((s, ctx) => {
    const issue = (message: string, path: string): void => {
      ctx.addIssue({ code: 'custom', message, path: [path] });
    };
    if (s.entity_category === 'config') issue('a sensor may only be diagnostic', 'entity_category');
    if (s.options !== undefined) {
      if (s.device_class !== 'enum') issue('options require device_class enum', 'device_class');
      if (s.state_class !== undefined) issue('enum sensors take no state_class', 'state_class');
      if (s.unit_of_measurement !== undefined) issue('enum sensors take no unit', 'unit_of_measurement');
    }
    if (s.device_class === 'enum' && s.options === undefined)
      issue('device_class enum needs options', 'options');
    if (s.device_class === 'timestamp' || s.device_class === 'date') {
      if (s.unit_of_measurement !== undefined)
        issue(`${s.device_class} sensors take no unit`, 'unit_of_measurement');
    }
    if (s.device_class) {
      const units = SENSOR_UNITS[s.device_class];
      if (units === 'currency') {
        if (!/^[A-Z]{3}$/.test(s.unit_of_measurement ?? ''))
          issue('monetary needs an ISO 4217 currency unit', 'unit_of_measurement');
      } else if (units && !units.includes(s.unit_of_measurement ?? '')) {
        issue(
          `unit ${String(s.unit_of_measurement)} is not valid for device_class ${s.device_class}`,
          'unit_of_measurement',
        );
      }
      const stateClasses = SENSOR_STATE_CLASSES[s.device_class];
      if (stateClasses && s.state_class !== undefined && !stateClasses.includes(s.state_class)) {
        issue(`state_class ${s.state_class} is not valid for device_class ${s.device_class}`, 'state_class');
      }
    }
  });

const BINARY_SENSOR_DEVICE_CLASSES = [
  'battery',
  'battery_charging',
  'carbon_monoxide',
  'cold',
  'connectivity',
  'door',
  'garage_door',
  'gas',
  'heat',
  'light',
  'lock',
  'moisture',
  'motion',
  'moving',
  'occupancy',
  'opening',
  'plug',
  'power',
  'presence',
  'problem',
  'running',
  'safety',
  'smoke',
  'sound',
  'tamper',
  'update',
  'vibration',
  'window',
] as const;

export const BinarySensorSchema = z
  .object({
    ...commonEntityShape,
    platform: z.literal('binary_sensor').optional(),
    state_topic: topic,
    default_entity_id: entityIdFor('binary_sensor').optional(),
    device_class: z.enum(BINARY_SENSOR_DEVICE_CLASSES).nullable().optional(),
    payload_on: z.string().optional(),
    payload_off: z.string().optional(),
    value_template: z.string().optional(),
    expire_after: z.number().int().nonnegative().optional(),
    off_delay: z.number().int().nonnegative().optional(),
    force_update: z.boolean().optional(),
  })
  .strict()
  .refine(objectIdMatches, OBJECT_ID_RULE);

export const SwitchSchema = z
  .object({
    ...commonEntityShape,
    platform: z.literal('switch').optional(),
    command_topic: topic,
    state_topic: topic.optional(),
    default_entity_id: entityIdFor('switch').optional(),
    device_class: z.enum(['outlet', 'switch']).nullable().optional(),
    payload_on: z.string().optional(),
    payload_off: z.string().optional(),
    state_on: z.string().optional(),
    state_off: z.string().optional(),
    optimistic: z.boolean().optional(),
    retain: z.literal(false).optional(),
    value_template: z.string().optional(),
    command_template: z.string().optional(),
  })
  .strict()
  .refine(objectIdMatches, OBJECT_ID_RULE);

const NUMBER_DEVICE_CLASSES = [
  'battery',
  'current',
  'distance',
  'duration',
  'energy',
  'energy_storage',
  'power',
  'pressure',
  'voltage',
] as const;

export const NumberSchema = z
  .object({
    ...commonEntityShape,
    platform: z.literal('number').optional(),
    command_topic: topic,
    state_topic: topic.optional(),
    default_entity_id: entityIdFor('number').optional(),
    device_class: z.enum(NUMBER_DEVICE_CLASSES).nullable().optional(),
    unit_of_measurement: z.string().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    step: z.number().positive().optional(),
    mode: z.enum(['auto', 'box', 'slider']).optional(),
    optimistic: z.boolean().optional(),
    retain: z.literal(false).optional(),
    payload_reset: z.string().optional(),
    value_template: z.string().optional(),
    command_template: z.string().optional(),
  })
  .strict()
  .refine(objectIdMatches, OBJECT_ID_RULE)
  .superRefine((n, ctx) => {
    if ((n.min ?? 1) >= (n.max ?? 100))
      ctx.addIssue({ code: 'custom', message: 'min must be below max', path: ['min'] });
    if (n.device_class === 'battery' && n.unit_of_measurement !== '%') {
      ctx.addIssue({ code: 'custom', message: 'battery numbers are in %', path: ['unit_of_measurement'] });
    }
  });

export const LockSchema = z
  .object({
    ...commonEntityShape,
    platform: z.literal('lock').optional(),
    command_topic: topic,
    state_topic: topic.optional(),
    default_entity_id: entityIdFor('lock').optional(),
    payload_lock: z.string().optional(),
    payload_unlock: z.string().optional(),
    payload_open: z.string().optional(),
    payload_reset: z.string().optional(),
    state_locked: z.string().optional(),
    state_unlocked: z.string().optional(),
    state_locking: z.string().optional(),
    state_unlocking: z.string().optional(),
    state_jammed: z.string().optional(),
    state_open: z.string().optional(),
    state_opening: z.string().optional(),
    code_format: z.string().optional(),
    optimistic: z.boolean().optional(),
    retain: z.literal(false).optional(),
    value_template: z.string().optional(),
    command_template: z.string().optional(),
  })
  .strict()
  .refine(objectIdMatches, OBJECT_ID_RULE);

export const ButtonSchema = z
  .object({
    ...commonEntityShape,
    platform: z.literal('button').optional(),
    command_topic: topic,
    default_entity_id: entityIdFor('button').optional(),
    device_class: z.enum(['identify', 'restart', 'update']).nullable().optional(),
    payload_press: z.string().optional(),
    retain: z.literal(false).optional(),
    command_template: z.string().optional(),
  })
  .strict()
  .refine(objectIdMatches, OBJECT_ID_RULE);

export const DeviceTrackerSchema = z
  .object({
    ...commonEntityShape,
    platform: z.literal('device_tracker').optional(),
    state_topic: topic.optional(),
    default_entity_id: entityIdFor('device_tracker').optional(),
    source_type: z.enum(['gps', 'router', 'bluetooth', 'bluetooth_le']).optional(),
    payload_home: z.string().optional(),
    payload_not_home: z.string().optional(),
    payload_reset: z.string().optional(),
    value_template: z.string().optional(),
  })
  .strict()
  .refine(objectIdMatches, OBJECT_ID_RULE)
  .refine(
    (t) => t.state_topic !== undefined || t.json_attributes_topic !== undefined,
    'needs state_topic or json_attributes_topic',
  );

export const EventSchema = z
  .object({
    ...commonEntityShape,
    platform: z.literal('event').optional(),
    state_topic: topic,
    default_entity_id: entityIdFor('event').optional(),
    event_types: z.array(z.string().min(1)).min(1),
    device_class: z.enum(['button', 'doorbell', 'motion']).nullable().optional(),
    value_template: z.string().optional(),
  })
  .strict()
  .refine(objectIdMatches, OBJECT_ID_RULE);

export const SelectSchema = z
  .object({
    ...commonEntityShape,
    platform: z.literal('select').optional(),
    command_topic: topic,
    state_topic: topic.optional(),
    default_entity_id: entityIdFor('select').optional(),
    options: z.array(z.string().min(1)).min(1),
    optimistic: z.boolean().optional(),
    retain: z.literal(false).optional(),
    value_template: z.string().optional(),
    command_template: z.string().optional(),
  })
  .strict()
  .refine(objectIdMatches, OBJECT_ID_RULE)
  .refine((select) => new Set(select.options).size === select.options.length, {
    message: 'options must be unique',
    path: ['options'],
  });

/** HA's text entity: a state longer than 255 characters is refused, and min must not exceed max. */
export const TextSchema = z
  .object({
    ...commonEntityShape,
    platform: z.literal('text').optional(),
    command_topic: topic,
    state_topic: topic.optional(),
    default_entity_id: entityIdFor('text').optional(),
    min: z.number().int().min(0).max(255).optional(),
    max: z.number().int().min(0).max(255).optional(),
    mode: z.enum(['text', 'password']).optional(),
    pattern: z
      .string()
      .refine((pattern) => {
        try {
          new RegExp(pattern);
          return true;
        } catch {
          return false;
        }
      }, 'pattern must be a valid regular expression')
      .optional(),
    retain: z.literal(false).optional(),
    value_template: z.string().optional(),
    command_template: z.string().optional(),
  })
  .strict()
  .refine(objectIdMatches, OBJECT_ID_RULE)
  .refine((text) => (text.min ?? 0) <= (text.max ?? 255), {
    message: 'min must not exceed max',
    path: ['min'],
  });

export const COMPONENT_SCHEMAS = {
  select: SelectSchema,
  text: TextSchema,
  sensor: SensorSchema,
  binary_sensor: BinarySensorSchema,
  switch: SwitchSchema,
  number: NumberSchema,
  lock: LockSchema,
  button: ButtonSchema,
  device_tracker: DeviceTrackerSchema,
  event: EventSchema,
} as const;
export type ComponentPlatform = keyof typeof COMPONENT_SCHEMAS;

/** Root keys a device payload may carry besides dev/o/cmps; they are shared by every component. */
const DeviceDiscoveryRootSchema = z
  .object({
    device: DeviceSchema,
    origin: OriginSchema,
    components: z.record(z.string().regex(/^[a-zA-Z0-9_-]+$/), z.record(z.string(), z.unknown())),
    availability: z.array(AvailabilitySchema).min(1).optional(),
    availability_mode: z.enum(['all', 'any', 'latest']).optional(),
    availability_topic: topic.optional(),
    state_topic: topic.optional(),
    command_topic: topic.optional(),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
    encoding: z.string().optional(),
  })
  .strict();

export type ValidationResult = { success: true } | { success: false; errors: string[] };

function collect(prefix: string, error: z.ZodError): string[] {
  return error.issues.map(
    (issue) => `${prefix}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`,
  );
}

/** Validates a device-based discovery payload: root, then every component against its platform schema. */
export function validateDeviceDiscovery(raw: unknown): ValidationResult {
  const errors: string[] = [];
  const payload = expandAbbreviations(raw, errors);
  const root = DeviceDiscoveryRootSchema.safeParse(payload);
  if (!root.success) return { success: false, errors: [...errors, ...collect('(root)', root.error)] };
  for (const [id, component] of Object.entries(root.data.components)) {
    const platform = component['platform'];
    // A component shrunk to just its platform is HA's way of removing it.
    if (Object.keys(component).length === 1 && typeof platform === 'string') continue;
    if (typeof platform !== 'string' || !(platform in COMPONENT_SCHEMAS)) {
      errors.push(`${id}.platform: unknown platform ${String(platform)}`);
      continue;
    }
    if (typeof component['unique_id'] !== 'string')
      errors.push(`${id}.unique_id: required in device discovery`);
    const result = COMPONENT_SCHEMAS[platform as ComponentPlatform].safeParse(component);
    if (!result.success) errors.push(...collect(id, result.error));
  }
  return errors.length ? { success: false, errors } : { success: true };
}

/** Validates a single-component payload published on `<prefix>/<platform>/.../config`. */
export function validateComponentDiscovery(platform: string, raw: unknown): ValidationResult {
  if (!(platform in COMPONENT_SCHEMAS)) return { success: false, errors: [`unknown platform ${platform}`] };
  const errors: string[] = [];
  const payload = expandAbbreviations(raw, errors, platform);
  const result = COMPONENT_SCHEMAS[platform as ComponentPlatform].safeParse(payload);
  if (!result.success) errors.push(...collect(platform, result.error));
  return errors.length === 0 ? { success: true } : { success: false, errors };
}
