/**
 * Scale-out benchmark (issue #13): a utility fleet (100,000 cars on 500 feeders by default) in PostgreSQL,
 * served by 1 and then 3 instances of the built service (`dist/main.mjs`, each its own process, as
 * deployed) against the real simulator, which holds every car. Measures per instance count:
 *
 * - re-plan after a price update: wall time from the price job (what the cron runs: prices fetched, one
 *   re-plan job per unit, spread over the instances) until every work unit has a current plan made after it;
 * - the burst: the new plans' commands due at once (stops and starts for now), from the price update until
 *   none of them is waiting or being sent; commands confirmed per second over that span, next to the
 *   simulator's own request log;
 * - p50/p99 of `GET /api/vehicles` (first page, a deep cursor) and `GET /api/vehicles/:id` (a worker thread,
 *   requests spread over the instances), under load (from the price update through the burst) and at rest
 *   (after it); goal ≤ 50 ms p99 for one-car reads;
 * - PostgreSQL rows written per second (pg_stat_database tup_inserted + updated + deleted deltas), and the
 *   CPU time of the instances, of this process (simulator and bench) and of PostgreSQL, as shares of the
 *   machine's cores: what the bottleneck is on this machine.
 *
 * Everything lives in a database of its own (`voltkit_bench_scale_<random>`), dropped at the end (KEEP=1
 * keeps it). The monitor poll is held off, so the spans measure the re-plan and the commands. Reads take
 * the service's default budget (120 at once, 2 a minute): a re-plan plans most cars on their stored state.
 *
 *   pnpm --filter @voltkit/smart-charging build
 *   pnpm --filter @voltkit/smart-charging bench:scale-out                                  (100,000 / 500)
 *   pnpm --filter @voltkit/smart-charging bench:scale-out -- --cars=10000 --feeders=500    (development)
 *   options: --instances=1,3  --requests=<per API case and phase, 300>
 *            --replan-timeout=<s, for a start, a re-plan and its burst, default 3600>
 *            DATABASE_URL=<server, default local test database>
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { awattarDeHourlyCsv } from '@voltkit/data';
import { createSimulator } from '@voltkit/simulator';
import pg from 'pg';
import pino from 'pino';
import { startJobEngine } from '../src/jobs/job-engine.ts';
import { QUEUES } from '../src/jobs/scheduler.ts';
import { createOperatorToken } from '../src/service/auth/identity.ts';
import { encodeCursor } from '../src/store/cursor.ts';
import { saveGridSettings } from '../src/store/grid.ts';
import { migrate } from '../src/store/migrations.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { createTokenCipher, newTokenKey, parseTokenKeys } from '../src/store/token-cipher.ts';
import { fillFleet } from '../test/fleet-fixture.ts';

const argument = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const numberArgument = (name: string, fallback: number): number => {
  const raw = argument(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`--${name}: expected a positive integer, got ${raw}`);
  return value;
};
const CARS = numberArgument('cars', 100_000);
const FEEDERS = numberArgument('feeders', 500);
const INSTANCE_COUNTS = (argument('instances') ?? '1,3').split(',').map(Number);
const REQUESTS = numberArgument('requests', 300);
const REPLAN_TIMEOUT_S = numberArgument('replan-timeout', 3600);
const GOAL_P99_MS = 50;
const BASE_DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(PACKAGE_DIR, 'dist', 'main.mjs');
const SCOPE = 'read_battery read_charge control_charge';
const REDIRECT_URI = 'http://127.0.0.1/connect/callback';
const MODELS = [
  { brand: 'TESLA', model: 'Model 3' },
  { brand: 'DS', model: 'DS 3 Crossback E-Tense' },
  { brand: 'CITROEN', model: 'ë-C4' },
];
/** The fixture's substations hold 50 feeders of 2 MW under 40 MW each. */
const SUBSTATION_KW = 40_000;
/**
 * Cars per simulator account (one Connect grant each). The service's store keeps the fixture's grant per
 * car; the cars of one account share its tokens (each service grant holds them, encrypted for itself).
 * Access tokens live 2 hours: a run must end before the first refresh, which would rotate the shared
 * refresh token under the other grants.
 */
const CARS_PER_ACCOUNT = 100;

if (!existsSync(MAIN))
  throw new Error(`${MAIN} is missing: build first (pnpm --filter @voltkit/smart-charging build)`);
