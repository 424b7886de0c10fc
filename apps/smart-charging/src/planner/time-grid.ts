/**
 * Planning slots in a named IANA time zone. Slots have a fixed length in absolute time, so a local
 * day has 92, 96 or 100 quarter-hours (23, 24 or 25 hours) around DST changes; local calendar fields
 * (month, weekday, hour) come from `Intl`, which carries the zone rules.
 */

export const SLOT_MINUTES = [5, 15, 30, 60] as const;
export type SlotMinutes = (typeof SLOT_MINUTES)[number];

export interface SlotGrid {
  readonly timeZone: string;
  readonly slotMinutes: SlotMinutes;
  /** Slot length in hours. */
  readonly slotHours: number;
  /** Epoch milliseconds of the first slot's start. */
  readonly startMs: number;
  readonly slotCount: number;
}

/** Local calendar fields of an instant in a zone. */
export interface LocalTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
  /** Hours since local midnight, fractional (e.g. 8.5 for 08:30). */
  readonly hour: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function localTime(epochMs: number, timeZone: string): LocalTime {
  const parts = formatterFor(timeZone).formatToParts(new Date(epochMs));
  const get = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((p) => p.type === type)?.value ?? '0';
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    weekday: WEEKDAYS.indexOf(get('weekday')),
    hour: Number(get('hour')) + Number(get('minute')) / 60 + Number(get('second')) / 3600,
  };
}

/** Offset of the zone from UTC at an instant, in minutes (e.g. +120 for CEST). */
export function zoneOffsetMinutes(epochMs: number, timeZone: string): number {
  const local = localTime(epochMs, timeZone);
  const hours = Math.floor(local.hour);
  const minutes = Math.round((local.hour - hours) * 60);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, hours, minutes);
  return Math.round((asUtc - Math.floor(epochMs / 60_000) * 60_000) / 60_000);
}

/**
 * The instant of a local wall-clock time in a zone. A time skipped by a DST jump resolves to the
 * instant just after the jump; a repeated time resolves to its first occurrence.
 */
export function zonedTimeToEpochMs(
  local: { year: number; month: number; day: number; hour?: number; minute?: number },
  timeZone: string,
): number {
  const naive = Date.UTC(local.year, local.month - 1, local.day, local.hour ?? 0, local.minute ?? 0);
  // Two fixed-point steps settle the offset, also next to a DST change.
  const first = naive - zoneOffsetMinutes(naive, timeZone) * 60_000;
  const second = naive - zoneOffsetMinutes(first, timeZone) * 60_000;
  if (second === first) {
    const earlier = naive - zoneOffsetMinutes(first - 3_600_000, timeZone) * 60_000;
    // Repeated hour (fall back): prefer the earlier instant when it maps to the same wall time.
    if (earlier < first && localMatches(earlier, local, timeZone)) return earlier;
    return first;
  }
  // Skipped hour (spring forward): take the later candidate, which lies after the jump.
  return Math.max(first, second);
}

function localMatches(
  epochMs: number,
  local: { year: number; month: number; day: number; hour?: number; minute?: number },
  timeZone: string,
): boolean {
  const t = localTime(epochMs, timeZone);
  const hour = (local.hour ?? 0) + (local.minute ?? 0) / 60;
  return (
    t.year === local.year && t.month === local.month && t.day === local.day && Math.abs(t.hour - hour) < 1e-9
  );
}

/** Parses `YYYY-MM-DD` into calendar fields. */
export function parseLocalDate(date: string): { year: number; month: number; day: number } {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) throw new RangeError(`expected a date like 2024-03-31, got "${date}"`);
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
}

/**
 * Parses an instant: ISO-8601 with offset or `Z` as is; a local date-time without offset
 * (`2024-03-31T07:30`) or a bare date in the given zone.
 */
export function parseInstant(value: string | number, timeZone: string): number {
  if (typeof value === 'number') return value;
  // Fleets repeat the same wall-clock times; resolving one through Intl costs several formatter calls.
  const key = `${timeZone}|${value}`;
  const cached = instantCache.get(key);
  if (cached !== undefined) return cached;
  const ms = parseInstantUncached(value, timeZone);
  if (instantCache.size >= INSTANT_CACHE_SIZE) instantCache.clear();
  instantCache.set(key, ms);
  return ms;
}

const INSTANT_CACHE_SIZE = 10_000;
const instantCache = new Map<string, number>();

function parseInstantUncached(value: string, timeZone: string): number {
  if (/(?:Z|[+-]\d{2}:?\d{2})$/i.test(value)) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new RangeError(`not a valid time: "${value}"`);
    return ms;
  }
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (!match) throw new RangeError(`not a valid time: "${value}"`);
  return zonedTimeToEpochMs(
    {
      year: Number(match[1]),
      month: Number(match[2]),
      day: Number(match[3]),
      hour: Number(match[4] ?? 0),
      minute: Number(match[5] ?? 0),
    },
    timeZone,
  );
}

/** Slots covering [start, end) in absolute time; `end` is rounded up to whole slots. */
export function createSlotGrid(options: {
  readonly startMs: number;
  readonly endMs: number;
  readonly slotMinutes: SlotMinutes;
  readonly timeZone: string;
}): SlotGrid {
  const slotMs = options.slotMinutes * 60_000;
  const slotCount = Math.max(1, Math.ceil((options.endMs - options.startMs) / slotMs));
  return {
    timeZone: options.timeZone,
    slotMinutes: options.slotMinutes,
    slotHours: options.slotMinutes / 60,
    startMs: options.startMs,
    slotCount,
  };
}

/** Slots for whole local days starting at local midnight of `date` (23 h / 25 h on DST days). */
export function createDayGrid(date: string, timeZone: string, slotMinutes: SlotMinutes, days = 1): SlotGrid {
  const first = parseLocalDate(date);
  const startMs = zonedTimeToEpochMs(first, timeZone);
  const endDay = new Date(Date.UTC(first.year, first.month - 1, first.day + days));
  const endMs = zonedTimeToEpochMs(
    { year: endDay.getUTCFullYear(), month: endDay.getUTCMonth() + 1, day: endDay.getUTCDate() },
    timeZone,
  );
  return createSlotGrid({ startMs, endMs, slotMinutes, timeZone });
}

export function slotStartMs(grid: SlotGrid, slot: number): number {
  return grid.startMs + slot * grid.slotMinutes * 60_000;
}

export function slotEndMs(grid: SlotGrid): number {
  return slotStartMs(grid, grid.slotCount);
}

/** ISO-8601 of an instant with the zone's offset (e.g. `2024-03-31T03:00:00+02:00`). */
export function formatZoned(epochMs: number, timeZone: string): string {
  const offset = zoneOffsetMinutes(epochMs, timeZone);
  const shifted = new Date(epochMs + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${shifted}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
