/**
 * Topic layout (base topic default `voltkit`, `<vid>` = the car's slug, VIN by default):
 *
 *   <base>/bridge/state                 online | offline (retained, also the last will)
 *   <base>/bridge/info                  JSON: version, vehicles, redacted config (retained)
 *   <base>/bridge/api                   online | offline: the vehicle API answers (retained)
 *   <base>/<vid>/availability           online | offline: API authorised and reachable (retained)
 *   <base>/<vid>/<key>                  one plain value per field (retained, on change)
 *   <base>/<vid>/state                  every field as one JSON object (retained)
 *   <base>/<vid>/<command>/set          commands in (never retained; retained ones are ignored)
 *   <base>/<vid>/<command>/result       {status: pending|ok|error, ...} (not retained)
 *   <base>/<vid>/event                  Home Assistant event entity payload: command results (not retained)
 *   <base>/<vid>/charge_event           Home Assistant event entity payload: plug and charge transitions
 *   <base>/<vid>/attributes/<group>     JSON: read_at, recorded_at, source (+ how derived values were derived)
 *   <prefix>/device/<base>_<vid>/config                  device discovery (retained)
 *   <prefix>/<platform>/<base>_<vid>/<key>/config        per-component discovery (retained)
 */
export const COMMANDS = [
  'charging',
  'charge_limit',
  'lock',
  'refresh',
  'smart_charging_mode',
  'target_soc',
  'minimum_soc',
  'departure_time',
] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface VehicleTopics {
  readonly root: string;
  readonly availability: string;
  readonly state: string;
  readonly event: string;
  /** HA event entity for plug and charge transitions. */
  readonly chargeEvent: string;
  value(key: string): string;
  /** JSON attributes of a group of entities: when the value was read, when the car recorded it, how it was derived. */
  attributes(group: string): string;
  command(name: CommandName): string;
  result(name: CommandName): string;
}

export interface Topics {
  readonly base: string;
  readonly bridgeState: string;
  readonly bridgeInfo: string;
  /** `online` / `offline`: whether the vehicle API answers (every car's availability includes it). */
  readonly apiState: string;
  /** JSON: since when, and the last error while the API is down. */
  readonly apiAttributes: string;
  /** Subscription filter for every command of every car. */
  readonly commandFilter: string;
  vehicle(slug: string): VehicleTopics;
  /** Inverse of `vehicle(slug).command(name)`; undefined for anything else. */
  parseCommandTopic(topic: string): { slug: string; command: CommandName } | undefined;
  discoveryDevice(objectId: string): string;
  discoveryComponent(platform: string, objectId: string, key: string): string;
  /** Filters matching every discovery config this bridge could have left behind. */
  readonly discoveryFilters: readonly string[];
}

export function createTopics(base: string, discoveryPrefix: string): Topics {
  return {
    base,
    bridgeState: `${base}/bridge/state`,
    bridgeInfo: `${base}/bridge/info`,
    apiState: `${base}/bridge/api`,
    apiAttributes: `${base}/bridge/api/attributes`,
    commandFilter: `${base}/+/+/set`,
    vehicle(slug) {
      const root = `${base}/${slug}`;
      return {
        root,
        availability: `${root}/availability`,
        state: `${root}/state`,
        event: `${root}/event`,
        chargeEvent: `${root}/charge_event`,
        value: (key) => `${root}/${key}`,
        attributes: (group) => `${root}/attributes/${group}`,
        command: (name) => `${root}/${name}/set`,
        result: (name) => `${root}/${name}/result`,
      };
    },
    parseCommandTopic(topic) {
      const parts = topic.split('/');
      const baseParts = base.split('/');
      if (parts.length !== baseParts.length + 3 || parts.at(-1) !== 'set') return undefined;
      if (parts.slice(0, baseParts.length).join('/') !== base) return undefined;
      const slug = parts[baseParts.length];
      const command = parts[baseParts.length + 1];
      if (slug === undefined || slug === 'bridge' || !(COMMANDS as readonly string[]).includes(command ?? ''))
        return undefined;
      return { slug, command: command as CommandName };
    },
    discoveryDevice: (objectId) => `${discoveryPrefix}/device/${objectId}/config`,
    discoveryComponent: (platform, objectId, key) =>
      `${discoveryPrefix}/${platform}/${objectId}/${key}/config`,
    discoveryFilters: [`${discoveryPrefix}/device/+/config`, `${discoveryPrefix}/+/+/+/config`],
  };
}

/** Turns a VIN, id or name into a topic/object-id segment. */
export function toSlug(value: string): string {
  const slug = value.replace(/[^a-zA-Z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  return slug === '' ? 'vehicle' : slug;
}

/** Lower-case `[a-z0-9_]` form for Home Assistant entity ids. */
export function toEntitySlug(value: string): string {
  const slug = value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return slug === '' ? 'vehicle' : slug;
}
