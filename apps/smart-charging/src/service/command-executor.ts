import { isVoltkitError } from '@voltkit/core/client';
import type { Logger } from 'pino';
import {
  abandonCommand,
  claimCommand,
  claimDueCommands,
  inFlightCommands,
  markCommandConfirmed,
  markCommandFailed,
  type CommandRecord,
} from '../store/command-log.ts';
import type { SqlClient } from '../store/sql-client.ts';
import { findGrant, markGrant } from '../store/grants.ts';
import { findVehicle } from '../store/vehicles.ts';
import { classifyFailure, type ChargingState, type VehicleGateway } from './vehicle-gateway.ts';

export interface RetryPolicy {
  /** First retry delay; doubles per attempt up to `maxSeconds`. */
  readonly baseSeconds: number;
  readonly maxSeconds: number;
  /** After this many attempts a command fails for good and the vehicle is re-planned. */
  readonly maxAttempts: number;
}

/** Wall time a command job waits for its car's other command in flight (the command job expires at 15 s). */
const CAR_BUSY_WAIT_MS = 5_000;

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseSeconds: 30, maxSeconds: 600, maxAttempts: 6 };

export interface CommandOutcome {
  readonly command: CommandRecord;
  readonly outcome: 'confirmed' | 'already-satisfied' | 'retry-scheduled' | 'failed';
  readonly reason?: string;
}

export interface CommandExecutorOptions {
  readonly db: SqlClient;
  readonly gateway: VehicleGateway;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly retry?: RetryPolicy;
  /** Recorded with every command this executor claims (which of several service instances sent it). */
  readonly instanceId?: string;
  /** Called when a command's failure means the plan no longer fits the car (unplugged, gave up, …). */
  readonly onReplanNeeded?: (vehicleId: string, reason: string) => void;
}

export interface CommandExecutor {
  /** Sends every command that is due, each confirmed by reading the car back. */
  runDueCommands(): Promise<CommandOutcome[]>;
  /**
   * After a crash: commands caught between "claimed" and "confirmed" are checked against the car. Those the
   * car already reflects are confirmed without sending again; the rest are sent once more.
   */
  reconcile(): Promise<CommandOutcome[]>;
  /**
   * Runs one command by id, as a job of the engine does: claims it if still pending and due, or with
   * `takeOver` (the job came back after its instance died) also if it was left in flight. The car is read
   * first, so a command that had reached it before the crash is confirmed, not sent again.
   */
  runCommand(id: string, options?: { takeOver?: boolean }): Promise<CommandOutcome | null>;
  /**
   * Gives up on a command its job could not send: marked failed with `reason` and its car re-planned,
   * unless it was done already (null then).
   */
  abandon(id: string, reason: string): Promise<CommandOutcome | null>;
}

