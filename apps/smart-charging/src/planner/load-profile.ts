/**
 * BDEW standard household load profile H25 (2025 edition): quarter-hour energy per month for
 * Saturday (SA), Sunday/holiday (FT) and working day (WT), normalised to 1,000,000 kWh a year.
 * Scaled to a site's annual consumption it is the default base-load forecast.
 */
export type DayType = 'SA' | 'FT' | 'WT';

export interface LoadProfile {
  /** `quarterKwh[month 0..11][dayType]` → 96 quarter-hour energies (kWh) at 1,000,000 kWh/a. */
  readonly quarterKwh: ReadonlyArray<Readonly<Record<DayType, Float64Array>>>;
}

export class LoadProfileError extends Error {
  override name = 'LoadProfileError';
}

const DAY_TYPES: readonly DayType[] = ['SA', 'FT', 'WT'];

/** Parses the BDEW CSV (row 1 month names, row 2 day types, then `HH:MM-HH:MM` rows). */
export function parseBdewProfileCsv(text: string): LoadProfile {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const dayTypes = lines[1]
    ?.split(',')
    .slice(1)
    .map((c) => c.trim());
  if (!dayTypes || dayTypes.length !== 36 || dayTypes.some((d, k) => d !== DAY_TYPES[k % 3])) {
    throw new LoadProfileError('BDEW profile: row 2 must list SA,FT,WT for each of 12 months');
  }
  const rows = lines.slice(2);
  if (rows.length !== 96)
    throw new LoadProfileError(`BDEW profile: expected 96 quarter-hour rows, found ${rows.length}`);
  const quarterKwh = Array.from({ length: 12 }, () => ({
    SA: new Float64Array(96),
    FT: new Float64Array(96),
    WT: new Float64Array(96),
  }));
  rows.forEach((line, quarter) => {
    const cells = line.split(',');
    for (let column = 0; column < 36; column++) {
      const value = Number(cells[column + 1]);
      if (!Number.isFinite(value) || value < 0) {
        throw new LoadProfileError(
          `BDEW profile: row ${quarter + 3} column ${column + 2} is not a non-negative number`,
        );
      }
      quarterKwh[Math.floor(column / 3)]![DAY_TYPES[column % 3]!][quarter] = value;
    }
  });
  return { quarterKwh };
}

/** Mean power (kW) of the profile over a local quarter-hour, scaled to `annualKwh`. */
export function profilePowerKw(
  profile: LoadProfile,
  month: number,
  weekday: number,
  quarter: number,
  annualKwh: number,
): number {
  const dayType: DayType = weekday === 6 ? 'SA' : weekday === 0 ? 'FT' : 'WT';
  const kwh = profile.quarterKwh[month - 1]![dayType][quarter]!;
  return kwh * 4 * (annualKwh / 1_000_000);
}
