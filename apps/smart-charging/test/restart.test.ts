import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDueCommands, type CommandRecord } from '../src/store/command-log.ts';
import { saveGridSettings } from '../src/store/grid.ts';
import { migrate } from '../src/store/migrations.ts';
import { DEFAULT_PREFERENCES } from '../src/store/preferences.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { findVehicle } from '../src/store/vehicles.ts';
import { TEST_DATABASE_URL, testTokenCipher } from '../src/store/test-backends.ts';
import { api, enrollOverHttp, everyDayAt, listAll, startService, type RunningService } from './harness.ts';

const START = new Date('2026-11-22T00:00:00Z'); // 01:00 in Berlin
const DEPARTURE = new Date('2026-11-22T06:00:00Z'); // 07:00 in Berlin
const CARS = [
  { brand: 'TESLA', model: 'Model 3', soc: 0.4 },
  { brand: 'DS', model: 'DS 3 Crossback E-Tense', soc: 0.35 },
];
const TARGET = 0.7;

interface CommandView {
  id: string;
  vehicleId: string;
  action: string;
  dueAt: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

/** A database that can be opened again after the process holding it is gone. */
interface ReopenableStorage {
  open(): Promise<SqlClient>;
  destroy(): Promise<void>;
}

const STORAGES: { name: string; create(): Promise<ReopenableStorage> }[] = [
  {
    name: 'embedded',
    async create() {
      const dir = await mkdtemp(join(tmpdir(), 'voltkit-restart-'));
      return {
        open: () => openSqlClient({ dataDir: dir }),
        destroy: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    create() {
      const schema = `voltkit_restart_${randomBytes(6).toString('hex')}`;
      return Promise.resolve({
        open: () => openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema }),
        async destroy() {
          const admin = await openSqlClient({ databaseUrl: TEST_DATABASE_URL });
          await admin.query(`drop schema if exists ${schema} cascade`);
          await admin.close();
        },
      });
    },
  },
];

const cipher = testTokenCipher();

describe.each(STORAGES)('killed mid-plan and started again on $name storage', (storage) => {
  let sim: Simulator;
  let store: ReopenableStorage;
  let db: SqlClient;
  let running: RunningService;
  /** Charge commands (start/stop) the service sent to the cars, as seen on the wire: `<vehicle> <action>`. */
  const chargeRequests: string[] = [];
  const countCharge = (method: string, url: string, body: string | undefined) => {
    const match = /\/vehicles\/([^/]+)\/charge$/.exec(new URL(url).pathname);
    if (method !== 'POST' || !match) return;
    const action = (JSON.parse(body ?? '{}') as { action?: string }).action;
    chargeRequests.push(`${match[1]} ${action === 'START' ? 'start_charge' : 'stop_charge'}`);
  };
  const ids: string[] = [];

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    store = await storage.create();
    db = await store.open();
    await migrate(db);
    await saveGridSettings(db, { limitKw: 11, baseLoadKwhPerYear: 3500 });
  });
  afterAll(async () => {
    await running.close();
    await db.close();
    await sim.close();
    await store.destroy();
  });

