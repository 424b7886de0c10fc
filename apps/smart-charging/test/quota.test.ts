import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { createClient } from '@voltkit/core/client';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBrowserBinding } from '../src/service/enrollment.ts';
import {
  createSmartChargingService,
  type SmartChargingService,
} from '../src/service/smart-charging-service.ts';
import { loadBdewProfile } from '../src/service/start-app.ts';
import { sqlTokenStore } from '../src/store/grants.ts';
import { migrate } from '../src/store/migrations.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { testTokenCipher, TEST_DATABASE_URL } from '../src/store/test-backends.ts';
import type { TokenCipher } from '../src/store/token-cipher.ts';
import { PRICE_SOURCE } from './harness.ts';

const START = new Date('2026-11-21T21:00:00Z');
const REDIRECT_URI = 'http://127.0.0.1:8740/connect/callback';
const BUDGET = { capacity: 120, refillPerMinute: 2 };

interface SimRequest {
  readonly path: string;
  readonly status: number;
  readonly retryAfter: string | undefined;
  /** The simulator's clock when it answered. */
  readonly at: number;
}

/**
 * Every vehicle request the simulator answered, from the diagnostics channel its own request log records
 * from. Only the simulator serves `/v2.0/vehicles` paths in this process.
 */
function simulatorRequestLog(sim: Simulator): { entries: SimRequest[]; stop(): void } {
  const entries: SimRequest[] = [];
  const onFinish = (message: unknown) => {
    const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
    const path = (request.url ?? '').split('?')[0]!;
    if (!path.startsWith('/v2.0/vehicles/')) return;
    // The simulator's fast lane writes its headers with writeHead, which getHeader does not see: read the
    // header block Node sent.
    const sent = (response as unknown as { _header?: string })._header ?? '';
    const retryAfter = /\r\nretry-after: *([^\r]*)/i.exec(sent)?.[1];
    entries.push({
      path,
      status: response.statusCode,
      retryAfter,
      at: sim.clock.now().getTime(),
    });
  };
  subscribe('http.server.response.finish', onFinish);
  return { entries, stop: () => unsubscribe('http.server.response.finish', onFinish) };
}

const batches = (entries: readonly SimRequest[]) => entries.filter((entry) => entry.path.endsWith('/batch'));
const carOf = (entry: SimRequest) => entry.path.split('/')[3]!;

/** One instance of the service: its own pool on the database, its own vehicle API client. */
function instance(
  db: SqlClient,
  sim: Simulator,
  cipher: TokenCipher,
  logger: pino.Logger,
  profile: Awaited<ReturnType<typeof loadBdewProfile>>,
  instanceId: string,
): SmartChargingService {
  return createSmartChargingService({
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
    profile,
    logger,
    now: () => sim.clock.now(),
    instanceId,
    requestBudget: BUDGET,
  });
}

/** Enrolls `count` cars through Connect (consent given programmatically in the simulator). */
async function enroll(
  service: SmartChargingService,
  sim: Simulator,
  count: number,
  tag: string,
): Promise<string[]> {
  const ids: string[] = [];
  for (let k = 0; k < count; k++) {
    const email = `${tag}${k}@example.com`;
    sim.createTestAccount({ email, brand: 'TESLA' });
    const browserBinding = newBrowserBinding();
    const { connectUrl } = await service.enrollment.start({
      ownerName: `Owner ${k}`,
      makeBypass: 'TESLA',
      browserBinding,
    });
    const url = new URL(connectUrl);
    const { code } = sim.authorize({
      clientId: url.searchParams.get('client_id')!,
      redirectUri: REDIRECT_URI,
      scope: url.searchParams.get('scope')!,
      email,
      make: 'TESLA',
    });
    const { vehicles } = await service.enrollment.complete(
      `${REDIRECT_URI}?code=${code}&state=${url.searchParams.get('state')}`,
      browserBinding,
    );
    ids.push(vehicles[0]!.id);
  }
  return ids;
}

function collectingLogger(lines: Record<string, unknown>[]): pino.Logger {
  return pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
        done();
      },
    }),
  );
}

