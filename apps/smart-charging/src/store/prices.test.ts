import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPrices, savePrices } from './prices.ts';
import type { SqlClient } from './sql-client.ts';
import { TEST_BACKENDS } from './test-backends.ts';

const hour = (h: number): Date => new Date(Date.UTC(2026, 10, 21, h));

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
});
