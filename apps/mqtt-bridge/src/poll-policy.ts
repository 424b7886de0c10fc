import type { PollingConfig } from './config.ts';
import type { Activity } from './entities.ts';

const DAY_MS = 86_400_000;

/** Per-vehicle request budget that resets at 00:00 UTC (when OEM and Smartcar quotas reset). */
export class DailyBudget {
  readonly limit: number;
  #day: number;
  #used = 0;

  constructor(limit: number, now: number) {
    this.limit = limit;
    this.#day = Math.floor(now / DAY_MS);
  }

  #roll(now: number): void {
    const day = Math.floor(now / DAY_MS);
    if (day !== this.#day) {
      this.#day = day;
      this.#used = 0;
    }
  }

  remaining(now: number): number {
    this.#roll(now);
    return Math.max(0, this.limit - this.#used);
  }

  spend(requests: number, now: number): void {
    this.#roll(now);
    this.#used += requests;
  }

  msUntilReset(now: number): number {
    return (Math.floor(now / DAY_MS) + 1) * DAY_MS - now;
  }
}

export interface PollInputs {
  readonly now: number;
  readonly activity: Activity;
  /** Poll fast until then (after a command or refresh). */
  readonly fastUntil: number;
  /** Do not call the API before then (Retry-After or error backoff). */
  readonly notBefore: number;
  readonly budgetRemaining: number;
  readonly msUntilBudgetReset: number;
  /** Requests one poll costs. */
  readonly pollCost: number;
}

/** The base interval for what the car is doing, in ms; null = do not poll (sleeping car, never woken). */
export function baseIntervalMs(activity: Activity, config: PollingConfig): number | null {
  const seconds = (() => {
    switch (activity) {
      case 'charging':
        return config.chargingSeconds;
      case 'driving':
        return config.drivingSeconds;
      case 'plugged':
        return config.pluggedSeconds;
      case 'parked':
      case 'unknown':
        return config.parkedSeconds;
      case 'asleep':
        return config.asleepSeconds;
    }
  })();
  return seconds > 0 ? seconds * 1000 : activity === 'asleep' ? null : 0;
}

/**
 * Delay until the next poll, or null when the car must not be polled until something else happens
 * (a refresh, a command, a push). Keeps the daily budget from running dry before the UTC reset.
 */
export function nextPollDelayMs(inputs: PollInputs, config: PollingConfig): number | null {
  const base = baseIntervalMs(inputs.activity, config);
  if (base === null) return null;
  let interval = base;
  if (inputs.now < inputs.fastUntil && config.fastSeconds > 0)
    interval = Math.min(interval, config.fastSeconds * 1000);

  const cost = Math.max(1, inputs.pollCost);
  const pollsLeft = Math.floor(inputs.budgetRemaining / cost);
  if (pollsLeft <= 0) return inputs.msUntilBudgetReset + 1000;
  // Bursts (charging, driving) may run at full speed while enough is left to keep polling a parked car
  // until the reset; below that reserve, what remains is spread evenly over the rest of the day.
  const parkedMs = Math.max(1000, config.parkedSeconds * 1000);
  const reserve = Math.ceil(inputs.msUntilBudgetReset / parkedMs) * cost;
  if (inputs.budgetRemaining <= reserve)
    interval = Math.max(interval, Math.floor(inputs.msUntilBudgetReset / pollsLeft));

  const earliest = Math.max(0, inputs.notBefore - inputs.now);
  return Math.max(interval, earliest);
}

/** Exponential backoff after consecutive failures: base·2^(n-1), capped. */
export function backoffMs(consecutiveFailures: number, config: PollingConfig): number {
  if (consecutiveFailures <= 0) return 0;
  const ms = config.errorBackoffSeconds * 1000 * 2 ** Math.min(consecutiveFailures - 1, 20);
  return Math.min(ms, config.maxBackoffSeconds * 1000);
}
