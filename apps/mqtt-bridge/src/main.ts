import { createClient, fileTokenStore } from '@voltkit/core/client';
import { startBridge } from './bridge.ts';
import type { Bridge, BridgeOptions } from './bridge.ts';
import { ConfigError, haStatusTopic, loadConfig } from './config.ts';
import type { BridgeConfig } from './config.ts';
import { startConnectPage, startServiceLinkPage } from './connect-page.ts';
import type { ConnectPage } from './connect-page.ts';
import { createCoreVehicleSource } from './core-vehicle-source.ts';
import { deviceObjectId } from './discovery.ts';
import { startEmbeddedBroker } from './embedded-broker.ts';
import type { EmbeddedBroker } from './embedded-broker.ts';
import { fileChargePlanSource } from './charge-plan-file.ts';
import { fileGrantRegistry } from './grant-registry.ts';
import { createLogger } from './logger.ts';
import { createServiceVehicleSource } from './service-vehicle-source.ts';
import { createSmartChargingLink, httpTransport, SmartChargingLinkError } from './smart-charging-link.ts';
import type { VehicleSource } from './vehicle-source.ts';

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
const linkedService = config.smartCharging.serviceUrl;
if (!linkedService && (!sourceConfig.clientId || !sourceConfig.clientSecret)) {
  console.error(
    'Set SMARTCAR_CLIENT_ID and SMARTCAR_CLIENT_SECRET (and SMARTCAR_API_ORIGIN to use the Voltkit simulator) so the bridge can reach your vehicles,\n' +
      'or VOLTKIT_SERVICE_URL and VOLTKIT_SERVICE_TOKEN to bridge the cars of a smart-charging service.',
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

// Filled in once the bridge runs; a car connected before then is listed by the bridge's first sync anyway.
const started: { bridge?: Bridge } = {};
let connectPage: ConnectPage | undefined;
let source: VehicleSource;
let smartCharging: BridgeOptions['smartCharging'];
let webhooks: string;
if (linkedService) {
  // Beside the smart-charging service: its cars and their smart charging, through its API. The cars'
  // tokens stay in the service; the bridge holds only an operator API token.
  const link = createSmartChargingLink(
    httpTransport({ serviceUrl: linkedService, apiToken: config.smartCharging.apiToken! }),
  );
  try {
    await link.vehicles();
  } catch (error) {
    if (error instanceof SmartChargingLinkError && error.code === 'REFUSED') {
      console.error(error.message);
      process.exit(2);
    }
    // Down for now: the bridge shows the vehicle API offline and keeps trying.
    logger.warn({ err: { message: (error as Error).message } }, 'smart-charging service not reachable yet');
  }
  const serviceSource = createServiceVehicleSource(link);
  source = serviceSource;
  smartCharging = { link, pollSeconds: config.smartCharging.pollSeconds, serviceSource };
  if (sourceConfig.connectPort > 0)
    connectPage = await startServiceLinkPage({
      port: sourceConfig.connectPort,
      serviceUrl: linkedService,
    });
  webhooks = 'the smart-charging service receives them';
} else {
  const redirectUri = sourceConfig.redirectUri ?? `http://127.0.0.1:${sourceConfig.connectPort}/callback`;
  const origin = sourceConfig.apiOrigin;
  const client = createClient({
    clientId: sourceConfig.clientId!,
    clientSecret: sourceConfig.clientSecret!,
    redirectUri,
    ...(origin ? { origin } : {}),
    origins: {
      ...(sourceConfig.authOrigin ? { auth: sourceConfig.authOrigin } : {}),
      ...(sourceConfig.connectOrigin ? { connect: sourceConfig.connectOrigin } : {}),
    },
    tokenStore: fileTokenStore(sourceConfig.tokenStorePath),
  });
  const registry = fileGrantRegistry(`${sourceConfig.tokenStorePath}.grants.json`);
  const coreSource = createCoreVehicleSource({
    client,
    grantIds: async () => [...new Set([...sourceConfig.grantIds, ...(await registry.list())])],
    ...(sourceConfig.webhookAmt
      ? { webhook: { amt: sourceConfig.webhookAmt, webhookId: sourceConfig.webhookId } }
      : {}),
  });
  source = coreSource;
  // The Connect page first, so Home Assistant can link to it ("Visit" on each car) from the first discovery.
  if (sourceConfig.connectPort > 0) {
    connectPage = await startConnectPage({
      client,
      registry,
      port: sourceConfig.connectPort,
      mode: sourceConfig.connectMode,
      onConnected: () => started.bridge?.syncVehicles() ?? Promise.resolve(),
      onWebhook: (rawBody, signature) => coreSource.handleWebhook(rawBody, signature),
      logger,
    });
  }
  webhooks =
    connectPage && sourceConfig.webhookAmt
      ? `POST ${connectPage.url}/webhooks`
      : 'off (set VOLTKIT_WEBHOOK_AMT and VOLTKIT_WEBHOOK_ID)';
}
const running: Bridge = await startBridge({
  config,
  source,
  brokerUrl,
  protocolVersion,
  logger,
  ...(connectPage ? { configurationUrl: connectPage.url } : {}),
  ...(config.chargePlanFile ? { chargePlan: fileChargePlanSource(config.chargePlanFile) } : {}),
  ...(smartCharging ? { smartCharging } : {}),
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
  `  webhooks:          ${webhooks}`,
  linkedService
    ? `  smart charging:    ${linkedService} (cars, plans and controls from the service)`
    : `  smart charging:    not linked (set VOLTKIT_SERVICE_URL and VOLTKIT_SERVICE_TOKEN)`,
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
