/** Formatting shared by both pages; a missing value reads "unknown", never 0. */
export const UNKNOWN = 'unknown';

export function formatMoney(value: number | null, currency: string): string {
  if (value === null) return UNKNOWN;
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency, maximumFractionDigits: 2 }).format(
    value,
  );
}

export const formatPercent = (fraction: number | null): string =>
  fraction === null ? UNKNOWN : `${Math.round(fraction * 100)} %`;

export const formatKw = (kw: number): string => `${(Math.round(kw * 10) / 10).toFixed(1)} kW`;

export function formatLocal(iso: string | null, timeZone: string): string {
  if (iso === null) return UNKNOWN;
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).format(new Date(iso));
}

/** "3 min ago" style age of a reading, against the service's clock. */
export function formatAge(iso: string | null, nowIso: string): string {
  if (iso === null) return UNKNOWN;
  const seconds = Math.max(0, Math.round((Date.parse(nowIso) - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

/** Wall-clock `YYYY-MM-DDTHH:MM` in `timeZone` → the instant (ISO, UTC). */
export function wallTimeToInstant(wall: string, timeZone: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(wall);
  if (!match) throw new Error(`expected a date and time like 2026-11-22T07:00, got "${wall}"`);
  const [, y, mo, d, h, mi] = match.map(Number) as [number, number, number, number, number, number];
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  const offsetAt = (instant: number): number => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    }).formatToParts(instant);
    const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute')) - instant;
  };
  const first = guess - offsetAt(guess);
  return new Date(guess - offsetAt(first)).toISOString();
}

/** The instant as wall-clock `YYYY-MM-DDTHH:MM` in `timeZone` (for datetime-local inputs). */
export function instantToWallTime(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(new Date(iso));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '00';
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}`;
}