  it('continues the plan without duplicate or lost commands, and the cars reach their targets', async () => {
    running = await startService(db, sim, { onVehicleApiRequest: countCharge, cipher });
    for (const [index, car] of CARS.entries()) {
      const id = await enrollOverHttp(running, sim, {
        name: `Owner ${index}`,
        email: `restart${index}@example.com`,
        ...car,
      });
      ids.push(id);
      sim.setSoc(id, car.soc);
      sim.plugIn(id, { stationKw: 7.4 });
      const put = await api(running.admin, 'PUT', `api/vehicles/${id}/preferences`, {
        ...DEFAULT_PREFERENCES,
        departures: everyDayAt('07:00'),
        targetSoc: TARGET,
        chargerPowerKw: 7.4,
      });
      expect(put.status).toBe(200);
    }

    // First life: run until the plan has been under way for a while.
    const tick = async (service: RunningService) => {
      await service.service.tick();
      await sim.clock.advance(60_000);
    };
    while (sim.clock.now() < new Date(START.getTime() + 90 * 60_000)) await tick(running);
    const confirmedBefore = (await listAll<CommandView>(running.admin, 'api/commands?status=confirmed'))
      .length;
    expect(confirmedBefore).toBeGreaterThan(0);

    // Then the crash: at the next minute with commands due, the service claims them (they are
    // "sending"), gets all but the last one to the cars, and dies before confirming anything.
    // Wait for a minute with two commands due, so the crash catches one sent and one not yet sent.
    const dueNow = async () =>
      (await listAll<CommandView>(running.admin, 'api/commands?status=pending')).filter(
        (command) => Date.parse(command.dueAt) <= sim.clock.now().getTime(),
      ).length;
    for (let minute = 0; minute < 240 && (await dueNow()) < 2; minute++) await tick(running);
    const claimed = await db.transaction((tx) => claimDueCommands(tx, sim.clock.now()));
    expect(claimed.length).toBeGreaterThanOrEqual(2);
    const sent = claimed.slice(0, -1);
    const unsent = claimed.slice(sent.length);
    for (const command of sent) {
      const vehicle = (await findVehicle(db, command.vehicleId))!;
      if (command.action === 'start_charge')
        await running.service.gateway.startCharge(vehicle.grantId, vehicle.id);
      if (command.action === 'stop_charge')
        await running.service.gateway.stopCharge(vehicle.grantId, vehicle.id);
      if (command.action === 'set_charge_limit')
        await running.service.gateway.setChargeLimit(vehicle.grantId, vehicle.id, command.value!);
    }
    const crashedAt = sim.clock.now();
    // Killed: no stop(), nothing flushed; the server socket and the connection simply go away.
    await running.http.app.close();
    await db.close();

    // Seven minutes of downtime: the cars carry on with whatever they were last told.
    await sim.clock.advance(7 * 60_000);

    // Second life: a new instance on the same database, the simulator still running.
    db = await store.open();
    expect(await migrate(db)).toEqual([]);
    const requestsBeforeRestart = chargeRequests.length;
    running = await startService(db, sim, { onVehicleApiRequest: countCharge, cipher });
    // Reconciling: what reached a car is confirmed without sending it again; only the unsent may go out.
    const sentAtRestart = chargeRequests.slice(requestsBeforeRestart);
    const key = (command: CommandRecord) => `${command.vehicleId} ${command.action}`;
    for (const request of sentAtRestart) expect(unsent.map(key)).toContain(request);
    for (const command of sent) expect(sentAtRestart).not.toContain(key(command));
    const afterRestart = { body: await listAll<CommandView>(running.admin, 'api/commands') };
    for (const command of sent) {
      expect(afterRestart.body.find((listed) => listed.id === command.id)).toMatchObject({
        status: 'confirmed',
        attempts: 1,
      });
    }
    expect(afterRestart.body.filter((command) => command.status === 'sending')).toEqual([]);
    const plan = await api<{ reason: string; plan: { vehicles: { id: string }[] } }>(
      running.admin,
      'GET',
      'api/plan',
    );
    expect(plan.body.reason).toBe('service started');
    expect(plan.body.plan.vehicles.map((vehicle) => vehicle.id).sort()).toEqual([...ids].sort());

    while (sim.clock.now() < DEPARTURE) await tick(running);

    // The cars got there.
    for (const id of ids) expect(sim.vehicle(id).state.soc).toBeGreaterThanOrEqual(TARGET - 0.005);

    // The log: no duplicates, no gaps. Every command ended confirmed, or failed or cancelled with a reason.
    const log = await listAll<CommandView>(running.admin, 'api/commands');
    const keys = log.map((command) => `${command.vehicleId} ${command.action} ${command.dueAt}`);
    expect(new Set(keys).size).toBe(keys.length);
    const dueBeforeDeparture = log.filter((command) => Date.parse(command.dueAt) < DEPARTURE.getTime());
    for (const command of dueBeforeDeparture) {
      expect(['confirmed', 'failed', 'cancelled'], JSON.stringify(command)).toContain(command.status);
      if (command.status !== 'confirmed') expect(command.lastError, JSON.stringify(command)).toBeTruthy();
    }
    // Commands that fell due while the service was down were not replayed in a burst: the new plan
    // superseded them, and each says so.
    const missed = log.filter(
      (command) =>
        Date.parse(command.dueAt) > crashedAt.getTime() &&
        Date.parse(command.dueAt) < crashedAt.getTime() + 7 * 60_000 &&
        command.status === 'cancelled',
    );
    for (const command of missed) expect(command.lastError).toMatch(/superseded by plan|not in plan/);
    const confirmed = log.filter((command) => command.status === 'confirmed').length;
    expect(confirmed).toBeGreaterThan(confirmedBefore);
    expect(chargeRequests.length).toBeGreaterThan(0);
    console.info(
      `restart on ${storage.name}: ${claimed.length} in flight at the crash (${sent.length} had reached the car), ${missed.length} superseded during downtime, ${confirmed} confirmed, ${chargeRequests.length} charge requests to the cars`,
    );
  }, 120_000);
});
