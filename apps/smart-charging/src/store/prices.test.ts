import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPrices, savePrices } from './prices.ts';
import type { SqlClient } from './sql-client.ts';
import { TEST_BACKENDS } from './test-backends.ts';

const hour = (h: number): Date => new Date(Date.UTC(2026, 10, 21, h));
const at = (h: number, m: number): Date => new Date(Date.UTC(2026, 10, 21, h, m));
const fiveMinuteSlots = (fromHour: number, count: number, price: number) =>
  Array.from({ length: count }, (_, k) => ({
    start: at(fromHour, 5 * k),
    end: at(fromHour, 5 * (k + 1)),
    pricePerKwh: price,
  }));

describe.each(TEST_BACKENDS)('prices on $name storage', (backend) => {
  let client: SqlClient;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ client, dispose } = await backend.open()));
  afterEach(async () => dispose());

  it('keeps the latest value per slot and returns the overlapping window in order', async () => {
    await savePrices(client, 'awattar', [
      { start: hour(2), end: hour(3), pricePerKwh: 0.05 },
      { start: hour(1), end: hour(2), pricePerKwh: -0.01 },
      { start: hour(3), end: hour(4), pricePerKwh: 0.2 },
    ]);
    await savePrices(client, 'awattar', [{ start: hour(2), end: hour(3), pricePerKwh: 0.07 }]);
    const window = await loadPrices(client, 'awattar', new Date(Date.UTC(2026, 10, 21, 1, 30)), hour(3));
    expect(window.map((slot) => [slot.start.getUTCHours(), slot.pricePerKwh])).toEqual([
      [1, -0.01],
      [2, 0.07],
    ]);
  });

  it('rejects a malformed batch whole, storing none of it', async () => {
    await expect(
      savePrices(client, 'awattar', [
        { start: hour(5), end: hour(6), pricePerKwh: 0.1 },
        { start: hour(6), end: hour(6), pricePerKwh: 0.1 },
      ]),
    ).rejects.toThrow(/end must follow start/);
    expect(await loadPrices(client, 'awattar', hour(0), hour(23))).toEqual([]);
  });

  it('an import replaces every overlapping slot of any length, in both directions (one series per source)', async () => {
    // Hourly file prices, then a 5-minute import over 01:00–01:30: the hourly 01:00 slot is gone whole.
    await savePrices(client, 'file', [
      { start: hour(0), end: hour(1), pricePerKwh: 0.3 },
      { start: hour(1), end: hour(2), pricePerKwh: 0.3 },
      { start: hour(2), end: hour(3), pricePerKwh: 0.3 },
    ]);
    await savePrices(client, 'file', fiveMinuteSlots(1, 6, 0.1));
    let stored = await loadPrices(client, 'file', hour(0), hour(3));
    expect(
      stored.map((slot) => [slot.start.toISOString().slice(11, 16), slot.end.toISOString().slice(11, 16)]),
    ).toEqual([
      ['00:00', '01:00'],
      ...fiveMinuteSlots(1, 6, 0.1).map((slot) => [
        slot.start.toISOString().slice(11, 16),
        slot.end.toISOString().slice(11, 16),
      ]),
      ['02:00', '03:00'],
    ]);
    // The hourly feed again (a restart or the price cron): it replaces the 5-minute slots, never blends.
    await savePrices(client, 'file', [{ start: hour(1), end: hour(2), pricePerKwh: 0.25 }]);
    stored = await loadPrices(client, 'file', hour(0), hour(3));
    expect(
      stored.map((slot) => [slot.start.getUTCHours(), slot.end.getUTCHours(), slot.pricePerKwh]),
    ).toEqual([
      [0, 1, 0.3],
      [1, 2, 0.25],
      [2, 3, 0.3],
    ]);
    // Another source is a series of its own.
    await savePrices(client, 'other', fiveMinuteSlots(1, 2, 0.5));
    expect(await loadPrices(client, 'file', hour(1), hour(2))).toHaveLength(1);
  });

  it('the store itself refuses overlapping slots of one source, and an overlapping batch', async () => {
    await savePrices(client, 'file', [{ start: hour(1), end: hour(2), pricePerKwh: 0.3 }]);
    await expect(
      client.query(
        `insert into prices (source, slot_start, slot_end, price_per_kwh) values ($1, $2, $3, $4)`,
        ['file', at(1, 30), at(1, 45), 0.1],
      ),
    ).rejects.toThrow(/overlaps a stored slot/);
    await client.query(
      `insert into prices (source, slot_start, slot_end, price_per_kwh) values ($1, $2, $3, $4)`,
      ['elsewhere', at(1, 30), at(1, 45), 0.1],
    );
    await expect(
      savePrices(client, 'file', [
        { start: hour(3), end: hour(5), pricePerKwh: 0.1 },
        { start: hour(4), end: hour(6), pricePerKwh: 0.1 },
      ]),
    ).rejects.toThrow(/overlaps the one before it/);
    expect(await loadPrices(client, 'file', hour(0), hour(23))).toHaveLength(1);
  });
});
