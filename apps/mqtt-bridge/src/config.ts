import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** MQTT topic segments we generate must stay inside Home Assistant's `[a-zA-Z0-9_-]` node/object id set. */
export const TOPIC_SEGMENT = /^[a-zA-Z0-9_-]+$/;

const seconds = (fallback: number) => z.number().nonnegative().default(fallback);

const TlsSchema = z
  .object({
    /** PEM file of a private CA that signed the broker certificate. */
    caFile: z.string().min(1).optional(),
    /** Client certificate + key for certificate authentication. */
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    /** Accept any broker certificate. Only for self-signed test setups. */
    insecure: z.boolean().default(false),
    /** SNI / certificate host name override. */
    servername: z.string().min(1).optional(),
  })
  .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), {
    message: 'certFile and keyFile must be given together',
    path: ['certFile'],
  });

const MqttSchema = z.object({
  /** Broker URL (mqtt://, mqtts://, ws://, wss://). Absent: start the embedded broker. */
  url: z
    .string()
    .regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/, 'must be a broker URL such as mqtt://host:1883')
    .optional(),
  /** 5 = MQTT 5 (default), 4 = MQTT 3.1.1. */
  protocolVersion: z.union([z.literal(5), z.literal(4)]).default(5),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  clientId: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'only letters, digits, _ and -')
    .default('voltkit-mqtt-bridge'),
  tls: TlsSchema.default({ insecure: false }),
  keepaliveSeconds: z.number().int().min(5).max(3600).default(30),
  reconnectMs: z.number().int().min(100).max(60_000).default(2000),
  /**
   * Commands published while the bridge is briefly disconnected are kept by the broker in the bridge's
   * session and executed on reconnect, for at most this long. 0 = no session (commands during an outage are lost).
   */
  commandQueueSeconds: z.number().int().nonnegative().default(300),
});

const EmbeddedBrokerSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).default(1883),
});

const HomeAssistantSchema = z.object({
  discoveryPrefix: z
    .string()
    .regex(/^[a-zA-Z0-9_/-]+$/)
    .default('homeassistant'),
  /** device = one payload per car (HA ≥ 2024.12); component = one payload per entity (openHAB < 2026, Domoticz); off. */
  discoveryMode: z.enum(['device', 'component', 'off']).default('device'),
  /** HA birth/will topic; defaults to `<discoveryPrefix>/status`. */
  statusTopic: z.string().min(1).optional(),
  birthPayload: z.string().min(1).default('online'),
  /** Republish after HA's birth message after a random delay in this range, to spread the broker load. */
  birthDelayMinMs: z.number().int().nonnegative().default(1000),
  birthDelayMaxMs: z.number().int().nonnegative().default(5000),
});

const PollingSchema = z.object({
  chargingSeconds: seconds(60),
  drivingSeconds: seconds(60),
  /** Plugged in but not charging: a charge may start at any time (schedules, smart charging). */
  pluggedSeconds: seconds(900),
  /** Smartcar recommends polling parked cars no more often than every 30 minutes. */
  parkedSeconds: seconds(1800),
  /**
   * A car that reported asleep is re-checked this often (a read that does not wake it: state of charge
   * and plug), and at once on any webhook. 0 = only on refresh, a command or a push.
   */
  asleepSeconds: seconds(3 * 3600),
  /** A parked car is asked "plugged in?" (one request) this often between its regular reads. 0 = off. */
  plugCheckSeconds: seconds(300),
  /** After a command or a refresh, poll this often for `fastWindowSeconds` so the state follows quickly. */
  fastSeconds: seconds(10),
  fastWindowSeconds: seconds(120),
  /** Requests per vehicle per UTC day (each batch item counts, as Smartcar bills it). */
  dailyRequestBudget: z.number().int().positive().default(1000),
  errorBackoffSeconds: seconds(30),
  maxBackoffSeconds: seconds(1800),
  /** API reads in flight at once across all cars. */
  maxConcurrentReads: z.number().int().positive().default(4),
  /** How often the vehicle list is re-read (new cars appear, gone cars are removed). */
  vehicleListSeconds: seconds(3600),
});

const VehicleOverrideSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1).optional(),
  /** Topic segment for this car; defaults to the VIN (or the vehicle id). */
  slug: z.string().regex(TOPIC_SEGMENT, 'only letters, digits, _ and -').optional(),
});

