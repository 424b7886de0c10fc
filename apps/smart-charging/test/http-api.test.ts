import { createClient } from '@voltkit/core/client';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PREFERENCES } from '../src/store/preferences.ts';
import type { SqlClient } from '../src/store/sql-client.ts';
import { TEST_BACKENDS } from '../src/store/test-backends.ts';
import {
  api,
  connectCallback,
  enrollOverHttp,
  everyDayAt,
  listAll,
  startService,
  TestBrowser,
  type RunningService,
} from './harness.ts';

const START = new Date('2026-11-21T21:00:00Z'); // Saturday 22:00 in Berlin

interface Problem {
  error: { code: string; message: string; issues?: { location: string; path: string; message: string }[] };
}
interface CommandView {
  vehicleId: string;
  action: string;
  status: string;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  dueAt: string;
  id: string;
  instanceId: string | null;
}

describe.each(TEST_BACKENDS)('the HTTP API on $name storage', (backend) => {
  let sim: Simulator;
  let db: SqlClient;
  let dispose: () => Promise<void>;
  let running: RunningService;
  let tesla: string;
  let citroen: string;
  const bobBrowser = new TestBrowser();

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    ({ client: db, dispose } = await backend.open());
    running = await startService(db, sim);
  });
  afterAll(async () => {
    await running.close();
    await sim.close();
    await dispose();
  });

  const advance = async (minutes: number) => {
    await sim.clock.advance(minutes * 60_000);
  };
  const commands = async (query: string) => listAll<CommandView>(running.admin, `api/commands?${query}`);

  it('enrolls owners through Connect over HTTP and lists their cars with state, grant and next departure', async () => {
    tesla = await enrollOverHttp(running, sim, {
      name: 'Ada',
      email: 'ada@example.com',
      brand: 'TESLA',
      model: 'Model 3',
    });
    citroen = await enrollOverHttp(running, sim, {
      name: 'Bob',
      email: 'bob@example.com',
      brand: 'CITROEN',
      model: 'ë-C4',
      browser: bobBrowser,
    });

    const vehicles = await api<{
      items: {
        id: string;
        make: string;
        grantStatus: string;
        reconnectPath: string | null;
        state: { soc: number; pluggedIn: boolean } | null;
        nextDeparture: string | null;
      }[];
      nextCursor: string | null;
    }>(running.admin, 'GET', 'api/vehicles');
    expect(vehicles.status).toBe(200);
    expect(vehicles.body.nextCursor).toBeNull();
    const byId = new Map(vehicles.body.items.map((vehicle) => [vehicle.id, vehicle]));
    expect([...byId.keys()].sort()).toEqual([tesla, citroen].sort());
    for (const id of [tesla, citroen]) {
      const vehicle = byId.get(id)!;
      expect(vehicle).toMatchObject({ grantStatus: 'active', reconnectPath: null });
      // Read right after enrolling: the simulator's state, which the service stored.
      expect(vehicle.state?.soc).toBeCloseTo(sim.vehicle(id).state.soc!, 3);
      expect(vehicle.state?.pluggedIn).toBe(false);
      // Default preferences: weekdays at 07:30; the 21st is a Saturday, so Monday 07:30 Berlin.
      expect(vehicle.nextDeparture).toBe('2026-11-23T06:30:00.000Z');
    }
    expect(byId.get(tesla)!.make).toBe('TESLA');
    const grants = await api<{ items: { status: string; vehicleIds: string[] }[] }>(
      running.admin,
      'GET',
      'api/grants',
    );
    expect(grants.body.items.map((grant) => [grant.status, grant.vehicleIds.length])).toEqual([
      ['active', 1],
      ['active', 1],
    ]);
  });

  it('re-plans on a preference change, a demand-response event and charge now', async () => {
    sim.setSoc(tesla, 0.4);
    sim.plugIn(tesla, { stationKw: 11 });
    const preferences = { ...DEFAULT_PREFERENCES, departures: everyDayAt('07:00'), targetSoc: 0.9 };
    const put = await api<{ replan: { ok: boolean } }>(
      running.admin,
      'PUT',
      `api/vehicles/${tesla}/preferences`,
      preferences,
    );
    expect(put.status).toBe(200);
    expect(put.body.replan.ok).toBe(true);
    expect((await api(running.admin, 'GET', `api/vehicles/${tesla}/preferences`)).body).toEqual(preferences);
    type PlanView = {
      reason: string;
      plan: { vehicles: { id: string; targetSocPercent: number }[] };
      skipped: { vehicleId: string; reason: string }[];
    };
    let plan = (await api<PlanView>(running.admin, 'GET', 'api/plan')).body;
    expect(plan.reason).toBe(`preferences of ${tesla} changed`);
    expect(plan.plan.vehicles.find((vehicle) => vehicle.id === tesla)?.targetSocPercent).toBeCloseTo(90);
    expect(plan.skipped).toContainEqual({ vehicleId: citroen, reason: 'unplugged' });

    const event = await api<{ event: { id: string } }>(running.admin, 'POST', 'api/grid/events', {
      kind: 'demand_response',
      startsAt: '2026-11-22T02:00:00Z',
      endsAt: '2026-11-22T03:00:00Z',
      limitKw: 2,
    });
    expect(event.status).toBe(201);
    plan = (await api<PlanView>(running.admin, 'GET', 'api/plan')).body;
    expect(plan.reason).toMatch(/^demand response/);
    const events = await api<{ id: string }[]>(running.admin, 'GET', 'api/grid/events');
    expect(events.body.map((listed) => listed.id)).toEqual([event.body.event.id]);

    const on = await api(running.admin, 'PUT', `api/vehicles/${tesla}/charge-now`, { enabled: true });
    expect(on.status).toBe(200);
    expect((await api(running.admin, 'GET', 'api/overrides')).body).toEqual({ chargeNow: [tesla] });
    // Charge now: a start due at once (22:00 is expensive, so only the override explains it).
    expect(await commands(`vehicleId=${tesla}&status=pending`)).toContainEqual(
      expect.objectContaining({ action: 'start_charge', dueAt: START.toISOString() }),
    );
    await running.service.tick();
    expect(sim.vehicle(tesla).state.chargeEnabled).toBe(true);
    expect(
      (await api(running.admin, 'PUT', `api/vehicles/${tesla}/charge-now`, { enabled: false })).status,
    ).toBe(200);
    await running.service.tick();
    expect(sim.vehicle(tesla).state.chargeEnabled).toBe(false);
  });

  it('a mode switches smart charging off (no plan, no commands), to charge now and back to smart', async () => {
    const mode = async (value: string) =>
      api<{ mode: string; replan: { ok: boolean; skipped?: { vehicleId: string; reason: string }[] } }>(
        running.admin,
        'PUT',
        `api/vehicles/${tesla}/mode`,
        { mode: value },
      );
    const off = await mode('off');
    expect(off.status).toBe(200);
    expect(off.body.replan.skipped).toContainEqual({ vehicleId: tesla, reason: 'smart charging off' });
    expect((await api<{ mode: string }>(running.admin, 'GET', `api/vehicles/${tesla}`)).body.mode).toBe(
      'off',
    );
    expect(await commands(`vehicleId=${tesla}&status=pending`)).toEqual([]);
    const now = await mode('now');
    expect(now.body.replan.skipped?.map((skip) => skip.vehicleId)).not.toContain(tesla);
    expect((await api(running.admin, 'GET', 'api/overrides')).body).toEqual({ chargeNow: [tesla] });
    expect(await commands(`vehicleId=${tesla}&status=pending`)).toContainEqual(
      expect.objectContaining({ action: 'start_charge' }),
    );
    expect((await mode('smart')).status).toBe(200);
    const vehicle = await api<{ mode: string; chargeNow: boolean }>(
      running.admin,
      'GET',
      `api/vehicles/${tesla}`,
    );
    expect(vehicle.body).toMatchObject({ mode: 'smart', chargeNow: false });
    expect((await mode('sometimes')).status).toBe(400);
  });

  it('a second instance on the same database plans with a mode set through the first', async () => {
    const other = await startService(db, sim, { start: false });
    try {
      const skippedBy = async (instance: RunningService) =>
        (await instance.service.replan('another instance plans')).skipped.map((skip) => skip.vehicleId);
      await api(running.admin, 'PUT', `api/vehicles/${tesla}/mode`, { mode: 'off' });
      expect(await skippedBy(other)).toContain(tesla);
      // And back, through the other instance this time: the first one follows.
      await api(other.admin, 'PUT', `api/vehicles/${tesla}/mode`, { mode: 'smart' });
      expect(await skippedBy(running)).not.toContain(tesla);
      expect((await api<{ mode: string }>(running.admin, 'GET', `api/vehicles/${tesla}`)).body.mode).toBe(
        'smart',
      );
    } finally {
      await other.close();
    }
  });

  it('cancels a demand-response event and re-plans; an unknown or malformed id changes nothing', async () => {
    const before = (await api<{ id: string }[]>(running.admin, 'GET', 'api/grid/events')).body;
    const created = await api<{ event: { id: string } }>(running.admin, 'POST', 'api/grid/events', {
      kind: 'demand_response',
      startsAt: '2026-11-22T04:00:00Z',
      endsAt: '2026-11-22T05:00:00Z',
      limitKw: 1,
    });
    expect(created.status).toBe(201);
    const unknown = await api(
      running.admin,
      'DELETE',
      'api/grid/events/00000000-0000-4000-8000-000000000000',
    );
    expect(unknown.status).toBe(404);
    const malformed = await api<{ error: { message: string } }>(
      running.admin,
      'DELETE',
      'api/grid/events/not-a-uuid',
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toContain('params.eventId');
    const cancelled = await api(running.admin, 'DELETE', `api/grid/events/${created.body.event.id}`);
    expect(cancelled.status).toBe(200);
    expect((await api<{ reason: string }>(running.admin, 'GET', 'api/plan')).body.reason).toBe(
      `demand-response event ${created.body.event.id} cancelled`,
    );
    expect((await api<{ id: string }[]>(running.admin, 'GET', 'api/grid/events')).body).toEqual(before);
  });

  it('answers malformed input with a 400 naming the field, and stores nothing', async () => {
    const snapshot = async () => ({
      vehicles: (await api(running.admin, 'GET', 'api/vehicles')).body,
      preferences: (await api(running.admin, 'GET', `api/vehicles/${tesla}/preferences`)).body,
      grid: (await api(running.admin, 'GET', 'api/grid')).body,
      events: (await api(running.admin, 'GET', 'api/grid/events')).body,
      prices: (await api(running.admin, 'GET', 'api/prices')).body,
      grants: (await api(running.admin, 'GET', 'api/grants')).body,
      plan: (await api<{ id: string }>(running.admin, 'GET', 'api/plan')).body.id,
      commands: await commands(''),
      overrides: (await api(running.admin, 'GET', 'api/overrides')).body,
    });
    const before = await snapshot();
    const good = { ...DEFAULT_PREFERENCES };
    const cases: [method: string, path: string, body: unknown, field: string][] = [
      ['PUT', `api/vehicles/${tesla}/preferences`, { ...good, targetSoc: 3 }, 'body.targetSoc'],
      [
        'PUT',
        `api/vehicles/${tesla}/preferences`,
        { ...good, departures: { ...good.departures, monday: '7am' } },
        'body.departures.monday',
      ],
      ['PUT', `api/vehicles/${tesla}/preferences`, { ...good, colour: 'red' }, 'body.colour'],
      [
        'PUT',
        `api/vehicles/${tesla}/preferences`,
        { ...good, minimumSoc: 0.9, targetSoc: 0.5 },
        'body.minimumSoc',
      ],
      ['PUT', `api/vehicles/${encodeURIComponent('no such car!')}/preferences`, good, 'params.vehicleId'],
      ['PUT', 'api/grid', { limitKw: -1, baseLoadKwhPerYear: 3500 }, 'body.limitKw'],
      ['PUT', 'api/grid', '{"limitKw": 5,', 'body'],
      [
        'POST',
        'api/grid/events',
        {
          kind: 'demand_response',
          startsAt: '2026-11-22T03:00:00Z',
          endsAt: '2026-11-22T02:00:00Z',
          limitKw: 1,
        },
        'body.endsAt',
      ],
      [
        'PUT',
        'api/prices',
        {
          slots: [
            { start: '2026-11-22T00:00:00Z', end: '2026-11-22T01:00:00Z', pricePerKwh: 0.1 },
            { start: '2026-11-22T01:00:00Z', end: '2026-11-22T01:00:00Z', pricePerKwh: 0.1 },
          ],
        },
        'body.slots.1.end',
      ],
      [
        'PUT',
        'api/prices',
        { slots: [{ start: '2026-11-22T00:00:00Z', end: '2026-11-22T01:00:00Z', pricePerKwh: 'cheap' }] },
        'body.slots.0.pricePerKwh',
      ],
      [
        'PUT',
        'api/prices',
        {
          slots: [
            { start: '2026-11-22T00:00:00Z', end: '2026-11-22T01:00:00Z', pricePerKwh: 0.1 },
            { start: '2026-11-22T00:30:00Z', end: '2026-11-22T01:30:00Z', pricePerKwh: 0.1 },
          ],
        },
        'body.slots.1.start',
      ],
      ['PUT', `api/vehicles/${tesla}/charge-now`, { enabled: 'yes' }, 'body.enabled'],
      ['POST', 'api/enrollments', {}, 'body.ownerName'],
      ['POST', 'api/enrollments', { ownerName: 'Eve', make: 'tesla motors' }, 'body.make'],
      ['POST', 'api/plan', { reason: 42 }, 'body.reason'],
      ['GET', 'api/commands?since=yesterday', undefined, 'query.since'],
      ['GET', `api/commands?vehicleId=${tesla}&colour=red`, undefined, 'query.colour'],
      ['GET', 'api/prices?from=tomorrow', undefined, 'query.from'],
      ['GET', 'connect/callback?code=abc', undefined, 'query.state'],
      ['GET', 'connect/callback?code=abc&state=not-ours', undefined, 'query.state'],
    ];
    for (const [method, path, body, field] of cases) {
      const response = await api<Problem>(running.admin, method, path, body);
      const problem = response.body;
      expect({ path, field, status: response.status, code: problem.error.code }).toEqual({
        path,
        field,
        status: 400,
        code: 'VALIDATION',
      });
      expect(problem.error.message).toContain(`${field}:`);
    }
    const unknown = await api<Problem>(running.admin, 'PUT', 'api/vehicles/no-such-car/preferences', good);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('params.vehicleId');
    expect((await api<Problem>(running.admin, 'GET', 'api/nothing-here')).status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it('describes every route in its OpenAPI document', async () => {
    const document = (
      await api<{
        openapi: string;
        paths: Record<
          string,
          Record<string, { parameters?: { name: string; in: string }[]; responses: object }>
        >;
      }>(running.admin, 'GET', 'api/openapi.json')
    ).body;
    expect(document.openapi).toBe('3.1.0');
    expect(running.http.routes.length).toBeGreaterThanOrEqual(20);
    for (const route of running.http.routes) {
      const [method, url] = route.split(' ') as [string, string];
      const path = url.replace(/:([A-Za-z]+)/g, '{$1}');
      const operation = document.paths[path]?.[method.toLowerCase()];
      expect(operation, route).toBeDefined();
      expect(Object.keys(operation!.responses)).toContain('400');
      for (const name of [...url.matchAll(/:([A-Za-z]+)/g)].map((match) => match[1]))
        expect(operation!.parameters, route).toContainEqual(expect.objectContaining({ name, in: 'path' }));
      // And fastify really serves it.
      expect(running.http.app.hasRoute({ method, url }), route).toBe(true);
    }
    const operations = Object.values(document.paths).flatMap((methods) => Object.keys(methods));
    expect(operations).toHaveLength(running.http.routes.length);
  });

  it('retries a command due while the car is asleep, with backoff, and reports each attempt', async () => {
    sim.setSoc(citroen, 0.3);
    sim.plugIn(citroen, { stationKw: 7.4 });
    await advance(5);
    await running.service.tick();
    sim.setAsleep(citroen, true);
    const due = sim.clock.now().toISOString();
    expect(
      (await api(running.admin, 'PUT', `api/vehicles/${citroen}/charge-now`, { enabled: true })).status,
    ).toBe(200);
    const start = () =>
      commands(`vehicleId=${citroen}`).then((log) =>
        log.find((command) => command.action === 'start_charge' && command.dueAt === due),
      );
    await running.service.tick();
    const first = await start();
    expect(first).toMatchObject({ status: 'pending', attempts: 1, lastError: 'VEHICLE_STATE:ASLEEP' });
    const firstRetry = Date.parse(first!.nextAttemptAt!) - sim.clock.now().getTime();
    await advance(1);
    await running.service.tick();
    const second = await start();
    expect(second).toMatchObject({ status: 'pending', attempts: 2, lastError: 'VEHICLE_STATE:ASLEEP' });
    // Backoff grows between attempts.
    expect(Date.parse(second!.nextAttemptAt!) - sim.clock.now().getTime()).toBeGreaterThan(firstRetry);
    sim.setAsleep(citroen, false);
    await advance(2);
    await running.service.tick();
    const confirmed = await start();
    expect(confirmed).toMatchObject({ status: 'confirmed', attempts: 3, lastError: null });
    expect(sim.vehicle(citroen).state.chargeEnabled).toBe(true);
    // The log names the instance that sent it to operators; the owner's view does not name a host.
    expect(confirmed!.instanceId).toEqual(expect.any(String));
    const bob = { base: running.base, browser: bobBrowser };
    const bobsView = await listAll<CommandView>(bob, `api/commands?vehicleId=${citroen}`);
    expect(bobsView.find((command) => command.id === confirmed!.id)).toMatchObject({ instanceId: null });
    await api(running.admin, 'PUT', `api/vehicles/${citroen}/charge-now`, { enabled: false });
    await running.service.tick();
  });

  it('fails a command whose car was unplugged, says why, and re-plans without the car', async () => {
    await advance(5);
    await running.service.tick(); // the car monitor has just run; the next tick only runs commands
    await api(running.admin, 'PUT', `api/vehicles/${tesla}/charge-now`, { enabled: true });
    sim.unplug(tesla);
    await running.service.tick();
    const failed = await commands(`vehicleId=${tesla}&status=failed`);
    expect(failed).toContainEqual(
      expect.objectContaining({
        action: 'start_charge',
        lastError: 'VEHICLE_STATE:CHARGING_PLUG_NOT_CONNECTED',
      }),
    );
    const plan = (
      await api<{ reason: string; skipped: { vehicleId: string; reason: string }[] }>(
        running.admin,
        'GET',
        'api/plan',
      )
    ).body;
    expect(plan.reason).toContain(`command failed for ${tesla}`);
    expect(plan.skipped).toContainEqual({ vehicleId: tesla, reason: 'unplugged' });
    // Nothing of the car is left waiting; everything not sent says why.
    for (const command of await commands(`vehicleId=${tesla}`)) {
      expect(['confirmed', 'failed', 'cancelled']).toContain(command.status);
      if (command.status !== 'confirmed') expect(command.lastError).toBeTruthy();
    }
  });

  it('shows a grant the owner revoked, with a link that reconnects it', async () => {
    const amtClient = createClient({
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
      redirectUri: running.redirectUri,
      origin: sim.url,
    });
    await amtClient.deleteConnections(sim.demoApp.managementToken, { vehicleId: citroen });
    await api(running.admin, 'PUT', `api/vehicles/${citroen}/charge-now`, { enabled: true });
    await running.service.tick();
    type Listed = { id: string; grantId: string; grantStatus: string; reconnectPath: string | null };
    // The owner sees it in their own session.
    const bob = { base: running.base, browser: bobBrowser };
    const listed = (await listAll<Listed>(bob, 'api/vehicles')).find((vehicle) => vehicle.id === citroen)!;
    expect(listed.grantStatus).toBe('revoked');
    expect(listed.reconnectPath).toBe(`api/grants/${listed.grantId}/reconnect`);

    const callbackUrl = await connectCallback(running, sim, bobBrowser, {
      email: 'bob@example.com',
      reconnectPath: listed.reconnectPath!,
      make: 'CITROEN',
    });
    const callback = await bobBrowser.fetch(callbackUrl);
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe(`../?enrolled=${listed.grantId}`);
    const after = (await listAll<Listed>(bob, 'api/vehicles')).find((vehicle) => vehicle.id === citroen)!;
    expect(after).toMatchObject({ grantStatus: 'active', reconnectPath: null });
  });

  it('smart-charges a car only at home when its owner asks so', async () => {
    await api(running.admin, 'PUT', `api/vehicles/${citroen}/charge-now`, { enabled: false });
    const { latitude, longitude } = sim.vehicle(citroen).state;
    type Answer = { replan: { ok: boolean; skipped: { vehicleId: string; reason: string }[] } };
    const prefer = (home: { latitude: number; longitude: number }) =>
      api<Answer>(running.admin, 'PUT', `api/vehicles/${citroen}/preferences`, {
        ...DEFAULT_PREFERENCES,
        smartChargeOnlyAtHome: true,
        home: { ...home, radiusMeters: 200 },
      });
    const away = await prefer({ latitude: latitude > 0 ? latitude - 1 : latitude + 1, longitude });
    expect(away.body.replan.skipped).toContainEqual({ vehicleId: citroen, reason: 'away from home' });
    const home = await prefer({ latitude: latitude + 0.001, longitude });
    expect(home.body.replan.ok).toBe(true);
    expect(home.body.replan.skipped.map((skip) => skip.vehicleId)).not.toContain(citroen);
  });

  it('imports a price series over the window it covers and re-plans with it', async () => {
    const from = Date.UTC(2026, 10, 22, 1);
    const slots = Array.from({ length: 8 }, (_, k) => ({
      start: new Date(from + k * 15 * 60_000).toISOString(),
      end: new Date(from + (k + 1) * 15 * 60_000).toISOString(),
      pricePerKwh: k % 2 === 0 ? -0.05 : 0.42,
    }));
    const put = await api<{ stored: number; replan: { ok: boolean } }>(running.admin, 'PUT', 'api/prices', {
      slots,
    });
    expect(put.body).toMatchObject({ stored: 8, replan: { ok: true } });
    const stored = await api<{ slots: { start: string; end: string; pricePerKwh: number }[] }>(
      running.admin,
      'GET',
      `api/prices?from=${slots[0]!.start}&to=${slots.at(-1)!.end}`,
    );
    // The hourly prices there before are gone: exactly the imported quarter-hours remain.
    expect(stored.body.slots).toEqual(slots);
    expect((await api<{ reason: string }>(running.admin, 'GET', 'api/plan')).body.reason).toBe(
      '8 prices imported',
    );
  });
});
