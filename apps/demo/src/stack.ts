import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createCoreVehicleSource,
  startBridge,
  startEmbeddedBroker,
  type Bridge,
  type BridgeConfig,
  type EmbeddedBroker,
} from '@voltkit/mqtt-bridge';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import {
  createLoginCode,
  findGrant,
  loadTokenCipher,
  migrate,
  openSqlClient,
  type ServiceConfig,
  type SqlClient,
} from '@voltkit/smart-charging';
import type { Logger } from 'pino';
import { DEMO_FLEET, type DemoCar } from './demo-fleet.ts';
import { linkDemoFleet } from './link-fleet.ts';
import { portOrFree } from './ports.ts';
import { wireSmartCharging } from './wire-service.ts';

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
  /** The smart-charging dashboard. */
  readonly dashboardUrl: string;
  /** A one-time link that signs a browser in as this run's admin operator. */
  readonly operatorLoginUrl: string;
  /** One-time links that sign a browser in as the owner of each demo car (they see only their own cars). */
  readonly ownerLoginUrls: readonly { readonly vehicleName: string; readonly url: string }[];
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
  /** Ports that were taken and replaced by free ones. */
  readonly notes: readonly string[];
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
  const closers: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const step of closers.splice(0).reverse()) {
      await step().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
    }
  };
  try {
    await mkdir(config.dataDir, { recursive: true });
    const host = serviceConfig.host;
    const notes: string[] = [];
    // With the embedded simulator nothing depends on fixed ports: a taken default gives way to a free port.
    const embedded = serviceConfig.vehicleApi.kind === 'embedded-simulator';
    const pick = async (wanted: number, what: string) => {
      if (!embedded) return wanted;
      const { port, note } = await portOrFree(host, wanted, what);
      if (note !== undefined) notes.push(note);
      return port;
    };

    let sim: Simulator | undefined;
    if (serviceConfig.vehicleApi.kind === 'embedded-simulator') {
      const simulator = await createSimulator({
        host,
        port: await pick(config.simulator.port, 'simulator'),
        dataDir: join(config.dataDir, 'simulator'),
        clock:
          config.simulator.clockSpeed === 1
            ? { mode: 'real' }
            : { mode: 'accelerated', speed: config.simulator.clockSpeed },
        logger: logger.child({ app: 'simulator' }),
      });
      sim = simulator;
      closers.push(() => simulator.close());
    }

    const db: SqlClient = await openSqlClient(
      'databaseUrl' in serviceConfig.storage
        ? { databaseUrl: serviceConfig.storage.databaseUrl, maxConnections: serviceConfig.storage.poolSize }
        : { dataDir: join(config.dataDir, 'smart-charging') },
    );
    closers.push(() => db.close());
    await migrate(db);

    const now = sim ? () => sim.clock.now() : () => new Date();
    const dashboardPort = await pick(serviceConfig.port, 'dashboard');
    const { cipher } = await loadTokenCipher({
      keys: serviceConfig.tokenEncryptionKeys,
      dataDir: join(config.dataDir, 'smart-charging'),
    });
    const wired = await wireSmartCharging({
      db,
      config: { ...serviceConfig, port: dashboardPort },
      sim,
      logger,
      now,
      cipher,
    });
    closers.push(() => wired.close());
    const { api, service } = wired;
    // Started before the grid is set and the demo cars are linked (both re-plan), so that every plan
    // already has the day's prices.
    await service.start({ schedule: true });
    closers.push(() => service.stop());
    await api.setGrid(serviceConfig.gridLimitKw, config.baseLoadKwhPerYear);
    let linkedNow = 0;
    if (sim && (await api.vehicles()).length === 0) {
      const cars = await linkDemoFleet({ sim, api, fleet: config.fleet ?? DEMO_FLEET });
      linkedNow = cars.filter((car) => car.refusedByConnect === undefined).length;
    }

    let broker: EmbeddedBroker | undefined;
    let brokerUrl = bridgeConfig.mqtt.url;
    let protocolVersion = bridgeConfig.mqtt.protocolVersion;
    if (brokerUrl === undefined) {
      // The embedded broker is local only: a taken port (a Mosquitto on 1883) always gives way to a free one.
      const { host: brokerHost, port: wantedPort } = bridgeConfig.embeddedBroker;
      const picked = await portOrFree(brokerHost, wantedPort, 'MQTT broker');
      if (picked.note !== undefined) notes.push(picked.note);
      const started = await startEmbeddedBroker({ host: brokerHost, port: picked.port });
      broker = started;
      closers.push(() => started.close());
      brokerUrl = started.url;
      protocolVersion = 4; // aedes speaks MQTT 3.1.1
    }
    const bridge: Bridge = await startBridge({
      config: bridgeConfig,
      source: createCoreVehicleSource({ client: wired.client, grantIds: () => api.activeGrantIds() }),
      brokerUrl,
      protocolVersion,
      smartCharging: { link: wired.link, pollSeconds: 2 },
      logger: logger.child({ app: 'mqtt-bridge' }),
    });
    closers.push(() => bridge.stop());

    // A car linked by hand reaches MQTT within seconds, not at the bridge's next hourly vehicle list. Only a
    // changed grant list costs vehicle API calls.
    let knownGrants = (await api.activeGrantIds()).sort().join(',');
    const watch = setInterval(() => {
      void api
        .activeGrantIds()
        .then(async (ids) => {
          const current = ids.sort().join(',');
          if (current === knownGrants) return;
          knownGrants = current;
          await bridge.syncVehicles();
        })
        .catch((error: unknown) => logger.warn({ err: error }, 'could not refresh the bridged vehicles'));
    }, 5_000);
    closers.push(() => Promise.resolve(clearInterval(watch)));

    // Login links for people opening the demo: one-time, valid for 12 hours of wall-clock time.
    const linkOptions = { now: new Date(), ttlMs: 12 * 3_600_000 };
    const operatorCode = await createLoginCode(db, { apiTokenId: wired.adminTokenId }, linkOptions);
    const ownerLoginUrls: { vehicleName: string; url: string }[] = [];
    for (const vehicle of await api.vehicles()) {
      const ownerId = (await findGrant(db, vehicle.grantId))?.ownerId;
      if (!ownerId) continue;
      const code = await createLoginCode(db, { ownerId }, linkOptions);
      ownerLoginUrls.push({
        vehicleName: `${vehicle.make} ${vehicle.model}`,
        url: `${wired.url}login#code=${code}`,
      });
    }
    return {
      dashboardUrl: wired.url,
      operatorLoginUrl: `${wired.url}login#code=${operatorCode}`,
      ownerLoginUrls,
      simulatorUrl: sim?.url,
      mqtt: {
        url: broker ? broker.url : brokerUrl.replace(/\/\/[^@/]*@/, '//***@'),
        embedded: broker !== undefined,
        baseTopic: bridgeConfig.baseTopic,
        discoveryPrefix: bridgeConfig.homeAssistant.discoveryPrefix,
      },
      linkedNow,
      notes,
      vehicleSlugs: () => bridge.vehicleSlugs(),
      vehicles: async () =>
        (await api.vehicles()).map((vehicle) => ({
          id: vehicle.id,
          name: `${vehicle.make} ${vehicle.model}`,
        })),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
