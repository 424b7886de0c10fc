import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { SqlClient } from '../store/sql-client.ts';

/**
 * The service's work as jobs of pg-boss, a job queue on PostgreSQL: any number of service instances
 * share one database and each job runs on one of them. pg-boss talks to the database through the
 * service's own SqlClient, so the embedded default (PGlite, one process) runs the very same engine.
 */
export interface JobEngine {
  /** This process among the instances sharing the database (recorded with each command it sends). */
  readonly instanceId: string;
  defineQueue(spec: QueueSpec): Promise<void>;
  /**
   * Enqueues a job. With a `key`, the job id is derived from it, so the same key sent by several
   * instances (or twice by one) yields one job: false says this send was the duplicate.
   */
  send(queue: string, data: object, options?: SendOptions): Promise<boolean>;
  /**
   * Enqueues many jobs in one statement (a re-plan's commands at fleet scale are thousands of jobs);
   * keys work as in `send`, a job whose key exists already is left as it is.
   */
  sendMany(queue: string, jobs: readonly ({ readonly data: object } & SendOptions)[]): Promise<void>;
  /**
   * Runs `handler` for jobs of `queue`: `concurrency` workers in this process, each fetching up to
   * `batchSize` jobs at once and running them side by side. A batch completes or fails as a whole, so a
   * handler given a batch must be safe to run again for a job that had succeeded (the command job is:
   * a command is claimed once, and a claimed one is not sent again).
   */
  work<TData>(
    queue: string,
    handler: (job: JobRun<TData>) => Promise<void>,
    options?: WorkOptions,
  ): Promise<void>;
  /** A cron schedule that fires once per match across all instances (wall clock, in `timeZone`). */
  schedule(queue: string, cron: string, timeZone: string): Promise<void>;
  /** Stops fetching; `graceful` (the default) lets running jobs finish first. */
  stop(options?: { readonly graceful?: boolean }): Promise<void>;
}

export interface QueueSpec {
  readonly name: string;
  /** `stately`: per singleton key at most one job waiting and one running, cluster-wide. */
  readonly policy: 'standard' | 'stately';
  /**
   * A running job not finished by then counts as lost (its instance died) and is given to another
   * instance, if retries are left. Keep it above the longest honest run of the job.
   */
  readonly expireInSeconds: number;
  readonly retryLimit: number;
}

export interface WorkOptions {
  /** Workers fetching jobs of the queue in this process. @default 1 */
  readonly concurrency?: number;
  /** Jobs each worker fetches and runs at once. @default 1 */
  readonly batchSize?: number;
  /**
   * For jobs that may honestly run longer than a takeover may wait (a unit's re-plan at fleet scale): while
   * the handler runs, this process renews the job's claim every quarter of `aliveSeconds`, and the job counts
   * as lost once `aliveSeconds` pass without a renewal (a killed instance) rather than at the queue's
   * expiry, which then bounds only an honest run.
   */
  readonly aliveSeconds?: number;
}

export interface SendOptions {
  readonly key?: string;
  readonly singletonKey?: string;
  /** Higher first among jobs waiting in the queue. @default 0 */
  readonly priority?: number;
}

export interface JobRun<TData> {
  readonly id: string;
  readonly queue: string;
  readonly data: TData;
  /** 0 on the first run; more after the job failed or its instance died mid-run. */
  readonly retryCount: number;
}

export interface JobEngineOptions {
  readonly db: SqlClient;
  readonly logger: Logger;
  readonly instanceId: string;
  /** @default 'pgboss', or `<schema>_jobs` when the service's tables live in another schema */
  readonly schema?: string;
  /** How often idle workers look for jobs. @default 0.5 (pg-boss's minimum) */
  readonly pollingIntervalSeconds?: number;
  /** How long pg-boss itself waits for running jobs at a graceful stop. @default 20000 */
  readonly stopTimeoutMs?: number;
  /** How often (cluster-wide) expired jobs are handed on. @default 5 */
  readonly maintenanceIntervalSeconds?: number;
}

/** Our index on pg-boss's job table (partitions inherit it), see `startJobEngine`. */
export const FETCH_ORDER_INDEX = 'job_fetch_order';

