import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveVehicleState } from './vehicles.ts';
import { gridNodeAggregates } from './grid-aggregates.ts';
import { assignVehiclesToNode, GridTreeError, listGridNodes, saveGridNode } from './grid-nodes.ts';
import { savePlan } from './plans.ts';
import type { SqlClient } from './sql-client.ts';
import { TEST_BACKENDS } from './test-backends.ts';

const node = (id: string, parentId: string | null, kind: string, limitKw = 100, baseLoadKwhPerYear = 0) =>
  ({ id, parentId, kind, name: id, limitKw, baseLoadKwhPerYear }) as Parameters<typeof saveGridNode>[1];

async function refusal(work: Promise<unknown>): Promise<Pick<GridTreeError, 'code' | 'field'>> {
  try {
    await work;
  } catch (error) {
    if (error instanceof GridTreeError) return { code: error.code, field: error.field };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe.each(TEST_BACKENDS)('the grid tree on $name storage', (backend) => {
  let client: SqlClient;
  let dispose: () => Promise<void>;
  beforeEach(async () => {
    ({ client, dispose } = await backend.open());
    for (const saved of [
      node('sub', null, 'substation', 10_000),
      node('f1', 'sub', 'feeder', 2000, 1000),
      node('f2', 'sub', 'feeder', 2000),
      node('t1', 'f1', 'transformer', 630, 500),
      node('h1', 't1', 'connection', 22, 3500),
      node('h2', 't1', 'connection', 22, 3500),
      node('h3', 'f2', 'connection', 11, 3500),
    ])
      await saveGridNode(client, saved, 'create');
  });
  afterEach(async () => dispose());

  it('refuses a missing parent, a duplicate, kinds out of order and a move into its own subtree', async () => {
    const save = (input: Parameters<typeof saveGridNode>[1], mode: 'create' | 'replace') =>
      saveGridNode(client, input, mode);
    expect(await refusal(save(node('x', 'nowhere', 'feeder'), 'create'))).toEqual({
      code: 'PARENT_NOT_FOUND',
      field: 'parentId',
    });
    expect(await refusal(save(node('f1', 'sub', 'feeder'), 'create'))).toEqual({
      code: 'DUPLICATE',
      field: 'id',
    });
    expect(await refusal(save(node('x', 't1', 'feeder'), 'create'))).toEqual({
      code: 'KIND_ORDER',
      field: 'kind',
    });
    expect(await refusal(save(node('x', 'h1', 'connection'), 'create'))).toEqual({
      code: 'KIND_ORDER',
      field: 'kind',
    });
    // f1 under its own transformer, or under itself.
    expect(await refusal(save(node('f1', 't1', 'feeder'), 'replace'))).toEqual({
      code: 'CYCLE',
      field: 'parentId',
    });
    expect(await refusal(save(node('f1', 'f1', 'feeder'), 'replace'))).toEqual({
      code: 'CYCLE',
      field: 'parentId',
    });
    // A transformer with connections below cannot become a connection.
    expect(await refusal(save(node('t1', 'f1', 'connection'), 'replace'))).toEqual({
      code: 'KIND_ORDER',
      field: 'kind',
    });
    expect(await refusal(save(node('nope', null, 'feeder'), 'replace'))).toEqual({
      code: 'NOT_FOUND',
      field: 'id',
    });
    // Nothing of that was stored; a legal move is.
    await save(node('t1', 'f2', 'transformer', 400), 'replace');
    expect((await listGridNodes(client, { parentId: 'f2', limit: 10 })).map((child) => child.id)).toEqual([
      'h3',
      't1',
    ]);
    expect((await listGridNodes(client, { parentId: null, limit: 10 })).map((top) => top.id)).toEqual([
      'sub',
    ]);
    expect(
      (await listGridNodes(client, { kind: 'feeder', after: 'f1', limit: 10 })).map((n) => n.id),
    ).toEqual(['f2']);
  });

  it('sums cars, plugged, charging, base load and planned kW over each node’s subtree', async () => {
    await client.query(`insert into owners (id, display_name) values ('o', 'O')`);
    await client.query(`insert into grants (id, owner_id, scopes, status) values ('g', 'o', '{}', 'active')`);
    for (const id of ['c1', 'c2', 'c3', 'c4'])
      await client.query(
        `insert into vehicles (id, grant_id, make, model, year) values ($1, 'g', 'TESLA', 'Model 3', 2024)`,
        [id],
      );
    await assignVehiclesToNode(client, ['c1', 'c2'], 'h1');
    await assignVehiclesToNode(client, ['c3'], 'h3');
    // c4 hangs on no node.
    const at = new Date('2026-11-21T21:00:00Z');
    const state = (pluggedIn: boolean, charging: string) => ({
      soc: 0.5,
      pluggedIn,
      charging,
      chargeLimit: 0.9,
    });
    await saveVehicleState(client, 'c1', state(true, 'CHARGING'), at);
    await saveVehicleState(client, 'c2', state(true, 'NOT_CHARGING'), at);
    await saveVehicleState(client, 'c3', state(false, 'NOT_CHARGING'), at);
    await client.transaction((tx) =>
      savePlan(tx, {
        reason: 'test',
        horizonStart: at,
        horizonEnd: new Date(at.getTime() + 3_600_000),
        body: {},
        vehiclePower: {
          firstSlotStart: at,
          slotMinutes: 15,
          vehicles: [
            { id: 'c1', powerKw: [11, 0, 5.5] },
            { id: 'c2', powerKw: [0, 7.4, 7.4] },
            { id: 'c3', powerKw: [3, 3, 3] },
            { id: 'c4', powerKw: [1, 1, 1] },
          ],
        },
      }),
    );
    const slot = (index: number) => new Date(at.getTime() + index * 900_000).toISOString();
    const [sub, f1, h3, unknown] = [
      ...(await gridNodeAggregates(client, ['sub', 'f1', 'h3', 'unknown'])),
      undefined,
    ];
    expect(unknown).toBeUndefined();
    expect(sub).toEqual({
      nodeId: 'sub',
      cars: 3,
      plugged: 2,
      charging: 1,
      baseLoadKwhPerYear: 1000 + 500 + 3 * 3500,
      plannedKw: [
        { start: slot(0), kw: 14 },
        { start: slot(1), kw: 10.4 },
        { start: slot(2), kw: 15.9 },
      ],
    });
    expect(f1).toMatchObject({ cars: 2, plugged: 2, charging: 1, baseLoadKwhPerYear: 1000 + 500 + 7000 });
    expect(f1!.plannedKw.map((entry) => entry.kw)).toEqual([11, 7.4, 12.9]);
    expect(h3).toMatchObject({
      cars: 1,
      plugged: 0,
      charging: 0,
      plannedKw: [3, 3, 3].map((kw, i) => ({ start: slot(i), kw })),
    });
    // A new plan replaces every car's share: one that leaves c1 out leaves it without planned load.
    await client.transaction((tx) =>
      savePlan(tx, {
        reason: 'next',
        horizonStart: at,
        horizonEnd: at,
        body: {},
        vehiclePower: { firstSlotStart: at, slotMinutes: 15, vehicles: [{ id: 'c2', powerKw: [1] }] },
      }),
    );
    expect((await gridNodeAggregates(client, ['sub']))[0]!.plannedKw).toEqual([{ start: slot(0), kw: 1 }]);
    await expect(assignVehiclesToNode(client, ['c1'], 'nowhere')).rejects.toThrow(/no grid node "nowhere"/);
  });
});
