import pino from 'pino';
import { ConfigError, loadServiceConfig } from './service/config.ts';
import { startSmartCharging } from './service/start-app.ts';

// Process entry: configuration from the environment, everything wired, stopped cleanly on a signal.
let config;
try {
  config = loadServiceConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const logger = pino({ level: config.logLevel, base: { service: 'smart-charging' } });
const running = await startSmartCharging(config, { logger });

const enrollHint = running.simulator
  ? 'Open the dashboard and use "Connect a car": the embedded simulator signs in any email and password.'
  : 'Open the dashboard and use "Connect a car" (Smartcar Connect).';
process.stdout.write(
  [
    '',
    `  Voltkit smart charging: ${running.url}`,
    `  API description:        ${running.url}api/openapi.json`,
    `  ${enrollHint}`,
    `  Or: curl -X POST ${running.url}api/enrollments -H 'content-type: application/json' -d '{"ownerName":"Ada"}'`,
    '',
    '',
  ].join('\n'),
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
