import { createSimulator, type Simulator } from '@voltkit/simulator';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/store/migrations.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import {
  api,
  enrollOverHttp,
  startService,
  TestBrowser,
  type Caller,
  type RunningService,
} from './harness.ts';

const START = new Date('2026-11-21T21:00:00Z');
const ERROR_CODES = [
  'VALIDATION',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'UPSTREAM',
  'INTERNAL',
];

/** Everything a request could change, as one comparable value (tokens included, as ciphertext). */
async function snapshot(db: SqlClient): Promise<string> {
  // api_tokens without last_used_at: using a token is not a change.
  const tables: Record<string, string> = {
    owners: 'select * from owners',
    grants: 'select * from grants',
    vehicles: 'select * from vehicles',
    preferences: 'select * from preferences',
    prices: 'select * from prices',
    settings: 'select * from settings',
    grid_events: 'select * from grid_events',
    commands: 'select * from commands',
    api_tokens: 'select id, name, role, token_hash, revoked_at from api_tokens',
  };
  const parts: string[] = [];
  for (const [table, select] of Object.entries(tables)) {
    const rows = await db.query<{ digest: string | null }>(
      `select md5(coalesce(string_agg(row_text, '|' order by row_text), '')) as digest
       from (select (t.*)::text as row_text from (${select}) t) as rows`,
    );
    parts.push(`${table}:${rows[0]?.digest ?? ''}`);
  }
  const plans = await db.query<{ count: string | number }>('select count(*) as count from plans');
  return `${parts.join(' ')} plans:${plans[0]?.count ?? 0}`;
}

describe('the HTTP API under property-based fuzzing (fast-check)', () => {
  let sim: Simulator;
  let db: SqlClient;
  let running: RunningService;
  let vehicle: string;
  let callers: Caller[];

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    db = await openSqlClient({});
    await migrate(db);
    running = await startService(db, sim);
    const owner = new TestBrowser();
    vehicle = await enrollOverHttp(running, sim, {
      name: 'Ada',
      email: 'ada@example.com',
      brand: 'TESLA',
      browser: owner,
    });
    callers = [
      running.admin,
      running.reader,
      { base: running.base, browser: owner },
      { base: running.base, browser: new TestBrowser() },
    ];
  });
  afterAll(async () => {
    await running?.close();
    await sim?.close();
    await db?.close();
  });

  it('never answers 5xx, always the documented error body, and a refused request changes nothing', async () => {
    const routes = running.http.routes.map((route) => route.split(' ') as [string, string]);
    const segment = fc.oneof(
      fc.constant(vehicle),
      fc.string({ maxLength: 40 }).map(encodeURIComponent),
      fc.constantFrom('%', '%00', '..', '%2e%2e', 'a'.repeat(300), '%E0%A4%A', '\u{1F697}', ' '),
    );
    const path = fc
      .tuple(
        fc.constantFrom(...routes),
        segment,
        fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 30 }), { maxKeys: 3 }),
      )
      .map(([[, url], value, query]) => {
        const filled = url.replace(/:[A-Za-z]+/g, () => value).slice(1);
        const search = new URLSearchParams(query).toString();
        return search ? `${filled}?${search}` : filled;
      });
    const body = fc.oneof(
      fc.constant(undefined),
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({
        slots: fc.array(fc.record({ start: fc.string(), end: fc.string(), pricePerKwh: fc.double() }), {
          maxLength: 3,
        }),
      }),
      fc.record({ limitKw: fc.double(), baseLoadKwhPerYear: fc.oneof(fc.double(), fc.string()) }),
      fc.record({ enabled: fc.oneof(fc.boolean(), fc.string()) }),
      fc.record({ targetSoc: fc.double(), departures: fc.jsonValue() }),
      fc.string({ maxLength: 50 }).map((text) => `{"raw": ${text}`),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH'),
      path,
      body,
      caller: fc.integer({ min: 0, max: callers.length - 1 }),
    });

    await fc.assert(
      fc.asyncProperty(request, async ({ method, path: target, body: payload, caller }) => {
        const before = await snapshot(db);
        const sendsBody = payload !== undefined && method !== 'GET';
        const answer = await api<{ error?: { code: string; message: string } }>(
          callers[caller]!,
          method,
          target,
          sendsBody ? payload : undefined,
        );
        expect(answer.status, `${method} ${target}`).toBeLessThan(500);
        if (answer.status >= 400) {
          expect(ERROR_CODES, `${method} ${target}`).toContain(answer.body.error?.code);
          expect(typeof answer.body.error?.message).toBe('string');
          expect(await snapshot(db), `${method} ${target} changed state`).toBe(before);
        }
      }),
      { numRuns: 300, seed: 20261201, endOnFailure: true },
    );
  }, 300_000);
});
