import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createClient } from '@voltkit/core/client';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBrowserBinding } from '../src/service/enrollment.ts';
import { createSmartChargingService } from '../src/service/smart-charging-service.ts';
import { loadBdewProfile } from '../src/service/start-app.ts';
import { listCommands } from '../src/store/command-log.ts';
import { sqlTokenStore } from '../src/store/grants.ts';
import { assignVehiclesToNode, saveGridNode } from '../src/store/grid-nodes.ts';
import { migrate } from '../src/store/migrations.ts';
import { DEFAULT_PREFERENCES, savePreferences } from '../src/store/preferences.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { TEST_DATABASE_URL } from '../src/store/test-backends.ts';
import { createTokenCipher, newTokenKey, parseTokenKeys } from '../src/store/token-cipher.ts';
import { everyDayAt, PRICE_SOURCE } from './harness.ts';

/**
 * Three service instances, each its own process, on one PostgreSQL, against one simulator on an
 * accelerated clock: a two-hour night of charging in about six minutes. One instance is killed (SIGKILL) while it
 * holds a command job, and started again.
 *
 * 200 cars on 10 feeders (20 each, under two transformers of 10); MULTI_INSTANCE_CARS sets another count.
 */
const CARS = Number(process.env['MULTI_INSTANCE_CARS'] ?? 200);
const CARS_PER_FEEDER = 20;
const CARS_PER_TRANSFORMER = 10;
const FEEDERS = Math.ceil(CARS / CARS_PER_FEEDER);
/**
 * Simulated ms per wall ms during the night: ×20, a 2-hour night in 6 minutes. At ×30 and ×60 on a shared
 * 2-core machine the 200 cars' commands landed late enough (p95 2.5–18 s wall) to miss the tolerances.
 */
const SPEED = Number(process.env['MULTI_INSTANCE_SPEED'] ?? 20);
const NIGHT_MS = Number(process.env['MULTI_INSTANCE_NIGHT_HOURS'] ?? 2) * 3_600_000;
const STATION_KW = 7.4;
const EFFICIENCY = 0.9; // the simulator's charger efficiency
const TARGET = 0.55;
const SLOT_MS = 15 * 60_000;
/**
 * What the accelerated clock costs in precision: a command lands a second or so (wall) after it falls due
 * (more around the kill and restart), twenty simulated seconds and more at ×20, and the plan has no slack
 * for it. A slot may hold what its late stops drew until confirmed (measured from the command log, see
 * below) plus 1 % (sampling), and a car may end 2 percentage points short; all measured and printed.
 * (At ×1 the same latency is a second.)
 */
const LIMIT_TOLERANCE = 0.01;
const SOC_TOLERANCE = 0.02;
/**
 * Each feeder below what its cars draw uncontrolled (148 kW for 20), above what the night needs on
 * average; each transformer a little looser, but together above their feeder, so both levels bind.
 */
const FEEDER_LIMIT_KW = Math.round(CARS_PER_FEEDER * STATION_KW * 0.6);
const TRANSFORMER_LIMIT_KW = Math.round(CARS_PER_TRANSFORMER * STATION_KW * 0.7);
const feederOf = (k: number) => `feeder-${Math.floor(k / CARS_PER_FEEDER) + 1}`;
const transformerOf = (k: number) => `${feederOf(k)}-tr-${(Math.floor(k / CARS_PER_TRANSFORMER) % 2) + 1}`;
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const REDIRECT_URI = 'http://127.0.0.1:8740/connect/callback';
const MODELS = [
  { brand: 'TESLA', model: 'Model 3' },
  { brand: 'DS', model: 'DS 3 Crossback E-Tense' },
  { brand: 'CITROEN', model: 'ë-C4' },
];

interface Instance {
  readonly id: string;
  readonly child: ChildProcess;
  output: string;
  exited: Promise<number | null>;
}

