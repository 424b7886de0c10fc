import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createClient, type VoltkitClient } from '@voltkit/core/client';
import { bdewH25Csv } from '@voltkit/data';
import type { Simulator } from '@voltkit/simulator';
import type { Logger } from 'pino';
import { parseBdewProfileCsv, type LoadProfile } from '../planner/load-profile.ts';
import { countActiveApiTokens } from '../store/api-tokens.ts';
import { reencryptTokens, sqlTokenStore } from '../store/grants.ts';
import { loadGridSettings, saveGridSettings } from '../store/grid.ts';
import { migrate } from '../store/migrations.ts';
import { describeDatabaseUrl, openSqlClient, type SqlClient } from '../store/sql-client.ts';
import { followSimulatorClock } from '../jobs/simulator-clock.ts';
import { ConfigError, type ServiceConfig } from './config.ts';
import { createHttpServer, type SmartChargingHttp } from './http/http-server.ts';
import { createSmartChargingService, type SmartChargingService } from './smart-charging-service.ts';
import { loadTokenCipher } from './token-keys.ts';

/** Addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export interface StartOptions {
  readonly logger: Logger;
  /** Runs the minute scheduler and the price cron. @default true */
  readonly schedule?: boolean;
  /** The service's clock. @default the embedded simulator's clock, else the wall clock */
  readonly now?: () => Date;
  /**
   * A simulator already running in this process (e.g. the demo's, on an accelerated clock), used instead
   * of starting one when no Smartcar credentials are configured. It is left running on `close()`.
   */
  readonly simulator?: Simulator;
}

export interface RunningSmartCharging {
  /** Where the dashboard is, e.g. `http://localhost:8740/`. */
  readonly url: string;
  readonly service: SmartChargingService;
  readonly http: SmartChargingHttp;
  readonly db: SqlClient;
  /** The in-process simulator when no Smartcar credentials were configured. */
  readonly simulator: Simulator | undefined;
  /** Stops the scheduler, then the HTTP server, the simulator and the database, in that order. */
  close(): Promise<void>;
}

/** Loads the BDEW H25 standard load profile shipped with the planner. */
export async function loadBdewProfile(): Promise<LoadProfile> {
  return parseBdewProfileCsv(await readFile(bdewH25Csv, 'utf8'));
}

/**
 * Wires the whole service from its configuration: storage and migrations, the vehicle API (the embedded
 * simulator unless Smartcar credentials are set), the planner's load profile, the HTTP server.
 */
