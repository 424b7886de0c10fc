import { createClient, type VoltkitClient } from '@voltkit/core/client';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimCommand, claimDueCommands, listCommands, replaceFutureCommands } from '../store/command-log.ts';
import { createUnclaimedGrant, findGrant, sqlTokenStore } from '../store/grants.ts';
import { migrate } from '../store/migrations.ts';
import { savePlan } from '../store/plans.ts';
import { openSqlClient, type SqlClient } from '../store/sql-client.ts';
import { testTokenCipher } from '../store/test-backends.ts';
import { saveVehicle } from '../store/vehicles.ts';
import { createCommandExecutor, type CommandExecutor } from './command-executor.ts';
import { createVehicleGateway, SMART_CHARGING_SCOPES, type VehicleGateway } from './vehicle-gateway.ts';

const REDIRECT_URI = 'http://localhost:8740/callback';
const minutes = (n: number) => n * 60_000;

describe('command executor against the simulator', () => {
  let sim: Simulator;
  let db: SqlClient;
  let client: VoltkitClient;
  let executor: CommandExecutor;
  let vehicleId: string;
  let grantId: string;
  const replans: string[] = [];

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2026-11-21T18:00:00Z') } });
    db = await openSqlClient({});
    await migrate(db);
    client = createClient({
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
      redirectUri: REDIRECT_URI,
      origin: sim.url,
      tokenStore: sqlTokenStore(db, testTokenCipher()),
      retry: false,
    });
    executor = createCommandExecutor({
      db,
      gateway: createVehicleGateway(client, () => sim.clock.now()),
      now: () => sim.clock.now(),
      logger: pino({ level: 'silent' }),
      retry: { baseSeconds: 60, maxSeconds: 600, maxAttempts: 3 },
      onReplanNeeded: (vehicle, reason) => replans.push(`${vehicle} ${reason}`),
    });
  });
  afterAll(async () => {
    await sim.close();
    await db.close();
  });

  beforeEach(async () => {
    replans.length = 0;
    // A fresh owner and car per test, enrolled the way the service does it: pending grant → consent → code.
    grantId = await createUnclaimedGrant(db, [...SMART_CHARGING_SCOPES.required]);
    const consent = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri: REDIRECT_URI,
      scope: SMART_CHARGING_SCOPES.required,
      email: `owner-${grantId}@example.com`,
      make: 'DS',
      state: grantId,
    });
    await client.exchangeCode(consent.code, { grantId });
    vehicleId = consent.vehicleIds[0]!;
    await saveVehicle(db, {
      id: vehicleId,
      grantId,
      make: 'DS',
      model: 'DS 3 Crossback E-Tense',
      year: 2021,
      batteryCapacityKwh: 50,
    });
    sim.setSoc(vehicleId, 0.3);
  });

  // Plugged-in cars start charging on their own; smart charging first holds them.
  const plugInIdle = async (options: { stationKw: number }) => {
    sim.plugIn(vehicleId, options);
    await client
      .grant(grantId)
      .vehicle(vehicleId, { scopes: ['control_charge'] })
      .stopCharge();
  };

  const plan = async (...commands: Parameters<typeof replaceFutureCommands>[2]) =>
    db.transaction(async (tx) => {
      const now = sim.clock.now();
      const planId = await savePlan(tx, { reason: 'test', horizonStart: now, horizonEnd: now, body: {} });
      await replaceFutureCommands(tx, planId, commands, now);
    });

  it('starts and stops charging on time, each confirmed by reading the car back', async () => {
    await plugInIdle({ stationKw: 11 });
    const start = sim.clock.now();
    await plan(
      { vehicleId, action: 'start_charge', dueAt: start },
      { vehicleId, action: 'stop_charge', dueAt: new Date(start.getTime() + minutes(60)) },
    );

    const first = await executor.runDueCommands();
    expect(first.map((o) => `${o.command.action} ${o.outcome}`)).toEqual(['start_charge confirmed']);
    expect(sim.vehicle(vehicleId).state.chargeState).toBe('CHARGING');

    await sim.clock.advance(minutes(30));
    expect(await executor.runDueCommands()).toEqual([]);
    await sim.clock.advance(minutes(30));
    const second = await executor.runDueCommands();
    expect(second.map((o) => `${o.command.action} ${o.outcome}`)).toEqual(['stop_charge confirmed']);
    expect(sim.vehicle(vehicleId).state.chargeState).toBe('NOT_CHARGING');
    expect(sim.vehicle(vehicleId).state.soc).toBeGreaterThan(0.4);
  });

  it('an unplugged car fails the command and asks for a re-plan', async () => {
    sim.unplug(vehicleId);
    await plan({ vehicleId, action: 'start_charge', dueAt: sim.clock.now() });
    const [outcome] = await executor.runDueCommands();
    expect(outcome).toMatchObject({ outcome: 'failed', reason: 'VEHICLE_STATE:CHARGING_PLUG_NOT_CONNECTED' });
    expect(replans).toEqual([`${vehicleId} VEHICLE_STATE:CHARGING_PLUG_NOT_CONNECTED`]);
  });

  it('an asleep car is retried with backoff and charges once it wakes', async () => {
    await plugInIdle({ stationKw: 7.4 });
    sim.setAsleep(vehicleId, true);
    await plan({ vehicleId, action: 'start_charge', dueAt: sim.clock.now() });

    expect((await executor.runDueCommands())[0]).toMatchObject({
      outcome: 'retry-scheduled',
      reason: 'VEHICLE_STATE:ASLEEP',
    });
    await sim.clock.advance(minutes(0.5));
    expect(await executor.runDueCommands()).toEqual([]); // backoff not over yet
    sim.setAsleep(vehicleId, false);
    await sim.clock.advance(minutes(0.5));
    expect((await executor.runDueCommands())[0]).toMatchObject({ outcome: 'confirmed' });
    const [command] = await listCommands(db, { vehicleId });
    expect(command).toMatchObject({ status: 'confirmed', attempts: 2 });
  });

  it('a job’s first attempt sends and reads back; a taken-over one reads the car first', async () => {
    const calls: string[] = [];
    const real = createVehicleGateway(client, () => sim.clock.now());
    const counted: VehicleGateway = {
      ...real,
      readChargingState: (grant, vehicle) => (calls.push('read'), real.readChargingState(grant, vehicle)),
      startCharge: (grant, vehicle) => (calls.push('start'), real.startCharge(grant, vehicle)),
      stopCharge: (grant, vehicle) => (calls.push('stop'), real.stopCharge(grant, vehicle)),
    };
    const jobExecutor = createCommandExecutor({
      db,
      gateway: counted,
      now: () => sim.clock.now(),
      logger: pino({ level: 'silent' }),
      instanceId: 'job',
    });
    await plugInIdle({ stationKw: 11 });
    await plan({ vehicleId, action: 'start_charge', dueAt: sim.clock.now() });
    const [first] = await listCommands(db, { vehicleId });
    expect(await jobExecutor.runCommand(first!.id)).toMatchObject({ outcome: 'confirmed' });
    expect(calls).toEqual(['start', 'read']);

    // An instance claimed the stop and reached the car, then died: the job's retry confirms from the car.
    calls.length = 0;
    await plan({ vehicleId, action: 'stop_charge', dueAt: sim.clock.now() });
    const stop = (await listCommands(db, { vehicleId })).find((c) => c.action === 'stop_charge')!;
    await claimCommand(db, stop.id, sim.clock.now(), 'dead');
    await real.stopCharge(grantId, vehicleId);
    expect(await jobExecutor.runCommand(stop.id, { takeOver: true })).toMatchObject({
      outcome: 'already-satisfied',
    });
    expect(calls).toEqual(['read']);
  });

  it('a stop the car refuses as not charging is done, not a failure to re-plan for', async () => {
    await plugInIdle({ stationKw: 11 });
    await plan({ vehicleId, action: 'stop_charge', dueAt: sim.clock.now() });
    const [stop] = await listCommands(db, { vehicleId });
    // A job's first attempt sends without reading first: the car answers VEHICLE_STATE:NOT_CHARGING.
    expect(await executor.runCommand(stop!.id)).toMatchObject({ outcome: 'already-satisfied' });
    expect((await listCommands(db, { vehicleId }))[0]).toMatchObject({ status: 'confirmed' });
    expect(replans).toEqual([]);
  });

  it('gives up on a command its job could not send: failed with the reason and re-planned, a done one left', async () => {
    await plugInIdle({ stationKw: 11 });
    await plan({ vehicleId, action: 'start_charge', dueAt: sim.clock.now() });
    const [start] = await listCommands(db, { vehicleId });
    const reason = 'not sent: its job failed 6 times, last with "the database went away"';
    expect(await executor.abandon(start!.id, reason)).toMatchObject({ outcome: 'failed', reason });
    expect((await listCommands(db, { vehicleId }))[0]).toMatchObject({ status: 'failed', lastError: reason });
    expect(replans).toEqual([`${vehicleId} ${reason}`]);

    // One the car confirmed before the job gave up stays confirmed, and nothing re-plans for it.
    replans.length = 0;
    await plan({ vehicleId, action: 'stop_charge', dueAt: sim.clock.now() });
    const stop = (await listCommands(db, { vehicleId })).find((c) => c.action === 'stop_charge')!;
    await executor.runCommand(stop.id);
    expect(await executor.abandon(stop.id, reason)).toBeNull();
    expect((await listCommands(db, { vehicleId })).find((c) => c.id === stop.id)).toMatchObject({
      status: 'confirmed',
    });
    expect(replans).toEqual([]);
  });

  it('after a crash mid-command it confirms from the car instead of sending twice', async () => {
    await plugInIdle({ stationKw: 11 });
    await plan({ vehicleId, action: 'start_charge', dueAt: sim.clock.now() });
    // The crashed process had claimed the command and reached the car, but died before confirming.
    await db.transaction((tx) => claimDueCommands(tx, sim.clock.now()));
    await client
      .grant(grantId)
      .vehicle(vehicleId, { scopes: ['control_charge'] })
      .startCharge();

    const outcomes = await executor.reconcile();
    expect(outcomes.map((o) => o.outcome)).toEqual(['already-satisfied']);
    const log = await listCommands(db, { vehicleId });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: 'confirmed', attempts: 1 });
  });

  it('a revoked grant is marked for reconnection', async () => {
    sim.plugIn(vehicleId, { stationKw: 11 });
    await client.grant(grantId).vehicle(vehicleId, { scopes: [] }).disconnect();
    await plan({ vehicleId, action: 'stop_charge', dueAt: sim.clock.now() });
    const [outcome] = await executor.runDueCommands();
    expect(outcome).toMatchObject({ outcome: 'failed', reason: 'OAUTH:invalid_grant' });
    expect((await findGrant(db, grantId))?.status).toBe('revoked');
  });
});
