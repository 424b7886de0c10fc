import { resolve } from 'node:path';
import { DemoConfigError, loadDemoConfig, USAGE, type DemoConfig } from './config.ts';
import { createDemoLogger } from './logger.ts';
import { startStack, type Stack } from './stack.ts';

function readConfig(): DemoConfig {
  try {
    return loadDemoConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof DemoConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

const config = readConfig();
if (config.args.help) {
  console.log(USAGE);
  process.exit(0);
}
const logger = createDemoLogger(config.logLevel);

if (config.args.scenario === 'overnight') {
  const { runOvernightScenario, formatReport } = await import('./scenario-overnight.ts');
  const night = config.args.night;
  try {
    const report = await runOvernightScenario({
      logger,
      // 18:00 in Berlin in winter; the departure defaults to 13 hours later (07:00).
      ...(night === undefined ? {} : { start: new Date(`${night}T17:00:00Z`) }),
      ...(config.args['grid-limit'] === undefined ? {} : { gridLimitKw: config.args['grid-limit'] }),
      ...(config.args.prices === undefined ? {} : { priceFile: resolve(config.args.prices) }),
      ...(config.args['limit-mode'] === undefined ? {} : { limitMode: config.args['limit-mode'] }),
    });
    console.log(formatReport(report));
    process.exit(report.passed ? 0 : 1);
  } catch (error) {
    logger.error({ err: error }, 'the scenario failed');
    console.error(`FAIL: the scenario could not run: ${(error as Error).message}`);
    process.exit(1);
  }
}

// Signals are handled from the start: a Ctrl-C while the demo cars are being linked waits for the start to
// finish, then stops everything as usual.
let stopping = false;
const starting: Promise<Stack | undefined> = startStack({
  dataDir: config.dataDir,
  simulator: { port: config.simulatorPort, clockSpeed: config.clockSpeed },
  service: config.service,
  bridge: config.bridge,
  baseLoadKwhPerYear: config.baseLoadKwhPerYear,
  logger,
}).catch((error: unknown) => {
  logger.error({ err: error }, 'the stack did not start');
  console.error(`The demo could not start: ${(error as Error).message}`);
  process.exit(1);
});
const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await (await starting)?.close();
  console.log('Voltkit demo stopped.');
  process.exit(0);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(signal));

const started = await starting;
if (started !== undefined && !stopping) await printSummary(started);

async function printSummary(stack: Stack): Promise<void> {
  const base = stack.mqtt.baseTopic;
  const slugs = stack.vehicleSlugs();
  const vehicles = await stack.vehicles();
  console.log(
    [
      'Voltkit demo running',
      `  dashboard:      ${stack.dashboardUrl}`,
      `  operator:       ${stack.operatorLoginUrl}`,
      `                  (one-time login link for the dashboard as admin; owners connect more cars with "Connect a car")`,
      ...stack.ownerLoginUrls.map((owner) => `  owner link:     ${owner.url}   (${owner.vehicleName})`),
      stack.simulatorUrl
        ? `  simulator:      ${stack.simulatorUrl}   (Connect: any email and password sign in)`
        : '  vehicle API:    Smartcar (SMARTCAR_CLIENT_ID set)',
      `  MQTT broker:    ${stack.mqtt.url}${stack.mqtt.embedded ? '   (embedded aedes, MQTT 3.1.1)' : ''}`,
      `  MQTT topics:    ${base}/bridge/state   ${base}/<vehicle>/<field>   ${base}/<vehicle>/state   ${base}/<vehicle>/charging/set`,
      `  HA discovery:   ${stack.mqtt.discoveryPrefix}/device/${base}_<vehicle>/config`,
      `  vehicles:       ${vehicles.length} (${stack.linkedNow > 0 ? `${stack.linkedNow} demo cars linked through Connect now` : 'stored state'})`,
      ...vehicles.map(
        (vehicle) =>
          `    ${vehicle.name.padEnd(32)} ${base}/${slugs.includes(vehicle.id) ? vehicle.id : '<vin>'}/state`,
      ),
      `  data:           ${config.dataDir}`,
      ...stack.notes.map((note) => `  note:           ${note}`),
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
}
