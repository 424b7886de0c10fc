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
  /** Due pending commands, as the minute job hands them out. */
  dueCommands(): Promise<readonly { id: string; vehicleId: string; action: string; attempts: number }[]>;
  /** Sends one command (claimed here); `takeOver` when its job came back from an instance that died. */
  runCommand(id: string, takeOver: boolean): Promise<void>;
  /** After a batch of commands: re-plan if one of them said the plan no longer fits. */
  afterCommands(): Promise<void>;
  /** Fetches and stores prices (the re-plans follow as jobs, one per unit). */
  refreshPrices(): Promise<void>;
  /** Plans one unit (its own lock keeps two runs of it apart, cluster-wide). */
  replanUnit(unit: string, reason: string): Promise<void>;
}

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
  /** How often (wall ms) the clock is looked at for a new minute. @default 100 */
  readonly clockPollMs?: number;
  /** Command jobs this process runs at once. @default 4 */
  readonly commandConcurrency?: number;
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
  poll: 'poll',
  command: 'command',
  prices: 'prices',
  replan: 'replan',
} as const;

/**
 * Runs the service's work as jobs. Every instance watches the service's clock and, at each new minute,
 * offers that minute's job per work unit under a key made of unit and minute: the first offer wins, so
 * each minute runs once cluster-wide, on whichever instance takes it. The minute job hands due commands
 * out as jobs (one per car, keyed by its commands), which any instance may run.
 */
export async function startScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const { engine, work, logger } = options;
  // The expiries bound takeover: a job of a killed instance comes back after expiry + maintenance (≤ 5 s).
  await engine.defineQueue({ name: QUEUES.minute, policy: 'stately', expireInSeconds: 20, retryLimit: 1 });
  await engine.defineQueue({ name: QUEUES.poll, policy: 'stately', expireInSeconds: 20, retryLimit: 1 });
  await engine.defineQueue({ name: QUEUES.command, policy: 'standard', expireInSeconds: 15, retryLimit: 5 });
  await engine.defineQueue({ name: QUEUES.prices, policy: 'stately', expireInSeconds: 120, retryLimit: 2 });
  // Per unit at most one re-plan waiting and one running: a burst of changes collapses into one more run.
  await engine.defineQueue({ name: QUEUES.replan, policy: 'stately', expireInSeconds: 60, retryLimit: 2 });

  /** One job per car keeps its commands in order; the key (ids and attempts) makes a re-offer of the
   * same commands, from a later minute or another instance, the same job. */
  const dispatchDueCommands = async () => {
    const byVehicle = new Map<string, { id: string; action: string; attempts: number }[]>();
    for (const command of await work.dueCommands()) {
      const list = byVehicle.get(command.vehicleId) ?? [];
      list.push(command);
      byVehicle.set(command.vehicleId, list);
    }
    // Cars to be switched off go first (sent first, fetched first): at a slot boundary, a start landing
    // before the stop it replaces would draw above the limit for a moment, the other way round below it.
    const stopsFirst = [...byVehicle.values()].sort(
      (a, b) => Number(b.some(isStop)) - Number(a.some(isStop)),
    );
    for (const commands of stopsFirst) {
      await engine.send(
        QUEUES.command,
        { commandIds: commands.map((command) => command.id) },
        {
          key: commands.map((command) => `${command.id}#${command.attempts}`).join(','),
          priority: commands.some(isStop) ? 1 : 0,
        },
      );
    }
  };
  // The minute job stays short (commands due now go out at once); reading the cars is a job of its own.
  await engine.work<{ unit: string; minute: number }>(QUEUES.minute, async ({ data }) => {
    await dispatchDueCommands();
    if (await work.claimPoll(data.unit))
      await engine.send(
        QUEUES.poll,
        { unit: data.unit },
        { key: `${data.unit}:${data.minute}`, singletonKey: data.unit },
      );
  });
  await engine.work<{ unit: string }>(QUEUES.poll, async ({ data }) => {
    await work.poll(data.unit);
    // A new plan may make commands due right now: they must not wait for the next minute.
    await dispatchDueCommands();
  });
  await engine.work<{ commandIds: string[] }>(
    QUEUES.command,
    async ({ data, retryCount }) => {
      for (const id of data.commandIds) await work.runCommand(id, retryCount > 0);
      await work.afterCommands();
    },
    { concurrency: options.commandConcurrency ?? 4 },
  );
  await engine.work<{ unit: string; reason: string }>(
    QUEUES.replan,
    async ({ data }) => {
      await work.replanUnit(data.unit, data.reason);
      await dispatchDueCommands();
    },
    { concurrency: options.replanConcurrency ?? 1 },
  );
  // New prices change every unit's plan: one job per unit, so every instance takes a share.
  await engine.work(QUEUES.prices, async () => {
    await work.refreshPrices();
    for (const unit of await options.units())
      await engine.send(QUEUES.replan, { unit, reason: 'prices updated' }, { singletonKey: unit });
  });
  await engine.schedule(QUEUES.prices, options.priceFetchCron, options.timeZone);

  let lastMinute = Math.floor(work.now().getTime() / 60_000) - 1;
  let offering = false;
  const offer = async () => {
    const minute = Math.floor(work.now().getTime() / 60_000);
    if (minute <= lastMinute || offering) return;
    offering = true;
    try {
      for (const unit of await options.units())
        await engine.send(QUEUES.minute, { unit, minute }, { key: `${unit}:${minute}`, singletonKey: unit });
      lastMinute = minute;
    } catch (error) {
      logger.error({ err: error }, 'could not offer the minute job');
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