export async function startSmartCharging(
  config: ServiceConfig,
  options: StartOptions,
): Promise<RunningSmartCharging> {
  const { logger } = options;
  const cleanup: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        logger.warn({ err: error }, 'shutdown step failed');
      }
    }
  };
  try {
    const { db, apiDb } = await openStorage(config, logger);
    cleanup.push(() => db.close());
    if (apiDb !== db) cleanup.push(() => apiDb.close());
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    // Beyond loopback only with someone able to sign in as an operator: never an open port by accident.
    if (!isLoopbackHost(config.host) && (await countActiveApiTokens(db)) === 0) {
      throw new ConfigError(
        `refusing to listen on ${config.host}: that is reachable beyond this machine, and no operator API token exists yet. ` +
          'Create one first (voltkit-smart-charging token create --role admin --name <who>), and set ALLOWED_HOSTS to the name clients use.',
      );
    }
    const { cipher, source: keySource } = await loadTokenCipher({
      keys: config.tokenEncryptionKeys,
      dataDir: config.dataDir,
    });
    const reencrypted = await reencryptTokens(db, cipher);
    logger.info({ keys: keySource, reencrypted }, 'Smartcar tokens encrypted at rest');
    if ((await db.query(`select 1 from settings where key = 'grid'`)).length === 0)
      await saveGridSettings(db, { ...(await loadGridSettings(db)), limitKw: config.gridLimitKw });

    // The callback has to be on this server, so the port must be known before Connect links are made.
    const port = config.port === 0 ? await freePort(config.host) : config.port;
    let simulator: Simulator | undefined;
    let client: VoltkitClient;
    if (config.vehicleApi.kind === 'smartcar') {
      client = createClient({
        clientId: config.vehicleApi.clientId,
        clientSecret: config.vehicleApi.clientSecret,
        redirectUri: config.vehicleApi.redirectUri,
        ...(config.vehicleApi.origin === undefined ? {} : { origin: config.vehicleApi.origin }),
        tokenStore: sqlTokenStore(db, cipher),
      });
      logger.info(
        { origin: config.vehicleApi.origin ?? 'Smartcar cloud', mode: config.connectMode },
        'vehicle API: Smartcar',
      );
    } else {
      if (options.simulator) {
        simulator = options.simulator;
      } else {
        const dataDir = 'dataDir' in config.storage ? config.storage.dataDir : '.data/smart-charging';
        await mkdir(join(dataDir, 'simulator'), { recursive: true });
        // Loaded only here: a deployment with Smartcar credentials does not need the simulator installed.
        const { createSimulator } = await import('@voltkit/simulator');
        const started = await createSimulator({ host: '127.0.0.1', dataDir: join(dataDir, 'simulator') });
        cleanup.push(() => started.close());
        simulator = started;
      }
      const sim = simulator;
      client = createClient({
        clientId: sim.demoApp.clientId,
        clientSecret: sim.demoApp.clientSecret,
        redirectUri: `http://localhost:${port}/connect/callback`,
        origin: sim.url,
        tokenStore: sqlTokenStore(db, cipher),
      });
      logger.info({ url: sim.url }, 'vehicle API: embedded simulator (no Smartcar credentials set)');
    }

    if (config.priceSource.startsWith('file:') && !existsSync(config.priceSource.slice('file:'.length))) {
      logger.warn(
        { priceSource: config.priceSource },
        'price file not found: planning uses stored prices only; import some with PUT /api/prices or set PRICE_SOURCE',
      );
    }

    const sim = simulator;
    let now = options.now ?? (sim ? () => sim.clock.now() : () => new Date());
    if (!options.now && config.clock.kind === 'simulator') {
      const followed = await followSimulatorClock(config.clock);
      cleanup.push(() => Promise.resolve(followed.stop()));
      now = () => followed.now();
      logger.info(
        { origin: config.clock.origin, speed: followed.speed(), now: followed.now().toISOString() },
        "clock: the simulator's",
      );
    }
    const webhookToken = config.webhookManagementToken ?? sim?.demoApp.managementToken;
    const service = createSmartChargingService({
      config,
      ...(config.instanceId === undefined ? {} : { instanceId: config.instanceId }),
      monitorIntervalMs: config.monitorIntervalMinutes * 60_000,
      requestBudget: config.requestBudget,
      // The embedded simulator signs its webhooks with its demo app's management token.
      ...(webhookToken === undefined ? {} : { webhooks: { managementToken: webhookToken } }),
      db,
      apiDb,
      client,
      connectMode: config.connectMode,
      profile: await loadBdewProfile(),
      logger,
      now,
    });
    const allowedHosts = [
      ...config.allowedHosts,
      ...(config.vehicleApi.kind === 'smartcar' ? [new URL(config.vehicleApi.redirectUri).hostname] : []),
      ...(config.host === '0.0.0.0' || config.host === '::' ? [] : [config.host]),
    ];
    const http = await createHttpServer(service, { logger, now, allowedHosts });
    cleanup.push(() => http.app.close());
    await http.app.listen({ host: config.host, port });
    await service.start({ schedule: options.schedule ?? true });
    cleanup.push(() => service.stop());
    const shownHost = config.host === '127.0.0.1' || config.host === '0.0.0.0' ? 'localhost' : config.host;
    return { url: `http://${shownHost}:${port}/`, service, http, db, simulator, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** The jobs' pool and the HTTP API's (one and the same embedded: PGlite is one connection). */
async function openStorage(
  config: ServiceConfig,
  logger: Logger,
): Promise<{ db: SqlClient; apiDb: SqlClient }> {
  if ('databaseUrl' in config.storage) {
    const { databaseUrl, poolSize, apiPoolSize } = config.storage;
    const db = await openSqlClient({ databaseUrl, maxConnections: poolSize });
    try {
      const apiDb = await openSqlClient({ databaseUrl, maxConnections: apiPoolSize });
      logger.info(
        { database: describeDatabaseUrl(databaseUrl), poolSize, apiPoolSize },
        'storage: PostgreSQL',
      );
      return { db, apiDb };
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  const dir = join(config.storage.dataDir, 'db');
  await mkdir(dir, { recursive: true });
  logger.info({ dataDir: dir }, 'storage: embedded (PGlite)');
  const db = await openSqlClient({ dataDir: dir });
  return { db, apiDb: db };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
