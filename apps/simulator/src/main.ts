import { pino } from 'pino';
import { parseConfig } from './config.ts';
import { createSimulator } from './simulator.ts';

/** `voltkit-simulator`: read the environment, start the simulator, print how to use it. */
async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.LOG_LEVEL });
  const sim = await createSimulator({
    port: config.PORT,
    host: config.HOST,
    ...(config.DATA_DIR === undefined ? {} : { dataDir: config.DATA_DIR }),
    clock: config.CLOCK_SPEED === 1 ? { mode: 'real' } : { mode: 'accelerated', speed: config.CLOCK_SPEED },
    ...(config.SIMULATOR_MANAGEMENT_TOKEN === undefined
      ? {}
      : { managementToken: config.SIMULATOR_MANAGEMENT_TOKEN }),
    logger,
    rateLimits: { app: config.APP_RATE_LIMIT ?? null, vehicle: config.VEHICLE_RATE_LIMIT ?? null },
  });
  const connectUrl = new URL('/oauth/authorize', sim.url);
  connectUrl.search = new URLSearchParams({
    response_type: 'code',
    client_id: sim.demoApp.clientId,
    redirect_uri: sim.demoApp.redirectUris[0] ?? '',
    scope: 'read_vehicle_info read_battery read_charge control_charge',
    mode: 'test',
  }).toString();
  // Intended output: how to reach the simulator and the demo app's (documented, public) credentials.
  process.stdout.write(
    [
      `Voltkit simulator listening on ${sim.url}`,
      `Connect:            ${connectUrl.toString()}`,
      `Demo client id:     ${sim.demoApp.clientId}`,
      `Demo client secret: ${sim.demoApp.clientSecret}`,
      `Demo AMT:           ${sim.demoApp.managementToken}`,
      config.SIMULATOR_MANAGEMENT_TOKEN === undefined
        ? `Management token:   ${sim.managementToken}  (for ${sim.url}/_simulator/*)`
        : `Management token:   from SIMULATOR_MANAGEMENT_TOKEN`,
      `Dashboard:          ${sim.dashboardUrl}  (sign in with the management token)`,
      `Demo webhook URL:   ${sim.url}/_simulator/demo-receiver/${sim.demoApp.clientId}  (answers the challenge: POST it to /_simulator/webhooks)`,
      `SDK environment:    SMARTCAR_API_ORIGIN=${sim.url} SMARTCAR_AUTH_ORIGIN=${sim.url} SMARTCAR_MANAGEMENT_API_ORIGIN=${sim.url}`,
      `Clock:              ${sim.clock.mode}${config.CLOCK_SPEED === 1 ? '' : ` ×${config.CLOCK_SPEED}`}${config.DATA_DIR === undefined ? '' : `; state in ${config.DATA_DIR}`}`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    sim.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'close failed');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
}

await main();