/** A pass-through to the simulator that writes down each charge command reaching it: the wire's log. */
function recordingProxy(
  target: string,
  log: string[],
  posts: string[],
): Promise<{ server: Server; url: string }> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '/';
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          const match = /\/vehicles\/([^/]+)\/charge(\/limit)?$/.exec(path.split('?')[0]!);
          if (req.method === 'POST' && path.startsWith('/v2.0/vehicles/') && (answer.statusCode ?? 500) < 300)
            posts.push(path);
          if (req.method === 'POST' && match && (answer.statusCode ?? 500) < 300) {
            const action = match[2]
              ? 'set_charge_limit'
              : (JSON.parse(body.toString() || '{}') as { action?: string }).action === 'START'
                ? 'start_charge'
                : 'stop_charge';
            log.push(`${match[1]} ${action}`);
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        server,
        url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      });
    }),
  );
}

/** Every process started, also those whose start failed: none may outlive the test. */
const spawned: ChildProcess[] = [];

function startInstance(id: string, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--conditions=@voltkit/source', '--import', 'tsx', 'src/main.ts'], {
    cwd: PACKAGE_DIR,
    env: { PATH: process.env['PATH'] ?? '', ...env, INSTANCE_ID: id },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.push(child);
  const instance: Instance = {
    id,
    child,
    output: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout?.on('data', (chunk: Buffer) => (instance.output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (instance.output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id} did not start:\n${instance.output}`)), 60_000);
    const check = () => {
      if (instance.output.includes('"msg":"jobs running"')) {
        clearTimeout(timer);
        resolve(instance);
      }
    };
    child.stdout?.on('data', check);
    void instance.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${id} exited with ${code}:\n${instance.output.slice(-4000)}`));
    });
  });
}

