/**
 * PV forecasts from a file: CSV rows `start,kw` (a header naming the columns, times as epoch ms or ISO
 * with offset), averaged into the plan's slots. Every slot must be covered: a gap in a forecast is an
 * error, never zero sunshine.
 */
import { PriceImportError } from './price-import.ts';
import { formatZoned, slotStartMs, type SlotGrid } from './time-grid.ts';

const START_COLUMNS = ['start', 'time', 'timestamp', 'period_start'];
const POWER_COLUMNS = ['kw', 'pv_kw', 'power_kw'];

/** Mean PV power per slot (kW) from a `start,kw` CSV; throws naming the first row or slot at fault. */
export function parsePvForecastCsv(text: string, grid: SlotGrid): number[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#'));
  const header = (lines[0] ?? '').split(',').map((c) => c.trim().toLowerCase());
  const startCol = header.findIndex((c) => START_COLUMNS.includes(c));
  const powerCol = header.findIndex((c) => POWER_COLUMNS.includes(c));
  if (startCol < 0 || powerCol < 0)
    throw new PriceImportError(
      `PV CSV header must name a start column (${START_COLUMNS.join(', ')}) and a power column in kW (${POWER_COLUMNS.join(', ')})`,
    );
  if (lines.length < 2) throw new PriceImportError('PV CSV has a header but no rows');
  const slotMs = grid.slotMinutes * 60_000;
  const sum = new Float64Array(grid.slotCount);
  const count = new Uint32Array(grid.slotCount);
  for (const [k, line] of lines.slice(1).entries()) {
    const cells = line.split(',').map((c) => c.trim());
    const startText = cells[startCol] ?? '';
    const startMs = /^\d{10,13}$/.test(startText)
      ? Number(startText) * (startText.length === 10 ? 1000 : 1)
      : /(?:Z|[+-]\d{2}:?\d{2})$/i.test(startText)
        ? Date.parse(startText)
        : Number.NaN;
    if (Number.isNaN(startMs))
      throw new PriceImportError(
        `PV CSV row ${k + 2} start: "${startText}" is not an epoch time or an ISO time with offset`,
      );
    const kw = Number(cells[powerCol]);
    if (cells[powerCol] === undefined || cells[powerCol] === '' || !Number.isFinite(kw) || kw < 0)
      throw new PriceImportError(`PV CSV row ${k + 2} kw: "${cells[powerCol] ?? ''}" is not a power ≥ 0`);
    const t = Math.floor((startMs - grid.startMs) / slotMs);
    if (t < 0 || t >= grid.slotCount) continue;
    sum[t] = sum[t]! + kw;
    count[t] = count[t]! + 1;
  }
  const missing = [...count.keys()].filter((t) => count[t] === 0);
  if (missing.length > 0)
    throw new PriceImportError(
      `PV CSV covers ${grid.slotCount - missing.length} of ${grid.slotCount} slots; the first gap starts ${formatZoned(slotStartMs(grid, missing[0]!), grid.timeZone)}`,
    );
  return Array.from(sum, (s, t) => s / count[t]!);
}
