import { VoltkitError } from '@voltkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlClient, type SqlClient } from '../store/sql-client.ts';
import { takeTokens, VEHICLE_API_BUDGET_KEY } from '../store/request-budget.ts';
import { TEST_BACKENDS, TEST_DATABASE_URL } from '../store/test-backends.ts';
import { saveVehicleState } from '../store/vehicles.ts';
import { recordRateLimited, selectCarsToPoll } from './poll-budget.ts';

const T0 = new Date('2026-11-21T21:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const LIMITS = { capacity: 5, refillPerMinute: 2 };
const OPTIONS = { limits: LIMITS, webhookFreshMs: 5 * 60_000 };
const cars = (n: number) => Array.from({ length: n }, (_, i) => `car-${i + 1}`);

async function addCars(db: SqlClient, ids: readonly string[]): Promise<void> {
  await db.query(`insert into owners (id, display_name) values ('o', 'Owner')`);
  await db.query(`insert into grants (id, owner_id, scopes, status) values ('g', 'o', '{}', 'active')`);
  for (const id of ids)
    await db.query(
      `insert into vehicles (id, grant_id, make, model, year) values ($1, 'g', 'TESLA', 'M3', 2024)`,
      [id],
    );
}

const rateLimit = (code: 'VEHICLE' | 'SMARTCAR_API', retryAfter: number) =>
  new VoltkitError({ type: 'RATE_LIMIT', code, status: 429, description: 'slow down', retryAfter });

describe.each(TEST_BACKENDS)('the vehicle API budget on $name storage', (backend) => {
  let db: SqlClient;
  let dispose: () => Promise<void>;
  beforeEach(async () => {
    ({ client: db, dispose } = await backend.open());
  });
  afterEach(async () => dispose());

  it('starts full, grants at most what it holds, refills per minute of the given clock, never above capacity', async () => {
    const take = (wanted: number, when: Date) => takeTokens(db, VEHICLE_API_BUDGET_KEY, wanted, LIMITS, when);
    expect((await take(3, at(0))).granted).toBe(3);
    expect((await take(10, at(0))).granted).toBe(2);
    expect((await take(1, at(0))).granted).toBe(0);
    // Half a minute: one token (2 a minute).
    expect((await take(10, at(0.5))).granted).toBe(1);
    // A clock behind the last take refills nothing.
    expect((await take(10, at(0.2))).granted).toBe(0);
    // An hour later: full again, not 120.
    expect((await take(100, at(60))).granted).toBe(5);
  });

  it('asks the least recently known car first, skips held-back and webhook-fresh cars, and goes round the fleet', async () => {
    const ids = cars(4);
    await addCars(db, ids);
    // car-1 was read by a poll long ago, car-2 pushed by a webhook a minute ago, car-3 and car-4 never.
    await saveVehicleState(db, 'car-1', { soc: 0.5 }, at(-60));
    await db.query(
      `insert into vehicle_states (vehicle_id, body, read_at, source) values ('car-2', '{}', $1, 'webhook')`,
      [at(-1)],
    );
    const first = await selectCarsToPoll(db, ids, at(0), {
      ...OPTIONS,
      limits: { capacity: 2, refillPerMinute: 2 },
    });
    expect(first).toEqual({
      granted: ['car-3', 'car-4'],
      backedOff: [],
      freshFromWebhook: ['car-2'],
      overBudget: ['car-1'],
    });
    // A minute later: two new tokens; car-1 (known an hour ago) goes before the two just tried.
    const second = await selectCarsToPoll(db, ids, at(1), {
      ...OPTIONS,
      limits: { capacity: 2, refillPerMinute: 2 },
    });
    expect(second.granted).toEqual(['car-1', 'car-3']);
    expect(second.overBudget).toEqual(['car-4']);
    // The webhook state grows stale after the poll interval: car-2 is polled again.
    const later = await selectCarsToPoll(db, ids, at(10), OPTIONS);
    expect(later.freshFromWebhook).toEqual([]);
    expect(later.granted).toContain('car-2');
  });

  it('a per-vehicle 429 holds that car back until its Retry-After; an application 429 empties the bucket', async () => {
    const ids = cars(3);
    await addCars(db, ids);
    expect(await recordRateLimited(db, 'car-1', rateLimit('VEHICLE', 600), at(0))).toBe('vehicle');
    const held = await selectCarsToPoll(db, ids, at(5), OPTIONS);
    expect(held.backedOff).toEqual(['car-1']);
    expect(held.granted).toEqual(['car-2', 'car-3']);
    // A shorter back-off recorded later does not shorten the stored one.
    await recordRateLimited(db, 'car-1', rateLimit('VEHICLE', 1), at(5));
    expect((await selectCarsToPoll(db, ids, at(9), OPTIONS)).backedOff).toEqual(['car-1']);
    expect((await selectCarsToPoll(db, ids, at(10), OPTIONS)).granted).toContain('car-1');

    expect(await recordRateLimited(db, 'car-2', rateLimit('SMARTCAR_API', 120), at(20))).toBe('app');
    expect((await selectCarsToPoll(db, ids, at(21), OPTIONS)).granted).toEqual([]);
    // Refilling starts at the Retry-After instant: one minute after it, two tokens.
    expect((await selectCarsToPoll(db, ids, at(23), OPTIONS)).granted).toHaveLength(2);
    // Anything else is not a rate limit and records nothing.
    expect(await recordRateLimited(db, 'car-3', new Error('boom'), at(30))).toBeNull();
  });
});

describe('the budget shared by instances on one PostgreSQL', () => {
  let first: SqlClient;
  let second: SqlClient;
  const schema = `voltkit_test_budget_${Date.now().toString(36)}`;
  afterEach(async () => {
    await first.query(`drop schema ${schema} cascade`);
    await first.close();
    await second.close();
  });

  it('never grants more than the capacity, however many takes race (each instance its own pool)', async () => {
    first = await openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema });
    second = await openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema });
    const { migrate } = await import('../store/migrations.ts');
    await migrate(first);
    const limits = { capacity: 120, refillPerMinute: 2 };
    const takes = Array.from({ length: 40 }, (_, i) =>
      takeTokens(i % 2 === 0 ? first : second, VEHICLE_API_BUDGET_KEY, 7, limits, T0),
    );
    const granted = (await Promise.all(takes)).map((take) => take.granted);
    expect(granted.reduce((sum, n) => sum + n, 0)).toBe(120);
    expect(granted.every((n) => n >= 0 && n <= 7)).toBe(true);
  });
});
