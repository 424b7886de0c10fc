import { createSimulator, type Simulator } from '@voltkit/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PREFERENCES } from '../src/store/preferences.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { migrate } from '../src/store/migrations.ts';
import {
  api,
  enrollOverHttp,
  listAll,
  startService,
  TestBrowser,
  type Caller,
  type RunningService,
} from './harness.ts';

const START = new Date('2026-11-21T21:00:00Z');
const ROLES = ['anonymous', 'ownerA', 'ownerB', 'read', 'admin'] as const;
type Role = (typeof ROLES)[number];
type Expected = Record<Role, number>;

const all = (status: number): Expected => ({
  anonymous: status,
  ownerA: status,
  ownerB: status,
  read: status,
  admin: status,
});
/** Owners their own; operators everything. */
const signedIn: Expected = { anonymous: 401, ownerA: 200, ownerB: 200, read: 200, admin: 200 };
/** A's object: A and operators read it; B gets 404 as for a missing one. */
const ownReadable: Expected = { anonymous: 401, ownerA: 200, ownerB: 404, read: 200, admin: 200 };
/** A's object: A and admins change it; B 404; read-only operators 403. */
const ownWritable: Expected = { anonymous: 401, ownerA: 200, ownerB: 404, read: 403, admin: 200 };
const operatorOnly: Expected = { anonymous: 401, ownerA: 403, ownerB: 403, read: 200, admin: 200 };
const adminOnly = (status = 200): Expected => ({
  anonymous: 401,
  ownerA: 403,
  ownerB: 403,
  read: 403,
  admin: status,
});

interface Entry {
  readonly path: (ids: { vehicle: string; grant: string }) => string;
  readonly body?: unknown;
  readonly expected: Expected;
}

/**
 * Every route × every kind of caller. Keys are `METHOD /openapi/path`; the test below fails for a route in
 * the OpenAPI description without an entry here, so a new route cannot ship without deciding who may call it.
 * Order matters only for the last entry (signing out).
 */
