import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claimCommand,
  claimDueCommands,
  dueCommands,
  IN_FLIGHT_HOLD_MS,
  inFlightCommands,
  listCommands,
  markCommandConfirmed,
  markCommandFailed,
  markCommandsOffered,
  replaceFutureCommands,
} from './command-log.ts';
import { migrate } from './migrations.ts';
import type { SqlClient } from './sql-client.ts';
import { seedVehicle, TEST_BACKENDS } from './test-backends.ts';

const at = (hhmm: string): Date => new Date(`2026-11-21T${hhmm}:00Z`);

async function insertPlan(client: SqlClient, id: string): Promise<void> {
  await client.query(
    `insert into plans (id, reason, horizon_start, horizon_end, body) values ($1, 'test', now(), now(), '{}')`,
    [id],
  );
}

describe.each(TEST_BACKENDS)('command log on $name storage', (backend) => {
  let client: SqlClient;
  let dispose: () => Promise<void>;
  /** Plan 1's commands, as a re-plan at 18:00 writes them. */
  const planAt1800 = (commands: Parameters<typeof replaceFutureCommands>[2]) =>
    client.transaction((tx) => replaceFutureCommands(tx, 'plan-1', commands, at('18:00')));

  beforeEach(async () => {
    ({ client, dispose } = await backend.open());
    await seedVehicle(client, 'car-a');
    await seedVehicle(client, 'car-b');
    await seedVehicle(client, 'car-c');
    await insertPlan(client, 'plan-1');
    await insertPlan(client, 'plan-2');
  });
  afterEach(async () => dispose());

  it('migrations are idempotent', async () => {
    expect(await migrate(client)).toEqual([]);
  });

  it('re-planning keeps wanted commands once and cancels unwanted future ones', async () => {
    const now = at('18:00');
    await client.transaction((tx) =>
      replaceFutureCommands(
        tx,
        'plan-1',
        [
          { vehicleId: 'car-a', action: 'start_charge', dueAt: at('22:00') },
          { vehicleId: 'car-a', action: 'stop_charge', dueAt: at('23:00') },
          { vehicleId: 'car-b', action: 'set_charge_limit', value: 0.8, dueAt: at('22:00') },
        ],
        now,
      ),
    );
    await client.transaction((tx) =>
      replaceFutureCommands(
        tx,
        'plan-2',
        [
          { vehicleId: 'car-a', action: 'start_charge', dueAt: at('22:00') },
          { vehicleId: 'car-a', action: 'stop_charge', dueAt: at('23:30') },
        ],
        now,
      ),
    );
    const log = await listCommands(client);
    const summary = log.map(
      (c) => `${c.vehicleId} ${c.action} ${c.dueAt.toISOString().slice(11, 16)} ${c.status}`,
    );
    expect(summary).toEqual([
      'car-a start_charge 22:00 pending',
      'car-b set_charge_limit 22:00 cancelled',
      'car-a stop_charge 23:00 cancelled',
      'car-a stop_charge 23:30 pending',
    ]);
    expect(log.filter((c) => c.action === 'start_charge')).toHaveLength(1);
    expect(log.find((c) => c.action === 'start_charge')?.planId).toBe('plan-2');
  });

  it('a command the plan wants again after it was carried out is a new one, a millisecond later', async () => {
    const now = at('18:00');
    const stopNow = { vehicleId: 'car-c', action: 'stop_charge' as const, dueAt: now };
    // The same stop twice in one plan is one row.
    await client.transaction((tx) => replaceFutureCommands(tx, 'plan-1', [stopNow, stopNow], now));
    const [sent] = await client.transaction((tx) => claimDueCommands(tx, now));
    expect(sent?.vehicleId).toBe('car-c');
    await markCommandConfirmed(client, sent!.id, now);
    await client.transaction((tx) => replaceFutureCommands(tx, 'plan-2', [stopNow], now));
    const log = (await listCommands(client)).filter((command) => command.vehicleId === 'car-c');
    expect(
      log.map((command) => [command.status, command.dueAt.getTime() - now.getTime(), command.planId]),
    ).toEqual([
      ['confirmed', 0, 'plan-1'],
      ['pending', 1, 'plan-2'],
    ]);
  });

  it('claims each due command exactly once, even with concurrent claimers', async () => {
    await planAt1800([
      { vehicleId: 'car-a', action: 'start_charge', dueAt: at('22:00') },
      { vehicleId: 'car-b', action: 'start_charge', dueAt: at('22:00') },
      { vehicleId: 'car-a', action: 'stop_charge', dueAt: at('23:00') },
    ]);
    const [first, second] = await Promise.all([
      client.transaction((tx) => claimDueCommands(tx, at('22:30'))),
      client.transaction((tx) => claimDueCommands(tx, at('22:30'))),
    ]);
    const claimed = [...first, ...second];
    expect(claimed.map((c) => `${c.vehicleId} ${c.action}`).sort()).toEqual([
      'car-a start_charge',
      'car-b start_charge',
    ]);
    expect(claimed.every((c) => c.status === 'sending' && c.attempts === 1)).toBe(true);
    expect(await client.transaction((tx) => claimDueCommands(tx, at('22:30')))).toEqual([]);
  });

  it('sends one command of a car at a time: a second claim of the car waits, even claimed at once', async () => {
    await planAt1800([
      { vehicleId: 'car-a', action: 'start_charge', dueAt: at('22:00') },
      { vehicleId: 'car-a', action: 'stop_charge', dueAt: at('22:15') },
      { vehicleId: 'car-b', action: 'start_charge', dueAt: at('22:00') },
    ]);
    const ids = new Map((await listCommands(client)).map((c) => [`${c.vehicleId} ${c.action}`, c.id]));
    const now = at('22:30');
    // Two jobs holding the car's two commands claim at the same moment: one gets its command, one waits.
    const claims = await Promise.all([
      claimCommand(client, ids.get('car-a start_charge')!, now, 'i1'),
      claimCommand(client, ids.get('car-a stop_charge')!, now, 'i2'),
    ]);
    expect(claims.filter((claim) => claim === 'car-busy')).toHaveLength(1);
    const claimed = claims.find((claim) => typeof claim === 'object' && claim !== null)!;
    // Another car is not held up.
    expect(await claimCommand(client, ids.get('car-b start_charge')!, now, 'i3')).toMatchObject({
      status: 'sending',
    });
    const waiting = claims[0] === 'car-busy' ? 'car-a start_charge' : 'car-a stop_charge';
    expect(await claimCommand(client, ids.get(waiting)!, now, 'i2')).toBe('car-busy');
    await markCommandConfirmed(client, typeof claimed === 'object' ? claimed.id : '', now);
    expect(await claimCommand(client, ids.get(waiting)!, now, 'i2')).toMatchObject({ status: 'sending' });
  });

  it('a command left in flight by a dead instance holds its car only for a while', async () => {
    await planAt1800([
      { vehicleId: 'car-a', action: 'start_charge', dueAt: at('22:00') },
      { vehicleId: 'car-a', action: 'stop_charge', dueAt: at('22:15') },
    ]);
    const ids = new Map((await listCommands(client)).map((c) => [c.action, c.id]));
    expect(await claimCommand(client, ids.get('start_charge')!, at('22:00'), 'dead')).toMatchObject({
      status: 'sending',
    });
    expect(await claimCommand(client, ids.get('stop_charge')!, at('22:01'), 'i2')).toBe('car-busy');
    const later = new Date(at('22:00').getTime() + IN_FLIGHT_HOLD_MS + 1000);
    expect(await claimCommand(client, ids.get('stop_charge')!, later, 'i2')).toMatchObject({
      status: 'sending',
    });
  });

  it('a crash between claim and confirm leaves the command visible as in flight', async () => {
    await client.transaction((tx) =>
      replaceFutureCommands(
        tx,
        'plan-1',
        [{ vehicleId: 'car-a', action: 'start_charge', dueAt: at('22:00') }],
        at('18:00'),
      ),
    );
    const [claimed] = await client.transaction((tx) => claimDueCommands(tx, at('22:00')));
    // Simulated crash: nothing confirmed. A new process must find the command, not re-queue a twin.
    const inFlight = await inFlightCommands(client);
    expect(inFlight.map((c) => c.id)).toEqual([claimed!.id]);
    await markCommandConfirmed(client, claimed!.id, at('22:01'));
    expect(await inFlightCommands(client)).toEqual([]);
    expect((await listCommands(client))[0]).toMatchObject({ status: 'confirmed', confirmedAt: at('22:01') });
  });

  it('retryable failures come back at their retry time; final failures stay failed', async () => {
    await planAt1800([
      { vehicleId: 'car-a', action: 'start_charge', dueAt: at('22:00') },
      { vehicleId: 'car-b', action: 'start_charge', dueAt: at('22:00') },
    ]);
    const claimed = await client.transaction((tx) => claimDueCommands(tx, at('22:00')));
    const carA = claimed.find((c) => c.vehicleId === 'car-a')!;
    const carB = claimed.find((c) => c.vehicleId === 'car-b')!;
    await markCommandFailed(client, carA.id, 'VEHICLE_STATE:ASLEEP', at('22:05'));
    await markCommandFailed(client, carB.id, 'VEHICLE_STATE:CHARGING_PLUG_NOT_CONNECTED', null);

    expect(await client.transaction((tx) => claimDueCommands(tx, at('22:04')))).toEqual([]);
    const retried = await client.transaction((tx) => claimDueCommands(tx, at('22:05')));
    expect(retried.map((c) => [c.vehicleId, c.attempts])).toEqual([['car-a', 2]]);
    const log = await listCommands(client, { vehicleId: 'car-b' });
    expect(log[0]).toMatchObject({
      status: 'failed',
      lastError: 'VEHICLE_STATE:CHARGING_PLUG_NOT_CONNECTED',
    });
  });

  it('offers each attempt of a due command once: offered ones wait for their job, a retry is offered again', async () => {
    await planAt1800([
      { vehicleId: 'car-a', action: 'start_charge', dueAt: at('22:00') },
      { vehicleId: 'car-b', action: 'start_charge', dueAt: at('22:00') },
      { vehicleId: 'car-c', action: 'start_charge', dueAt: at('22:10') },
    ]);
    const ids = (commands: readonly { vehicleId: string; attempts: number }[]) =>
      commands.map((command) => `${command.vehicleId}#${command.attempts}`);
    const first = await dueCommands(client, at('22:00'));
    expect(ids(first)).toEqual(['car-a#0', 'car-b#0']);
    // car-b is claimed between the offer and its record: the record leaves the claimed one alone.
    await claimCommand(client, first[1]!.id, at('22:00'), 'i1');
    await markCommandsOffered(client, first);
    expect(await dueCommands(client, at('22:01'))).toEqual([]);
    expect(ids(await dueCommands(client, at('22:01'), { vehicleIds: ['car-a', 'car-b'] }))).toEqual([]);

    // car-a's attempt fails and may be retried at 22:05: that is a new attempt, offered once more.
    await claimCommand(client, first[0]!.id, at('22:01'), 'i1');
    await markCommandFailed(client, first[0]!.id, 'VEHICLE_STATE:ASLEEP', at('22:05'));
    expect(await dueCommands(client, at('22:04'))).toEqual([]);
    const retry = await dueCommands(client, at('22:10'));
    expect(ids(retry)).toEqual(['car-a#1', 'car-c#0']);
    await markCommandsOffered(client, retry);
    expect(await dueCommands(client, at('22:30'))).toEqual([]);
  });
});
