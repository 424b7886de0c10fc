import { createClient, fileTokenStore } from '@voltkit/core/client';
import { startBridge } from './bridge.ts';
import type { Bridge } from './bridge.ts';
import { ConfigError, haStatusTopic, loadConfig } from './config.ts';
import type { BridgeConfig } from './config.ts';
import { startConnectPage } from './connect-page.ts';
import type { ConnectPage } from './connect-page.ts';
import { createCoreVehicleSource } from './core-vehicle-source.ts';
import { deviceObjectId } from './discovery.ts';
import { startEmbeddedBroker } from './embedded-broker.ts';
import type { EmbeddedBroker } from './embedded-broker.ts';
import { fileChargePlanSource } from './charge-plan-file.ts';
import { fileGrantRegistry } from './grant-registry.ts';
import { createLogger } from './logger.ts';

function readConfig(): BridgeConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

const config = readConfig();
const logger = createLogger(config.logLevel);
const { source: sourceConfig } = config;
if (!sourceConfig.clientId || !sourceConfig.clientSecret) {
  console.error(
    'Set SMARTCAR_CLIENT_ID and SMARTCAR_CLIENT_SECRET (and SMARTCAR_API_ORIGIN to use the Voltkit simulator) so the bridge can reach your vehicles.',
  );
  process.exit(2);
}

let embedded: EmbeddedBroker | undefined;
let brokerUrl = config.mqtt.url;
let protocolVersion = config.mqtt.protocolVersion;
if (!brokerUrl) {
  embedded = await startEmbeddedBroker(config.embeddedBroker);
  brokerUrl = embedded.url;
  protocolVersion = 4; // aedes speaks MQTT 3.1.1 only
}

const redirectUri = sourceConfig.redirectUri ?? `http://127.0.0.1:${sourceConfig.connectPort}/callback`;
const origin = sourceConfig.apiOrigin;
const client = createClient({
  clientId: sourceConfig.clientId,
  clientSecret: sourceConfig.clientSecret,
  redirectUri,
  ...(origin ? { origin } : {}),
  origins: {
    ...(sourceConfig.authOrigin ? { auth: sourceConfig.authOrigin } : {}),
    ...(sourceConfig.connectOrigin ? { connect: sourceConfig.connectOrigin } : {}),
  },
  tokenStore: fileTokenStore(sourceConfig.tokenStorePath),
});
const registry = fileGrantRegistry(`${sourceConfig.tokenStorePath}.grants.json`);
const source = createCoreVehicleSource({
  client,
  grantIds: async () => [...new Set([...sourceConfig.grantIds, ...(await registry.list())])],
  ...(sourceConfig.webhookAmt
    ? { webhook: { amt: sourceConfig.webhookAmt, webhookId: sourceConfig.webhookId } }
    : {}),
});

// The Connect page first, so Home Assistant can link to it ("Visit" on each car) from the first discovery.
// Filled in once the bridge runs; a car connected before then is listed by the bridge's first sync anyway.
const started: { bridge?: Bridge } = {};
let connectPage: ConnectPage | undefined;
if (sourceConfig.connectPort > 0) {
  connectPage = await startConnectPage({
    client,
    registry,
    port: sourceConfig.connectPort,
    mode: sourceConfig.connectMode,
    onConnected: () => started.bridge?.syncVehicles() ?? Promise.resolve(),
    onWebhook: (rawBody, signature) => source.handleWebhook(rawBody, signature),
    logger,
  });
}
const running: Bridge = await startBridge({
  config,
  source,
  brokerUrl,
  protocolVersion,
  logger,
  ...(connectPage ? { configurationUrl: connectPage.url } : {}),
  ...(config.chargePlanFile ? { chargePlan: fileChargePlanSource(config.chargePlanFile) } : {}),
});
started.bridge = running;

const base = config.baseTopic;
const lines = [
  `Voltkit MQTT bridge running`,
  `  broker:            ${embedded ? `${embedded.url} (embedded aedes, MQTT 3.1.1)` : `${brokerUrl.replace(/\/\/[^@/]*@/, '//***@')} (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'})`}`,
  `  bridge state:      ${base}/bridge/state   info: ${base}/bridge/info`,
  `  vehicle values:    ${base}/<vin>/<field>   JSON: ${base}/<vin>/state   commands: ${base}/<vin>/<charging|charge_limit|lock|refresh>/set`,
  `  HA discovery:      ${config.homeAssistant.discoveryMode === 'off' ? 'off' : `${config.homeAssistant.discoveryPrefix}/device/${deviceObjectId(running.topics, '<vin>')}/config (${config.homeAssistant.discoveryMode} mode)`}, birth on ${haStatusTopic(config)}`,
  `  vehicles:          ${running.vehicleSlugs().join(', ') || 'none yet'}`,
  connectPage
    ? `  connect a vehicle: ${connectPage.url}`
    : `  connect page:      disabled (VOLTKIT_CONNECT_PORT=0)`,
  connectPage && sourceConfig.webhookAmt
    ? `  webhooks:          POST ${connectPage.url}/webhooks`
    : `  webhooks:          off (set VOLTKIT_WEBHOOK_AMT and VOLTKIT_WEBHOOK_ID)`,
];
console.log(lines.join('\n'));

let stopping = false;
const shutdown = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await connectPage?.close();
  await running.stop();
  await embedded?.close();
  process.exit(0);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(signal));