if (INSTANCE_COUNTS.some((count) => !Number.isInteger(count) || count <= 0))
  throw new Error(`--instances: expected counts like 1,3, got ${argument('instances')}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const log = (line: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no samples');
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** One request over node:http without a client-side timeout (a re-plan at 10⁵ cars takes minutes). */
function send(
  method: string,
  url: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      url,
      {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

// ---------------------------------------------------------------------------------------------------
// The simulator's request log: every request it answered, with the wall time it was logged.

interface LoggedRequest {
  readonly at: number;
  readonly method: string;
  readonly route: string;
  readonly status: number;
}
const simulatorRequests: LoggedRequest[] = [];
const requestLog = new Writable({
  write(chunk: Buffer, _encoding, done) {
    const at = Date.now();
    for (const line of chunk.toString().split('\n')) {
      if (!line.includes('"route"')) continue;
      try {
        const entry = JSON.parse(line) as { method?: string; route?: string; status?: number };
        if (entry.method && entry.route && typeof entry.status === 'number')
          simulatorRequests.push({ at, method: entry.method, route: entry.route, status: entry.status });
      } catch {
        // a line the simulator wrote that is not a request record
      }
    }
    done();
  },
});
/** POSTs under a vehicle answered 2xx (charge commands; batch reads share the route pattern). */
const vehiclePostsBetween = (from: number, to: number) =>
  simulatorRequests.filter(
    (request) =>
      request.at >= from &&
      request.at < to &&
      request.method === 'POST' &&
      request.route.startsWith('/v2.0/vehicles/:id') &&
      request.status >= 200 &&
      request.status < 300,
  ).length;

// ---------------------------------------------------------------------------------------------------
// Service instances: the built service, one process each.

interface Instance {
  readonly id: string;
  readonly base: string;
  readonly child: ChildProcess;
  /** The last 64 kB of its output, for errors. */
  tail: string;
  readonly exited: Promise<number | null>;
}

async function startInstance(id: string, env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd: PACKAGE_DIR,
    env: { PATH: process.env['PATH'] ?? '', ...env, PORT: String(port), INSTANCE_ID: id },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const instance: Instance = {
    id,
    base: `http://127.0.0.1:${port}/`,
    child,
    tail: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  let running = false;
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    instance.tail = (instance.tail + text).slice(-65_536);
    if (!running && text.includes('"msg":"jobs running"')) running = true;
    for (const line of text.split('\n'))
      if (line.includes('"level":50') || line.includes('"level":60'))
        log(`${id} error: ${line.slice(0, 400)}`);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const started = performance.now();
  // At 10⁵ cars each start plans the whole fleet first, one instance after another: allow for it.
  let lastProgress = performance.now();
  while (!running) {
    if (performance.now() - lastProgress > 60_000) {
      lastProgress = performance.now();
      log(
        `${id} still starting after ${seconds(lastProgress - started)}: the simulator has answered ${simulatorRequests.length} requests so far`,
      );
    }
    // A signal leaves exitCode null: either one says the process is gone.
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${id} exited (${child.exitCode ?? child.signalCode}):\n${instance.tail.slice(-4000)}`);
    if (performance.now() - started > REPLAN_TIMEOUT_S * 1000)
      throw new Error(`${id} did not start within ${REPLAN_TIMEOUT_S} s:\n${instance.tail.slice(-4000)}`);
    await sleep(200);
  }
  return instance;
}

async function stopInstances(instances: readonly Instance[]): Promise<void> {
  const alive = (instance: Instance) =>
    instance.child.exitCode === null && instance.child.signalCode === null;
  for (const instance of instances) if (alive(instance)) instance.child.kill('SIGTERM');
  const killer = setTimeout(() => {
    for (const instance of instances) if (alive(instance)) instance.child.kill('SIGKILL');
  }, 30_000);
  await Promise.all(instances.map((instance) => instance.exited));
  clearTimeout(killer);
}

// ---------------------------------------------------------------------------------------------------
// API latency in a worker thread: its own event loop, so the simulator in this one does not delay it.

const LATENCY_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { bases, token, cases, count } = workerData;
(async () => {
  const results = {};
  for (const c of cases) results[c.name] = [];
  let k = 0;
  for (let round = 0; round < count; round++)
    for (const c of cases) {
      const path = c.paths[round % c.paths.length];
      const base = bases[k++ % bases.length];
      const before = performance.now();
      const response = await fetch(base + path, { headers: { authorization: 'Bearer ' + token } });
      const text = await response.text();
      const ms = performance.now() - before;
      if (response.status !== 200) throw new Error('GET ' + path + ': ' + response.status + ' ' + text.slice(0, 300));
      results[c.name].push(ms);
    }
  parentPort.postMessage(results);
})().catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }));
`;

interface ApiCase {
  readonly name: string;
  readonly paths: readonly string[];
}

function measureApi(
  bases: readonly string[],
  token: string,
  cases: readonly ApiCase[],
  count: number,
): Promise<Record<string, number[]>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LATENCY_WORKER, { eval: true, workerData: { bases, token, cases, count } });
    worker.once('message', (message: Record<string, number[]> | { error: string }) => {
      void worker.terminate();
      if ('error' in message && typeof message.error === 'string') reject(new Error(message.error));
      else resolve(message as Record<string, number[]>);
    });
    worker.once('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL write counters of the bench database.

interface WriteCounters {
  readonly total: number;
  readonly byTable: ReadonlyMap<string, number>;
}

async function writeCounters(admin: pg.Client, database: string, db: SqlClient): Promise<WriteCounters> {
  const [row] = (
    await admin.query<{ n: string }>(
      `select (tup_inserted + tup_updated + tup_deleted)::text as n from pg_stat_database where datname = $1`,
      [database],
    )
  ).rows;
  if (!row) throw new Error(`pg_stat_database has no row for ${database}`);
  const tables = await db.query<{ name: string; n: string }>(
    `select schemaname || '.' || relname as name, (n_tup_ins + n_tup_upd + n_tup_del)::text as n
     from pg_stat_user_tables`,
  );
  return { total: Number(row.n), byTable: new Map(tables.map((table) => [table.name, Number(table.n)])) };
}

/** pg-boss keeps each queue's jobs in a table named after a hash of the queue's name. */
const JOB_TABLES = new Map(
  Object.values(QUEUES).map((queue) => [
    `pgboss.j${createHash('sha224').update(queue).digest('hex')}`,
    `pg-boss ${queue} jobs`,
  ]),
);

function writesBetween(before: WriteCounters, after: WriteCounters): { total: number; top: string } {
  const deltas = [...after.byTable]
    .map(([name, n]) => [name, n - (before.byTable.get(name) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  return {
    total: after.total - before.total,
    top: deltas
      .slice(0, 6)
      .map(([name, n]) => `${JOB_TABLES.get(name) ?? name.replace(/^public\./, '')} ${n}`)
      .join(', '),
  };
}

// ---------------------------------------------------------------------------------------------------
// Units: one plan per top-level grid node (`plans.unit`).

/** The units a price update must re-plan: every unit the started instances planned. */
async function expectedUnits(db: SqlClient, startedAt: Date): Promise<string[]> {
  const units = (
    await db.query<{ unit: string }>(
      'select distinct unit from plans where superseded_at is null and created_at >= $1 order by unit',
      [startedAt],
    )
  ).map((row) => row.unit);
  if (units.length === 0) throw new Error('the instances started but planned no unit');
  return units;
}

/** Enqueues the price job, as the cron does, through the service's own job engine on the bench database. */
async function priceJob(db: SqlClient): Promise<void> {
  const engine = await startJobEngine({ db, logger: pino({ level: 'silent' }), instanceId: 'bench' });
  try {
    if (!(await engine.send(QUEUES.prices, {}))) throw new Error('the price job was not enqueued');
  } finally {
    await engine.stop();
  }
}

/** Units without a current plan created at or after `since` (database time). */
async function unitsNotReplanned(db: SqlClient, units: readonly string[], since: Date): Promise<string[]> {
  const fresh = await db.query<{ unit: string }>(
    'select distinct unit from plans where superseded_at is null and created_at >= $1',
    [since],
  );
  const done = new Set(fresh.map((row) => row.unit));
  return units.filter((unit) => !done.has(unit));
}

// ---------------------------------------------------------------------------------------------------

interface RunResult {
  readonly instances: number;
  readonly startupMs: number;
  readonly units: number;
  readonly replanMs: number;
  readonly replanRowsPerSecond: number;
  readonly replanTop: string;
  readonly plannedCommands: number;
  /** Commands of the new plans due by the end of the re-plan (stops and starts for now). */
  readonly burst: number;
  /** From the price update until none of the burst is pending or being sent. */
  readonly drainMs: number;
  readonly confirmedPerSecond: number;
  readonly vehiclePostsPerSecond: number;
  readonly drainRowsPerSecond: number;
  readonly drainTop: string;
  readonly cpu: CpuShares;
  readonly underLoad: Latencies;
  readonly atRest: Latencies;
}

interface Latencies {
  readonly p50: Readonly<Record<string, number>>;
  readonly p99: Readonly<Record<string, number>>;
}

function latencies(samples: Record<string, number[]>, cases: readonly ApiCase[]): Latencies {
  const p50: Record<string, number> = {};
  const p99: Record<string, number> = {};
  for (const apiCase of cases) {
    const sorted = [...samples[apiCase.name]!].sort((a, b) => a - b);
    p50[apiCase.name] = percentile(sorted, 50);
    p99[apiCase.name] = percentile(sorted, 99);
  }
  return { p50, p99 };
}

// ---------------------------------------------------------------------------------------------------
// CPU time per part (Linux /proc): the service instances, this process (simulator and bench), PostgreSQL.

const TICKS_PER_SECOND = 100;
function cpuSecondsOfPid(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0; // the process ended: its time is no longer counted, said in the header of the table
  }
}
function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    });
}
interface CpuSample {
  readonly instances: number;
  readonly bench: number;
  readonly postgres: Map<number, number>;
}
function sampleCpu(instances: readonly Instance[]): CpuSample {
  const usage = process.cpuUsage();
  return {
    instances: instances.reduce((sum, instance) => sum + cpuSecondsOfPid(instance.child.pid ?? 0), 0),
    bench: (usage.user + usage.system) / 1e6,
    postgres: new Map(postgresPids().map((pid) => [pid, cpuSecondsOfPid(pid)])),
  };
}
interface CpuShares {
  readonly instances: number;
  readonly bench: number;
  readonly postgres: number;
  readonly seconds: number;
}
function cpuBetween(before: CpuSample, after: CpuSample, ms: number): CpuShares {
  let postgres = 0;
  // Backends that started in between count from 0; those that ended are lost (rare: pools are kept).
  for (const [pid, total] of after.postgres) postgres += total - (before.postgres.get(pid) ?? 0);
  return {
    instances: after.instances - before.instances,
    bench: after.bench - before.bench,
    postgres,
    seconds: ms / 1000,
  };
}

/** Commands of plans created since `since`, due by `dueBy`, still waiting or being sent. */
async function burstLeft(db: SqlClient, since: Date, dueBy: Date): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    // Through the (status, due_at) index: only what is waiting, not the whole table (the bench must not be
    // what loads the database).
    `select count(*)::int as n from commands c
     where c.status in ('pending', 'sending') and c.due_at <= $2
       and c.plan_id in (select id from plans where created_at >= $1)`,
    [since, dueBy],
  );
  return row!.n;
}

