import { createSimulator, type Simulator } from '@voltkit/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/store/migrations.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { api, enrollOverHttp, listAll, startService, TestBrowser, type RunningService } from './harness.ts';

const START = new Date('2026-11-21T21:00:00Z');

interface Problem {
  error: { code: string; message: string; issues?: { location: string; path: string; message: string }[] };
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

describe('the fleet API: grid nodes, assignment, aggregates and cursor pages', () => {
  let sim: Simulator;
  let db: SqlClient;
  let running: RunningService;
  const ada = new TestBrowser();
  const bo = new TestBrowser();
  let adaCars: string[];
  let boCar: string;
  let cyCar: string;

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    db = await openSqlClient({});
    await migrate(db);
    running = await startService(db, sim);
    const first = await enrollOverHttp(running, sim, {
      name: 'Ada',
      email: 'ada@example.com',
      brand: 'TESLA',
      browser: ada,
    });
    boCar = await enrollOverHttp(running, sim, {
      name: 'Bo',
      email: 'bo@example.com',
      brand: 'CITROEN',
      model: 'ë-C4',
      browser: bo,
    });
    cyCar = await enrollOverHttp(running, sim, {
      name: 'Cy',
      email: 'cy@example.com',
      brand: 'RENAULT',
      browser: new TestBrowser(),
    });
    adaCars = [first];
  });
  afterAll(async () => {
    await running?.close();
    await sim?.close();
    await db?.close();
  });

