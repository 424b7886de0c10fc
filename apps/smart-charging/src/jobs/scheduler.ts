import type { Logger } from 'pino';
import type { JobEngine } from './job-engine.ts';

/** What the service does, step by step, for the jobs to call (it owns the state and the rules). */
export interface ServiceWork {
  /** The service's clock (the wall clock, or a simulator's, accelerated or stepped). */
  now(): Date;
  /** Whether the unit's cars are due to be read (claimed once per interval, cluster-wide). */
  claimPoll(unit: string): Promise<boolean>;
  /** Reads the unit's cars; re-plans if they call for it (or a failed command asked for it). */
  poll(unit: string): Promise<void>;
  /**
   * Due pending commands not yet offered at their attempt, as the dispatch hands them out: the first page
   * (in due order; offering it takes it out of the set), or with `unit` all of that unit's cars'.
   */
  dueCommands(query: { readonly unit?: string }): Promise<readonly DueCommand[]>;
  /** Records that the engine holds jobs for these commands, so later dispatches pass them by. */
  markOffered(commands: readonly DueCommand[]): Promise<void>;
  /** Sends one command (claimed here); `takeOver` when its job came back from an instance that died. */
  runCommand(id: string, takeOver: boolean): Promise<void>;
  /**
   * The command's job failed its last try: a command still pending or being sent is marked failed with
   * `reason` and its car re-planned, instead of waiting, offered, for a job that will never run again.
   */
  abandonCommand(id: string, reason: string): Promise<void>;
  /** After a batch of commands: re-plan if one of them said the plan no longer fits. */
  afterCommands(): Promise<void>;
  /** Fetches and stores prices (the re-plans follow as jobs, one per unit). */
  refreshPrices(): Promise<void>;
  /** Plans one unit (its own lock keeps two runs of it apart, cluster-wide). */
  replanUnit(unit: string, reason: string): Promise<void>;
}

export interface DueCommand {
  readonly id: string;
  readonly vehicleId: string;
  readonly action: string;
  readonly attempts: number;
  readonly dueAt: Date;
}

/**
 * Service-clock ms between two dispatches of due commands. The plan switches cars mid-minute (a car's last
 * slot is partly charged): a stop handed out only at the next minute drew up to 59 s past it, above the
 * limit the plan kept. Every 5 s, a stop is at most 5 s late on top of the sending itself.
 */
export const DISPATCH_TICK_MS = 5_000;
/**
 * A running re-plan whose instance has not renewed its claim for this long is handed on: with maintenance
 * every 5 s and the half-second poll, a killed instance's re-plan runs again within 30 s.
 */
export const REPLAN_ALIVE_SECONDS = 20;
/** Tries of a command job after its first (a car busy with another command, the database away). */
export const COMMAND_JOB_RETRIES = 5;
/** Pages one dispatch goes through at most (1,000 commands each). */
const MAX_DISPATCH_PAGES = 50;
/** Wall time one dispatch pages for at most (its job expires after 20 s). */
const DISPATCH_WALL_MS = 10_000;

export interface SchedulerOptions {
  readonly engine: JobEngine;
  readonly work: ServiceWork;
  readonly logger: Logger;
  /**
   * The keys that work is split by: one minute job per key and minute, never two of one key at once;
   * each top-level grid node and the site (see store/work-units.ts).
   */
  readonly units: () => readonly string[] | Promise<readonly string[]>;
  readonly priceFetchCron: string;
  readonly timeZone: string;
  /** How often (wall ms) the clock is looked at for a new minute or dispatch tick. @default 100 */
  readonly clockPollMs?: number;
  /** Workers fetching command jobs in this process. @default 4 */
  readonly commandConcurrency?: number;
  /**
   * Command jobs (cars) each worker fetches and runs at once: one fetch and one completion per batch
   * instead of per car, which is what bounded a re-plan's burst of commands. @default 8
   */
  readonly commandBatchSize?: number;
  /** Unit re-plans this process runs at once (planning is CPU: one per core at most). @default 1 */
  readonly replanConcurrency?: number;
}

