import { isAbsolute, resolve } from 'node:path';
import { awattarDeHourlyCsv } from '@voltkit/data';
import { z } from 'zod';
import { createTokenCipher, parseTokenKeys } from '../store/token-cipher.ts';

/** Real aWATTar day-ahead history shipped with the repository (replayed onto today's dates). */
export const DEFAULT_PRICE_FILE: string = awattarDeHourlyCsv;

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const timeZone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone such as Europe/Berlin' },
);

/** Where prices come from: a day-ahead market API, or a file in one of the planner's import formats. */
const priceSource = z.union([
  z.enum(['awattar-de', 'awattar-at', 'entsoe', 'octopus-agile']),
  z.string().regex(/^file:.+/, 'expected awattar-de, awattar-at, entsoe, octopus-agile or file:<path>'),
]);

/** Environment of the smart-charging service; every variable has a working default. */
export const ServiceEnvSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8740),
  /** PostgreSQL; without it the service keeps its data in an embedded database under DATA_DIR. */
  DATABASE_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  /** Connections to DATABASE_URL for the jobs (planning, commands, polls) of this process. */
  DATABASE_POOL_SIZE: z.coerce.number().int('expected a whole number').min(2).max(100).default(5),
  /**
   * Connections of the HTTP API's own pool: a request never waits behind the jobs' queries for one
   * (with a single pool, one-car reads queued behind a re-plan's burst of commands).
   */
  API_DATABASE_POOL_SIZE: z.coerce.number().int('expected a whole number').min(1).max(100).default(4),
  DATA_DIR: z.string().default('.data/smart-charging'),
  TIME_ZONE: timeZone.default('Europe/Berlin'),
  /** Smartcar credentials; without them the service runs against the embedded simulator. */
  SMARTCAR_CLIENT_ID: optionalText,
  SMARTCAR_CLIENT_SECRET: optionalText,
  SMARTCAR_REDIRECT_URI: optionalText.pipe(z.url().optional()),
  /** A Smartcar-compatible server (for example a simulator started elsewhere) instead of Smartcar's cloud. */
  VEHICLE_API_ORIGIN: optionalText.pipe(z.url().optional()),
  /** A relative `file:` path is resolved against the working directory; the default works from any. */
  PRICE_SOURCE: priceSource.default(`file:${DEFAULT_PRICE_FILE}`),
  ENTSOE_TOKEN: optionalText,
  /** node-cron expression for fetching prices (day-ahead prices are published around 13:00 CET). */
  PRICE_FETCH_CRON: z.string().default('5 13,14,18 * * *'),
  GRID_LIMIT_KW: z.coerce.number().positive().default(11),
  SLOT_MINUTES: z.coerce
    .number()
    .pipe(z.union([z.literal(5), z.literal(15), z.literal(30), z.literal(60)]))
    .default(15),
  /** Connect mode; default `simulated` with the embedded simulator, `live` with Smartcar credentials. */
  CONNECT_MODE: z.enum(['live', 'simulated', 'test']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Host names (comma-separated) the service answers to besides localhost, 127.0.0.1 and [::1]. */
  ALLOWED_HOSTS: optionalText,
  /**
   * Keys for the Smartcar tokens at rest: `id:base64(32 bytes)[,id:base64…]`, the first encrypts. Without
   * it the service keeps a key file under DATA_DIR (created 0600 on first run).
   */
  TOKEN_ENCRYPTION_KEYS: optionalText,
  /**
   * The service's clock: `wall`, or `simulator` to act on the simulated time of the simulator at
   * VEHICLE_API_ORIGIN (read with SIMULATOR_MANAGEMENT_TOKEN), e.g. a night on an accelerated clock.
   * The embedded simulator's clock is always followed.
   */
  CLOCK: z.enum(['wall', 'simulator']).default('wall'),
  SIMULATOR_MANAGEMENT_TOKEN: optionalText,
  /** Names this process among the instances sharing DATABASE_URL (logs, the command log). */
  INSTANCE_ID: optionalText.pipe(
    z
      .string()
      .regex(/^[\w.:-]{1,64}$/, 'expected 1–64 of [A-Za-z0-9_.:-]')
      .optional(),
  ),
  /** How often the cars are read, in minutes of the service's clock. */
  MONITOR_INTERVAL_MINUTES: z.coerce.number().positive().max(1440).default(5),
  /** Vehicle API requests the application may make at once, cluster-wide (Smartcar: 120). */
  VEHICLE_API_BUDGET_CAPACITY: z.coerce.number().int('expected a whole number').positive().default(120),
  /** Requests the budget regains per minute of the service's clock (Smartcar: 2). */
  VEHICLE_API_BUDGET_REFILL_PER_MINUTE: z.coerce.number().positive().default(2),
  /**
   * The application management token: the key of the webhooks' SC-Signature and of the verification
   * challenge. Set it to receive webhooks at POST /webhooks/smartcar (without it that route answers 404).
   */
  SMARTCAR_MANAGEMENT_TOKEN: optionalText,
});

