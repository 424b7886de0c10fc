import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlClient, type SqlClient } from '../store/sql-client.ts';
import { TEST_DATABASE_URL } from '../store/test-backends.ts';
import { jobIdForKey, startJobEngine, type JobEngine, type JobEngineOptions } from './job-engine.ts';

const logger = pino({ level: process.env['JOB_TEST_LOG'] ?? 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(50);
  }
}

const BACKENDS = [
  { name: 'embedded (PGlite)', open: () => openSqlClient({}), drop: async () => {} },
  {
    name: 'postgres',
    schema: '',
    open() {
      this.schema = `voltkit_jobs_${randomBytes(6).toString('hex')}`;
      return openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema: this.schema });
    },
    async drop(db: SqlClient) {
      await db.query(`drop schema if exists ${this.schema}_jobs cascade`);
      await db.query(`drop schema if exists ${this.schema} cascade`);
    },
  },
];

describe('jobIdForKey', () => {
  it('is a stable UUID per key', () => {
    expect(jobIdForKey('a')).toBe(jobIdForKey('a'));
    expect(jobIdForKey('a')).not.toBe(jobIdForKey('b'));
    expect(jobIdForKey('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe.each(BACKENDS)('pg-boss on $name storage', (backend) => {
  let db: SqlClient | undefined;
  const engines: JobEngine[] = [];
  const start = async (instanceId: string, options: Partial<JobEngineOptions> = {}) => {
    const engine = await startJobEngine({
      db: db!,
      logger,
      instanceId,
      maintenanceIntervalSeconds: 1,
      ...options,
    });
    engines.push(engine);
    return engine;
  };
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.stop();
    if (db) {
      await backend.drop(db);
      await db.close();
    }
    db = undefined;
  });

  it('lets instances that start together define the same new queues at once', async () => {
    db = await backend.open();
    // Started one after another (one PGlite takes one engine's migrations at a time), then all at once.
    const three: JobEngine[] = [];
    for (const id of ['a', 'b', 'c']) three.push(await start(id));
    const names = Array.from({ length: 5 }, (_, k) => `together-${k}`);
    // Each instance defines every queue, all at the same moment (PostgreSQL deadlocked on this before).
    await Promise.all(
      three.flatMap((engine) =>
        names.map((name) =>
          engine.defineQueue({ name, policy: 'stately', expireInSeconds: 20, retryLimit: 1 }),
        ),
      ),
    );
    for (const name of names) expect(await three[0]!.send(name, {}, { key: 'once' })).toBe(true);
  }, 90_000);

  it('runs a keyed job once however often and by however many instances it is sent', async () => {
    db = await backend.open();
    const [a, b] = [await start('a'), await start('b')];
    await a.defineQueue({ name: 'once', policy: 'standard', expireInSeconds: 10, retryLimit: 0 });
    const runs: string[] = [];
    for (const engine of [a, b])
      await engine.work<{ n: number }>('once', ({ data }) => {
        runs.push(`${engine.instanceId}:${data.n}`);
        return Promise.resolve();
      });
    const sent = await Promise.all([
      a.send('once', { n: 1 }, { key: 'k1' }),
      b.send('once', { n: 1 }, { key: 'k1' }),
      a.send('once', { n: 1 }, { key: 'k1' }),
      b.send('once', { n: 2 }, { key: 'k2' }),
    ]);
    expect(sent.filter(Boolean)).toHaveLength(2);
    await until(() => runs.length >= 2, 10_000);
    await sleep(1_500);
    expect(runs.map((run) => run.split(':')[1]).sort()).toEqual(['1', '2']);
    // A finished job keeps its key: sending it again later is still the same job.
    expect(await b.send('once', { n: 1 }, { key: 'k1' })).toBe(false);
  }, 30_000);

  it('enqueues many jobs in one call, each key once, also beside jobs sent one by one', async () => {
    db = await backend.open();
    const [a, b] = [await start('a'), await start('b')];
    await a.defineQueue({ name: 'many', policy: 'standard', expireInSeconds: 10, retryLimit: 0 });
    const runs: number[] = [];
    for (const engine of [a, b])
      await engine.work<{ n: number }>(
        'many',
        ({ data }) => {
          runs.push(data.n);
          return Promise.resolve();
        },
        { concurrency: 2 },
      );
    expect(await a.send('many', { n: 0 }, { key: 'k0' })).toBe(true);
    // 2,500 jobs (more than one INSERT page), sent by both instances at once, overlapping k0.
    const jobs = Array.from({ length: 2500 }, (_, n) => ({ data: { n }, key: `k${n}` }));
    await Promise.all([a.sendMany('many', jobs), b.sendMany('many', jobs.slice(1000))]);
    await until(() => runs.length >= 2500, 60_000);
    await sleep(1_500);
    expect(runs).toHaveLength(2500);
    expect(new Set(runs).size).toBe(2500);
  }, 90_000);

  it('never runs two jobs of one singleton key at the same time', async () => {
    db = await backend.open();
    const [a, b] = [await start('a'), await start('b')];
    await a.defineQueue({ name: 'unit', policy: 'stately', expireInSeconds: 10, retryLimit: 0 });
    let running = 0;
    let most = 0;
    let done = 0;
    for (const engine of [a, b])
      await engine.work(
        'unit',
        async () => {
          running++;
          most = Math.max(most, running);
          await sleep(150);
          running--;
          done++;
        },
        { concurrency: 2 },
      );
    let accepted = 0;
    for (let k = 0; k < 12; k++) {
      if (await (k % 2 ? a : b).send('unit', {}, { key: `m${k}`, singletonKey: 'feeder-1' })) accepted++;
      await sleep(60);
    }
    await until(() => done >= accepted, 15_000);
    expect(most).toBe(1);
    // While one runs and one waits, further offers are dropped, not queued up.
    expect(accepted).toBeLessThan(12);
    expect(accepted).toBeGreaterThan(1);
  }, 30_000);

  it('takes the next waiting job at once instead of waiting out the polling interval after each', async () => {
    db = await backend.open();
    // A long interval makes the difference plain: 12 jobs, one worker; waiting 3 s between jobs is ≥ 33 s.
    const engine = await start('a', { pollingIntervalSeconds: 3 });
    await engine.defineQueue({ name: 'burst', policy: 'standard', expireInSeconds: 10, retryLimit: 0 });
    for (let k = 0; k < 12; k++) await engine.send('burst', { k });
    const startedAt = Date.now();
    let done = 0;
    await engine.work('burst', () => {
      done++;
      return Promise.resolve();
    });
    await until(() => done === 12, 20_000);
    // One interval at most: the first fetch may come before the jobs are visible, never one per job.
    expect(Date.now() - startedAt).toBeLessThan(12_000);
  }, 30_000);

  it('fetches from a long queue through an index in the fetch’s own order, not a sort of the queue', async () => {
    db = await backend.open();
    const engine = await start('a');
    await engine.defineQueue({ name: 'long-queue', policy: 'standard', expireInSeconds: 10, retryLimit: 0 });
    await engine.sendMany(
      'long-queue',
      Array.from({ length: 3000 }, (_, n) => ({ data: { n }, priority: n % 2 })),
    );
    const schema = (await db.query<{ s: string }>('select current_schema() as s'))[0]!.s;
    const jobs = schema === 'public' ? 'pgboss' : `${schema}_jobs`;
    await db.exec(`analyze ${jobs}.job`);
    // The shape of pg-boss's fetch (plans.js fetchNextJob): the next jobs in priority and age order.
    const plan = (
      await db.query<{ 'QUERY PLAN': string }>(
        `explain select id from ${jobs}.job where name = $1 and state < 'active' and start_after < now()
         order by priority desc, created_on, id limit 8 for update skip locked`,
        ['long-queue'],
      )
    )
      .map((row) => row['QUERY PLAN'])
      .join('\n');
    expect(plan).toMatch(/Index Scan using \S*(job_fetch_order|name_priority_created_on_id)/);
    expect(plan).not.toMatch(/Sort/);
  }, 60_000);

  it('a graceful stop waits for a job running past pg-boss’s own stop timeout', async () => {
    db = await backend.open();
    const engine = await start('a', { stopTimeoutMs: 300 });
    engines.splice(engines.indexOf(engine), 1); // stopped by the test itself
    await engine.defineQueue({ name: 'long', policy: 'standard', expireInSeconds: 30, retryLimit: 0 });
    let started = false;
    let finished = false;
    await engine.work('long', async () => {
      started = true;
      await sleep(2_000);
      // The database is still open: what a long re-plan writes at its end lands.
      await db!.query('select 1');
      finished = true;
    });
    await engine.send('long', {});
    await until(() => started, 10_000);
    await engine.stop();
    expect(finished).toBe(true);
  }, 30_000);

  it('hands the job an instance was running when it stopped abruptly to another instance', async () => {
    db = await backend.open();
    const stuck = await start('stuck');
    await stuck.defineQueue({ name: 'lost', policy: 'standard', expireInSeconds: 2, retryLimit: 2 });
    let startedStuck = 0;
    // The first instance takes the job and never finishes it, as if killed mid-run.
    let release = () => {};
    await stuck.work('lost', () => {
      startedStuck++;
      return new Promise<void>((resolve) => (release = resolve));
    });
    await stuck.send('lost', { n: 1 }, { key: 'j' });
    await until(() => startedStuck === 1, 10_000);
    // It stops without finishing: pg-boss fails its running job back to the queue at once. A kill -9,
    // where only the job's expiry tells, is tested with separate processes in test/multi-instance.
    engines.splice(engines.indexOf(stuck), 1);
    await stuck.stop({ graceful: false });
    const takenAt = Date.now();
    const other = await start('other');
    const retries: number[] = [];
    await other.work('lost', ({ retryCount }) => {
      retries.push(retryCount);
      return Promise.resolve();
    });
    await until(() => retries.length > 0, 20_000);
    const takeoverMs = Date.now() - takenAt;
    expect(retries[0]).toBe(1);
    expect(takeoverMs).toBeLessThan(10_000);
    expect(startedStuck).toBe(1);
    // Let the abandoned handler end while the database is still open (its engine ignores the result).
    release();
    await sleep(300);
  }, 30_000);
  it('keeps a job that runs past its renewal window with the instance that renews it', async () => {
    db = await backend.open();
    const a = await start('a');
    const b = await start('b');
    await a.defineQueue({ name: 'slow', policy: 'standard', expireInSeconds: 60, retryLimit: 2 });
    const runs: { by: string; retry: number }[] = [];
    let done = false;
    const handler =
      (by: string) =>
      async ({ retryCount }: { retryCount: number }) => {
        runs.push({ by, retry: retryCount });
        // Three renewal windows long, with maintenance every second on both instances.
        await sleep(6_000);
        done = true;
      };
    await a.work('slow', handler('a'), { aliveSeconds: 2 });
    await a.send('slow', {}, { key: 'slow-1' });
    await until(() => runs.length > 0, 10_000);
    await b.work('slow', handler('b'), { aliveSeconds: 2 });
    await until(() => done, 20_000);
    await sleep(1_500);
    expect(runs).toEqual([{ by: 'a', retry: 0 }]);
  }, 40_000);
});

describe('a long job of a killed instance (PostgreSQL, separate processes)', () => {
  it('is taken over once its renewals stop, long before the queue’s expiry', async () => {
    const schema = `voltkit_alive_${randomBytes(6).toString('hex')}`;
    const db = await openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema });
    const aliveSeconds = 4;
    const holder = spawn(
      process.execPath,
      [
        '--conditions=@voltkit/source',
        '--import',
        'tsx',
        fileURLToPath(new URL('./testing/job-holder.ts', import.meta.url)),
      ],
      {
        env: {
          ...process.env,
          DATABASE_URL: TEST_DATABASE_URL,
          SCHEMA: schema,
          ALIVE_SECONDS: String(aliveSeconds),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let heir: JobEngine | undefined;
    try {
      let output = '';
      holder.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await until(() => output.includes('holding '), 30_000);
      // Held past several renewals: a claim that was not renewed would have lapsed by now.
      await sleep(aliveSeconds * 1_500);
      holder.kill('SIGKILL');
      const killedAt = Date.now();
      heir = await startJobEngine({ db, logger, instanceId: 'heir', maintenanceIntervalSeconds: 1 });
      await heir.defineQueue({ name: 'held', policy: 'standard', expireInSeconds: 600, retryLimit: 2 });
      let takenOver: { retryCount: number; at: number } | undefined;
      await heir.work('held', ({ retryCount }) => {
        takenOver = { retryCount, at: Date.now() };
        return Promise.resolve();
      });
      await until(() => takenOver !== undefined, 30_000);
      expect(takenOver!.retryCount).toBe(1);
      // The renewal window, one maintenance round and a poll: well inside the 30 s a takeover may take.
      expect(takenOver!.at - killedAt).toBeLessThan((aliveSeconds + 6) * 1_000);
    } finally {
      holder.kill('SIGKILL');
      await heir?.stop();
      await db.query(`drop schema if exists ${schema}_jobs cascade`);
      await db.query(`drop schema if exists ${schema} cascade`);
      await db.close();
    }
  }, 90_000);
});
