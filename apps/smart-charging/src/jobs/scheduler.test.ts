import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlClient, type SqlClient } from '../store/sql-client.ts';
import { startJobEngine } from './job-engine.ts';
import {
  DISPATCH_TICK_MS,
  startScheduler,
  type DueCommand,
  type Scheduler,
  type ServiceWork,
} from './scheduler.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A service whose clock the test moves; it records when (service time) each command ran. */
function recordingWork(startAt: number, commands: readonly DueCommand[]) {
  let now = startAt;
  const ran = new Map<string, number>();
  const polls: string[] = [];
  const work: ServiceWork = {
    now: () => new Date(now),
    claimPoll: () => Promise.resolve(true),
    poll: (unit) => {
      polls.push(`${unit}@${Math.floor(now / 60_000)}`);
      return Promise.resolve();
    },
    dueCommands: ({ after }) => {
      return Promise.resolve(
        commands.filter(
          (command) =>
            !ran.has(command.id) &&
            command.dueAt.getTime() <= now &&
            (after === undefined || command.dueAt > after.dueAt),
        ),
      );
    },
    runCommand: (id) => {
      if (!ran.has(id)) ran.set(id, now);
      return Promise.resolve();
    },
    afterCommands: async () => {},
    refreshPrices: async () => {},
    replanUnit: async () => {},
  };
  return { work, ran, polls, advance: (ms: number) => (now += ms) };
}

describe('the scheduler on the embedded job engine', () => {
  let db: SqlClient | undefined;
  let scheduler: Scheduler | undefined;
  afterEach(async () => {
    await scheduler?.stop();
    await db?.close();
    scheduler = undefined;
    db = undefined;
  });

  it('sends a command due mid-minute within a dispatch tick, not at the next minute', async () => {
    db = await openSqlClient({});
    const startAt = Date.parse('2026-12-03T22:00:00Z');
    // A car's last, partly charged slot ends at 22:00:07: its stop falls due between two minutes.
    const stopAt = new Date(startAt + 7_000);
    const service = recordingWork(startAt, [
      { id: 'stop-1', vehicleId: 'car-1', action: 'stop_charge', attempts: 0, dueAt: stopAt },
    ]);
    scheduler = await startScheduler({
      engine: await startJobEngine({ db, logger: pino({ level: 'silent' }), instanceId: 'test' }),
      work: service.work,
      logger: pino({ level: 'silent' }),
      units: () => ['feeder-1'],
      priceFetchCron: '0 13 * * *',
      timeZone: 'Europe/Berlin',
      clockPollMs: 20,
    });
    // One service second per 100 wall ms, until the command ran or the next minute is well past.
    for (let second = 0; second < 70 && !service.ran.has('stop-1'); second++) {
      service.advance(1_000);
      await sleep(100);
    }
    const ranAt = service.ran.get('stop-1');
    expect(ranAt, 'the stop was sent').toBeDefined();
    // Late by at most one tick plus the jobs' own way through the engine (a service second or two here).
    expect(ranAt! - stopAt.getTime()).toBeLessThanOrEqual(DISPATCH_TICK_MS + 3_000);
    // The minute's unit job still runs once a minute.
    expect(service.polls.filter((poll) => poll.startsWith('feeder-1@')).length).toBeLessThanOrEqual(2);
  }, 30_000);
});
