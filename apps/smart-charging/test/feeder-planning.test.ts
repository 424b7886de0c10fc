import { createSimulator, type Simulator } from '@voltkit/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardData } from '../src/service/http/dashboard-data.ts';
import { listCommands } from '../src/store/command-log.ts';
import { migrate } from '../src/store/migrations.ts';
import { DEFAULT_PREFERENCES } from '../src/store/preferences.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import {
  api,
  enrollOverHttp,
  everyDayAt,
  startService,
  TestBrowser,
  type RunningService,
} from './harness.ts';

const START = new Date('2026-11-23T18:00:00Z');

interface PlanView {
  id: string;
  reason: string;
  plan: {
    slots: { start: string; limitKw: number; chargingKw: number }[];
    vehicles: {
      id: string;
      powerKw: number[];
      cost: number;
      targetReached: boolean;
      shortfall?: { message: string };
    }[];
    summary: { totalCost: number; immediateCost: number };
    nodes?: { id: string; limitKw: number[]; baseLoadKw: number[]; chargingKw: number[] }[];
  };
  skipped: { vehicleId: string; reason: string }[];
  units: { unit: string; id: string; reason: string }[];
}
interface Report {
  ok: boolean;
  plans?: { unit: string; planId: string }[];
  error?: string;
}

/**
 * The service plans each top-level grid node on its own with the tree planner: a change in one feeder
 * re-plans that feeder only, every node's limit holds, and the API shows the units' plans as one.
 */
