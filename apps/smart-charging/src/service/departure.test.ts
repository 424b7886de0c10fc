import { describe, expect, it } from 'vitest';
import { DEFAULT_PREFERENCES, type ChargingPreferences } from '../store/preferences.ts';
import { nextDeparture } from './departure.ts';

const zone = 'Europe/Berlin';
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('next departure', () => {
  const weekdays: ChargingPreferences = DEFAULT_PREFERENCES; // Mon–Fri 07:30, weekend free

  it('takes the next weekday morning in the site time zone', () => {
    // Friday 2026-11-20 20:00 local → Monday 07:30 local (CET = UTC+1).
    expect(iso(nextDeparture(weekdays, Date.parse('2026-11-20T19:00:00Z'), zone))).toBe(
      '2026-11-23T06:30:00.000Z',
    );
    // Tuesday 06:00 local → the same morning.
    expect(iso(nextDeparture(weekdays, Date.parse('2026-11-24T05:00:00Z'), zone))).toBe(
      '2026-11-24T06:30:00.000Z',
    );
  });

  it('uses summer time after the spring change', () => {
    // Sunday 2026-03-29 is the DST day; Monday 07:30 CEST is 05:30 UTC.
    expect(iso(nextDeparture(weekdays, Date.parse('2026-03-28T20:00:00Z'), zone))).toBe(
      '2026-03-30T05:30:00.000Z',
    );
  });

  it('lets a one-off departure replace the weekly one of its day', () => {
    const preferences = { ...weekdays, oneOffDeparture: '2026-11-23T09:45:00+01:00' };
    expect(iso(nextDeparture(preferences, Date.parse('2026-11-20T19:00:00Z'), zone))).toBe(
      '2026-11-23T08:45:00.000Z',
    );
    const saturdayTrip = { ...weekdays, oneOffDeparture: '2026-11-21T10:00:00+01:00' };
    expect(iso(nextDeparture(saturdayTrip, Date.parse('2026-11-20T19:00:00Z'), zone))).toBe(
      '2026-11-21T09:00:00.000Z',
    );
  });

  it('is null when the car never leaves', () => {
    const never = {
      ...weekdays,
      departures: Object.fromEntries(Object.keys(weekdays.departures).map((d) => [d, null])),
    } as ChargingPreferences;
    expect(nextDeparture(never, Date.parse('2026-11-20T19:00:00Z'), zone)).toBeNull();
  });
});
