import type { PriceSlot } from '../store/prices.ts';

/** A window of the horizon that no stored price covers. */
export interface PriceGap {
  readonly start: Date;
  readonly end: Date;
}

/** What a person must be told about the prices behind a window: which parts are missing and why. */
export interface PriceCoverage {
  readonly source: string;
  readonly from: Date;
  readonly to: Date;
  readonly gaps: readonly PriceGap[];
  /** The last attempt to fetch prices failed with this message (the stored series may be stale). */
  readonly fetchError: string | null;
  /** One sentence for a banner or a log line; null when every instant of the window has a real price. */
  readonly problem: string | null;
}

/** Windows of [from, to) that the slots (in time order, possibly overlapping the ends) leave uncovered. */
export function findPriceGaps(slots: readonly PriceSlot[], from: Date, to: Date): PriceGap[] {
  const gaps: PriceGap[] = [];
  let coveredUntil = from.getTime();
  for (const slot of slots) {
    const start = slot.start.getTime();
    const end = slot.end.getTime();
    if (end <= coveredUntil) continue;
    if (start > coveredUntil)
      gaps.push({ start: new Date(coveredUntil), end: new Date(Math.min(start, to.getTime())) });
    coveredUntil = Math.max(coveredUntil, end);
    if (coveredUntil >= to.getTime()) break;
  }
  if (coveredUntil < to.getTime()) gaps.push({ start: new Date(coveredUntil), end: to });
  return gaps.filter((gap) => gap.end > gap.start);
}

export function describePriceCoverage(options: {
  readonly source: string;
  readonly slots: readonly PriceSlot[];
  readonly from: Date;
  readonly to: Date;
  readonly fetchError?: string | null;
}): PriceCoverage {
  const gaps = findPriceGaps(options.slots, options.from, options.to);
  const fetchError = options.fetchError ?? null;
  const parts: string[] = [];
  if (gaps.length > 0) {
    const windows = gaps.map((gap) => `${gap.start.toISOString()} – ${gap.end.toISOString()}`);
    const shown = windows.length > 3 ? [...windows.slice(0, 3), `and ${windows.length - 3} more`] : windows;
    parts.push(`no prices from ${options.source} for ${shown.join(', ')}`);
  }
  if (fetchError !== null) parts.push(`the last price fetch from ${options.source} failed: ${fetchError}`);
  return {
    source: options.source,
    from: options.from,
    to: options.to,
    gaps,
    fetchError,
    problem: parts.length === 0 ? null : capitalise(parts.join('; ')),
  };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The JSON shape of a coverage report (ISO instants). */
export function priceCoverageView(coverage: PriceCoverage): {
  source: string;
  from: string;
  to: string;
  missing: { start: string; end: string }[];
  fetchError: string | null;
  problem: string | null;
} {
  return {
    source: coverage.source,
    from: coverage.from.toISOString(),
    to: coverage.to.toISOString(),
    missing: coverage.gaps.map((gap) => ({ start: gap.start.toISOString(), end: gap.end.toISOString() })),
    fetchError: coverage.fetchError,
    problem: coverage.problem,
  };
}
