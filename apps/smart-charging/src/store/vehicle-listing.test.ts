import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listCommandPage } from './command-pages.ts';
import { CursorError, type Page } from './cursor.ts';
import { listGrantPage } from './grant-listing.ts';
import { assignVehiclesToNode, saveGridNode } from './grid-nodes.ts';
import type { SqlClient } from './sql-client.ts';
import { TEST_BACKENDS } from './test-backends.ts';
import { findVehicleListing, listVehiclePage, type VehicleListFilter } from './vehicle-listing.ts';
import { saveVehicleState } from './vehicles.ts';

const AT = new Date('2026-11-21T21:00:00Z');

describe.each(TEST_BACKENDS)('paged vehicle, grant and command lists on $name storage', (backend) => {
  let client: SqlClient;
  let dispose: () => Promise<void>;
  const cars = Array.from({ length: 7 }, (_, index) => `car-${index + 1}`);
  beforeEach(async () => {
    ({ client, dispose } = await backend.open());
    await client.query(`insert into owners (id, display_name) values ('ada', 'Ada'), ('bo', 'Bo')`);
    await client.query(
      `insert into grants (id, owner_id, scopes, status) values
       ('g-ada', 'ada', '{}', 'active'), ('g-bo', 'bo', '{}', 'active'), ('g-old', 'bo', '{}', 'revoked')`,
    );
    for (const [index, id] of cars.entries())
      await client.query(
        `insert into vehicles (id, grant_id, make, model, year) values ($1, $2, 'TESLA', 'Model Y', 2025)`,
        [id, index < 2 ? 'g-ada' : index === 6 ? 'g-old' : 'g-bo'],
      );
    for (const [index, id] of cars.entries())
      await saveVehicleState(
        client,
        id,
        { soc: 0.5, pluggedIn: index % 2 === 0, charging: 'NOT_CHARGING' },
        AT,
      );
    await saveGridNode(
      client,
      { id: 'f', parentId: null, kind: 'feeder', name: 'F', limitKw: 100 },
      'create',
    );
    await saveGridNode(
      client,
      { id: 'h', parentId: 'f', kind: 'connection', name: 'H', limitKw: 11 },
      'create',
    );
    await assignVehiclesToNode(client, ['car-2', 'car-5'], 'h');
    await assignVehiclesToNode(client, ['car-7'], 'f');
    for (const [index, id] of cars.entries())
      for (const action of ['start_charge', 'stop_charge'])
        await client.query(
          `insert into commands (id, vehicle_id, action, due_at, status) values ($1, $2, $3, $4, $5)`,
          [
            `${id}-${action}`,
            id,
            action,
            new Date(AT.getTime() + (index % 3) * 60_000),
            action === 'start_charge' ? 'confirmed' : 'pending',
          ],
        );
  });
  afterEach(async () => dispose());

  async function everyPage<T>(read: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[][]> {
    const pages: T[][] = [];
    let cursor: string | undefined;
    do {
      const page = await read(cursor);
      pages.push(page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return pages;
  }
  const vehiclePages = (filter: Omit<VehicleListFilter, 'cursor'>) =>
    everyPage((cursor) => listVehiclePage(client, { ...filter, ...(cursor ? { cursor } : {}) })).then(
      (pages) => pages.map((page) => page.map((vehicle) => vehicle.id)),
    );

  it('pages cars by id with a cursor, each once, and filters by owner, node subtree, grant status and plug', async () => {
    expect(await vehiclePages({ limit: 3 })).toEqual([
      ['car-1', 'car-2', 'car-3'],
      ['car-4', 'car-5', 'car-6'],
      ['car-7'],
    ]);
    // Exactly a page: the last one says so without an empty extra page.
    expect(await vehiclePages({ limit: 7 })).toEqual([cars]);
    expect(await vehiclePages({ limit: 10, ownerId: 'ada' })).toEqual([['car-1', 'car-2']]);
    expect(await vehiclePages({ limit: 1, ownerId: 'nobody' })).toEqual([[]]);
    expect(await vehiclePages({ limit: 2, nodeId: 'f' })).toEqual([['car-2', 'car-5'], ['car-7']]);
    expect(await vehiclePages({ limit: 10, nodeId: 'h' })).toEqual([['car-2', 'car-5']]);
    expect(await vehiclePages({ limit: 10, grantStatus: 'revoked' })).toEqual([['car-7']]);
    expect(await vehiclePages({ limit: 10, pluggedIn: true, ownerId: 'bo' })).toEqual([
      ['car-3', 'car-5', 'car-7'],
    ]);
    const one = await findVehicleListing(client, 'car-7');
    expect(one).toMatchObject({
      id: 'car-7',
      ownerId: 'bo',
      grantStatus: 'revoked',
      gridNodeId: 'f',
      preferences: null,
    });
    expect(one?.state?.body).toMatchObject({ pluggedIn: true });
    expect(await findVehicleListing(client, 'car-99')).toBeUndefined();
  });

  it('pages grants by id with their cars, filtered by owner and status, and refuses a forged cursor', async () => {
    const pages = await everyPage((cursor) =>
      listGrantPage(client, { limit: 2, ...(cursor ? { cursor } : {}) }),
    );
    expect(pages.map((page) => page.map((grant) => [grant.id, grant.vehicleIds]))).toEqual([
      [
        ['g-ada', ['car-1', 'car-2']],
        ['g-bo', ['car-3', 'car-4', 'car-5', 'car-6']],
      ],
      [['g-old', ['car-7']]],
    ]);
    const bo = await listGrantPage(client, { limit: 10, ownerId: 'bo' });
    expect(bo.items.map((grant) => grant.id)).toEqual(['g-bo', 'g-old']);
    const revoked = await listGrantPage(client, { limit: 10, ownerId: 'bo', status: 'revoked' });
    expect(revoked).toEqual({
      items: [
        {
          id: 'g-old',
          ownerId: 'bo',
          status: 'revoked',
          statusReason: null,
          scopes: [],
          vehicleIds: ['car-7'],
        },
      ],
      nextCursor: null,
    });
    expect((await listGrantPage(client, { limit: 10, ownerId: 'nobody' })).items).toEqual([]);
    await expect(
      listGrantPage(client, { limit: 1, cursor: Buffer.from('[1]').toString('base64url') }),
    ).rejects.toThrow(CursorError);
  });

  it('pages the command log in due order and refuses a cursor it did not give out', async () => {
    const pages = await everyPage((cursor) =>
      listCommandPage(client, { limit: 4, ...(cursor ? { cursor } : {}) }),
    );
    const all = pages.flat();
    expect(pages.map((page) => page.length)).toEqual([4, 4, 4, 2]);
    expect(new Set(all.map((command) => command.id)).size).toBe(14);
    const order = all.map((command) =>
      [command.dueAt.getTime(), command.vehicleId, command.action].join(' '),
    );
    expect(order).toEqual([...order].sort());
    // Newest first: the same log reversed, page by page through its own cursors.
    const newest = (
      await everyPage((cursor) =>
        listCommandPage(client, { limit: 4, order: 'newest', ...(cursor ? { cursor } : {}) }),
      )
    ).flat();
    expect(newest.map((command) => command.id)).toEqual(all.map((command) => command.id).reverse());
    const bo = await listCommandPage(client, {
      limit: 100,
      ownerId: 'bo',
      status: 'pending',
      since: new Date(AT.getTime() + 60_000),
    });
    expect(bo.items.map((command) => command.vehicleId).sort()).toEqual(['car-3', 'car-5', 'car-6']);
    const windowed = await listCommandPage(client, {
      limit: 100,
      until: new Date(AT.getTime() + 60_000),
      vehicleId: 'car-4',
    });
    expect(windowed.items.map((command) => command.action)).toEqual(['start_charge', 'stop_charge']);
    for (const cursor of [
      'garbage',
      Buffer.from('["x"]').toString('base64url'),
      Buffer.from('{}').toString('base64url'),
    ])
      await expect(listCommandPage(client, { limit: 1, cursor })).rejects.toThrow(CursorError);
    await expect(
      listVehiclePage(client, { limit: 1, cursor: Buffer.from('[1]').toString('base64url') }),
    ).rejects.toThrow(CursorError);
  });
});
