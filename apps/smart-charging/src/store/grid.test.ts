import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addGridEvent,
  DEFAULT_GRID_SETTINGS,
  listGridEvents,
  loadGridSettings,
  saveGridSettings,
} from './grid.ts';
import type { SqlClient } from './sql-client.ts';
import { TEST_BACKENDS } from './test-backends.ts';

describe.each(TEST_BACKENDS)('grid signal on $name storage', (backend) => {
  let client: SqlClient;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ client, dispose } = await backend.open()));
  afterEach(async () => dispose());

  it('stores the site limit and finds demand-response events overlapping a window', async () => {
    expect(await loadGridSettings(client)).toEqual(DEFAULT_GRID_SETTINGS);
    await saveGridSettings(client, { limitKw: 400, baseLoadKwhPerYear: 0 });
    // Stored before limit modes existed (or saved without one): the average limit, as it always was.
    expect(await loadGridSettings(client)).toEqual({
      limitKw: 400,
      baseLoadKwhPerYear: 0,
      limitMode: 'average',
    });
    await saveGridSettings(client, { limitKw: 24, baseLoadKwhPerYear: 17_500, limitMode: 'hard' });
    expect(await loadGridSettings(client)).toEqual({
      limitKw: 24,
      baseLoadKwhPerYear: 17_500,
      limitMode: 'hard',
    });
    await expect(
      saveGridSettings(client, { limitKw: 24, baseLoadKwhPerYear: 0, limitMode: 'peak' as 'hard' }),
    ).rejects.toThrow(/limitMode/);

    const evening = await addGridEvent(client, {
      kind: 'demand_response',
      startsAt: '2026-11-21T17:00:00Z',
      endsAt: '2026-11-21T19:00:00Z',
      limitKw: 150,
    });
    await addGridEvent(client, {
      kind: 'demand_response',
      startsAt: '2026-11-22T17:00:00Z',
      endsAt: '2026-11-22T19:00:00Z',
      limitKw: 100,
    });
    const tonight = await listGridEvents(
      client,
      new Date('2026-11-21T18:00:00Z'),
      new Date('2026-11-22T06:00:00Z'),
    );
    expect(tonight).toEqual([evening]);
  });

  it('rejects an event that ends before it starts, naming the field', async () => {
    await expect(
      addGridEvent(client, {
        kind: 'demand_response',
        startsAt: '2026-11-21T19:00:00Z',
        endsAt: '2026-11-21T17:00:00Z',
        limitKw: 10,
      }),
    ).rejects.toThrow(/endsAt/);
  });
});