describe('planning per top-level grid node', () => {
  let sim: Simulator;
  let db: SqlClient;
  let running: RunningService;
  const cars: string[] = [];
  /** Each owner's signed-in browser, by car index. */
  const owners: TestBrowser[] = [];

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    db = await openSqlClient({});
    await migrate(db);
    // On a manual clock the shared read budget never refills; this test is about units, not quota.
    running = await startService(db, sim, { requestBudget: { capacity: 100_000, refillPerMinute: 100_000 } });
    for (let k = 0; k < 5; k++) {
      owners.push(new TestBrowser());
      cars.push(
        await enrollOverHttp(running, sim, {
          name: `Owner ${k}`,
          email: `owner${k}@example.com`,
          brand: k % 2 === 0 ? 'TESLA' : 'DS',
          browser: owners[k]!,
        }),
      );
    }
    for (const id of cars) {
      sim.setSoc(id, 0.3);
      sim.plugIn(id, { stationKw: 11 });
      expect(
        (
          await api(running.admin, 'PUT', `api/vehicles/${id}/preferences`, {
            ...DEFAULT_PREFERENCES,
            departures: everyDayAt('07:00'),
            targetSoc: 0.8,
          })
        ).status,
      ).toBe(200);
    }
    // Two feeders at the top; the first one's transformer is weaker than its three cars together.
    const nodes = [
      { id: 'f1', parentId: null, kind: 'feeder', name: 'Feeder 1', limitKw: 20 },
      { id: 't1', parentId: 'f1', kind: 'transformer', name: 'Transformer 1', limitKw: 9 },
      { id: 'f2', parentId: null, kind: 'feeder', name: 'Feeder 2', limitKw: 40, baseLoadKwhPerYear: 20_000 },
    ];
    for (const node of nodes)
      expect((await api(running.admin, 'POST', 'api/grid/nodes', node)).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await running?.close();
    await sim?.close();
    await db?.close();
  });

  it('re-plans the units a bulk assignment touches, and each node’s limit holds', async () => {
    const first = await api<{ replan: Report }>(running.admin, 'PUT', 'api/grid/nodes/t1/vehicles', {
      vehicleIds: cars.slice(0, 3),
    });
    expect(first.status).toBe(200);
    expect(first.body.replan.ok).toBe(true);
    // The cars left the site's plan and joined f1's.
    expect(first.body.replan.plans?.map((plan) => plan.unit)).toEqual(['node:f1', 'site']);
    const second = await api<{ replan: Report }>(running.admin, 'PUT', 'api/grid/nodes/f2/vehicles', {
      vehicleIds: cars.slice(3),
    });
    // The last cars left the site: it is no unit any more, and only f2 plans.
    expect(second.body.replan.plans?.map((plan) => plan.unit)).toEqual(['node:f2']);

    const view = (await api<PlanView>(running.admin, 'GET', 'api/plan')).body;
    expect(view.units.map((unit) => unit.unit)).toEqual(['node:f1', 'node:f2']);
    expect(view.plan.vehicles.map((vehicle) => vehicle.id).sort()).toEqual([...cars].sort());
    const nodes = new Map((view.plan.nodes ?? []).map((node) => [node.id, node]));
    expect([...nodes.keys()].sort()).toEqual(['f1', 'f2', 't1']);
    for (const node of nodes.values())
      node.chargingKw.forEach((kw, t) =>
        expect(kw + node.baseLoadKw[t]!, `${node.id} slot ${t}`).toBeLessThanOrEqual(node.limitKw[t]! + 1e-6),
      );
    // The weak transformer binds somewhere in the night: its three cars share 9 kW.
    expect(Math.max(...nodes.get('t1')!.chargingKw)).toBeCloseTo(9, 6);
    expect(nodes.get('f2')!.baseLoadKw.some((kw) => kw > 0)).toBe(true);

    const f1 = (await api<PlanView>(running.admin, 'GET', 'api/plan?unit=node:f1')).body;
    expect(f1.plan.vehicles.map((vehicle) => vehicle.id).sort()).toEqual(cars.slice(0, 3).sort());
    expect(
      (await api<{ error: { message: string } }>(running.admin, 'GET', 'api/plan?unit=feeder')).body.error
        .message,
    ).toContain('query.unit');
  });

  it('an owner’s dashboard shows their car with its feeder’s plan, and no other car', async () => {
    const { body } = await api<{
      vehicles: { id: string; socTrajectory: number[]; costPlanned: number | null }[];
      fleet: { slots: { plannedKw: Record<string, number> }[] };
    }>({ base: running.base, browser: owners[4]! }, 'GET', 'api/dashboard');
    expect(body.vehicles.map((vehicle) => vehicle.id)).toEqual([cars[4]]);
    // The car is planned in f2's unit: its trajectory and its power come from that plan.
    const f2 = (await api<PlanView>(running.admin, 'GET', 'api/plan?unit=node:f2')).body;
    const planned = f2.plan.vehicles.find((vehicle) => vehicle.id === cars[4])!;
    expect(body.vehicles[0]!.socTrajectory.length).toBe(planned.powerKw.length);
    expect(body.fleet.slots.map((slot) => slot.plannedKw[cars[4]!] ?? 0)).toEqual(planned.powerKw);
    for (const slot of body.fleet.slots) expect(Object.keys(slot.plannedKw)).toEqual([cars[4]]);
  });

  it('the operators’ dashboard holds at fleet scale: the load per unit, and only the cars asked for', async () => {
    const units = ['node:f1', 'node:f2'];
    const unitPlans = await Promise.all(
      units.map(
        async (unit) => (await api<PlanView>(running.admin, 'GET', `api/plan?unit=${unit}`)).body.plan,
      ),
    );
    const { body } = await api<DashboardData>(running.admin, 'GET', 'api/dashboard');
    expect(body.vehicles).toEqual([]);
    // Not one car of the fleet is in it: its size does not grow with the cars.
    const text = JSON.stringify(body);
    for (const car of cars) expect(text).not.toContain(car);
    for (const slot of body.fleet.slots) expect(Object.keys(slot.plannedKw).sort()).toEqual(units);
    for (const [k, unit] of units.entries()) {
      const planned = new Map(body.fleet.slots.map((slot) => [Date.parse(slot.start), slot.plannedKw[unit]]));
      for (const slot of unitPlans[k]!.slots)
        expect(planned.get(Date.parse(slot.start)), `${unit} at ${slot.start}`).toBeCloseTo(
          slot.chargingKw,
          9,
        );
    }
    expect(body.fleet.slots.some((slot) => (slot.plannedKw['node:f1'] ?? 0) > 0)).toBe(true);
    const total = (pick: (plan: PlanView['plan']) => number) =>
      unitPlans.reduce((sum, plan) => sum + pick(plan), 0);
    expect(body.fleet.costPlanned).toBeCloseTo(
      total((plan) => plan.summary.totalCost),
      9,
    );
    expect(body.fleet.costOnArrival).toBeCloseTo(
      total((plan) => plan.summary.immediateCost),
      9,
    );

    // A page of the console's table: the cars named, in that order, each with its own unit's plan.
    const asked = [cars[4]!, cars[0]!];
    const page = (
      await api<DashboardData>(running.admin, 'GET', `api/dashboard?vehicleIds=${asked.join(',')}`)
    ).body;
    expect(page.vehicles.map((vehicle) => vehicle.id)).toEqual(asked);
    for (const vehicle of page.vehicles) {
      const unitPlan = unitPlans.find((plan) => plan.vehicles.some((entry) => entry.id === vehicle.id))!;
      const planned = unitPlan.vehicles.find((entry) => entry.id === vehicle.id)!;
      const first = page.fleet.slots.findIndex(
        (slot) => Date.parse(slot.start) === Date.parse(unitPlan.slots[0]!.start),
      );
      expect(vehicle.plannedKw.length).toBe(page.fleet.slots.length);
      expect(vehicle.plannedKw.slice(first, first + planned.powerKw.length)).toEqual(planned.powerKw);
      expect(vehicle.plannedKw.some((kw) => kw > 0)).toBe(true);
      expect(vehicle.costPlanned).toBeCloseTo(planned.cost, 9);
    }

    // A bad list names the field and what is allowed.
    const bad = await api<{ error: { message: string } }>(
      running.admin,
      'GET',
      'api/dashboard?vehicleIds=a%20b',
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('vehicleIds');
    const many = Array.from({ length: 101 }, (_, k) => `car-${k}`).join(',');
    const tooMany = await api<{ error: { message: string } }>(
      running.admin,
      'GET',
      `api/dashboard?vehicleIds=${many}`,
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toContain('at most 100');
    // An owner naming someone else's car sees only their own.
    const owner = await api<DashboardData>(
      { base: running.base, browser: owners[4]! },
      'GET',
      `api/dashboard?vehicleIds=${cars[0]},${cars[4]}`,
    );
    expect(owner.body.vehicles.map((vehicle) => vehicle.id)).toEqual([cars[4]]);
    expect(JSON.stringify(owner.body)).not.toContain(cars[0]!);
  });

  it('a change in one feeder re-plans that feeder only; the other keeps its plan and commands', async () => {
    const before = (await api<PlanView>(running.admin, 'GET', 'api/plan')).body;
    const f2Before = before.units.find((unit) => unit.unit === 'node:f2')!;
    const f2Commands = async () =>
      (await listCommands(db))
        .filter((command) => cars.slice(3).includes(command.vehicleId))
        .map((command) => [command.id, command.status, command.planId])
        .sort();
    const commandsBefore = await f2Commands();
    expect(commandsBefore.length).toBeGreaterThan(0);

    const put = await api<{ replan: Report }>(running.admin, 'PUT', `api/vehicles/${cars[0]}/preferences`, {
      ...DEFAULT_PREFERENCES,
      departures: everyDayAt('06:00'),
      targetSoc: 0.6,
    });
    expect(put.body.replan.plans?.map((plan) => plan.unit)).toEqual(['node:f1']);
    const after = (await api<PlanView>(running.admin, 'GET', 'api/plan')).body;
    expect(after.units.find((unit) => unit.unit === 'node:f2')).toEqual(f2Before);
    expect(after.units.find((unit) => unit.unit === 'node:f1')?.id).not.toBe(
      before.units.find((unit) => unit.unit === 'node:f1')?.id,
    );
    expect(await f2Commands()).toEqual(commandsBefore);
  });

  it('a car moved to another feeder leaves the first one’s plan; a feeder moved below another stops being a unit', async () => {
    const moved = await api<{ replan: Report }>(running.admin, 'PUT', `api/vehicles/${cars[1]}/grid-node`, {
      nodeId: 'f2',
    });
    expect(moved.body.replan.plans?.map((plan) => plan.unit)).toEqual(['node:f1', 'node:f2']);
    const f1 = (await api<PlanView>(running.admin, 'GET', 'api/plan?unit=node:f1')).body;
    const f2 = (await api<PlanView>(running.admin, 'GET', 'api/plan?unit=node:f2')).body;
    expect(f1.plan.vehicles.map((vehicle) => vehicle.id)).not.toContain(cars[1]);
    expect(f2.plan.vehicles.map((vehicle) => vehicle.id)).toContain(cars[1]);
    // Its pending commands now come from f2's plan, none from f1's.
    const pending = (await listCommands(db)).filter(
      (command) => command.vehicleId === cars[1] && command.status === 'pending',
    );
    expect(pending.every((command) => command.planId === f2.id)).toBe(true);

    // f2 becomes a feeder of a new substation: one unit, planned under both limits.
    expect(
      (
        await api(running.admin, 'POST', 'api/grid/nodes', {
          id: 's1',
          parentId: null,
          kind: 'substation',
          name: 'Substation',
          limitKw: 25,
        })
      ).status,
    ).toBe(201);
    const reparent = await api<{ replan: Report }>(running.admin, 'PUT', 'api/grid/nodes/f2', {
      parentId: 's1',
      kind: 'feeder',
      name: 'Feeder 2',
      limitKw: 40,
      baseLoadKwhPerYear: 20_000,
    });
    expect(reparent.status).toBe(200);
    expect(reparent.body.replan.plans?.map((plan) => plan.unit)).toEqual(['node:s1']);
    const view = (await api<PlanView>(running.admin, 'GET', 'api/plan')).body;
    expect(view.units.map((unit) => unit.unit)).toEqual(['node:f1', 'node:s1']);
    const s1 = view.plan.nodes!.find((node) => node.id === 's1')!;
    s1.chargingKw.forEach((kw, t) => expect(kw + s1.baseLoadKw[t]!).toBeLessThanOrEqual(25 + 1e-6));
  });

  it('an unplugged car drops out of its feeder’s plan; the other unit keeps its plan', async () => {
    const before = (await api<PlanView>(running.admin, 'GET', 'api/plan')).body;
    sim.unplug(cars[0]!);
    expect(await running.service.monitorVehicles()).toContain(`${cars[0]} unplugged`);
    const reasons = await running.service.replan('after the poll', { units: ['node:f1'] });
    expect(reasons.skipped).toContainEqual({ vehicleId: cars[0], reason: 'unplugged' });
    const after = (await api<PlanView>(running.admin, 'GET', 'api/plan')).body;
    expect(after.units.find((unit) => unit.unit === 'node:s1')).toEqual(
      before.units.find((unit) => unit.unit === 'node:s1'),
    );
  });

  it('a re-plan sends no stop to a car already idle, and one to a car charging against the plan', async () => {
    // Send what is due (the first plans' stops), read the cars: they are idle now.
    await running.service.runDueCommands();
    await running.service.monitorVehicles();
    const s1Cars = [cars[1]!, cars[3]!, cars[4]!];
    const stopsNow = async () =>
      (await listCommands(db))
        .filter(
          (command) =>
            s1Cars.includes(command.vehicleId) &&
            command.action === 'stop_charge' &&
            command.status === 'pending' &&
            // "Now" (a stop already carried out at this instant makes a new one a millisecond later).
            command.dueAt.getTime() <= sim.clock.now().getTime() + 1_000,
        )
        .map((command) => command.vehicleId);
    expect(await stopsNow()).toEqual([]);
    // One car starts charging behind the plan's back (plugged in again, it charges on its own): the next
    // re-plan stops it alone.
    sim.unplug(cars[3]!);
    sim.plugIn(cars[3]!, { stationKw: 11 });
    await running.service.monitorVehicles();
    const outcome = await running.service.replan('check the stops', { units: ['node:s1'] });
    const charging = outcome.plan.vehicles
      .filter((vehicle) => (vehicle.powerKw[0] ?? 0) > 0)
      .map((v) => v.id);
    expect(charging).not.toContain(cars[3]);
    expect(await stopsNow()).toEqual([cars[3]]);
  });
});
