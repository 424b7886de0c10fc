import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPlannedVehicles, savePlan } from './plans.ts';
import type { SqlClient } from './sql-client.ts';
import { seedVehicle, TEST_BACKENDS } from './test-backends.ts';

const START = new Date('2026-12-04T21:00:00Z');
const carPlan = (id: string, kw: number) => ({ id, powerKw: [kw, 0], socPercent: [40, 45, 45] });

describe.each(TEST_BACKENDS)('plans on $name storage', (backend) => {
  let client: SqlClient;
  let dispose: () => Promise<void>;
  beforeEach(async () => {
    ({ client, dispose } = await backend.open());
    for (const id of ['v1', 'v2', 'v3']) await seedVehicle(client, id);
  });
  afterEach(async () => dispose());

  /** A plan of `unit` for v1 and v2 (v3 is not planned), stored as the service stores one. */
  const save = (unit: string, kw: number) => {
    const vehicles = [carPlan('v1', kw), carPlan('v2', kw + 1)];
    return savePlan(client, {
      unit,
      reason: 'test',
      horizonStart: START,
      horizonEnd: new Date(START.getTime() + 30 * 60_000),
      body: { plan: { vehicles } },
      vehiclePower: {
        firstSlotStart: START,
        slotMinutes: 15,
        vehicles,
        unitVehicleIds: ['v1', 'v2', 'v3'],
      },
    });
  };

  it('reads the listed cars’ entries of their units’ current plans, not older plans’ or other units’', async () => {
    await save('node:a', 7);
    await save('node:a', 11);
    const picked = await loadPlannedVehicles(client, ['node:a'], ['v2', 'v3']);
    expect(picked).toEqual([{ unit: 'node:a', vehicle: carPlan('v2', 12) }]);
    expect(await loadPlannedVehicles(client, ['node:b'], ['v1', 'v2'])).toEqual([]);
  });

  it('picks a car out of its plan’s body when its row was stored before rows held the car’s plan', async () => {
    await save('node:a', 7);
    await client.query(`update vehicle_plans set body = null where vehicle_id = 'v1'`);
    const picked = await loadPlannedVehicles(client, ['node:a'], ['v1', 'v2']);
    expect(picked).toEqual(
      expect.arrayContaining([
        { unit: 'node:a', vehicle: carPlan('v1', 7) },
        { unit: 'node:a', vehicle: carPlan('v2', 8) },
      ]),
    );
    expect(picked).toHaveLength(2);
  });
});