/** Job ids this instance's log shows as started but not finished. */
function jobsInFlight(output: string, queue?: string): string[] {
  const open = new Map<string, string>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: { msg?: string; jobId?: string; queue?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (!entry.jobId) continue;
    if (entry.msg === 'job started') open.set(entry.jobId, entry.queue ?? '');
    if (entry.msg === 'job done' || entry.msg === 'job failed') open.delete(entry.jobId);
  }
  return [...open].filter(([, name]) => queue === undefined || name === queue).map(([jobId]) => jobId);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('three service instances on one PostgreSQL, one killed mid-night', () => {
  const schema = `voltkit_multi_${randomBytes(6).toString('hex')}`;
  const tokenKeys = newTokenKey('multi');
  const managementToken = randomBytes(24).toString('hex');
  const wire: string[] = [];
  /** Every successful POST under /v2.0/vehicles/ that passed the proxy (commands and batch reads). */
  const wirePosts: string[] = [];
  const simulatorRequests: string[] = [];
  let sim: Simulator;
  let proxy: { server: Server; url: string };
  let db: SqlClient;
  let dataDir: string;
  const instances: Instance[] = [];
  const cars: { id: string; capacityKwh: number }[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'voltkit-multi-'));
    // The simulator's own request log (method, route, status), next to the proxy's per-car record.
    const requestLog = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n'))
          // The simulator logs the route pattern only (no ids): POSTs under a vehicle, answered 2xx.
          if (
            line.includes('"route":"/v2.0/vehicles/:id/*"') &&
            line.includes('"method":"POST"') &&
            /"status":2\d\d/.test(line)
          )
            simulatorRequests.push(line);
        done();
      },
    });
    sim = await createSimulator({
      clock: { mode: 'accelerated', speed: 1 },
      managementToken,
      logger: pino({ level: 'info' }, requestLog),
    });
    proxy = await recordingProxy(sim.url, wire, wirePosts);
    db = await openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema });
    await migrate(db);
    // Ten feeders at the top of the tree (ten work units), two transformers under each.
    for (let f = 1; f <= FEEDERS; f++) {
      const feeder = `feeder-${f}`;
      await saveGridNode(
        db,
        { id: feeder, parentId: null, kind: 'feeder', name: feeder, limitKw: FEEDER_LIMIT_KW },
        'create',
      );
      for (const t of [1, 2])
        await saveGridNode(
          db,
          {
            id: `${feeder}-tr-${t}`,
            parentId: feeder,
            kind: 'transformer',
            name: `${feeder} transformer ${t}`,
            limitKw: TRANSFORMER_LIMIT_KW,
          },
          'create',
        );
    }

    // Enrollment through Connect, in this process, as the service does it (the instances need none).
    const cipher = createTokenCipher(parseTokenKeys(tokenKeys));
    const enrolling = createSmartChargingService({
      config: {
        timeZone: 'Europe/Berlin',
        slotMinutes: 15,
        priceSource: PRICE_SOURCE,
        priceFetchCron: '0 13 * * *',
      },
      db,
      client: createClient({
        clientId: sim.demoApp.clientId,
        clientSecret: sim.demoApp.clientSecret,
        redirectUri: REDIRECT_URI,
        origin: sim.url,
        tokenStore: sqlTokenStore(db, cipher),
      }),
      connectMode: 'simulated',
      profile: await loadBdewProfile(),
      logger: pino({ level: 'silent' }),
      now: () => sim.clock.now(),
    });
    const departure = new Date(sim.clock.now().getTime() + NIGHT_MS);
    const departureLocal = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(departure);
    for (let k = 0; k < CARS; k++) {
      const model = MODELS[k % MODELS.length]!;
      const email = `multi${k}@example.com`;
      sim.createTestAccount({ email, brand: model.brand, model: model.model });
      const browserBinding = newBrowserBinding();
      const { connectUrl } = await enrolling.enrollment.start({
        ownerName: `Owner ${k}`,
        makeBypass: model.brand,
        browserBinding,
      });
      const url = new URL(connectUrl);
      const { code } = sim.authorize({
        clientId: url.searchParams.get('client_id')!,
        redirectUri: REDIRECT_URI,
        scope: url.searchParams.get('scope')!,
        email,
        make: model.brand,
      });
      const { vehicles } = await enrolling.enrollment.complete(
        `${REDIRECT_URI}?code=${code}&state=${url.searchParams.get('state')}`,
        browserBinding,
      );
      const id = vehicles[0]!.id;
      cars.push({ id, capacityKwh: vehicles[0]!.batteryCapacityKwh ?? 50 });
      await savePreferences(db, id, {
        ...DEFAULT_PREFERENCES,
        departures: everyDayAt(departureLocal) as typeof DEFAULT_PREFERENCES.departures,
        targetSoc: TARGET,
        minimumSoc: 0.2,
        chargerPowerKw: STATION_KW,
      });
      sim.setSoc(id, 0.4 + ((k * 37) % 100) / 1000);
      await db.transaction((tx) => assignVehiclesToNode(tx, [id], transformerOf(k)));
    }
    // Plugged in when the instances are about to start: a plugged-in car charges on its own until told.
    for (const car of cars) sim.plugIn(car.id, { stationKw: STATION_KW });
  }, 240_000);

  afterAll(async () => {
    for (const child of spawned)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await new Promise((resolve) => (proxy ? proxy.server.close(resolve) : resolve(undefined)));
    await sim?.close();
    if (db) {
      await db.query(`drop schema if exists ${schema}_jobs cascade`);
      await db.query(`drop schema if exists ${schema} cascade`);
      await db.close();
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('meets every target under the limit, each command sent once, the killed instance’s jobs taken over', async () => {
    const databaseUrl = new URL(TEST_DATABASE_URL);
    databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
    const env = (id: string): Record<string, string> => ({
      DATABASE_URL: databaseUrl.toString(),
      DATA_DIR: join(dataDir, id),
      HOST: '127.0.0.1',
      PORT: '0',
      SMARTCAR_CLIENT_ID: sim.demoApp.clientId,
      SMARTCAR_CLIENT_SECRET: sim.demoApp.clientSecret,
      SMARTCAR_REDIRECT_URI: REDIRECT_URI,
      VEHICLE_API_ORIGIN: proxy.url,
      CLOCK: 'simulator',
      SIMULATOR_MANAGEMENT_TOKEN: managementToken,
      TOKEN_ENCRYPTION_KEYS: tokenKeys,
      PRICE_SOURCE,
      MONITOR_INTERVAL_MINUTES: '15',
      // This simulator enforces no rate limit and this test is about instances, not quota: every car is
      // read each round (the shared budget itself is tested in quota.test.ts).
      VEHICLE_API_BUDGET_CAPACITY: '1000000',
      VEHICLE_API_BUDGET_REFILL_PER_MINUTE: '1000000',
      LOG_LEVEL: 'debug',
    });
    instances.push(...(await Promise.all(['i1', 'i2', 'i3'].map((id) => startInstance(id, env(id))))));

    const nightStart = sim.clock.now().getTime();
    const departure = nightStart + NIGHT_MS;
    sim.clock.setSpeed(SPEED);

    // Sample the cars on the simulator's clock: grid energy per node of the tree and 15-minute slot.
    const energyBySlot = new Map<string, Map<number, number>>();
    const limits = new Map<string, number>();
    cars.forEach((_, k) => {
      limits.set(feederOf(k), FEEDER_LIMIT_KW);
      limits.set(transformerOf(k), TRANSFORMER_LIMIT_KW);
    });
    let socs = cars.map((car) => sim.vehicle(car.id).state.soc ?? 0);
    let sampledAt = sim.clock.now().getTime();
    /** The longest simulated gap between two samples (this process also runs the simulator and proxy). */
    let longestSampleGapMs = 0;
    const sample = () => {
      const at = sim.clock.now().getTime();
      if (at <= sampledAt) return;
      longestSampleGapMs = Math.max(longestSampleGapMs, at - sampledAt);
      const next = cars.map((car) => sim.vehicle(car.id).state.soc ?? 0);
      // The interval's energy is shared among the slots it overlaps, in proportion of time: a gap that
      // straddles a slot boundary (a busy event loop) would otherwise move seconds of charging across it.
      const shares: [slot: number, fraction: number][] = [];
      for (let slot = Math.floor(sampledAt / SLOT_MS) * SLOT_MS; slot < at; slot += SLOT_MS)
        shares.push([slot, (Math.min(at, slot + SLOT_MS) - Math.max(sampledAt, slot)) / (at - sampledAt)]);
      next.forEach((soc, k) => {
        const kwh = (Math.max(0, soc - socs[k]!) * cars[k]!.capacityKwh) / EFFICIENCY;
        if (kwh === 0) return;
        for (const node of [feederOf(k), transformerOf(k)]) {
          const slots = energyBySlot.get(node) ?? new Map<number, number>();
          for (const [slot, fraction] of shares) slots.set(slot, (slots.get(slot) ?? 0) + kwh * fraction);
          energyBySlot.set(node, slots);
        }
      });
      socs = next;
      sampledAt = at;
    };

    // Mid-night, kill an instance while it holds a command job; start it again 5 s later.
    const victim = instances[0]!;
    let killed: { at: number; simAt: number; jobs: string[]; sending: string[] } | undefined;
    let takeoverMs: number | undefined;
    let restarted: Promise<Instance> | undefined;
    let lastCheck = 0;
    const jobTable = `${schema}_jobs.job`;
    let lastTakeoverStates = '';
    // Taken over: each job the victim held is running again (or done) on a retry, i.e. elsewhere.
    const checkTakeover = async (victimJobs: { at: number; jobs: string[] }): Promise<void> => {
      const states = await db.query<{ state: string; retry_count: number }>(
        `select state, retry_count from ${jobTable} where id = any($1)`,
        [victimJobs.jobs],
      );
      lastTakeoverStates = JSON.stringify(states);
      // A job completed on its first try was finished by the victim itself before the kill landed (its
      // "job done" line was still in the pipe): it was never orphaned. Every other one must run again.
      const orphaned = states.filter((row) => !(row.state === 'completed' && row.retry_count === 0));
      if (
        states.length === victimJobs.jobs.length &&
        orphaned.length > 0 &&
        orphaned.every((row) => row.retry_count > 0 && (row.state === 'active' || row.state === 'completed'))
      )
        takeoverMs = Date.now() - victimJobs.at;
    };
    while (sim.clock.now().getTime() < departure) {
      sample();
      const simNow = sim.clock.now().getTime();
      if (!killed && simNow > nightStart + NIGHT_MS * 0.35) {
        // Best while it holds a command job; later, while it holds any job (a minute or poll job); the
        // takeover is only shown by a kill that leaves something behind.
        const holdingCommand = jobsInFlight(victim.output, 'command').length > 0;
        const holdingAny = jobsInFlight(victim.output).length > 0;
        if (
          holdingCommand ||
          (holdingAny && simNow > nightStart + NIGHT_MS * 0.6) ||
          simNow > nightStart + NIGHT_MS * 0.85
        ) {
          victim.child.kill('SIGKILL');
          await victim.exited;
          const at = Date.now();
          const sending = await db.query<{ id: string }>(
            `select id from commands where status = 'sending' and instance_id = $1`,
            [victim.id],
          );
          killed = {
            at,
            simAt: sim.clock.now().getTime(),
            jobs: jobsInFlight(victim.output),
            sending: sending.map((row) => row.id),
          };
        }
      }
      if (killed && takeoverMs === undefined && Date.now() - lastCheck > 250) {
        lastCheck = Date.now();
        await checkTakeover(killed);
      }
      if (killed && !restarted && Date.now() - killed.at > 5_000) {
        restarted = startInstance(victim.id, env(victim.id));
        restarted.then(
          (instance) => instances.push(instance),
          () => undefined,
        );
      }
      await sleep(50);
    }
    sample();
    sim.clock.setSpeed(1);
    expect(killed, 'the victim was killed').toBeDefined();
    expect(restarted, 'the victim was started again').toBeDefined();
    await restarted;
    // A kill late in the night may end the night before the 30 s are up: keep looking until they are.
    while (takeoverMs === undefined && Date.now() - killed!.at < 31_000) {
      await checkTakeover(killed!);
      await sleep(250);
    }
    const { jobs: orphanedJobs, sending: orphanedCommands } = killed!;
    // Give the last minute's commands time to land, then stop everything gracefully.
    await sleep(3_000);
    for (const instance of instances)
      if (instance.child.exitCode === null && instance.child.signalCode === null)
        instance.child.kill('SIGTERM');
    await Promise.all(instances.map((instance) => instance.exited));

    // What the instances recorded, read once they all stopped.
    const log = await listCommands(db);

    // Every target met.
    const shortfalls = cars
      .map((car) => ({ id: car.id, soc: sim.vehicle(car.id).state.soc ?? 0 }))
      .filter((car) => car.soc < TARGET - SOC_TOLERANCE);

    // No slot over any limit of the tree (the meters' 15-minute averages; base load 0).
    const slotLoads = [...energyBySlot].flatMap(([node, slots]) =>
      [...slots].map(([slot, kwh]) => ({
        node,
        slot: new Date(slot).toISOString(),
        kw: kwh / (SLOT_MS / 3_600_000),
        limitKw: limits.get(node)!,
      })),
    );
    // The kill's own cost: each car whose command job the dead instance held stays as it was until the
    // takeover (≤ 30 s wall, as the issue allows), which the accelerated clock stretches to minutes. A slot
    // overlapping that window may hold that much more: one charger per held job, for the late part.
    const lateSimMs = (takeoverMs ?? 30_000) * SPEED;
    const killAllowanceKw = (slot: string) => {
      const start = Date.parse(slot);
      const overlap = Math.max(
        0,
        Math.min(start + SLOT_MS, killed!.simAt + lateSimMs) - Math.max(start, killed!.simAt),
      );
      return (STATION_KW * killed!.jobs.length * overlap) / SLOT_MS;
    };
    // The cost of sending itself: a stop reaches its car after it falls due (a dispatch tick, the job's
    // way through the engine, the request), which the accelerated clock stretches twentyfold. Until its
    // read-back confirmed it, a stopped car may still have drawn: that much more, per node and slot, is
    // the measured lateness, not the plan (whose own slots never exceed a limit).
    const carIndex = new Map(cars.map((car, k) => [car.id, k]));
    const lateStopKwh = new Map<string, number>();
    let latestStopMs = 0;
    for (const command of log) {
      if (command.action !== 'stop_charge' || command.confirmedAt === null) continue;
      const k = carIndex.get(command.vehicleId)!;
      const from = command.dueAt.getTime();
      const until = command.confirmedAt.getTime();
      latestStopMs = Math.max(latestStopMs, until - from);
      for (let slot = Math.floor(from / SLOT_MS) * SLOT_MS; slot < until; slot += SLOT_MS) {
        const kwh = (STATION_KW * (Math.min(until, slot + SLOT_MS) - Math.max(from, slot))) / 3_600_000;
        for (const node of [feederOf(k), transformerOf(k)]) {
          const key = `${node} ${new Date(slot).toISOString()}`;
          lateStopKwh.set(key, (lateStopKwh.get(key) ?? 0) + kwh);
        }
      }
    }
    const lateStopAllowanceKw = (node: string, slot: string) =>
      (lateStopKwh.get(`${node} ${slot}`) ?? 0) / (SLOT_MS / 3_600_000);
    const overLimit = slotLoads.filter(
      (load) =>
        load.kw >
        load.limitKw * (1 + LIMIT_TOLERANCE) +
          killAllowanceKw(load.slot) +
          lateStopAllowanceKw(load.node, load.slot),
    );
    const largestLateStopAllowanceKw = Math.max(
      0,
      ...slotLoads.map((load) => lateStopAllowanceKw(load.node, load.slot)),
    );
    const overMost = Math.max(...slotLoads.map((load) => load.kw / load.limitKw));
    const peakFeederKw = Math.max(
      ...slotLoads.filter((load) => !load.node.includes('-tr-')).map((load) => load.kw),
    );
    const minSoc = Math.min(...cars.map((car) => sim.vehicle(car.id).state.soc ?? 0));
    const lateness = log
      .filter((command) => command.status === 'confirmed' && command.sentAt !== null)
      .map((command) => (command.sentAt!.getTime() - command.dueAt.getTime()) / 1000)
      .sort((a, b) => a - b);
    const shortIds = new Set(shortfalls.map((car) => car.id));
    const shortLog = log
      .filter((command) => shortIds.has(command.vehicleId))
      .slice(0, 40)
      .map(
        (command) =>
          `${command.vehicleId.slice(0, 6)} ${command.action} ${command.dueAt.toISOString().slice(11, 19)} ${command.status} late ${command.sentAt ? ((command.sentAt.getTime() - command.dueAt.getTime()) / 1000).toFixed(0) : '-'}s`,
      );
    console.info(
      `multi-instance: command lateness (simulated s) p50 ${lateness[Math.floor(lateness.length / 2)]?.toFixed(0)} p95 ${lateness[Math.floor(lateness.length * 0.95)]?.toFixed(0)} max ${lateness.at(-1)?.toFixed(0)}\n` +
        `${shortfalls.map((car) => `${car.id.slice(0, 6)} ${car.soc.toFixed(4)}`).join(', ')}\n${shortLog.join('\n')}`,
    );
    console.info(
      `multi-instance: lowest SoC ${minSoc.toFixed(4)} (target ${TARGET}), ${shortfalls.length} short by more than ${SOC_TOLERANCE}, ` +
        `${cars.filter((car) => (sim.vehicle(car.id).state.soc ?? 0) < TARGET - 0.005).length} by more than 0.005; slots over the limit: ${JSON.stringify(overLimit)}; longest gap between samples ${(longestSampleGapMs / 1000).toFixed(1)} simulated s; ` +
        `stops confirmed up to ${(latestStopMs / 1000).toFixed(0)} simulated s after due, a slot allowed at most ${largestLateStopAllowanceKw.toFixed(2)} kW for them`,
    );
    // Each command sent once, none lost: what reached the cars is what the log says was sent.
    const executedBy = await db.query<{ instance_id: string | null; n: number }>(
      `select instance_id, count(*)::int as n from commands where status = 'confirmed' group by instance_id`,
    );
    const dueBeforeEnd = log.filter((command) => command.dueAt.getTime() < departure - 60_000);
    const unfinished = dueBeforeEnd.filter(
      (command) => command.status === 'pending' || command.status === 'sending',
    );
    expect(unfinished.map((command) => `${command.vehicleId} ${command.action} ${command.status}`)).toEqual(
      [],
    );
    const confirmed = new Map<string, number>();
    for (const command of log)
      if (command.status === 'confirmed' || command.status === 'failed') {
        const key = `${command.vehicleId} ${command.action}`;
        confirmed.set(key, (confirmed.get(key) ?? 0) + 1);
      }
    const sentPerCommand = new Map<string, number>();
    for (const request of wire) sentPerCommand.set(request, (sentPerCommand.get(request) ?? 0) + 1);
    const sentTwice = [...sentPerCommand].filter(([key, sent]) => sent > (confirmed.get(key) ?? 0));
    // On failure, the car's own command log says how it came to be sent more often than confirmed.
    const historyOf = (vehicleId: string) =>
      log
        .filter((command) => command.vehicleId === vehicleId)
        .map(
          (command) =>
            `${command.action} due ${command.dueAt.toISOString().slice(11, 19)} ${command.status} ×${command.attempts} by ${command.instanceId} ${command.lastError ?? ''}`,
        );
    expect(sentTwice.map(([key, sent]) => ({ key, sent, history: historyOf(key.split(' ')[0]!) }))).toEqual(
      [],
    );
    // The proxy saw what the simulator served: its own request log counts the same POSTs.
    expect(simulatorRequests.length).toBe(wirePosts.length);
    // Which instance executed each command is recorded; all three did some.
    expect(log.filter((command) => command.status === 'confirmed' && command.instanceId === null)).toEqual(
      [],
    );
    expect(executedBy.filter((row) => row.instance_id !== null).length).toBe(3);

    // The killed instance's jobs were taken over within 30 s.
    for (const id of orphanedCommands) {
      const command = log.find((candidate) => candidate.id === id)!;
      expect(command.status, JSON.stringify(command)).not.toBe('sending');
    }
    expect(orphanedJobs.length).toBeGreaterThan(0);
    expect(
      takeoverMs,
      `jobs of the killed instance completed elsewhere (their states: ${lastTakeoverStates})`,
    ).toBeDefined();
    expect(takeoverMs!).toBeLessThanOrEqual(30_000);

    console.info(
      `multi-instance: ${CARS} cars on ${FEEDERS} feeders, ×${SPEED} clock, ${NIGHT_MS / 3_600_000} h night; feeder limit ${FEEDER_LIMIT_KW} kW (peak feeder slot ${peakFeederKw.toFixed(1)} kW), transformer ${TRANSFORMER_LIMIT_KW} kW; fullest node slot at ${(overMost * 100).toFixed(2)} % of its limit; ` +
        `${log.filter((c) => c.status === 'confirmed').length} commands confirmed (${executedBy.map((row) => `${row.instance_id}: ${row.n}`).join(', ')}), ` +
        `${wire.length} charge requests on the wire, 0 twice; killed ${victim.id} holding ${orphanedJobs.length} jobs ` +
        `(${orphanedCommands.length} commands mid-send), taken over in ${(takeoverMs! / 1000).toFixed(1)} s (${(lateSimMs / 60_000).toFixed(1)} simulated min; slots in it may hold ${STATION_KW} kW more per held job)`,
    );
    expect(overLimit).toEqual([]);
    expect(shortfalls).toEqual([]);
    // No stop sat waiting: even the killed instance's are confirmed within the takeover's 30 s (wall),
    // the dispatch tick and the sending itself.
    expect(latestStopMs / SPEED, 'wall ms from a stop falling due to its confirmation').toBeLessThanOrEqual(
      40_000,
    );
  }, 660_000);
});