const MATRIX: Record<string, Entry> = {
  'POST /api/enrollments': {
    path: () => 'api/enrollments',
    body: { ownerName: 'Someone' },
    expected: all(201),
  },
  'GET /connect/callback': { path: () => 'connect/callback?state=not-a-state&code=abc', expected: all(400) },
  'GET /api/grants': { path: () => 'api/grants', expected: signedIn },
  'POST /api/grants/{grantId}/reconnect': {
    path: ({ grant }) => `api/grants/${grant}/reconnect`,
    expected: ownWritable,
  },
  'GET /api/vehicles': { path: () => 'api/vehicles', expected: signedIn },
  'GET /api/vehicles/{vehicleId}': {
    path: ({ vehicle }) => `api/vehicles/${vehicle}`,
    expected: ownReadable,
  },
  'GET /api/vehicles/{vehicleId}/preferences': {
    path: ({ vehicle }) => `api/vehicles/${vehicle}/preferences`,
    expected: ownReadable,
  },
  'PUT /api/vehicles/{vehicleId}/preferences': {
    path: ({ vehicle }) => `api/vehicles/${vehicle}/preferences`,
    body: DEFAULT_PREFERENCES,
    expected: ownWritable,
  },
  'PUT /api/vehicles/{vehicleId}/charge-now': {
    path: ({ vehicle }) => `api/vehicles/${vehicle}/charge-now`,
    body: { enabled: false },
    expected: ownWritable,
  },
  'PUT /api/vehicles/{vehicleId}/mode': {
    path: ({ vehicle }) => `api/vehicles/${vehicle}/mode`,
    body: { mode: 'smart' },
    expected: ownWritable,
  },
  'GET /api/overrides': { path: () => 'api/overrides', expected: signedIn },
  'GET /api/plan': { path: () => 'api/plan', expected: operatorOnly },
  'POST /api/plan': { path: () => 'api/plan', body: { reason: 'matrix' }, expected: adminOnly() },
  'GET /api/prices': { path: () => 'api/prices', expected: signedIn },
  'PUT /api/prices': {
    path: () => 'api/prices',
    body: { slots: [{ start: '2026-11-22T03:00:00Z', end: '2026-11-22T04:00:00Z', pricePerKwh: 0.2 }] },
    expected: adminOnly(),
  },
  'GET /api/grid': { path: () => 'api/grid', expected: operatorOnly },
  'PUT /api/grid': {
    path: () => 'api/grid',
    body: { limitKw: 11, baseLoadKwhPerYear: 3500 },
    expected: adminOnly(),
  },
  'GET /api/grid/events': { path: () => 'api/grid/events', expected: operatorOnly },
  // Created by the admin in the first entry; the later ones read, change and aggregate it.
  'POST /api/grid/nodes': {
    path: () => 'api/grid/nodes',
    body: { id: 'matrix-feeder', parentId: null, kind: 'feeder', name: 'Matrix feeder', limitKw: 400 },
    expected: adminOnly(201),
  },
  'GET /api/grid/nodes': { path: () => 'api/grid/nodes', expected: operatorOnly },
  'GET /api/grid/nodes/{nodeId}': { path: () => 'api/grid/nodes/matrix-feeder', expected: operatorOnly },
  'PUT /api/grid/nodes/{nodeId}': {
    path: () => 'api/grid/nodes/matrix-feeder',
    body: { parentId: null, kind: 'feeder', name: 'Matrix feeder', limitKw: 350 },
    expected: adminOnly(),
  },
  'GET /api/grid/nodes/{nodeId}/aggregate': {
    path: () => 'api/grid/nodes/matrix-feeder/aggregate',
    expected: operatorOnly,
  },
  'GET /api/grid/aggregates': { path: () => 'api/grid/aggregates?kind=feeder', expected: operatorOnly },
  'PUT /api/vehicles/{vehicleId}/grid-node': {
    path: ({ vehicle }) => `api/vehicles/${vehicle}/grid-node`,
    body: { nodeId: 'matrix-feeder' },
    expected: adminOnly(),
  },
  'PUT /api/grid/nodes/{nodeId}/vehicles': {
    path: () => 'api/grid/nodes/matrix-feeder/vehicles',
    body: { vehicleIds: [] },
    expected: { anonymous: 401, ownerA: 403, ownerB: 403, read: 403, admin: 400 },
  },
  // A's car hangs on it (the entry above): the admin is told to move it first; nobody else learns anything.
  'DELETE /api/grid/nodes/{nodeId}': {
    path: () => 'api/grid/nodes/matrix-feeder',
    expected: adminOnly(409),
  },
  'POST /api/grid/events': {
    path: () => 'api/grid/events',
    body: {
      kind: 'demand_response',
      startsAt: '2026-11-22T02:00:00Z',
      endsAt: '2026-11-22T02:30:00Z',
      limitKw: 9,
    },
    expected: adminOnly(201),
  },
  'GET /api/commands': { path: () => 'api/commands', expected: signedIn },
  'GET /api/dashboard': { path: () => 'api/dashboard', expected: signedIn },
  'GET /api/me': { path: () => 'api/me', expected: all(200) },
  'POST /api/session': {
    path: () => 'api/session',
    body: { credential: 'vkl_not-a-code-at-all' },
    expected: all(401),
  },
  // Authenticated by SC-Signature, not by token or session: unsigned, everyone is refused alike.
  'POST /webhooks/smartcar': {
    path: () => 'webhooks/smartcar',
    body: { version: '2.0', webhookId: 'w', eventName: 'verify', payload: { challenge: 'c' } },
    expected: all(401),
  },
  'GET /api/openapi.json': { path: () => 'api/openapi.json', expected: all(200) },
  'GET /': { path: () => '', expected: all(200) },
  'GET /login': { path: () => 'login', expected: all(200) },
  'GET /owner': { path: () => 'owner', expected: all(200) },
  'DELETE /api/grid/events/{eventId}': {
    // No such event: the admin learns so; nobody else learns anything.
    path: () => 'api/grid/events/00000000-0000-4000-8000-000000000000',
    expected: adminOnly(404),
  },
  'DELETE /api/session': { path: () => 'api/session', expected: all(200) },
};

