import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, memoryTokenStore } from '@voltkit/core/client';
import type { VoltkitClient } from '@voltkit/core/client';
import { createSimulator } from '@voltkit/simulator';
import { pino } from 'pino';
import type { Simulator } from '@voltkit/simulator';
import { startBridge } from '../src/bridge.ts';
import type { Bridge } from '../src/bridge.ts';
import { parseConfig } from '../src/config.ts';
import type { BridgeConfigInput } from '../src/config.ts';
import { createCoreVehicleSource } from '../src/core-vehicle-source.ts';
import { silentLogger } from '../src/logger.ts';
import { fileChargePlanSource } from '../src/charge-plan-file.ts';
import { startConnectPage } from '../src/connect-page.ts';
import type { ConnectPage } from '../src/connect-page.ts';
import type { VehicleSource } from '../src/vehicle-source.ts';
import { clearRetained, Probe, uniqueBase } from './helpers.ts';
import type { TestBroker } from './helpers.ts';

export const SCOPES = [
  'read_vehicle_info',
  'read_vin',
  'read_battery',
  'read_charge',
  'control_charge',
  'read_location',
  'read_odometer',
  'read_security',
  'control_security',
  'read_tires',
] as const;

const REDIRECT_URI = 'http://127.0.0.1:9/callback';

export interface Stack {
  readonly sim: Simulator;
  /** The owner's grant is stored as 'owner'. */
  readonly client: VoltkitClient;
  readonly base: string;
  readonly prefix: string;
  readonly vehicleId: string;
  readonly slug: string;
  readonly probe: Probe;
  bridge: Bridge;
  /** Stops the bridge and starts a new one (a bridge process restart). */
  restartBridge(): Promise<void>;
  close(): Promise<void>;
}