const SourceSchema = z.object({
  apiOrigin: z.string().url().optional(),
  authOrigin: z.string().url().optional(),
  connectOrigin: z.string().url().optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  redirectUri: z.string().url().optional(),
  /** Token store file, shared with the smart-charging service when both point at the same path. */
  tokenStorePath: z.string().min(1).default('./voltkit-tokens.json'),
  /** Grants (token store keys) to bridge besides those connected through the bridge's own page, e.g. the smart-charging service's. */
  grantIds: z.array(z.string().min(1)).default([]),
  /** Port of the bridge's own small Connect page on 127.0.0.1 (0 = disabled). */
  connectPort: z.number().int().min(0).max(65_535).default(8099),
  /** Application management token: verifies webhook deliveries (POST <connect page>/webhooks). */
  webhookAmt: z.string().min(1).optional(),
  /** Webhook every bridged car is subscribed to, so charging events and scheduled data arrive as pushes. */
  webhookId: z.string().min(1).optional(),
  /** Connect mode: live for real cars, simulated for Smartcar's (or Voltkit's) simulator. */
  connectMode: z.enum(['live', 'simulated', 'test']).default('live'),
});

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const SmartChargingSchema = z
  .object({
    /**
     * The smart-charging service this bridge runs beside (a separate process): its cars, their plans and
     * smart-charging controls come from there, and the bridge needs no Smartcar credentials of its own.
     */
    serviceUrl: z
      .string()
      .url()
      .refine((url) => {
        const parsed = new URL(url);
        return (
          parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname))
        );
      }, 'must be https://, or http:// on this machine (127.0.0.1, localhost): the API token must not cross a network in clear')
      .optional(),
    /** Operator API token of the service (`voltkit-smart-charging token create --role admin`). */
    apiToken: z.string().min(16, 'looks truncated: paste the whole token').optional(),
    /** How often changes made in the service (dashboard, API, its own reads) are brought to HA. */
    pollSeconds: z.number().min(1).max(3600).default(5),
  })
  .refine((s) => (s.serviceUrl === undefined) === (s.apiToken === undefined), {
    message: 'serviceUrl and apiToken must be given together',
    path: ['apiToken'],
  });