/** How long a graceful stop waits for running jobs after pg-boss's own timeout. */
const STOP_WAIT_MS = 120_000;

/** Jobs per INSERT of `sendMany`. */
const SEND_MANY_PAGE = 1000;

/** A stable job id for an idempotency key (name-based UUID, version 5 layout). */
export function jobIdForKey(key: string): string {
  const hash = createHash('sha1').update(key).digest('hex');
  const variant = ((Number.parseInt(hash[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hash.slice(0, 8)}-${hash.slice(8, 12)}-5${hash.slice(13, 16)}-${variant}${hash.slice(17, 20)}-${hash.slice(20, 32)}`;
}

export async function startJobEngine(options: JobEngineOptions): Promise<JobEngine> {
  const { db, logger, instanceId } = options;
  const schema = options.schema ?? (await defaultSchema(db));
  const boss = new PgBoss({
    db: {
      // Scripts (migrations, locked maintenance) come without parameters and hold several statements.
      executeSql: async (text: string, values?: unknown[]) => ({
        rows: values && values.length > 0 ? await db.query(text, values) : await db.exec(text),
      }),
    },
    schema,
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 5,
    monitorStateIntervalSeconds: 60,
    // Finished jobs keep their id (the idempotency key) for a day before they are archived.
    archiveCompletedAfterSeconds: 24 * 3600,
  });
  boss.on('error', (error: unknown) => logger.error({ err: error }, 'job engine error'));
  await boss.start();
  // pg-boss fetches the next jobs `order by priority desc, created_on, id` but indexes waiting jobs by
  // start time only: each fetch sorted the whole queue (124 ms per fetch at 95,000 waiting commands,
  // the database's CPU gone to it). An index in the fetch's own order makes it read only what it takes.
  await db.withLock(`job-queue:${schema}`, () =>
    db.exec(`create index if not exists ${FETCH_ORDER_INDEX} on ${schema}.job (name, priority desc, created_on, id)
      where state < 'active'`),
  );
  const workers = new Map<string, string[]>();
  const polling = options.pollingIntervalSeconds ?? 0.5;
  let stopped = false;
  /** Handlers under way: a stop waits for them even past pg-boss's own timeout (they use the database). */
  const handlersRunning = new Set<Promise<void>>();

  return {
    instanceId,
    async defineQueue(spec) {
      const queue = {
        name: spec.name,
        policy: spec.policy,
        expireInSeconds: spec.expireInSeconds,
        retryLimit: spec.retryLimit,
        retryDelay: 0,
      };
      // createQueue keeps an existing queue as it is; the settings of this version win. Instances starting
      // together would create the same new queue at once, which deadlocks in PostgreSQL: one at a time.
      await db.withLock(`job-queue:${schema}`, async () => {
        await boss.createQueue(spec.name, queue);
        await boss.updateQueue(spec.name, queue);
      });
    },
    async send(queue, data, sendOptions = {}) {
      const id = await boss.send(queue, data, {
        ...(sendOptions.key === undefined ? {} : { id: jobIdForKey(`${queue}:${sendOptions.key}`) }),
        ...(sendOptions.singletonKey === undefined ? {} : { singletonKey: sendOptions.singletonKey }),
        ...(sendOptions.priority === undefined ? {} : { priority: sendOptions.priority }),
      });
      // Wake this process's idle workers of the queue instead of waiting for their next poll.
      if (id !== null) for (const worker of workers.get(queue) ?? []) boss.notifyWorker(worker);
      return id !== null;
    },
    async sendMany(queue, jobs) {
      // pg-boss inserts the whole array in one statement (json_to_recordset); pages keep it bounded.
      for (let from = 0; from < jobs.length; from += SEND_MANY_PAGE) {
        await boss.insert(
          jobs.slice(from, from + SEND_MANY_PAGE).map((job) => ({
            name: queue,
            data: job.data,
            ...(job.key === undefined ? {} : { id: jobIdForKey(`${queue}:${job.key}`) }),
            ...(job.singletonKey === undefined ? {} : { singletonKey: job.singletonKey }),
            ...(job.priority === undefined ? {} : { priority: job.priority }),
          })),
        );
      }
      if (jobs.length > 0) for (const worker of workers.get(queue) ?? []) boss.notifyWorker(worker);
    },
    async work(queue, handler, { concurrency = 1, batchSize = 1, aliveSeconds } = {}) {
      const ids = workers.get(queue) ?? [];
      // The claim's deadline moves with each renewal: pg-boss hands on an active job whose started_on +
      // expire_in has passed (its maintenance), so expire_in becomes "run so far + aliveSeconds".
      const renew = async (jobIds: readonly string[]) => {
        try {
          await db.query(
            `update ${schema}.job set expire_in = (now() - started_on) + make_interval(secs => $3::double precision)
             where name = $1 and id = any($2::uuid[]) and state = 'active'`,
            [queue, jobIds, aliveSeconds],
          );
        } catch (error) {
          logger.warn({ queue, err: error }, 'could not renew the claim of running jobs');
        }
      };
      workers.set(queue, ids);
      for (let k = 0; k < concurrency; k++) {
        // pg-boss waits out the polling interval after every fetch, also one that found a job: one job
        // per worker and half second capped a burst of commands at ~8/s per instance. A worker that
        // found a job looks again at once; only an empty fetch waits.
        const self: { workerId?: string } = {};
        self.workerId = await boss.work(
          queue,
          { includeMetadata: true, batchSize, pollingIntervalSeconds: polling },
          async (jobs) => {
            if (jobs.length > 0 && self.workerId !== undefined && !stopped) boss.notifyWorker(self.workerId);
            let renewal: NodeJS.Timeout | undefined;
            if (aliveSeconds !== undefined && jobs.length > 0) {
              const jobIds = jobs.map((job) => job.id);
              await renew(jobIds);
              renewal = setInterval(() => void renew(jobIds), (aliveSeconds * 1000) / 4);
            }
            const outcomes = await Promise.allSettled(
              jobs.map(async (job) => {
                const run = { id: job.id, queue, data: job.data as never, retryCount: job.retryCount };
                logger.debug({ jobId: job.id, queue, retry: job.retryCount }, 'job started');
                const running = handler(run);
                handlersRunning.add(running);
                try {
                  await running;
                } catch (error) {
                  logger.error({ jobId: job.id, queue, err: error }, 'job failed');
                  throw error;
                } finally {
                  handlersRunning.delete(running);
                }
                logger.debug({ jobId: job.id, queue }, 'job done');
              }),
            );
            clearInterval(renewal);
            const failed = outcomes.find((outcome) => outcome.status === 'rejected');
            if (failed) throw failed.reason;
          },
        );
        ids.push(self.workerId);
      }
    },
    async schedule(queue, cron, timeZone) {
      await boss.schedule(queue, cron, {}, { tz: timeZone });
    },
    async stop({ graceful = true } = {}) {
      if (stopped) return;
      stopped = true;
      // Nothing new is fetched, running jobs finish (when graceful). The database belongs to the caller.
      await boss.stop({ graceful, wait: true, close: false, timeout: options.stopTimeoutMs ?? 20_000 });
      // pg-boss gives up waiting after its timeout (a unit's re-plan at fleet scale can take longer); the
      // caller closes the database next, so what still runs is waited for here, up to a bound.
      if (graceful && handlersRunning.size > 0) {
        logger.info({ jobs: handlersRunning.size }, 'waiting for running jobs before stopping');
        let timer: NodeJS.Timeout | undefined;
        const bound = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), STOP_WAIT_MS);
        });
        const outcome = await Promise.race([Promise.allSettled([...handlersRunning]), bound]);
        clearTimeout(timer);
        if (outcome === 'timeout')
          logger.warn({ jobs: handlersRunning.size }, 'jobs still running at stop; their instance is ending');
      }
    },
  };
}

async function defaultSchema(db: SqlClient): Promise<string> {
  const rows = await db.query<{ schema: string }>('select current_schema() as schema');
  const current = rows[0]?.schema ?? 'public';
  return current === 'public' ? 'pgboss' : `${current}_jobs`;
}
