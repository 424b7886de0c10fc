import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlClient, type SqlClient } from '../store/sql-client.ts';
import { startJobEngine } from './job-engine.ts';
import {
  COMMAND_JOB_RETRIES,
  DISPATCH_TICK_MS,
  startScheduler,
  type DueCommand,
  type Scheduler,
  type SchedulerOptions,
  type ServiceWork,
} from './scheduler.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A service whose clock the test moves; it records when (service time) each command ran. */
function recordingWork(
  startAt: number,
  commands: readonly DueCommand[],
  { sendWallMs = 0, failing = new Set<string>() } = {},
) {
  let now = startAt;
  const ran = new Map<string, number>();
  /** How often each failing command was tried, and why each given-up one was given up. */
  const tries = new Map<string, number>();
  const abandoned = new Map<string, string>();
  const polls: string[] = [];
  /** Commands handed out by dueCommands, and how often: the engine holds a job for each one marked. */
  const handedOut = new Map<string, number>();
  const offered = new Set<string>();
  const work: ServiceWork = {
    now: () => new Date(now),
    claimPoll: () => Promise.resolve(true),
    poll: (unit) => {
      polls.push(`${unit}@${Math.floor(now / 60_000)}`);
      return Promise.resolve();
    },
    dueCommands: () => {
      const due = commands.filter(
        (command) => !ran.has(command.id) && !offered.has(command.id) && command.dueAt.getTime() <= now,
      );
      for (const command of due) handedOut.set(command.id, (handedOut.get(command.id) ?? 0) + 1);
      return Promise.resolve(due);
    },
    markOffered: (marked) => {
      for (const command of marked) offered.add(command.id);
      return Promise.resolve();
    },
    runCommand: async (id) => {
      await sleep(sendWallMs);
      if (failing.has(id)) {
        tries.set(id, (tries.get(id) ?? 0) + 1);
        throw new Error(`command ${id}: its car had another command in flight`);
      }
      if (!ran.has(id)) ran.set(id, now);
    },
    abandonCommand: (id, reason) => {
      abandoned.set(id, reason);
      return Promise.resolve();
    },
    afterCommands: async () => {},
    refreshPrices: async () => {},
    replanUnit: async () => {},
  };
  return { work, ran, polls, handedOut, tries, abandoned, advance: (ms: number) => (now += ms) };
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

  /** The scheduler on an embedded engine over `work`, with one unit and a fast look at the clock. */
  async function start(work: ServiceWork, options: Partial<SchedulerOptions> = {}) {
    db = await openSqlClient({});
    scheduler = await startScheduler({
      engine: await startJobEngine({ db, logger: pino({ level: 'silent' }), instanceId: 'test' }),
      work,
      logger: pino({ level: 'silent' }),
      units: () => ['feeder-1'],
      priceFetchCron: '0 13 * * *',
      timeZone: 'Europe/Berlin',
      clockPollMs: 20,
      ...options,
    });
  }

  /** Moves the service clock a second per 100 wall ms until `done` or `seconds` have passed. */
  async function runUntil(service: { advance: (ms: number) => void }, seconds: number, done: () => boolean) {
    for (let second = 0; second < seconds && !done(); second++) {
      service.advance(1_000);
      await sleep(100);
    }
  }

  it('sends a command due mid-minute within a dispatch tick, not at the next minute', async () => {
    const startAt = Date.parse('2026-12-03T22:00:00Z');
    // A car's last, partly charged slot ends at 22:00:07: its stop falls due between two minutes.
    const stopAt = new Date(startAt + 7_000);
    const service = recordingWork(startAt, [
      { id: 'stop-1', vehicleId: 'car-1', action: 'stop_charge', attempts: 0, dueAt: stopAt },
    ]);
    await start(service.work);
    // Until the command ran or the next minute is well past.
    await runUntil(service, 70, () => service.ran.has('stop-1'));
    const ranAt = service.ran.get('stop-1');
    expect(ranAt, 'the stop was sent').toBeDefined();
    // Late by at most one tick plus the jobs' own way through the engine (a service second or two here).
    expect(ranAt! - stopAt.getTime()).toBeLessThanOrEqual(DISPATCH_TICK_MS + 3_000);
    // The minute's unit job still runs once a minute.
    expect(service.polls.filter((poll) => poll.startsWith('feeder-1@')).length).toBeLessThanOrEqual(2);
  }, 30_000);

  it('offers a command once while it waits for its turn, not again at every tick', async () => {
    const startAt = Date.parse('2026-12-03T22:00:00Z');
    // A burst: every car due at once, sent one at a time, so most wait through many ticks.
    const burst = Array.from({ length: 12 }, (_, k) => ({
      id: `start-${k}`,
      vehicleId: `car-${k}`,
      action: 'start_charge',
      attempts: 0,
      dueAt: new Date(startAt + 1_000),
    }));
    const service = recordingWork(startAt, burst, { sendWallMs: 400 });
    await start(service.work, { commandConcurrency: 1, commandBatchSize: 1 });
    // A tick every 500 wall ms: the burst takes about ten of them to send.
    await runUntil(service, 200, () => service.ran.size === burst.length);
    expect(service.ran.size, 'every command of the burst was sent').toBe(burst.length);
    expect(Math.max(...service.ran.values()) - startAt, 'the burst outlasted several ticks').toBeGreaterThan(
      4 * DISPATCH_TICK_MS,
    );
    expect([...service.handedOut.values()], 'each command handed out once').toEqual(burst.map(() => 1));
  }, 40_000);

  it('gives a command up after its job’s last try, so it is failed and re-planned, not left offered', async () => {
    const startAt = Date.parse('2026-12-03T22:00:00Z');
    const dueAt = new Date(startAt + 1_000);
    const service = recordingWork(
      startAt,
      [
        { id: 'stuck-1', vehicleId: 'car-1', action: 'start_charge', attempts: 0, dueAt },
        { id: 'start-2', vehicleId: 'car-2', action: 'start_charge', attempts: 0, dueAt },
      ],
      { failing: new Set(['stuck-1']) },
    );
    await start(service.work);
    await runUntil(service, 200, () => service.abandoned.has('stuck-1'));
    expect(service.tries.get('stuck-1'), 'its first try and every retry').toBe(COMMAND_JOB_RETRIES + 1);
    expect(service.abandoned.get('stuck-1')).toBe(
      `not sent: its job failed ${COMMAND_JOB_RETRIES + 1} times, last with "command stuck-1: its car had another command in flight"`,
    );
    expect([...service.abandoned.keys()], 'only the command that could not be sent').toEqual(['stuck-1']);
    expect(service.ran.has('start-2')).toBe(true);
  }, 40_000);
});
