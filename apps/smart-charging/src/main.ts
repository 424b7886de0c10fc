import pino from 'pino';
import { ConfigError, loadServiceConfig } from './service/config.ts';
import { CliUsageError, OPERATOR_CLI_USAGE, runOperatorCommand } from './service/operator-cli.ts';
import { startSmartCharging } from './service/start-app.ts';

// Process entry: configuration from the environment; operator commands, or the service stopped cleanly on a signal.
let config;
try {
  config = loadServiceConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
if (args[0] === '--help' || args[0] === '-h') {
  process.stdout.write(OPERATOR_CLI_USAGE);
  process.exit(0);
}
if (args.length > 0) {
  try {
    await runOperatorCommand(args, config, (line) => process.stdout.write(`${line}\n`));
    process.exit(0);
  } catch (error) {
    if (!(error instanceof CliUsageError) && !(error instanceof TypeError)) throw error;
    // parseArgs reports unknown options as a TypeError with a plain message.
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

const logger = pino({ level: config.logLevel, base: { service: 'smart-charging' } });
let running;
try {
  running = await startSmartCharging(config, { logger });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const enrollHint = running.simulator
  ? 'Owners: open the dashboard and use "Connect a car": the embedded simulator signs in any email and password.'
  : 'Owners: open the dashboard and use "Connect a car" (Smartcar Connect).';
process.stdout.write(
  [
    '',
    `  Voltkit smart charging: ${running.url}`,
    `  API description:        ${running.url}api/openapi.json`,
    `  ${enrollHint}`,
    `  Operators: voltkit-smart-charging token create --role admin --name <you>  (prints a token and a login link)`,
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