  it('builds the tree, naming the field of every refusal', async () => {
    const post = (body: unknown) => api<Problem>(running.admin, 'POST', 'api/grid/nodes', body);
    expect(
      (await post({ id: 'sub', parentId: null, kind: 'substation', name: 'North', limitKw: 40_000 })).status,
    ).toBe(201);
    const feeder = await post({
      id: 'f1',
      parentId: 'sub',
      kind: 'feeder',
      name: 'F1',
      limitKw: 2000,
      baseLoadKwhPerYear: 10,
    });
    expect(feeder.status).toBe(201);
    expect(feeder.body).toEqual({
      id: 'f1',
      parentId: 'sub',
      kind: 'feeder',
      name: 'F1',
      limitKw: 2000,
      baseLoadKwhPerYear: 10,
      limitMode: 'average',
    });
    expect(
      (
        await post({
          id: 'h1',
          parentId: 'f1',
          kind: 'connection',
          name: 'House',
          limitKw: 11,
          limitMode: 'hard',
        })
      ).status,
    ).toBe(201);
    const cases: [body: unknown, status: number, field: string][] = [
      [{ id: 'x', parentId: 'nowhere', kind: 'feeder', name: 'X', limitKw: 1 }, 400, 'body.parentId'],
      [{ id: 'x', parentId: 'h1', kind: 'transformer', name: 'X', limitKw: 1 }, 400, 'body.kind'],
      [{ id: 'f1', parentId: 'sub', kind: 'feeder', name: 'again', limitKw: 1 }, 409, 'body.id'],
      [{ id: 'x', parentId: null, kind: 'feeder', name: 'X', limitKw: -5 }, 400, 'body.limitKw'],
      [{ id: 'x', parentId: null, kind: 'bus', name: 'X', limitKw: 5 }, 400, 'body.kind'],
      [{ id: 'x y', parentId: null, kind: 'feeder', name: 'X', limitKw: 5 }, 400, 'body.id'],
      [{ id: 'x', parentId: null, kind: 'feeder', name: 'X', limitKw: 5, colour: 'red' }, 400, 'body.colour'],
    ];
    for (const [body, status, field] of cases) {
      const answer = await post(body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body.error.message, JSON.stringify(body)).toContain(field);
    }
    const cycle = await api<Problem>(running.admin, 'PUT', 'api/grid/nodes/sub', {
      parentId: 'h1',
      kind: 'substation',
      name: 'North',
      limitKw: 40_000,
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.message).toMatch(/^body\.parentId: .*own subtree/);
    const missing = await api<Problem>(running.admin, 'PUT', 'api/grid/nodes/nope', {
      parentId: null,
      kind: 'feeder',
      name: 'N',
      limitKw: 1,
    });
    expect(missing.status).toBe(404);
    const renamed = await api(running.admin, 'PUT', 'api/grid/nodes/f1', {
      parentId: 'sub',
      kind: 'feeder',
      name: 'F1 east',
      limitKw: 1800,
      baseLoadKwhPerYear: 10,
    });
    expect(renamed.status).toBe(200);
    const listed = await api<Page<{ id: string; name: string }>>(
      running.reader,
      'GET',
      'api/grid/nodes?limit=2',
    );
    expect(listed.body.items.map((node) => node.id)).toEqual(['f1', 'h1']);
    const rest = await api<Page<{ id: string }>>(
      running.reader,
      'GET',
      `api/grid/nodes?limit=2&cursor=${listed.body.nextCursor}`,
    );
    expect(rest.body).toEqual({ items: [expect.objectContaining({ id: 'sub' })], nextCursor: null });
    expect(
      (await api<Page<{ id: string }>>(running.reader, 'GET', 'api/grid/nodes?topLevel=true')).body.items.map(
        (n) => n.id,
      ),
    ).toEqual(['sub']);
    // /api/grid, the site the planner plans against, is untouched by the tree.
    expect((await api<{ limitKw: number }>(running.reader, 'GET', 'api/grid')).status).toBe(200);
  });

  it('hangs cars on nodes, filters by subtree and sums them per node', async () => {
    for (const car of [adaCars[0], boCar])
      expect(
        (await api(running.admin, 'PUT', `api/vehicles/${car}/grid-node`, { nodeId: 'h1' })).status,
      ).toBe(200);
    const unknownNode = await api<Problem>(running.admin, 'PUT', `api/vehicles/${boCar}/grid-node`, {
      nodeId: 'nope',
    });
    expect(unknownNode.status).toBe(404);
    expect(unknownNode.body.error.message).toContain('body.nodeId');
    const unknownCar = await api<Problem>(running.admin, 'PUT', 'api/vehicles/no-such-car/grid-node', {
      nodeId: 'h1',
    });
    expect(unknownCar.status).toBe(404);
    expect(
      (await api<{ gridNodeId: string }>(running.reader, 'GET', `api/vehicles/${boCar}`)).body.gridNodeId,
    ).toBe('h1');
    const underSub = await listAll<{ id: string }>(running.reader, 'api/vehicles?nodeId=sub');
    expect(underSub.map((car) => car.id).sort()).toEqual([adaCars[0], boCar].sort());
    // An owner filtering by a node still sees only their own cars.
    expect(
      (await listAll<{ id: string }>({ base: running.base, browser: bo }, 'api/vehicles?nodeId=sub')).map(
        (car) => car.id,
      ),
    ).toEqual([boCar]);
    const aggregate = await api<{
      nodeId: string;
      cars: number;
      plugged: number;
      baseLoadKwhPerYear: number;
    }>(running.reader, 'GET', 'api/grid/nodes/sub/aggregate');
    expect(aggregate.body).toMatchObject({
      nodeId: 'sub',
      cars: 2,
      plugged: 0,
      charging: 0,
      baseLoadKwhPerYear: 10,
    });
    const feeders = await api<Page<{ nodeId: string; cars: number }>>(
      running.reader,
      'GET',
      'api/grid/aggregates?kind=feeder',
    );
    expect(feeders.body).toEqual({
      items: [expect.objectContaining({ nodeId: 'f1', cars: 2 })],
      nextCursor: null,
    });
    expect((await api(running.reader, 'GET', 'api/grid/nodes/nope/aggregate')).status).toBe(404);
  });

  it('assigns cars in bulk, all or none, and deletes only a node nothing hangs on', async () => {
    const node = { id: 'bulk-f', parentId: null, kind: 'feeder', name: 'Bulk feeder', limitKw: 50 };
    expect((await api(running.admin, 'POST', 'api/grid/nodes', node)).status).toBe(201);
    const bulk = (vehicleIds: unknown, caller = running.admin) =>
      api<Problem>(caller, 'PUT', 'api/grid/nodes/bulk-f/vehicles', { vehicleIds });
    const gridNodeOf = async (car: string) =>
      (await api<{ gridNodeId: string | null }>(running.reader, 'GET', `api/vehicles/${car}`)).body
        .gridNodeId;

    const partlyUnknown = await bulk([cyCar, 'no-such-car']);
    expect(partlyUnknown.status).toBe(404);
    expect(partlyUnknown.body.error.message).toContain('body.vehicleIds.1');
    expect(await gridNodeOf(cyCar)).toBeNull();
    const twice = await bulk([cyCar, cyCar]);
    expect(twice.status).toBe(400);
    expect(twice.body.error.message).toContain('body.vehicleIds');
    expect((await bulk([])).status).toBe(400);
    expect((await bulk([cyCar], running.reader)).status).toBe(403);
    expect(await gridNodeOf(cyCar)).toBeNull();

    const assigned = await api<{
      nodeId: string;
      vehicleIds: string[];
      replan: { ok: boolean; plans: { unit: string }[] };
    }>(running.admin, 'PUT', 'api/grid/nodes/bulk-f/vehicles', { vehicleIds: [cyCar] });
    expect(assigned.body).toMatchObject({ nodeId: 'bulk-f', vehicleIds: [cyCar], replan: { ok: true } });
    // The last car on no node left the site for its new top node: that unit is planned, the site is none.
    expect(assigned.body.replan.plans.map((plan) => plan.unit)).toEqual(['node:bulk-f']);
    const units = (await api<{ units: { unit: string }[] }>(running.admin, 'GET', 'api/plan')).body.units;
    expect(units.map((unit) => unit.unit)).not.toContain('site');
    expect(await gridNodeOf(cyCar)).toBe('bulk-f');

    const inUse = await api<Problem>(running.admin, 'DELETE', 'api/grid/nodes/bulk-f');
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.message).toContain('1 car(s)');
    const withChildren = await api<Problem>(running.admin, 'DELETE', 'api/grid/nodes/sub');
    expect(withChildren.status).toBe(409);
    expect(withChildren.body.error.message).toMatch(/[1-9]\d* child node\(s\)/);
    expect((await api(running.reader, 'DELETE', 'api/grid/nodes/bulk-f')).status).toBe(403);
    expect((await api(running.admin, 'DELETE', 'api/grid/nodes/nope')).status).toBe(404);

    await api(running.admin, 'PUT', `api/vehicles/${cyCar}/grid-node`, { nodeId: null });
    expect((await api(running.admin, 'DELETE', 'api/grid/nodes/bulk-f')).status).toBe(200);
    expect((await api(running.reader, 'GET', 'api/grid/nodes/bulk-f')).status).toBe(404);
  });

