import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient, type VoltkitClient } from '@voltkit/core/client';
import { startBridge, startEmbeddedBroker, type Bridge, type BridgeConfig, type EmbeddedBroker } from '@voltkit/mqtt-bridge';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { parseBdewProfileCsv } from '@voltkit/smart-charging/planner';
import type { Logger } from 'pino';
import { serviceChargePlanSource } from './charge-plan-source.ts';
import { startDashboardServer, type DashboardServer } from './dashboard-server.ts';
import { DEMO_FLEET, type DemoCar } from './demo-fleet.ts';
import {
  createCoreVehicleSource,
  createSmartChargingService,
  listGrants,
  listVehicles,
  migrate,
  openSqlClient,
  saveGridSettings,
  sqlTokenStore,
  type ServiceConfig,
  type SmartChargingService,
  type SqlClient,
} from './internals.ts';
import { linkDemoFleet } from './link-fleet.ts';
import { BDEW_PROFILE } from './paths.ts';

export interface StackConfig {
  /** Embedded storage (simulator snapshot, PGlite database) lives under here. */
  readonly dataDir: string;
  readonly simulator: { readonly port: number; readonly clockSpeed: number };
  readonly service: ServiceConfig;
  readonly bridge: BridgeConfig;
  /** Yearly consumption of the households behind the grid connection (scales the BDEW profile). */
  readonly baseLoadKwhPerYear: number;
  readonly fleet?: readonly DemoCar[];
  readonly logger: Logger;
}

export interface Stack {
  readonly dashboardUrl: string;
  readonly connectUrl: string;
  /** Absent when the stack talks to Smartcar (credentials configured). */
  readonly simulatorUrl: string | undefined;
  readonly mqtt: {
    readonly url: string;
    readonly embedded: boolean;
    readonly baseTopic: string;
    readonly discoveryPrefix: string;
  };
  /** Demo cars linked by this start (none on a second start: the stored state is used). */
  readonly linkedNow: number;
  readonly vehicleSlugs: () => string[];
  readonly vehicles: () => Promise<{ id: string; name: string }[]>;
  close(): Promise<void>;
}

/**
 * Starts simulator, smart-charging service with its dashboard and the MQTT bridge in this process. On a
 * first start against the simulator it links the demo fleet through Connect; later starts use the stored
 * state.
 */
export async function startStack(config: StackConfig): Promise<Stack> {
  const { logger, service: serviceConfig, bridge: bridgeConfig } = config;
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const step of closers.splice(0).reverse()) {
      await step().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
    }
  };
  try {
    await mkdir(config.dataDir, { recursive: true });
    const host = serviceConfig.host;

    let sim: Simulator | undefined;
    if (serviceConfig.vehicleApi.kind === 'embedded-simulator') {
      const simulator = await createSimulator({
        host,
        port: config.simulator.port,
        dataDir: join(config.dataDir, 'simulator'),
        clock: config.simulator.clockSpeed === 1 ? { mode: 'real' } : { mode: 'accelerated', speed: config.simulator.clockSpeed },
        logger: logger.child({ app: 'simulator' }),
      });
      sim = simulator;
      closers.push(() => simulator.close());
    }

    const db: SqlClient = await openSqlClient(
      'databaseUrl' in serviceConfig.storage
        ? { databaseUrl: serviceConfig.storage.databaseUrl }
        : { dataDir: join(config.dataDir, 'smart-charging') },
    );
    closers.push(() => db.close());
    await migrate(db);
    await saveGridSettings(db, { limitKw: serviceConfig.gridLimitKw, baseLoadKwhPerYear: config.baseLoadKwhPerYear });

    // Filled in below: the dashboard server starts first, so its callback URL can go into the client.
    const late: { service?: SmartChargingService; bridge?: Bridge } = {};
    const dashboard: DashboardServer = await startDashboardServer({
      service: () => {
        if (!late.service) throw new Error('the service is still starting');
        return late.service;
      },
      host,
      port: serviceConfig.port,
      logger: logger.child({ app: 'dashboard' }),
      onLinked: async () => {
        await late.bridge?.syncVehicles();
        await late.service?.replan('vehicle linked');
      },
    });
    closers.push(() => dashboard.close());

    const api = serviceConfig.vehicleApi;
    const client: VoltkitClient =
      api.kind === 'smartcar'
        ? createClient({
            clientId: api.clientId,
            clientSecret: api.clientSecret,
            redirectUri: api.redirectUri,
            ...(api.origin === undefined ? {} : { origin: api.origin }),
            tokenStore: sqlTokenStore(db),
          })
        : createClient({
            clientId: sim!.demoApp.clientId,
            clientSecret: sim!.demoApp.clientSecret,
            redirectUri: dashboard.callbackUrl,
            origin: sim!.url,
            tokenStore: sqlTokenStore(db),
          });

    const profile = parseBdewProfileCsv(await readFile(BDEW_PROFILE, 'utf8'));
    const now = sim ? () => sim.clock.now() : () => new Date();
    const running = createSmartChargingService({
      config: serviceConfig,
      db,
      client,
      connectMode: sim ? 'simulated' : 'live',
      profile,
      logger: logger.child({ app: 'smart-charging' }),
      now,
    });
    late.service = running;

    let linkedNow = 0;
    if (sim && (await listVehicles(db)).length === 0) {
      linkedNow = (await linkDemoFleet({ sim, db, connectUrl: dashboard.connectUrl, fleet: config.fleet ?? DEMO_FLEET })).length;
    }
    await running.start({ schedule: true });
    closers.push(() => running.stop());

    let broker: EmbeddedBroker | undefined;
    let brokerUrl = bridgeConfig.mqtt.url;
    let protocolVersion = bridgeConfig.mqtt.protocolVersion;
    if (brokerUrl === undefined) {
      const embedded = await startEmbeddedBroker(bridgeConfig.embeddedBroker);
      broker = embedded;
      closers.push(() => embedded.close());
      brokerUrl = embedded.url;
      protocolVersion = 4; // aedes speaks MQTT 3.1.1
    }
    const started = await startBridge({
      config: bridgeConfig,
      source: createCoreVehicleSource({
        client,
        grantIds: async () => (await listGrants(db)).filter((grant) => grant.status === 'active').map((grant) => grant.id),
      }),
      brokerUrl,
      protocolVersion,
      chargePlan: serviceChargePlanSource({ dashboard: () => running.dashboard(), slotMinutes: serviceConfig.slotMinutes, now }),
      logger: logger.child({ app: 'mqtt-bridge' }),
    });
    late.bridge = started;
    closers.push(() => started.stop());

    return {
      dashboardUrl: `${dashboard.url}/`,
      connectUrl: dashboard.connectUrl,
      simulatorUrl: sim?.url,
      mqtt: {
        url: broker ? broker.url : redactUrl(brokerUrl),
        embedded: broker !== undefined,
        baseTopic: bridgeConfig.baseTopic,
        discoveryPrefix: bridgeConfig.homeAssistant.discoveryPrefix,
      },
      linkedNow,
      vehicleSlugs: () => started.vehicleSlugs(),
      vehicles: async () => (await listVehicles(db)).map((vehicle) => ({ id: vehicle.id, name: `${vehicle.make} ${vehicle.model}` })),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
