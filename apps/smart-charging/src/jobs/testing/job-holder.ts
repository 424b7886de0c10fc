/**
 * A process that takes one job and holds it until it is killed, renewing its claim meanwhile: what a
 * service instance is to a long re-plan when `kill -9` hits it. Used by job-engine.test.ts.
 *
 * Env: DATABASE_URL, SCHEMA (the service schema; jobs in `<schema>_jobs`), ALIVE_SECONDS.
 * Prints `holding <job id>` once the handler runs.
 */
import pino from 'pino';
import { openSqlClient } from '../../store/sql-client.ts';
import { startJobEngine } from '../job-engine.ts';

const db = await openSqlClient({
  databaseUrl: process.env['DATABASE_URL']!,
  schema: process.env['SCHEMA']!,
});
const engine = await startJobEngine({
  db,
  logger: pino({ level: 'silent' }),
  instanceId: 'holder',
  maintenanceIntervalSeconds: 1,
});
// An expiry far beyond the test: only the lapsed renewal can hand the job on.
await engine.defineQueue({ name: 'held', policy: 'standard', expireInSeconds: 600, retryLimit: 2 });
await engine.work(
  'held',
  ({ id }) => {
    process.stdout.write(`holding ${id}\n`);
    return new Promise<void>(() => {});
  },
  { aliveSeconds: Number(process.env['ALIVE_SECONDS']) },
);
await engine.send('held', {}, { key: 'the-job' });