export const BridgeConfigSchema = z
  .object({
    mqtt: MqttSchema.default(MqttSchema.parse({})),
    embeddedBroker: EmbeddedBrokerSchema.default(EmbeddedBrokerSchema.parse({})),
    baseTopic: z.string().regex(TOPIC_SEGMENT, 'only letters, digits, _ and -').default('voltkit'),
    homeAssistant: HomeAssistantSchema.default(HomeAssistantSchema.parse({})),
    polling: PollingSchema.default(PollingSchema.parse({})),
    vehicles: z.array(VehicleOverrideSchema).default([]),
    /**
     * Commands that may wait per car behind the one that runs. A repeat of a waiting command replaces it
     * (latest wins); beyond this many different ones, commands are refused, so a flood cannot drain the
     * car's daily request budget.
     */
    commandQueueLimit: z.number().int().min(1).max(16).default(3),
    /** JSON file with the next planned charge window per car (from the smart-charging service). */
    chargePlanFile: z.string().min(1).optional(),
    /** Currency of planned charge costs (Home Assistant needs it in discovery). */
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR')
      .default('EUR'),
    source: SourceSchema.default(SourceSchema.parse({})),
    smartCharging: SmartChargingSchema.default(SmartChargingSchema.parse({})),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((c) => c.homeAssistant.birthDelayMaxMs >= c.homeAssistant.birthDelayMinMs, {
    message: 'birthDelayMaxMs must be >= birthDelayMinMs',
    path: ['homeAssistant', 'birthDelayMaxMs'],
  });

export type BridgeConfig = z.infer<typeof BridgeConfigSchema>;
export type BridgeConfigInput = z.input<typeof BridgeConfigSchema>;
export type PollingConfig = BridgeConfig['polling'];
export type MqttConfig = BridgeConfig['mqtt'];

type EnvKind = 'string' | 'int' | 'number' | 'bool' | 'protocol' | 'vehicles' | 'list';

/** Environment variable → config path. The table doubles as the documentation of every variable. */
export const ENV_VARIABLES: ReadonlyArray<{ name: string; path: readonly string[]; kind: EnvKind }> = [
  { name: 'VOLTKIT_MQTT_URL', path: ['mqtt', 'url'], kind: 'string' },
  { name: 'VOLTKIT_MQTT_PROTOCOL', path: ['mqtt', 'protocolVersion'], kind: 'protocol' },
  { name: 'VOLTKIT_MQTT_USERNAME', path: ['mqtt', 'username'], kind: 'string' },
  { name: 'VOLTKIT_MQTT_PASSWORD', path: ['mqtt', 'password'], kind: 'string' },
  { name: 'VOLTKIT_MQTT_CLIENT_ID', path: ['mqtt', 'clientId'], kind: 'string' },
  { name: 'VOLTKIT_MQTT_CA_FILE', path: ['mqtt', 'tls', 'caFile'], kind: 'string' },
  { name: 'VOLTKIT_MQTT_CERT_FILE', path: ['mqtt', 'tls', 'certFile'], kind: 'string' },
  { name: 'VOLTKIT_MQTT_KEY_FILE', path: ['mqtt', 'tls', 'keyFile'], kind: 'string' },
  { name: 'VOLTKIT_MQTT_INSECURE', path: ['mqtt', 'tls', 'insecure'], kind: 'bool' },
  { name: 'VOLTKIT_MQTT_SERVERNAME', path: ['mqtt', 'tls', 'servername'], kind: 'string' },
  { name: 'VOLTKIT_MQTT_KEEPALIVE_SECONDS', path: ['mqtt', 'keepaliveSeconds'], kind: 'int' },
  { name: 'VOLTKIT_MQTT_RECONNECT_MS', path: ['mqtt', 'reconnectMs'], kind: 'int' },
  { name: 'VOLTKIT_MQTT_COMMAND_QUEUE_SECONDS', path: ['mqtt', 'commandQueueSeconds'], kind: 'int' },
  { name: 'VOLTKIT_EMBEDDED_BROKER_HOST', path: ['embeddedBroker', 'host'], kind: 'string' },
  { name: 'VOLTKIT_EMBEDDED_BROKER_PORT', path: ['embeddedBroker', 'port'], kind: 'int' },
  { name: 'VOLTKIT_BASE_TOPIC', path: ['baseTopic'], kind: 'string' },
  { name: 'VOLTKIT_HA_DISCOVERY_PREFIX', path: ['homeAssistant', 'discoveryPrefix'], kind: 'string' },
  { name: 'VOLTKIT_HA_DISCOVERY_MODE', path: ['homeAssistant', 'discoveryMode'], kind: 'string' },
  { name: 'VOLTKIT_HA_STATUS_TOPIC', path: ['homeAssistant', 'statusTopic'], kind: 'string' },
  { name: 'VOLTKIT_HA_BIRTH_PAYLOAD', path: ['homeAssistant', 'birthPayload'], kind: 'string' },
  { name: 'VOLTKIT_POLL_CHARGING_SECONDS', path: ['polling', 'chargingSeconds'], kind: 'number' },
  { name: 'VOLTKIT_POLL_DRIVING_SECONDS', path: ['polling', 'drivingSeconds'], kind: 'number' },
  { name: 'VOLTKIT_POLL_PLUGGED_SECONDS', path: ['polling', 'pluggedSeconds'], kind: 'number' },
  { name: 'VOLTKIT_POLL_PARKED_SECONDS', path: ['polling', 'parkedSeconds'], kind: 'number' },
  { name: 'VOLTKIT_POLL_ASLEEP_SECONDS', path: ['polling', 'asleepSeconds'], kind: 'number' },
  { name: 'VOLTKIT_POLL_PLUG_CHECK_SECONDS', path: ['polling', 'plugCheckSeconds'], kind: 'number' },
  { name: 'VOLTKIT_DAILY_REQUEST_BUDGET', path: ['polling', 'dailyRequestBudget'], kind: 'int' },
  { name: 'VOLTKIT_VEHICLES', path: ['vehicles'], kind: 'vehicles' },
  { name: 'VOLTKIT_COMMAND_QUEUE_LIMIT', path: ['commandQueueLimit'], kind: 'int' },
  { name: 'SMARTCAR_API_ORIGIN', path: ['source', 'apiOrigin'], kind: 'string' },
  { name: 'SMARTCAR_AUTH_ORIGIN', path: ['source', 'authOrigin'], kind: 'string' },
  { name: 'SMARTCAR_CONNECT_ORIGIN', path: ['source', 'connectOrigin'], kind: 'string' },
  { name: 'SMARTCAR_CLIENT_ID', path: ['source', 'clientId'], kind: 'string' },
  { name: 'SMARTCAR_CLIENT_SECRET', path: ['source', 'clientSecret'], kind: 'string' },
  { name: 'SMARTCAR_REDIRECT_URI', path: ['source', 'redirectUri'], kind: 'string' },
  { name: 'VOLTKIT_TOKEN_STORE', path: ['source', 'tokenStorePath'], kind: 'string' },
  { name: 'VOLTKIT_CONNECT_PORT', path: ['source', 'connectPort'], kind: 'int' },
  { name: 'VOLTKIT_CONNECT_MODE', path: ['source', 'connectMode'], kind: 'string' },
  { name: 'VOLTKIT_GRANTS', path: ['source', 'grantIds'], kind: 'list' },
  { name: 'VOLTKIT_WEBHOOK_AMT', path: ['source', 'webhookAmt'], kind: 'string' },
  { name: 'VOLTKIT_WEBHOOK_ID', path: ['source', 'webhookId'], kind: 'string' },
  { name: 'VOLTKIT_LOG_LEVEL', path: ['logLevel'], kind: 'string' },
  { name: 'VOLTKIT_CHARGE_PLAN_FILE', path: ['chargePlanFile'], kind: 'string' },
  { name: 'VOLTKIT_CURRENCY', path: ['currency'], kind: 'string' },
  { name: 'VOLTKIT_SERVICE_URL', path: ['smartCharging', 'serviceUrl'], kind: 'string' },
  { name: 'VOLTKIT_SERVICE_TOKEN', path: ['smartCharging', 'apiToken'], kind: 'string' },
  { name: 'VOLTKIT_SERVICE_POLL_SECONDS', path: ['smartCharging', 'pollSeconds'], kind: 'number' },
];

const SECRET_PATHS = new Set([
  'mqtt.password',
  'source.clientSecret',
  'source.webhookAmt',
  'smartCharging.apiToken',
]);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function convertEnvValue(raw: string, kind: EnvKind): unknown {
  const value = raw.trim();
  switch (kind) {
    case 'string':
      return value;
    case 'int':
    case 'number':
      // Leave non-numbers as strings so zod reports the field with a clear message.
      return value !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(value)) return true;
      if (/^(0|false|no|off)$/i.test(value)) return false;
      return value;
    case 'protocol':
      if (value === '5' || value === '5.0') return 5;
      if (value === '4' || value === '3.1.1') return 4;
      return value;
    case 'list':
      return value
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '');
    case 'vehicles':
      // "id" or "id=Name" or "id=Name=slug", comma separated.
      return value
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '')
        .map((entry) => {
          const [id, name, slug] = entry.split('=').map((part) => part.trim());
          return { id, ...(name ? { name } : {}), ...(slug ? { slug } : {}) };
        });
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const existing = out[key];
    out[key] = isPlainObject(existing) && isPlainObject(value) ? deepMerge(existing, value) : value;
  }
  return out;
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      const envName = ENV_VARIABLES.find((v) => v.path.join('.') === path)?.name;
      return `  ${path || '(root)'}${envName ? ` (${envName})` : ''}: ${issue.message}`;
    })
    .join('\n');
}