/** Simulator (one Tesla) + a bridge over `@voltkit/core` + a probe client subscribed to everything the bridge owns. */
export async function startStack(
  broker: TestBroker,
  label: string,
  overrides: BridgeConfigInput = {},
  extras: {
    webhook?: boolean;
    chargePlanFile?: string;
    onSimulatorRequest?: (route: string) => void;
    /** The owner's car (default: the simulator's first Tesla). */
    account?: { brand: string; model?: string };
    /** Scopes the owner grants (default SCOPES). */
    scopes?: readonly string[];
    /** Wraps the real source, e.g. to count or hold the API calls the bridge makes. */
    wrapSource?: (source: VehicleSource) => VehicleSource;
  } = {},
): Promise<Stack> {
  const onRequest = extras.onSimulatorRequest;
  const sim = await createSimulator({
    clock: { mode: 'manual' },
    // The simulator logs method + route of each request: a real count of what the bridge asked the API.
    ...(onRequest
      ? {
          logger: pino(
            { level: 'info' },
            {
              write(line: string) {
                const entry = JSON.parse(line) as { method?: string; route?: string };
                if (entry.route) onRequest(`${entry.method ?? ''} ${entry.route}`);
              },
            },
          ),
        }
      : {}),
  });
  if (extras.account) sim.createTestAccount({ email: `${label}@example.com`, ...extras.account });
  const { code, vehicleIds } = sim.authorize({
    clientId: sim.demoApp.clientId,
    redirectUri: REDIRECT_URI,
    scope: [...(extras.scopes ?? SCOPES)],
    email: `${label}@example.com`,
    make: extras.account?.brand ?? 'TESLA',
  });
  const vehicleId = vehicleIds[0]!;
  const client = createClient({
    clientId: sim.demoApp.clientId,
    clientSecret: sim.demoApp.clientSecret,
    redirectUri: REDIRECT_URI,
    origin: sim.url,
    tokenStore: memoryTokenStore(),
    retry: false,
  });
  await client.exchangeCode(code, { grantId: 'owner' });
  // Webhooks: the receiver must answer the verification challenge before the webhook id exists.
  const hook: { amt: string; webhookId: string | undefined } = {
    amt: sim.demoApp.managementToken,
    webhookId: undefined,
  };
  const coreSource = createCoreVehicleSource({
    client,
    grantIds: () => Promise.resolve(['owner']),
    ...(extras.webhook ? { webhook: hook } : {}),
  });
  const source = extras.wrapSource ? extras.wrapSource(coreSource) : coreSource;
  let receiver: ConnectPage | undefined;
  if (extras.webhook) {
    receiver = await startConnectPage({
      client,
      registry: { list: () => Promise.resolve([]), add: () => Promise.resolve() },
      port: 0,
      mode: 'simulated',
      onConnected: () => Promise.resolve(),
      onWebhook: (rawBody, signature) => coreSource.handleWebhook(rawBody, signature),
      logger: silentLogger(),
    });
    const webhook = await sim.createWebhook({
      clientId: sim.demoApp.clientId,
      url: `${receiver.url}/webhooks`,
      type: 'eventBased',
    });
    if (!webhook.verified) throw new Error('webhook verification failed');
    hook.webhookId = webhook.id;
  }
  const base = uniqueBase(label);
  const prefix = `${base}_ha`;
  const config = parseConfig({
    baseTopic: base,
    ...overrides,
    mqtt: {
      url: broker.url,
      protocolVersion: broker.protocolVersion,
      clientId: `${base}_bridge`,
      reconnectMs: 200,
      ...overrides.mqtt,
    },
    homeAssistant: {
      discoveryPrefix: prefix,
      birthDelayMinMs: 0,
      birthDelayMaxMs: 50,
      ...overrides.homeAssistant,
    },
    polling: {
      parkedSeconds: 600,
      pluggedSeconds: 600,
      errorBackoffSeconds: 0.2,
      maxBackoffSeconds: 0.5,
      vehicleListSeconds: 0,
      ...overrides.polling,
    },
  });
  const probe = await Probe.connect(broker);
  await probe.subscribe([`${base}/#`, `${prefix}/#`]);
  const launch = (): Promise<Bridge> =>
    startBridge({
      config,
      source,
      brokerUrl: broker.url,
      protocolVersion: broker.protocolVersion,
      logger: silentLogger(),
      ...(extras.chargePlanFile ? { chargePlan: fileChargePlanSource(extras.chargePlanFile) } : {}),
    });
  const stack: Stack = {
    sim,
    client,
    base,
    prefix,
    vehicleId,
    slug: sim.vehicle(vehicleId).vin,
    probe,
    bridge: await launch(),
    async restartBridge() {
      await stack.bridge.stop();
      stack.bridge = await launch();
    },
    async close() {
      await stack.bridge.stop();
      await probe.close();
      await receiver?.close();
      await sim.close();
      if (broker.name === 'mosquitto') await clearRetained(broker, [`${base}/#`, `${prefix}/#`]);
    },
  };
  return stack;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A private Mosquitto (no persistence) on a free port, which this test may stop and start at will. */
export async function startPrivateMosquitto(
  options: { listenerConf?: string; scheme?: 'mqtt' | 'mqtts' } = {},
): Promise<TestBroker & { restart(downMs: number): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vk-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    `persistence false\nlistener ${port} 127.0.0.1\n${options.listenerConf ?? 'allow_anonymous true\n'}`,
  );
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    for (;;) {
      const up = await new Promise<boolean>((resolve) => {
        const socket = createServer().listen(port, '127.0.0.1');
        socket.once('listening', () => socket.close(() => resolve(false)));
        socket.once('error', () => resolve(true));
      });
      if (up) return;
      if (Date.now() > deadline) throw new Error('private mosquitto did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };
  await start();
  return {
    name: 'mosquitto',
    url: `${options.scheme ?? 'mqtt'}://127.0.0.1:${port}`,
    protocolVersion: 5,
    embedded: undefined,
    async restart(downMs: number) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    close: stop,
  };
}
