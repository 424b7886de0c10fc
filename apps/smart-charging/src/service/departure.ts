import { localTime, zonedTimeToEpochMs } from '../planner/time-grid.ts';
import type { ChargingPreferences } from '../store/preferences.ts';

/** `localTime().weekday` counts from Sunday; the preferences list Monday first. */
const WEEKDAY_BY_INDEX = [
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
] as const;

/**
 * The next time the car leaves, in epoch ms: the weekly departure of the coming days in the site's time
 * zone, unless a one-off departure replaces the one on its day. `null` when nothing is scheduled within a week.
 */
export function nextDeparture(
  preferences: ChargingPreferences,
  nowMs: number,
  timeZone: string,
): number | null {
  const oneOff = preferences.oneOffDeparture === null ? null : Date.parse(preferences.oneOffDeparture);
  const oneOffDay = oneOff === null ? null : localDayKey(oneOff, timeZone);
  const today = localTime(nowMs, timeZone);
  let best = oneOff !== null && oneOff > nowMs ? oneOff : null;
  for (let offset = 0; offset <= 7; offset++) {
    // Noon of the local day `offset` days ahead: safe from DST jumps when finding its date and weekday.
    const noon = localTime(
      zonedTimeToEpochMs(
        { year: today.year, month: today.month, day: today.day + offset, hour: 12 },
        timeZone,
      ),
      timeZone,
    );
    const weekday = WEEKDAY_BY_INDEX[noon.weekday];
    const time = weekday === undefined ? null : preferences.departures[weekday];
    if (!time || `${noon.year}-${noon.month}-${noon.day}` === oneOffDay) continue;
    const [hour, minute] = time.split(':').map(Number) as [number, number];
    const departure = zonedTimeToEpochMs(
      { year: noon.year, month: noon.month, day: noon.day, hour, minute },
      timeZone,
    );
    if (departure > nowMs) {
      best = best === null ? departure : Math.min(best, departure);
      break;
    }
  }
  return best;
}

function localDayKey(epochMs: number, timeZone: string): string {
  const local = localTime(epochMs, timeZone);
  return `${local.year}-${local.month}-${local.day}`;
}