export function createCommandExecutor(options: CommandExecutorOptions): CommandExecutor {
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const { db, gateway, logger, now } = options;

  async function execute(
    command: CommandRecord,
    { checkFirst }: { checkFirst: boolean },
  ): Promise<CommandOutcome> {
    const vehicle = await findVehicle(db, command.vehicleId);
    if (!vehicle) return fail(command, 'vehicle is no longer linked');
    try {
      if (checkFirst && satisfies(command, await gateway.readChargingState(vehicle.grantId, vehicle.id))) {
        await markCommandConfirmed(db, command.id, now());
        return log({ command, outcome: 'already-satisfied' });
      }
      await send(command, vehicle.grantId);
      const after = await gateway.readChargingState(vehicle.grantId, vehicle.id);
      if (!satisfies(command, after))
        return scheduleRetry(command, null, `read-back shows ${after.charging}`);
      await markCommandConfirmed(db, command.id, now());
      return log({ command, outcome: 'confirmed' });
    } catch (error) {
      // The car refused because it already is where the command wants it (a stop to a car not charging):
      // that is the command's outcome, not a failure to re-plan for.
      if (alreadyThere(command, error)) {
        await markCommandConfirmed(db, command.id, now());
        return log({ command, outcome: 'already-satisfied' });
      }
      const verdict = classifyFailure(error);
      switch (verdict.kind) {
        case 'retry':
          return scheduleRetry(command, verdict.afterSeconds, verdict.reason);
        case 'reconnect':
          await markGrantUnusable(db, vehicle.grantId, verdict.reason, now());
          return fail(command, verdict.reason);
        case 'replan':
          return fail(command, verdict.reason);
        case 'fail':
          // The car cannot do this (e.g. no charge-limit support): a new plan would not change that.
          return fail(command, verdict.reason, { replan: false });
      }
    }
  }

  async function send(command: CommandRecord, grantId: string): Promise<void> {
    switch (command.action) {
      case 'start_charge':
        return gateway.startCharge(grantId, command.vehicleId);
      case 'stop_charge':
        return gateway.stopCharge(grantId, command.vehicleId);
      case 'set_charge_limit':
        if (command.value === undefined) throw new Error('set_charge_limit command without a value');
        return gateway.setChargeLimit(grantId, command.vehicleId, command.value);
    }
  }

  async function scheduleRetry(command: CommandRecord, afterSeconds: number | null, reason: string) {
    if (command.attempts >= retry.maxAttempts)
      return fail(command, `${reason} (gave up after ${command.attempts} attempts)`);
    const backoff = Math.min(retry.maxSeconds, retry.baseSeconds * 2 ** (command.attempts - 1));
    const delaySeconds = Math.max(afterSeconds ?? 0, backoff);
    await markCommandFailed(db, command.id, reason, new Date(now().getTime() + delaySeconds * 1000));
    return log({ command, outcome: 'retry-scheduled', reason });
  }

  async function fail(
    command: CommandRecord,
    reason: string,
    { replan = true } = {},
  ): Promise<CommandOutcome> {
    await markCommandFailed(db, command.id, reason, null);
    if (replan) options.onReplanNeeded?.(command.vehicleId, reason);
    return log({ command, outcome: 'failed', reason });
  }

  function log(result: CommandOutcome): CommandOutcome {
    const { command } = result;
    logger.info(
      {
        commandId: command.id,
        vehicleId: command.vehicleId,
        action: command.action,
        value: command.value,
        attempt: command.attempts,
        outcome: result.outcome,
        reason: result.reason,
      },
      'vehicle command',
    );
    return result;
  }

  /** Claims the command once no other command of its car is being sent (that one takes a moment). */
  async function claimWhenCarIsFree(id: string, takeOver: boolean): Promise<CommandRecord | null> {
    const deadline = Date.now() + CAR_BUSY_WAIT_MS;
    for (;;) {
      const claim = await claimCommand(db, id, now(), options.instanceId ?? 'local', { takeOver });
      if (claim !== 'car-busy') return claim;
      // The job fails and comes back later rather than outlast its expiry waiting here.
      if (Date.now() > deadline)
        throw new Error(`command ${id}: its car had another command in flight for ${CAR_BUSY_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return {
    async runDueCommands() {
      const claimed = await db.transaction((tx) =>
        claimDueCommands(tx, now(), 100, options.instanceId ?? null),
      );
      const outcomes: CommandOutcome[] = [];
      // One car at a time keeps per-vehicle ordering (start before stop) and the vehicle rate limits happy.
      for (const command of claimed) outcomes.push(await execute(command, { checkFirst: true }));
      return outcomes;
    },
    async runCommand(id, { takeOver = false } = {}) {
      const command = await claimWhenCarIsFree(id, takeOver);
      // Only a command an earlier attempt may have delivered (taken over, or retried) reads the car
      // first: a first send costs one request and its read-back, not a third (the quota is per request).
      return command ? execute(command, { checkFirst: takeOver || command.attempts > 1 }) : null;
    },
    async abandon(id, reason) {
      const command = await abandonCommand(db, id, reason);
      if (!command) return null;
      options.onReplanNeeded?.(command.vehicleId, reason);
      return log({ command, outcome: 'failed', reason });
    },
    async reconcile() {
      const outcomes: CommandOutcome[] = [];
      for (const command of await inFlightCommands(db))
        outcomes.push(await execute(command, { checkFirst: true }));
      return outcomes;
    },
  };
}

/** Refusals of the vehicle API that say the car already is where the command wants it. */
const ALREADY_THERE: Readonly<Record<CommandRecord['action'], readonly string[]>> = {
  start_charge: ['CHARGING_IN_PROGRESS', 'FULLY_CHARGED'],
  stop_charge: ['NOT_CHARGING'],
  set_charge_limit: [],
};

function alreadyThere(command: Pick<CommandRecord, 'action'>, error: unknown): boolean {
  return (
    isVoltkitError(error) &&
    error.type === 'VEHICLE_STATE' &&
    error.code !== null &&
    ALREADY_THERE[command.action].includes(error.code)
  );
}

/** Whether the car already is where the command wants it. */
export function satisfies(command: Pick<CommandRecord, 'action' | 'value'>, state: ChargingState): boolean {
  switch (command.action) {
    case 'start_charge':
      return state.charging === 'CHARGING' || state.charging === 'FULLY_CHARGED';
    case 'stop_charge':
      return state.charging !== 'CHARGING';
    case 'set_charge_limit':
      return (
        state.chargeLimit !== null &&
        command.value !== undefined &&
        Math.abs(state.chargeLimit - command.value) < 0.005
      );
  }
}

/**
 * The vehicle API refused the grant: past its refresh token's expiry it has expired, before that the
 * owner revoked it. Either way the tokens are dropped and the dashboard offers to reconnect.
 */
export async function markGrantUnusable(
  db: SqlClient,
  grantId: string,
  reason: string,
  at: Date,
): Promise<void> {
  const grant = await findGrant(db, grantId);
  if (!grant || grant.status !== 'active') return;
  const expired = grant.refreshExpiresAt !== null && grant.refreshExpiresAt.getTime() <= at.getTime();
  await markGrant(db, grantId, expired ? 'expired' : 'revoked', reason);
}