const runId = randomBytes(4).toString('hex');
const database = `voltkit_bench_scale_${runId}`;
const benchUrl = new URL(BASE_DATABASE_URL);
benchUrl.pathname = `/${database}`;
const admin = new pg.Client({ connectionString: BASE_DATABASE_URL });
await admin.connect();
await admin.query(`create database ${database}`);
const dataDir = await mkdtemp(join(tmpdir(), 'voltkit-scale-'));
const managementToken = randomBytes(24).toString('hex');
const sim = await createSimulator({
  clock: { mode: 'real' },
  managementToken,
  logger: pino({ level: 'info' }, requestLog),
});
let db: SqlClient | undefined;
const running: Instance[] = [];
const benchStarted = performance.now();
try {
  log(
    `bench database ${database}; ${CARS} cars on ${FEEDERS} feeders; instances ${INSTANCE_COUNTS.join(', ')}`,
  );

  // 1. The fleet in the simulator: accounts of CARS_PER_ACCOUNT cars of one make (the simulator looks an
  // account's cars up by scanning all of them, so an account per car is quadratic: 10⁵ would take most
  // of an hour), one Connect grant per account, tokens by code exchange over HTTP.
  const heapBefore = process.memoryUsage();
  let phase = performance.now();
  const accounts: { code: string; first: number; vehicleIds: string[] }[] = [];
  const vehicleIds: string[] = [];
  for (let first = 1; first <= CARS; first += CARS_PER_ACCOUNT) {
    const model = MODELS[accounts.length % MODELS.length]!;
    const email = `account${accounts.length + 1}@bench.example`;
    const count = Math.min(CARS_PER_ACCOUNT, CARS - first + 1);
    sim.createTestAccount({ email, brand: model.brand, model: model.model, vehicleCount: count });
    const authorized = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri: REDIRECT_URI,
      scope: SCOPE,
      email,
      make: model.brand,
    });
    if (authorized.vehicleIds.length !== count)
      throw new Error(`account ${email} connected ${authorized.vehicleIds.length} of its ${count} vehicles`);
    accounts.push({ code: authorized.code, first, vehicleIds: authorized.vehicleIds });
    authorized.vehicleIds.forEach((id, k) => {
      const index = first + k;
      vehicleIds.push(id);
      // Two cars in three plugged in, as the fixture's last states say; SoC spread over 20–69 %.
      if (index % 3 !== 0) sim.plugIn(id, { stationKw: 11 });
      sim.setSoc(id, 0.2 + (index % 50) / 100);
    });
  }
  const createdMs = performance.now() - phase;
  log(
    `simulator: ${accounts.length} accounts of up to ${CARS_PER_ACCOUNT} cars created in ${seconds(createdMs)}`,
  );
  phase = performance.now();
  const basic = `Basic ${Buffer.from(`${sim.demoApp.clientId}:${sim.demoApp.clientSecret}`).toString('base64')}`;
  /** Per car (index - 1): its account's tokens. */
  const tokens: { accessToken: string; refreshToken: string; expiresAt: Date }[] = new Array(CARS);
  let nextAccount = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (nextAccount < accounts.length) {
        const account = accounts[nextAccount++]!;
        const response = await fetch(`${sim.url}/oauth/token`, {
          method: 'POST',
          headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: account.code,
            redirect_uri: REDIRECT_URI,
          }).toString(),
        });
        const body = (await response.json()) as {
          access_token?: string;
          refresh_token?: string;
          expires_in?: number;
        };
        if (response.status !== 200 || !body.access_token || !body.refresh_token || !body.expires_in)
          throw new Error(`token exchange answered ${response.status}: ${JSON.stringify(body)}`);
        const issued = {
          accessToken: body.access_token,
          refreshToken: body.refresh_token,
          expiresAt: new Date(Date.now() + body.expires_in * 1000),
        };
        for (let k = 0; k < account.vehicleIds.length; k++) tokens[account.first - 1 + k] = issued;
      }
    }),
  );
  const heapAfter = process.memoryUsage();
  log(
    `simulator holds ${CARS} cars: created in ${seconds(createdMs)}, tokens exchanged in ${seconds(performance.now() - phase)}; ` +
      `this process grew by ${((heapAfter.rss - heapBefore.rss) / 2 ** 20).toFixed(0)} MiB RSS ` +
      `(${((heapAfter.heapUsed - heapBefore.heapUsed) / 2 ** 20).toFixed(0)} MiB heap)`,
  );

  // 2. The service's store: the fleet fixture with the simulator's ids, the tokens encrypted as the service does.
  phase = performance.now();
  db = await openSqlClient({ databaseUrl: benchUrl.toString() });
  await migrate(db);
  await fillFleet(db, { cars: CARS, feeders: FEEDERS, vehicleIds: vehicleIds, start: new Date() });
  const tokenKeys = newTokenKey('bench');
  const cipher = createTokenCipher(parseTokenKeys(tokenKeys));
  const grantIds = vehicleIds.map((_, index) => `grant-${String(index + 1).padStart(7, '0')}`);
  const refreshExpiresAt = new Date(Date.now() + 60 * 86_400_000);
  for (let from = 0; from < CARS; from += 10_000) {
    const slice = grantIds.slice(from, from + 10_000);
    await db.query(
      `update grants g set access_token = t.access, refresh_token = t.refresh, access_expires_at = t.expires,
         refresh_expires_at = $5, scopes = $6
       from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) as t(id, access, refresh, expires)
       where g.id = t.id and g.status = 'active'`,
      [
        slice,
        slice.map((id, k) => cipher.encrypt(tokens[from + k]!.accessToken, `grant ${id} access token`)),
        slice.map((id, k) => cipher.encrypt(tokens[from + k]!.refreshToken, `grant ${id} refresh token`)),
        slice.map((_, k) => tokens[from + k]!.expiresAt),
        refreshExpiresAt,
        SCOPE.split(' '),
      ],
    );
  }
  const substations = Math.ceil(FEEDERS / 50);
  await saveGridSettings(db, { limitKw: substations * SUBSTATION_KW, baseLoadKwhPerYear: 0 });
  // The monitor poll reads every car: held off (claimed until tomorrow) for the site and every root node,
  // under the keys of the site plan and of per-unit plans (`node:<root>`), see the header.
  const roots = (await db.query<{ id: string }>('select id from grid_nodes where parent_id is null')).map(
    (row) => row.id,
  );
  await db.query(
    `insert into settings (key, body) select 'monitored:' || unit, to_jsonb($2::text) from unnest($1::text[]) unit
     on conflict (key) do update set body = excluded.body`,
    [
      ['site', ...roots, ...roots.map((root) => `node:${root}`)],
      new Date(Date.now() + 86_400_000).toISOString(),
    ],
  );
  for (const table of [
    'vehicles',
    'vehicle_states',
    'preferences',
    'grants',
    'commands',
    'grid_nodes',
    'vehicle_plans',
  ])
    await db.query(`vacuum (analyze) ${table}`);
  const { token } = await createOperatorToken(db, { name: 'bench', role: 'admin' });
  log(
    `store filled (${CARS * 4} commands, ${FEEDERS} feeders, ${roots.length} roots) in ${seconds(performance.now() - phase)}`,
  );

  // API cases: the deep cursor is the key of the car at 90 % in the listing's own order.
  const [deep, deepNext] = await db.query<{ id: string }>(
    'select id from vehicles order by id offset $1 limit 2',
    [Math.floor(CARS * 0.9) - 1],
  );
  const firstPage = await db.query<{ id: string }>('select id from vehicles order by id limit 25');
  const sampleCars = (
    await db.query<{ id: string }>('select id from vehicles order by random() limit $1', [REQUESTS])
  ).map((row) => `api/vehicles/${row.id}`);
  const apiCases: ApiCase[] = [
    { name: 'GET /api/vehicles (first page of 100)', paths: ['api/vehicles?limit=100'] },
    {
      name: 'GET /api/vehicles (deep cursor, car 90 %)',
      paths: [`api/vehicles?limit=100&cursor=${encodeCursor([deep!.id])}`],
    },
    { name: 'GET /api/vehicles/:id (random car)', paths: sampleCars },
    // What the operator console asks for at each poll besides the page of cars.
    {
      name: 'GET /api/dashboard (fleet, a page of 25 cars)',
      paths: [`api/dashboard?vehicleIds=${firstPage.map((row) => row.id).join(',')}`],
    },
    { name: 'GET /api/commands (newest 40)', paths: ['api/commands?order=newest&limit=40'] },
  ];

  const env: Record<string, string> = {
    DATABASE_URL: benchUrl.toString(),
    HOST: '127.0.0.1',
    SMARTCAR_CLIENT_ID: sim.demoApp.clientId,
    SMARTCAR_CLIENT_SECRET: sim.demoApp.clientSecret,
    SMARTCAR_REDIRECT_URI: 'http://127.0.0.1:8740/connect/callback',
    VEHICLE_API_ORIGIN: sim.url,
    TOKEN_ENCRYPTION_KEYS: tokenKeys,
    PRICE_SOURCE: `file:${awattarDeHourlyCsv}`,
    LOG_LEVEL: 'info',
  };
  const results: RunResult[] = [];
  for (const [round, count] of INSTANCE_COUNTS.entries()) {
    log(`--- ${count} instance(s): starting (each start plans once, one after another)`);
    phase = performance.now();
    const [{ at: startedAt }] = (await db.query<{ at: Date }>('select clock_timestamp() as at')) as [
      { at: Date },
    ];
    const instances = await Promise.all(
      Array.from({ length: count }, (_, k) =>
        startInstance(`i${k + 1}`, { ...env, DATA_DIR: join(dataDir, `${round}-${k}`) }),
      ),
    );
    running.push(...instances);
    const startupMs = performance.now() - phase;
    log(`${count} instance(s) running after ${seconds(startupMs)}`);
    const units = await expectedUnits(db, startedAt);
    if (round === 0) {
      // The deep cursor is what paging there would give: its page starts at the next car.
      const page = await send('GET', `${instances[0]!.base}${apiCases[1]!.paths[0]!}`, token);
      const first = (JSON.parse(page.body) as { items?: { id: string }[] }).items?.[0]?.id;
      if (page.status !== 200 || first !== deepNext!.id)
        throw new Error(`deep cursor page is off: ${page.status}, first ${first}, expected ${deepNext!.id}`);
    }

    // Re-plan after a price update: the price job, as the cron runs it. It fetches prices and hands out one
    // re-plan job per unit, which every instance takes a share of. The API is read all the while, from the
    // price update through the re-plan and its burst of commands (under load), and again once it is over.
    const before = await writeCounters(admin, database, db);
    const cpuBefore = sampleCpu(instances);
    const [{ at: importAt }] = (await db.query<{ at: Date }>('select clock_timestamp() as at')) as [
      { at: Date },
    ];
    const replanStarted = performance.now();
    const importWall = Date.now();
    await priceJob(db);
    log('price update: the price job, one re-plan job per unit');
    const underLoad = measureApi(
      instances.map((instance) => instance.base),
      token,
      apiCases,
      REQUESTS,
    );
    let left = units;
    while (left.length > 0) {
      if (performance.now() - replanStarted > REPLAN_TIMEOUT_S * 1000)
        throw new Error(`units not re-planned within ${REPLAN_TIMEOUT_S} s: ${left.slice(0, 10).join(', ')}`);
      await sleep(250);
      left = await unitsNotReplanned(db, units, importAt);
    }
    const replanMs = performance.now() - replanStarted;
    const [{ at: replannedAt }] = (await db.query<{ at: Date }>('select clock_timestamp() as at')) as [
      { at: Date },
    ];
    const replanWrites = writesBetween(before, await writeCounters(admin, database, db));
    const [{ planned, burst }] = (await db.query<{ planned: number; burst: number }>(
      `select count(*)::int as planned, (count(*) filter (where c.due_at <= $2))::int as burst
       from commands c join plans p on p.id = c.plan_id
       where p.superseded_at is null and p.created_at >= $1`,
      [importAt, replannedAt],
    )) as [{ planned: number; burst: number }];
    log(
      `re-planned ${units.length} unit(s) in ${seconds(replanMs)}; the new plans hold ${planned} commands, ${burst} of them due now`,
    );

    // The burst: every command of the new plans due by the end of the re-plan, until none is left waiting.
    let lastReport = performance.now();
    while ((await burstLeft(db, importAt, replannedAt)) > 0) {
      if (performance.now() - replanStarted > REPLAN_TIMEOUT_S * 1000)
        throw new Error(`the re-plan's commands were not all sent within ${REPLAN_TIMEOUT_S} s`);
      if (performance.now() - lastReport > 60_000) {
        lastReport = performance.now();
        log(`burst: ${await burstLeft(db, importAt, replannedAt)} of ${burst} commands still waiting`);
      }
      await sleep(1000);
    }
    const drainMs = performance.now() - replanStarted;
    const drainedWall = Date.now();
    const cpu = cpuBetween(cpuBefore, sampleCpu(instances), drainMs);
    const drainWrites = writesBetween(before, await writeCounters(admin, database, db));
    const [{ confirmed }] = (await db.query<{ confirmed: number }>(
      `select count(*)::int as confirmed from commands where status = 'confirmed' and confirmed_at >= $1`,
      [importAt],
    )) as [{ confirmed: number }];
    const loaded = await underLoad;
    log(
      `burst of ${burst} commands done ${seconds(drainMs)} after the price update; ${confirmed} confirmed since`,
    );
    const atRest = await measureApi(
      instances.map((instance) => instance.base),
      token,
      apiCases,
      REQUESTS,
    );
    results.push({
      instances: count,
      startupMs,
      units: units.length,
      replanMs,
      replanRowsPerSecond: replanWrites.total / (replanMs / 1000),
      replanTop: replanWrites.top,
      plannedCommands: planned,
      burst,
      drainMs,
      confirmedPerSecond: confirmed / (drainMs / 1000),
      vehiclePostsPerSecond: vehiclePostsBetween(importWall, drainedWall) / (drainMs / 1000),
      drainRowsPerSecond: drainWrites.total / (drainMs / 1000),
      drainTop: drainWrites.top,
      cpu,
      underLoad: latencies(loaded, apiCases),
      atRest: latencies(atRest, apiCases),
    });
    await stopInstances(instances);
    running.length = 0;
  }

  // The table.
  const columns = results.map((result) => `${result.instances} instance${result.instances === 1 ? '' : 's'}`);
  const one = results.find((result) => result.instances === 1);
  const three = results.find((result) => result.instances === 3);
  const cores = availableParallelism();
  const rows: [string, (result: RunResult) => number, number][] = [
    ['start (all instances running), s', (r) => r.startupMs / 1000, 1],
    ['re-plan every unit after a price update, s', (r) => r.replanMs / 1000, 1],
    ['  units re-planned', (r) => r.units, 0],
    ['  PostgreSQL rows written/s during it', (r) => r.replanRowsPerSecond, 0],
    ['  commands the new plans hold', (r) => r.plannedCommands, 0],
    ['  of them due at once (the burst)', (r) => r.burst, 0],
    ['burst sent, s after the price update', (r) => r.drainMs / 1000, 1],
    ['  commands confirmed/s (update to burst sent)', (r) => r.confirmedPerSecond, 1],
    ['  vehicle API POSTs/s (simulator log)', (r) => r.vehiclePostsPerSecond, 1],
    ['  PostgreSQL rows written/s', (r) => r.drainRowsPerSecond, 0],
    [`  CPU, instances (share of ${cores} cores)`, (r) => r.cpu.instances / r.cpu.seconds / cores, 2],
    ['  CPU, simulator and bench process', (r) => r.cpu.bench / r.cpu.seconds / cores, 2],
    ['  CPU, PostgreSQL', (r) => r.cpu.postgres / r.cpu.seconds / cores, 2],
    ...(['underLoad', 'atRest'] as const).flatMap((when) =>
      apiCases.flatMap(
        (apiCase) =>
          [
            [
              `${apiCase.name} p50, ms, ${when === 'underLoad' ? 'under load' : 'at rest'}`,
              (r: RunResult) => r[when].p50[apiCase.name]!,
              1,
            ],
            [
              `${apiCase.name} p99, ms, ${when === 'underLoad' ? 'under load' : 'at rest'}`,
              (r: RunResult) => r[when].p99[apiCase.name]!,
              1,
            ],
          ] as [string, (result: RunResult) => number, number][],
      ),
    ),
  ];
  const width = 66;
  console.log(
    `\nscale-out: ${CARS} cars, ${FEEDERS} feeders, PostgreSQL, ${new Date().toISOString()}, total ${seconds(performance.now() - benchStarted)}`,
  );
  console.log(
    `${'measure'.padEnd(width)} ${columns.map((c) => c.padStart(12)).join(' ')}${one && three ? '   3 / 1'.padStart(10) : ''}`,
  );
  for (const [label, value, digits] of rows) {
    const cells = results.map((result) => value(result).toFixed(digits).padStart(12)).join(' ');
    const ratio = one && three ? (value(three) / value(one)).toFixed(2).padStart(10) : '';
    console.log(`${label.padEnd(width)} ${cells}${ratio}`);
  }
  console.log(
    'under load: from the price update through the re-plan and its burst; at rest: after the burst. CPU: share of all cores over the same span.',
  );
  for (const result of results)
    console.log(
      `rows written (${result.instances}): re-plan: ${result.replanTop}; update to burst sent: ${result.drainTop}`,
    );
  const oneCar = apiCases[2]!.name;
  for (const result of results)
    for (const when of ['underLoad', 'atRest'] as const)
      console.log(
        `${result.instances} instance(s), ${when === 'underLoad' ? 'under load' : 'at rest'}: one-car read p99 ${result[when].p99[oneCar]!.toFixed(1)} ms: goal ≤ ${GOAL_P99_MS} ms ${result[when].p99[oneCar]! <= GOAL_P99_MS ? 'met' : 'NOT met'}`,
      );
} finally {
  await stopInstances(running);
  await sim.close();
  await db?.close();
  if (process.env['KEEP'] !== '1') await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
  await rm(dataDir, { recursive: true, force: true });
}