export type ServiceEnv = z.infer<typeof ServiceEnvSchema>;

export interface ServiceConfig {
  readonly host: string;
  readonly port: number;
  readonly storage:
    | { readonly databaseUrl: string; readonly poolSize: number; readonly apiPoolSize: number }
    | { readonly dataDir: string };
  readonly timeZone: string;
  readonly vehicleApi:
    | {
        readonly kind: 'smartcar';
        readonly clientId: string;
        readonly clientSecret: string;
        readonly redirectUri: string;
        readonly origin?: string;
      }
    | { readonly kind: 'embedded-simulator' };
  readonly priceSource: string;
  readonly entsoeToken?: string;
  readonly priceFetchCron: string;
  readonly gridLimitKw: number;
  readonly slotMinutes: 5 | 15 | 30 | 60;
  readonly connectMode: 'live' | 'simulated' | 'test';
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly allowedHosts: readonly string[];
  /** `TOKEN_ENCRYPTION_KEYS` as given; undefined = the key file under `dataDir`. */
  readonly tokenEncryptionKeys?: string;
  /** Where the key file lives when no keys are given (DATA_DIR, also with PostgreSQL). */
  readonly dataDir: string;
  readonly clock:
    | { readonly kind: 'wall' }
    | { readonly kind: 'simulator'; readonly origin: string; readonly managementToken: string };
  readonly instanceId?: string;
  readonly monitorIntervalMinutes: number;
  /** The cluster-wide token bucket of vehicle API requests. */
  readonly requestBudget: { readonly capacity: number; readonly refillPerMinute: number };
  /** Webhooks are received only with the application management token (a secret: never logged). */
  readonly webhookManagementToken?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads the service configuration from environment variables. Errors list every bad variable by name;
 * values are never echoed, since some of them are secrets.
 */
export function loadServiceConfig(env: Record<string, string | undefined>): ServiceConfig {
  const parsed = ServiceEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const values = parsed.data;
  const badHost = (values.ALLOWED_HOSTS ?? '')
    .split(',')
    .map((host) => host.trim())
    .find((host) => host.length > 0 && !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/i.test(host));
  if (badHost !== undefined)
    throw new ConfigError(
      'invalid configuration:\n  ALLOWED_HOSTS: expected host names without port, comma-separated',
    );
  if (values.TOKEN_ENCRYPTION_KEYS !== undefined) {
    try {
      createTokenCipher(parseTokenKeys(values.TOKEN_ENCRYPTION_KEYS));
    } catch (error) {
      // The message names the key id at most, never key material.
      throw new ConfigError(`invalid configuration:\n  TOKEN_ENCRYPTION_KEYS: ${(error as Error).message}`);
    }
  }
  const smartcarParts = [
    values.SMARTCAR_CLIENT_ID,
    values.SMARTCAR_CLIENT_SECRET,
    values.SMARTCAR_REDIRECT_URI,
  ];
  const given = smartcarParts.filter((part) => part !== undefined).length;
  if (given !== 0 && given !== 3) {
    throw new ConfigError(
      'invalid configuration:\n  SMARTCAR_CLIENT_ID, SMARTCAR_CLIENT_SECRET and SMARTCAR_REDIRECT_URI go together: set all three or none',
    );
  }
  if (values.PRICE_SOURCE === 'entsoe' && values.ENTSOE_TOKEN === undefined) {
    throw new ConfigError('invalid configuration:\n  ENTSOE_TOKEN: required when PRICE_SOURCE is entsoe');
  }
  if (values.CLOCK === 'simulator' && values.SIMULATOR_MANAGEMENT_TOKEN === undefined)
    throw new ConfigError(
      "invalid configuration:\n  SIMULATOR_MANAGEMENT_TOKEN: required when CLOCK is simulator (it reads the simulator's clock)",
    );
  if (values.CLOCK === 'simulator' && values.VEHICLE_API_ORIGIN === undefined)
    throw new ConfigError(
      'invalid configuration:\n  VEHICLE_API_ORIGIN: required when CLOCK is simulator (the simulator whose clock to follow)',
    );
  const smartcar =
    values.SMARTCAR_CLIENT_ID !== undefined &&
    values.SMARTCAR_CLIENT_SECRET !== undefined &&
    values.SMARTCAR_REDIRECT_URI !== undefined;
  return {
    host: values.HOST,
    port: values.PORT,
    storage:
      values.DATABASE_URL === undefined
        ? { dataDir: values.DATA_DIR }
        : {
            databaseUrl: values.DATABASE_URL,
            poolSize: values.DATABASE_POOL_SIZE,
            apiPoolSize: values.API_DATABASE_POOL_SIZE,
          },
    timeZone: values.TIME_ZONE,
    vehicleApi:
      smartcar &&
      values.SMARTCAR_CLIENT_ID !== undefined &&
      values.SMARTCAR_CLIENT_SECRET !== undefined &&
      values.SMARTCAR_REDIRECT_URI !== undefined
        ? {
            kind: 'smartcar',
            clientId: values.SMARTCAR_CLIENT_ID,
            clientSecret: values.SMARTCAR_CLIENT_SECRET,
            redirectUri: values.SMARTCAR_REDIRECT_URI,
            ...(values.VEHICLE_API_ORIGIN === undefined ? {} : { origin: values.VEHICLE_API_ORIGIN }),
          }
        : { kind: 'embedded-simulator' },
    priceSource: resolvePriceSource(values.PRICE_SOURCE),
    ...(values.ENTSOE_TOKEN === undefined ? {} : { entsoeToken: values.ENTSOE_TOKEN }),
    priceFetchCron: values.PRICE_FETCH_CRON,
    gridLimitKw: values.GRID_LIMIT_KW,
    slotMinutes: values.SLOT_MINUTES,
    connectMode: values.CONNECT_MODE ?? (smartcar ? 'live' : 'simulated'),
    logLevel: values.LOG_LEVEL,
    allowedHosts: (values.ALLOWED_HOSTS ?? '')
      .split(',')
      .map((host) => host.trim().toLowerCase())
      .filter((host) => host.length > 0),
    ...(values.TOKEN_ENCRYPTION_KEYS === undefined
      ? {}
      : { tokenEncryptionKeys: values.TOKEN_ENCRYPTION_KEYS }),
    dataDir: values.DATA_DIR,
    clock:
      values.CLOCK === 'simulator' &&
      values.VEHICLE_API_ORIGIN !== undefined &&
      values.SIMULATOR_MANAGEMENT_TOKEN !== undefined
        ? {
            kind: 'simulator',
            origin: values.VEHICLE_API_ORIGIN,
            managementToken: values.SIMULATOR_MANAGEMENT_TOKEN,
          }
        : { kind: 'wall' },
    ...(values.INSTANCE_ID === undefined ? {} : { instanceId: values.INSTANCE_ID }),
    monitorIntervalMinutes: values.MONITOR_INTERVAL_MINUTES,
    requestBudget: {
      capacity: values.VEHICLE_API_BUDGET_CAPACITY,
      refillPerMinute: values.VEHICLE_API_BUDGET_REFILL_PER_MINUTE,
    },
    ...(values.SMARTCAR_MANAGEMENT_TOKEN === undefined
      ? {}
      : { webhookManagementToken: values.SMARTCAR_MANAGEMENT_TOKEN }),
  };
}

/** `file:prices.csv` → `file:/abs/cwd/prices.csv`, so the stored source name does not depend on the cwd. */
function resolvePriceSource(source: string): string {
  if (!source.startsWith('file:')) return source;
  const path = source.slice('file:'.length);
  return isAbsolute(path) ? source : `file:${resolve(path)}`;
}