describe('two service instances on one PostgreSQL share one vehicle API budget', () => {
  const CARS = 150;
  const schema = `voltkit_test_quota_${randomBytes(5).toString('hex')}`;
  let sim: Simulator;
  let first: SqlClient;
  let second: SqlClient;
  let a: SmartChargingService;
  let b: SmartChargingService;
  let cars: string[];
  const warnings: Record<string, unknown>[] = [];

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    first = await openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema });
    second = await openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema });
    await migrate(first);
    const cipher = testTokenCipher();
    const profile = await loadBdewProfile();
    const logger = collectingLogger(warnings);
    a = instance(first, sim, cipher, logger.child({ instance: 'a' }), profile, 'a');
    b = instance(second, sim, cipher, logger.child({ instance: 'b' }), profile, 'b');
    cars = await enroll(a, sim, CARS, 'quota');
    // The simulator enforces the same limit from now on: a request beyond the budget would be its 429.
    sim.setRateLimits({ app: BUDGET });
  }, 240_000);
  afterAll(async () => {
    await sim?.close();
    await first?.query(`drop schema ${schema} cascade`);
    await first?.close();
    await second?.close();
  });

  it('never sends more than the capacity plus the refill in a window, and reads every car over successive rounds', async () => {
    const log = simulatorRequestLog(sim);
    try {
      const asked = new Set<string>();
      const rounds: number[] = [];
      // Four rounds ten simulated minutes apart, both instances polling at once each time.
      for (let round = 0; round < 4; round++) {
        if (round > 0) await sim.clock.advance(10 * 60_000);
        const before = batches(log.entries).length;
        await Promise.all([a.monitorVehicles(), b.monitorVehicles()]);
        const sent = batches(log.entries).slice(before);
        rounds.push(sent.length);
        for (const entry of sent) asked.add(carOf(entry));
      }
      const all = batches(log.entries);
      console.log(
        `quota: ${CARS} cars, budget ${BUDGET.capacity} + ${BUDGET.refillPerMinute}/min, two instances: ` +
          `batch requests per round ${rounds.join(', ')}; ${asked.size} distinct cars read; ` +
          `${log.entries.filter((entry) => entry.status === 429).length} answered 429`,
      );
      // The full bucket once, then 20 per ten minutes, whichever instance takes them.
      expect(rounds).toEqual([120, 20, 20, 20]);
      // In every window from the start: at most the capacity plus what refilled in it.
      for (const entry of all) {
        const inWindow = all.filter((other) => other.at <= entry.at).length;
        const minutes = (entry.at - START.getTime()) / 60_000;
        expect(inWindow).toBeLessThanOrEqual(BUDGET.capacity + BUDGET.refillPerMinute * minutes);
      }
      // The simulator, enforcing the same limit, never had to refuse one.
      expect(log.entries.filter((entry) => entry.status === 429)).toEqual([]);
      // Least recently known first: after the first 120, the 30 never-read cars came next.
      expect(asked.size).toBe(CARS);
      expect(new Set(cars)).toEqual(asked);
      // Each instance said, at warn, how many cars it left unread in each round (never silently).
      const exhausted = warnings.filter((line) =>
        String(line['msg']).startsWith('vehicle API budget exhausted'),
      );
      expect(exhausted.length).toBeGreaterThanOrEqual(4);
      for (const line of exhausted) expect(line['skipped']).toBeGreaterThan(0);
    } finally {
      log.stop();
    }
  }, 120_000);
});

const BACKENDS = [
  { name: 'embedded', open: () => openSqlClient({}), drop: async () => {} },
  {
    name: 'postgres',
    schema: `voltkit_test_quota_${randomBytes(5).toString('hex')}`,
    open() {
      return openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema: this.schema });
    },
    async drop(db: SqlClient) {
      await db.query(`drop schema ${this.schema} cascade`);
    },
  },
];

describe.each(BACKENDS)('429 with Retry-After from the simulator on $name storage', (backend) => {
  let sim: Simulator;
  let db: SqlClient;
  let service: SmartChargingService;
  let cars: string[];
  const warnings: Record<string, unknown>[] = [];

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    db = await backend.open();
    await migrate(db);
    service = instance(
      db,
      sim,
      testTokenCipher(),
      collectingLogger(warnings),
      await loadBdewProfile(),
      'solo',
    );
    cars = await enroll(service, sim, 3, `retry-${backend.name}-`);
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
    if (db) {
      await backend.drop(db);
      await db.close();
    }
  });

  it('a car over its own limit is not asked again before its Retry-After, the other cars are', async () => {
    // One request per car per ten simulated minutes.
    sim.setRateLimits({ vehicle: { capacity: 1, refillPerMinute: 0.1 } });
    const log = simulatorRequestLog(sim);
    try {
      await service.monitorVehicles();
      expect(batches(log.entries).map((entry) => entry.status)).toEqual([200, 200, 200]);
      // Asked again a minute later, each car answers 429 with how long to wait.
      await sim.clock.advance(60_000);
      log.entries.length = 0;
      await service.monitorVehicles();
      const refused = batches(log.entries);
      expect(refused.map((entry) => entry.status)).toEqual([429, 429, 429]);
      const retryAfter = Number(refused[0]!.retryAfter);
      expect(retryAfter).toBeGreaterThan(60);
      // Until then nobody asks them: the simulator sees nothing.
      for (const minutes of [1, Math.floor(retryAfter / 60) - 2]) {
        await sim.clock.advance(minutes * 60_000);
        log.entries.length = 0;
        await service.monitorVehicles();
        expect(batches(log.entries), `${minutes} min later`).toEqual([]);
      }
      // Past it, the cars are asked again and answer.
      await sim.clock.advance(5 * 60_000);
      log.entries.length = 0;
      await service.monitorVehicles();
      expect(batches(log.entries).map((entry) => entry.status)).toEqual([200, 200, 200]);
      expect(new Set(batches(log.entries).map(carOf))).toEqual(new Set(cars));
    } finally {
      log.stop();
      sim.setRateLimits({ vehicle: null });
    }
  }, 60_000);

  it('the application over its limit: the round stops, and nothing is asked before the Retry-After', async () => {
    // The simulator allows two requests, then one every ten minutes; this service believes it has 120.
    sim.setRateLimits({ app: { capacity: 2, refillPerMinute: 0.1 } });
    const log = simulatorRequestLog(sim);
    try {
      await sim.clock.advance(60 * 60_000);
      await service.monitorVehicles();
      expect(batches(log.entries).map((entry) => entry.status)).toEqual([200, 200, 429]);
      expect(warnings.some((line) => String(line['msg']).includes('refused the application'))).toBe(true);
      const retryAfter = Number(batches(log.entries)[2]!.retryAfter);
      log.entries.length = 0;
      await sim.clock.advance((retryAfter - 30) * 1000);
      await service.monitorVehicles();
      expect(batches(log.entries)).toEqual([]);
      // The shared bucket refills from the Retry-After on: two minutes past it, four tokens; the
      // simulator has one by then, so one car answers and the next 429 empties the bucket again.
      await sim.clock.advance(150 * 1000);
      await service.monitorVehicles();
      expect(batches(log.entries).map((entry) => entry.status)).toEqual([200, 429]);
    } finally {
      log.stop();
      sim.setRateLimits({ app: null });
    }
  }, 60_000);
});