describe('who may call what: every route × anonymous, owner A, owner B, read, admin', () => {
  let sim: Simulator;
  let db: SqlClient;
  let running: RunningService;
  let callers: Record<Role, Caller>;
  let ids: { vehicle: string; grant: string };
  let vehicleB: string;

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    db = await openSqlClient({});
    await migrate(db);
    running = await startService(db, sim);
    const browserA = new TestBrowser();
    const browserB = new TestBrowser();
    const vehicle = await enrollOverHttp(running, sim, {
      name: 'Ada',
      email: 'a@example.com',
      brand: 'TESLA',
      browser: browserA,
    });
    vehicleB = await enrollOverHttp(running, sim, {
      name: 'Bo',
      email: 'b@example.com',
      brand: 'CITROEN',
      model: 'ë-C4',
      browser: browserB,
    });
    const grant = (
      await api<{ id: string; grantId: string }>(running.admin, 'GET', `api/vehicles/${vehicle}`)
    ).body.grantId;
    ids = { vehicle, grant };
    callers = {
      anonymous: { base: running.base, browser: new TestBrowser() },
      ownerA: { base: running.base, browser: browserA },
      ownerB: { base: running.base, browser: browserB },
      read: running.reader,
      admin: running.admin,
    };
  });
  afterAll(async () => {
    await running?.close();
    await sim?.close();
    await db?.close();
  });

  it('has an entry for every route of the OpenAPI description, and no other', async () => {
    const document = (
      await api<{ paths: Record<string, Record<string, unknown>> }>(running.admin, 'GET', 'api/openapi.json')
    ).body;
    const routes = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.length).toBe(running.http.routes.length);
    expect(routes.filter((route) => !(route in MATRIX))).toEqual([]);
    expect(Object.keys(MATRIX).filter((route) => !routes.includes(route))).toEqual([]);
  });

  it('answers each caller as the matrix says, always with the documented error body', async () => {
    const seen: string[] = [];
    const expected: string[] = [];
    for (const [route, entry] of Object.entries(MATRIX)) {
      const method = route.split(' ')[0]!;
      for (const role of ROLES) {
        const answer = await api<{ error?: { code: string; message: string } }>(
          callers[role],
          method,
          entry.path(ids),
          entry.body,
        );
        seen.push(`${route} as ${role} → ${answer.status}`);
        expected.push(`${route} as ${role} → ${entry.expected[role]}`);
        if (answer.status >= 400) {
          expect(answer.body.error?.code, `${route} as ${role}`).toMatch(/^[A-Z_]+$/);
          expect(answer.body.error?.message.length, `${route} as ${role}`).toBeGreaterThan(0);
        }
      }
    }
    expect(seen).toEqual(expected);
  }, 120_000);

  it('filters lists to the owner: B never sees A’s car, grant, commands or dashboard row', async () => {
    // Sessions were ended by the last matrix entry: sign both owners in again through Connect.
    const browserB = new TestBrowser();
    await enrollOverHttp(running, sim, {
      name: 'Bo',
      email: 'b@example.com',
      brand: 'CITROEN',
      model: 'ë-C4',
      browser: browserB,
    });
    const b = { base: running.base, browser: browserB };
    const vehicles = (await listAll<{ id: string }>(b, 'api/vehicles')).map((vehicle) => vehicle.id);
    expect(vehicles).toEqual([vehicleB]);
    const grants = (await listAll<{ id: string }>(b, 'api/grants')).map((grant) => grant.id);
    expect(grants).not.toContain(ids.grant);
    const commands = await listAll<{ vehicleId: string }>(b, `api/commands?vehicleId=${ids.vehicle}`);
    expect(commands).toEqual([]);
    const dashboard = (
      await api<{ vehicles: { id: string }[]; fleet: { slots: { plannedKw: object }[] } }>(
        b,
        'GET',
        'api/dashboard',
      )
    ).body;
    expect(dashboard.vehicles.map((vehicle) => vehicle.id)).toEqual([vehicleB]);
    for (const slot of dashboard.fleet.slots) expect(Object.keys(slot.plannedKw)).not.toContain(ids.vehicle);
    // And the fleet view of an operator has both.
    const fleet = (await listAll<{ id: string }>(running.reader, 'api/vehicles')).map(
      (vehicle) => vehicle.id,
    );
    expect(fleet.sort()).toEqual([ids.vehicle, vehicleB].sort());
  });
});
