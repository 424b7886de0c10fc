import { isVoltkitError } from '@voltkit/core/client';
import type { Logger } from 'pino';
import {
  emptyBucketUntil,
  holdVehicleUntil,
  loadPollCandidates,
  markPollAttempts,
  takeTokens,
  VEHICLE_API_BUDGET_KEY,
  type RequestBudgetLimits,
} from '../store/request-budget.ts';
import type { SqlQueryable } from '../store/sql-client.ts';

/** Smartcar's documented application limit, which the simulator defaults to as well: 120 at once, 2 a minute. */
export const DEFAULT_REQUEST_BUDGET: RequestBudgetLimits = { capacity: 120, refillPerMinute: 2 };

/** A 429 without Retry-After: wait this long before asking again. */
const DEFAULT_RETRY_AFTER_SECONDS = 60;

export interface PollBudgetOptions {
  readonly limits: RequestBudgetLimits;
  /** A state a webhook pushed within this long (the poll interval) is fresh: the car is not polled. */
  readonly webhookFreshMs: number;
}

export interface PollSelection {
  /** Cars to ask now, the least recently known or tried first; one token was taken for each. */
  readonly granted: readonly string[];
  /** Cars the vehicle API said not to ask yet (429 with Retry-After). */
  readonly backedOff: readonly string[];
  /** Cars with a state a webhook pushed within the poll interval. */
  readonly freshFromWebhook: readonly string[];
  /** Cars that were due but found no token left: they keep their last stored state this round. */
  readonly overBudget: readonly string[];
}

/**
 * Which of `candidates` to read from the vehicle API now: those no back-off holds and no fresh webhook
 * state covers, least recently known first, as many as the cluster-wide budget grants (one atomic take).
 * The granted cars are marked as tried, so successive rounds go round the whole fleet.
 */
export async function selectCarsToPoll(
  db: SqlQueryable,
  candidates: readonly string[],
  now: Date,
  options: PollBudgetOptions,
): Promise<PollSelection> {
  if (candidates.length === 0) return { granted: [], backedOff: [], freshFromWebhook: [], overBudget: [] };
  const rows = await loadPollCandidates(db, [...new Set(candidates)]);
  const freshSince = now.getTime() - options.webhookFreshMs;
  const backedOff: string[] = [];
  const freshFromWebhook: string[] = [];
  const due: string[] = [];
  for (const row of rows) {
    if (row.not_before !== null && new Date(row.not_before).getTime() > now.getTime())
      backedOff.push(row.vehicle_id);
    else if (
      row.state_source === 'webhook' &&
      row.state_read_at !== null &&
      new Date(row.state_read_at).getTime() > freshSince
    )
      freshFromWebhook.push(row.vehicle_id);
    else due.push(row.vehicle_id);
  }
  const { granted } =
    due.length === 0
      ? { granted: 0 }
      : await takeTokens(db, VEHICLE_API_BUDGET_KEY, due.length, options.limits, now);
  const asked = due.slice(0, granted);
  await markPollAttempts(db, asked, now);
  return { granted: asked, backedOff, freshFromWebhook, overBudget: due.slice(granted) };
}

/**
 * Records a refusal for being over a limit: `RATE_LIMIT:VEHICLE` holds that car back until its Retry-After,
 * any other `RATE_LIMIT` (the application's) empties the shared bucket until then. Returns which limit it
 * was, or null when `error` is not a rate limit (nothing is recorded).
 */
export async function recordRateLimited(
  db: SqlQueryable,
  vehicleId: string,
  error: unknown,
  now: Date,
): Promise<'vehicle' | 'app' | null> {
  if (!isVoltkitError(error, 'RATE_LIMIT')) return null;
  const until = new Date(now.getTime() + (error.retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS) * 1000);
  if (error.code === 'VEHICLE') {
    await holdVehicleUntil(db, vehicleId, until, 'RATE_LIMIT:VEHICLE');
    return 'vehicle';
  }
  await emptyBucketUntil(db, VEHICLE_API_BUDGET_KEY, until);
  return 'app';
}

/** Says, once per round and at warn, how many cars the budget left unread (never silently). */
export function reportPollSelection(logger: Logger, selection: PollSelection, round: string): void {
  if (selection.overBudget.length === 0) return;
  logger.warn(
    {
      round,
      read: selection.granted.length,
      skipped: selection.overBudget.length,
      backedOff: selection.backedOff.length,
      freshFromWebhook: selection.freshFromWebhook.length,
    },
    `vehicle API budget exhausted: ${selection.overBudget.length} cars not read this round, planned on their last stored state`,
  );
}
