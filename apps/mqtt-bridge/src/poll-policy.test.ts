import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { backoffMs, baseIntervalMs, DailyBudget, nextPollDelayMs } from './poll-policy.ts';

const polling = parseConfig({}).polling;
const DAY = 86_400_000;
const noon = Date.UTC(2026, 0, 15, 12);
const inputs = {
  now: noon,
  activity: 'parked' as const,
  fastUntil: 0,
  notBefore: 0,
  budgetRemaining: 1000,
  msUntilBudgetReset: DAY / 2,
  pollCost: 6,
};

describe('poll policy', () => {
  it('polls often while charging or driving and rarely when parked', () => {
    expect(nextPollDelayMs({ ...inputs, activity: 'charging' }, polling)).toBe(
      polling.chargingSeconds * 1000,
    );
    expect(nextPollDelayMs({ ...inputs, activity: 'driving' }, polling)).toBe(polling.drivingSeconds * 1000);
    expect(nextPollDelayMs(inputs, polling)).toBe(polling.parkedSeconds * 1000);
    expect(baseIntervalMs('plugged', polling)).toBe(polling.pluggedSeconds * 1000);
  });

  it('re-checks a sleeping car every few hours by default, never when set to 0', () => {
    expect(nextPollDelayMs({ ...inputs, activity: 'asleep' }, polling)).toBe(3 * 3_600_000);
    expect(nextPollDelayMs({ ...inputs, activity: 'asleep' }, { ...polling, asleepSeconds: 0 })).toBeNull();
    expect(nextPollDelayMs({ ...inputs, activity: 'asleep' }, { ...polling, asleepSeconds: 7200 })).toBe(
      7_200_000,
    );
  });

  it('polls fast for a while after a command', () => {
    expect(nextPollDelayMs({ ...inputs, fastUntil: noon + 60_000 }, polling)).toBe(
      polling.fastSeconds * 1000,
    );
    expect(nextPollDelayMs({ ...inputs, fastUntil: noon - 1 }, polling)).toBe(polling.parkedSeconds * 1000);
  });

  it('honours Retry-After / backoff', () => {
    expect(nextPollDelayMs({ ...inputs, activity: 'charging', notBefore: noon + 300_000 }, polling)).toBe(
      300_000,
    );
  });

  it('stretches the interval when the budget runs low and stops when it is gone', () => {
    // 30 requests left, 5 polls of 6: spread over the 12 h left.
    expect(nextPollDelayMs({ ...inputs, activity: 'charging', budgetRemaining: 30 }, polling)).toBe(
      Math.floor(DAY / 2 / 5),
    );
    expect(nextPollDelayMs({ ...inputs, budgetRemaining: 5 }, polling)).toBe(DAY / 2 + 1000);
  });

  it('backs off exponentially with a cap', () => {
    expect(backoffMs(0, polling)).toBe(0);
    expect(backoffMs(1, polling)).toBe(30_000);
    expect(backoffMs(3, polling)).toBe(120_000);
    expect(backoffMs(30, polling)).toBe(polling.maxBackoffSeconds * 1000);
  });

  it('resets the budget at 00:00 UTC', () => {
    const budget = new DailyBudget(10, noon);
    budget.spend(8, noon);
    expect(budget.remaining(noon + 1000)).toBe(2);
    expect(budget.msUntilReset(noon)).toBe(DAY / 2);
    expect(budget.remaining(noon + DAY / 2)).toBe(10);
  });
});
