import { describe, expect, it } from 'vitest';
import {
  createDayGrid,
  formatZoned,
  localTime,
  parseInstant,
  slotStartMs,
  zoneOffsetMinutes,
} from './time-grid.ts';

describe('slot grids in IANA zones', () => {
  it.each([
    { date: '2024-03-31', zone: 'Europe/Berlin', minutes: 15, slots: 92 },
    { date: '2024-10-27', zone: 'Europe/Berlin', minutes: 15, slots: 100 },
    { date: '2024-06-01', zone: 'Europe/Berlin', minutes: 15, slots: 96 },
    { date: '2019-03-10', zone: 'America/Los_Angeles', minutes: 60, slots: 23 },
    { date: '2019-11-03', zone: 'America/Los_Angeles', minutes: 5, slots: 300 },
    { date: '2024-10-27', zone: 'Europe/London', minutes: 30, slots: 50 },
  ] as const)('$date in $zone has $slots slots of $minutes min', ({ date, zone, minutes, slots }) => {
    const grid = createDayGrid(date, zone, minutes);
    expect(grid.slotCount).toBe(slots);
    expect(formatZoned(grid.startMs, zone).slice(0, 19)).toBe(`${date}T00:00:00`);
    // The next local midnight is exactly where the grid ends.
    const end = localTime(slotStartMs(grid, grid.slotCount), zone);
    expect(end.hour).toBe(0);
  });

  it('reads local wall-clock times, resolving DST gaps forward and repeats to the first occurrence', () => {
    expect(formatZoned(parseInstant('2024-03-31T02:30', 'Europe/Berlin'), 'Europe/Berlin')).toBe(
      '2024-03-31T03:30:00+02:00',
    );
    expect(formatZoned(parseInstant('2024-10-27T02:30', 'Europe/Berlin'), 'Europe/Berlin')).toBe(
      '2024-10-27T02:30:00+02:00',
    );
    expect(parseInstant('2024-10-27T02:30:00+01:00', 'Europe/Berlin')).toBe(
      Date.parse('2024-10-27T01:30:00Z'),
    );
    expect(zoneOffsetMinutes(Date.parse('2024-07-01T12:00:00Z'), 'America/Los_Angeles')).toBe(-420);
    expect(() => parseInstant('tomorrow morning', 'Europe/Berlin')).toThrow(/not a valid time/);
  });

  it('gives local calendar fields (weekday, fractional hour)', () => {
    const t = localTime(Date.parse('2024-10-27T01:30:00Z'), 'Europe/Berlin');
    expect(t).toEqual({ year: 2024, month: 10, day: 27, weekday: 0, hour: 2.5 });
  });
});