/** Validates a config object (e.g. from tests or a JSON file); throws ConfigError naming each bad field. */
export function parseConfig(input: unknown): BridgeConfig {
  const result = BridgeConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(`Invalid bridge configuration:\n${formatIssues(result.error)}`);
  return result.data;
}

/**
 * Reads the config from an optional JSON file (`VOLTKIT_CONFIG_FILE`) overlaid with environment variables
 * (env wins), then validates it.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): BridgeConfig {
  let fileConfig: Record<string, unknown> = {};
  const file = env['VOLTKIT_CONFIG_FILE'];
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (cause) {
      throw new ConfigError(`VOLTKIT_CONFIG_FILE ${file}: cannot read JSON (${(cause as Error).message})`, {
        cause,
      });
    }
    if (!isPlainObject(parsed)) throw new ConfigError(`VOLTKIT_CONFIG_FILE ${file}: must hold a JSON object`);
    fileConfig = parsed;
  }
  const envConfig: Record<string, unknown> = {};
  for (const variable of ENV_VARIABLES) {
    const raw = env[variable.name];
    if (raw === undefined || raw === '') continue;
    setPath(envConfig, variable.path, convertEnvValue(raw, variable.kind));
  }
  return parseConfig(deepMerge(fileConfig, envConfig));
}

/** The config as JSON with secrets replaced, safe for logs and the retained bridge/info topic. */
export function redactConfig(config: BridgeConfig): unknown {
  const walk = (value: unknown, path: string): unknown => {
    if (SECRET_PATHS.has(path)) return value === undefined ? undefined : '***';
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}.${i}`));
    if (isPlainObject(value)) {
      return Object.fromEntries(
        Object.entries(value).map(([key, child]) => [key, walk(child, path ? `${path}.${key}` : key)]),
      );
    }
    return value;
  };
  // Credentials can also hide in the broker URL (mqtt://user:pass@host).
  const redacted = walk(config, '') as { mqtt: { url?: string } };
  if (redacted.mqtt.url) redacted.mqtt.url = redacted.mqtt.url.replace(/\/\/[^@/]*@/, '//***@');
  return redacted;
}

export function haStatusTopic(config: BridgeConfig): string {
  return config.homeAssistant.statusTopic ?? `${config.homeAssistant.discoveryPrefix}/status`;
}