  it('pages vehicles and commands with cursors: every car once, an owner only theirs, a bad cursor a 400', async () => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Page<{ id: string }> } = await api<Page<{ id: string }>>(
        running.reader,
        'GET',
        `api/vehicles?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      pages.push(page.body.items.map((car) => car.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(pages.map((page) => page.length)).toEqual([1, 1, 1]);
    expect(pages.flat().sort()).toEqual([...adaCars, boCar, cyCar].sort());
    const adaPage = await api<Page<{ id: string }>>(
      { base: running.base, browser: ada },
      'GET',
      'api/vehicles?limit=1',
    );
    expect(adaPage.body).toEqual({ items: [expect.objectContaining({ id: adaCars[0] })], nextCursor: null });
    // A cursor names a position, not a permission: Bo paging from the first car on sees only Bo's.
    const firstPage = await api<Page<{ id: string }>>(running.reader, 'GET', 'api/vehicles?limit=1');
    const boAfter = await api<Page<{ id: string }>>(
      { base: running.base, browser: bo },
      'GET',
      `api/vehicles?limit=10&cursor=${firstPage.body.nextCursor}`,
    );
    expect(boAfter.status).toBe(200);
    for (const car of boAfter.body.items) expect(car.id).toBe(boCar);
    for (const bad of ['not*base64', 'bm9wZQ', 'WzFd']) {
      const answer = await api<Problem>(running.reader, 'GET', `api/vehicles?cursor=${bad}`);
      expect(answer.status, bad).toBe(400);
      expect(answer.body.error.message).toContain('query.cursor');
      expect((await api<Problem>(running.reader, 'GET', `api/commands?cursor=${bad}`)).status).toBe(400);
    }
    for (const limit of ['0', '1001', 'many', '2.5'])
      expect(
        (await api<Problem>(running.reader, 'GET', `api/vehicles?limit=${limit}`)).body.error.message,
      ).toContain('query.limit');
    expect(
      (await api<Problem>(running.reader, 'GET', 'api/vehicles?pluggedIn=maybe')).body.error.message,
    ).toContain('query.pluggedIn');
    const pluggedIn = await listAll<{ id: string }>(running.reader, 'api/vehicles?pluggedIn=false');
    expect(pluggedIn).toHaveLength(3);
    // The command log pages the same way, oldest first, every command once.
    const all = await listAll<{ id: string; dueAt: string }>(running.reader, 'api/commands');
    const paged = await listAll<{ id: string }>(running.reader, 'api/commands?limit=1');
    expect(paged.map((command) => command.id)).toEqual(all.map((command) => command.id));
  });
});
