import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ChargingPreferencesSchema,
  DEFAULT_PREFERENCES,
  loadPreferences,
  savePreferences,
} from './preferences.ts';
import type { SqlClient } from './sql-client.ts';
import { seedVehicle, TEST_BACKENDS } from './test-backends.ts';

describe('preferences schema', () => {
  it('names the field that is wrong', () => {
    const result = ChargingPreferencesSchema.safeParse({
      ...DEFAULT_PREFERENCES,
      departures: { ...DEFAULT_PREFERENCES.departures, tuesday: '7:30am' },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['departures', 'tuesday']);
  });

  it('rejects a minimum above the target and home-only without a home', () => {
    const result = ChargingPreferencesSchema.safeParse({
      ...DEFAULT_PREFERENCES,
      minimumSoc: 0.9,
      targetSoc: 0.8,
      smartChargeOnlyAtHome: true,
    });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['minimumSoc', 'home']);
  });
});

describe.each(TEST_BACKENDS)('preferences on $name storage', (backend) => {
  let client: SqlClient;
  let dispose: () => Promise<void>;
  beforeEach(async () => {
    ({ client, dispose } = await backend.open());
    await seedVehicle(client, 'v1', { make: 'BMW', model: 'i8', year: 2019 });
  });
  afterEach(async () => dispose());

  it('round-trips and falls back to defaults for a vehicle without preferences', async () => {
    expect(await loadPreferences(client, 'v1')).toEqual(DEFAULT_PREFERENCES);
    const wanted = { ...DEFAULT_PREFERENCES, targetSoc: 0.9, oneOffDeparture: '2026-11-22T06:00:00+01:00' };
    await savePreferences(client, 'v1', wanted);
    expect(await loadPreferences(client, 'v1')).toEqual(wanted);
  });

  it('never stores invalid preferences and keeps the previous ones', async () => {
    await savePreferences(client, 'v1', { ...DEFAULT_PREFERENCES, targetSoc: 0.7 });
    await expect(savePreferences(client, 'v1', { ...DEFAULT_PREFERENCES, targetSoc: 3 })).rejects.toThrow(
      /targetSoc/,
    );
    expect((await loadPreferences(client, 'v1')).targetSoc).toBe(0.7);
  });
});