const isStop = (command: { action: string }) => command.action === 'stop_charge';

export interface Scheduler {
  stop(): Promise<void>;
}

/** Queue names: jobs of earlier versions under these names are picked up as they are. */
export const QUEUES = {
  minute: 'minute',
  dispatch: 'dispatch',
  poll: 'poll',
  command: 'command',
  prices: 'prices',
  replan: 'replan',
} as const;

/**
 * Runs the service's work as jobs. Every instance watches the service's clock and, at each new minute,
 * offers that minute's job per work unit under a key made of unit and minute: the first offer wins, so
 * each minute runs once cluster-wide, on whichever instance takes it. Every dispatch tick (5 s) the same
 * way one dispatch job hands due commands out as jobs (one per car, keyed by its commands), which any
 * instance may run.
 */
export async function startScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const { engine, work, logger } = options;
  // The expiries bound takeover: a job of a killed instance comes back after expiry + maintenance (≤ 5 s).
  await engine.defineQueue({ name: QUEUES.minute, policy: 'stately', expireInSeconds: 20, retryLimit: 1 });
  await engine.defineQueue({ name: QUEUES.dispatch, policy: 'stately', expireInSeconds: 20, retryLimit: 1 });
  await engine.defineQueue({ name: QUEUES.poll, policy: 'stately', expireInSeconds: 20, retryLimit: 1 });
  await engine.defineQueue({
    name: QUEUES.command,
    policy: 'standard',
    expireInSeconds: 15,
    retryLimit: COMMAND_JOB_RETRIES,
  });
  await engine.defineQueue({ name: QUEUES.prices, policy: 'stately', expireInSeconds: 120, retryLimit: 2 });
  // Per unit at most one re-plan waiting and one running: a burst of changes collapses into one more run.
  // A unit of 10,000 cars took minutes on a loaded 2-core machine, so the expiry only bounds an honest run;
  // the running instance renews its claim (REPLAN_ALIVE_SECONDS), and a killed one's re-plan is taken
  // over once that lapses.
  await engine.defineQueue({ name: QUEUES.replan, policy: 'stately', expireInSeconds: 1800, retryLimit: 2 });

  /** One job per car keeps its commands in order; the key (ids and attempts) makes a re-offer of the
   * same commands, from a later minute or another instance, the same job. */
  const offerCommands = async (due: readonly DueCommand[]) => {
    const byVehicle = new Map<string, DueCommand[]>();
    for (const command of due) {
      const list = byVehicle.get(command.vehicleId) ?? [];
      list.push(command);
      byVehicle.set(command.vehicleId, list);
    }
    // Cars to be switched off go first (sent first, fetched first): at a slot boundary, a start landing
    // before the stop it replaces would draw above the limit for a moment, the other way round below it.
    const stopsFirst = [...byVehicle.values()].sort(
      (a, b) => Number(b.some(isStop)) - Number(a.some(isStop)),
    );
    await engine.sendMany(
      QUEUES.command,
      stopsFirst.map((commands) => ({
        data: { commandIds: commands.map((command) => command.id) },
        key: commands.map((command) => `${command.id}#${command.attempts}`).join(','),
        priority: commands.some(isStop) ? 1 : 0,
      })),
    );
    await work.markOffered(due);
  };
  /** Every due command not offered yet, a page at a time (a re-plan's burst at fleet scale is many pages). */
  const dispatchDueCommands = async () => {
    // Bounded in wall time too, well inside the job's expiry: a dispatch failed as expired would be run
    // again elsewhere while it still runs. Units offer their own due commands after each poll and re-plan.
    const until = Date.now() + DISPATCH_WALL_MS;
    for (let page = 0; page < MAX_DISPATCH_PAGES && Date.now() < until; page++) {
      const due = await work.dueCommands({});
      await offerCommands(due);
      if (due.length < 1000) return;
    }
    logger.warn(
      { pages: MAX_DISPATCH_PAGES, wallMs: DISPATCH_WALL_MS },
      'more commands are due than one dispatch hands out; the rest go out with the next',
    );
  };
  /** The unit's due commands, right after its poll or re-plan (a new plan's "stop now" among them). */
  const dispatchUnitCommands = async (unit: string) => offerCommands(await work.dueCommands({ unit }));
  // Once a tick cluster-wide (keyed by the tick), whichever instance takes it.
  await engine.work<{ tick: number }>(QUEUES.dispatch, () => dispatchDueCommands());
  // The minute job of a unit stays short; reading the cars is a job of its own.
  await engine.work<{ unit: string; minute: number }>(QUEUES.minute, async ({ data }) => {
    if (await work.claimPoll(data.unit))
      await engine.send(
        QUEUES.poll,
        { unit: data.unit },
        { key: `${data.unit}:${data.minute}`, singletonKey: data.unit },
      );
  });
  await engine.work<{ unit: string }>(QUEUES.poll, async ({ data }) => {
    await work.poll(data.unit);
    // A new plan may make commands due right now: they must not wait for the next tick.
    await dispatchUnitCommands(data.unit);
  });
  await engine.work<{ commandIds: string[] }>(
    QUEUES.command,
    async ({ data, retryCount }) => {
      try {
        for (const id of data.commandIds) await work.runCommand(id, retryCount > 0);
      } catch (error) {
        if (retryCount < COMMAND_JOB_RETRIES) throw error;
        // The job's key is its commands' attempts, so no later dispatch would offer them again.
        const why = error instanceof Error ? error.message : String(error);
        const reason = `not sent: its job failed ${retryCount + 1} times, last with "${why}"`;
        logger.error({ commandIds: data.commandIds, reason }, 'command job gave up');
        for (const id of data.commandIds) await work.abandonCommand(id, reason);
      }
      await work.afterCommands();
    },
    { concurrency: options.commandConcurrency ?? 4, batchSize: options.commandBatchSize ?? 8 },
  );
  await engine.work<{ unit: string; reason: string }>(
    QUEUES.replan,
    async ({ data }) => {
      await work.replanUnit(data.unit, data.reason);
      await dispatchUnitCommands(data.unit);
    },
    { concurrency: options.replanConcurrency ?? 1, aliveSeconds: REPLAN_ALIVE_SECONDS },
  );
  // New prices change every unit's plan: one job per unit, so every instance takes a share.
  await engine.work(QUEUES.prices, async () => {
    await work.refreshPrices();
    for (const unit of await options.units())
      await engine.send(QUEUES.replan, { unit, reason: 'prices updated' }, { singletonKey: unit });
  });
  await engine.schedule(QUEUES.prices, options.priceFetchCron, options.timeZone);

  let lastMinute = Math.floor(work.now().getTime() / 60_000) - 1;
  let lastTick = Math.floor(work.now().getTime() / DISPATCH_TICK_MS) - 1;
  let offering = false;
  const offer = async () => {
    const at = work.now().getTime();
    const minute = Math.floor(at / 60_000);
    const tick = Math.floor(at / DISPATCH_TICK_MS);
    if ((minute <= lastMinute && tick <= lastTick) || offering) return;
    offering = true;
    try {
      if (tick > lastTick) {
        await engine.send(QUEUES.dispatch, { tick }, { key: `tick:${tick}`, singletonKey: 'dispatch' });
        lastTick = tick;
      }
      if (minute > lastMinute) {
        for (const unit of await options.units())
          await engine.send(
            QUEUES.minute,
            { unit, minute },
            { key: `${unit}:${minute}`, singletonKey: unit },
          );
        lastMinute = minute;
      }
    } catch (error) {
      logger.error({ err: error }, 'could not offer the minute or dispatch job');
    } finally {
      offering = false;
    }
  };
  const timer = setInterval(() => void offer(), options.clockPollMs ?? 100);
  void offer();
  return {
    async stop() {
      clearInterval(timer);
      await engine.stop();
    },
  };
}
