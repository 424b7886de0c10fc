/**
 * Importers for day-ahead price formats. Pure functions over the file's text; each validates with zod
 * and returns spot prices per kWh in the source currency, ascending in time.
 * - aWATTar `GET /v1/marketdata`: `{data: [{start_timestamp, end_timestamp, marketprice, unit: "Eur/MWh"}]}`
 * - ENTSO-E Transparency day-ahead (document type A44): `Publication_MarketDocument` XML, one or more
 *   `TimeSeries/Period` with `timeInterval`, `resolution` (PT15M/PT30M/PT60M) and `Point`s
 *   (`position`, `price.amount` per MWh); curve type A03 omits points that repeat the previous price.
 * - Octopus Energy `standard-unit-rates` (Agile): `{results: [{valid_from, valid_to, value_exc_vat,
 *   value_inc_vat}]}` in pence per kWh, newest first.
 * - CSV: `start;end;price;unit` (the aWATTar archive, no header) or a header with start/end/price/unit.
 *   A CSV that names no unit (no unit column, no unit in the price column's name) is refused unless the
 *   caller states it: a price read per MWh instead of per kWh is 1,000× off.
 * An empty file (or a header alone) is an error, never an empty series.
 */
import { z } from 'zod';
import type { PricePoint } from './tariff.ts';

export class PriceImportError extends Error {
  override name = 'PriceImportError';
}

const AwattarSchema = z.object({
  data: z.array(
    z.object({
      start_timestamp: z.number(),
      end_timestamp: z.number(),
      marketprice: z.number(),
      unit: z.string().default('Eur/MWh'),
    }),
  ),
});

function perKwhFactor(unit: string, where: string): number {
  const normalized = unit.toLowerCase().replace(/\s/g, '');
  if (normalized.endsWith('/mwh') || normalized === 'mwh') return 1 / 1000;
  if (normalized.endsWith('/kwh') || normalized === 'kwh') return 1;
  throw new PriceImportError(`${where}: unknown price unit "${unit}" (expected …/MWh or …/kWh)`);
}

function parseJson(text: string, format: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PriceImportError(`${format}: not valid JSON`, { cause: error });
  }
}

function check<T>(schema: z.ZodType<T>, value: unknown, format: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new PriceImportError(`${format}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      cause: result.error,
    });
  }
  return result.data;
}

function nonEmpty<T>(rows: T[], what: string): T[] {
  if (rows.length === 0) throw new PriceImportError(`${what} is empty: the file holds no prices`);
  return rows;
}

/** Currency of a unit such as `EUR/MWh` or `Eur/MWh` (ISO 4217, upper case), when it names one. */
export function currencyOfUnit(unit: string): string | undefined {
  const match = /^\s*([A-Za-z]{3})\s*\//.exec(unit);
  return match ? match[1]!.toUpperCase() : undefined;
}

export function parseAwattarJson(text: string): PricePoint[] {
  const { data } = check(AwattarSchema, parseJson(text, 'aWATTar'), 'aWATTar');
  return nonEmpty(data, 'aWATTar data')
    .map((row, k) => ({
      startMs: row.start_timestamp,
      endMs: row.end_timestamp,
      pricePerKwh: row.marketprice * perKwhFactor(row.unit, `aWATTar data.${k}.unit`),
    }))
    .sort((a, b) => a.startMs - b.startMs);
}

const OctopusSchema = z.object({
  results: z.array(
    z.object({
      valid_from: z.iso.datetime({ offset: true }),
      valid_to: z.iso.datetime({ offset: true }),
      value_exc_vat: z.number(),
      value_inc_vat: z.number(),
    }),
  ),
});

/** Octopus Agile rates in pounds per kWh; `includeVat` picks `value_inc_vat` (what a household pays). */
export function parseOctopusAgileJson(text: string, options: { includeVat?: boolean } = {}): PricePoint[] {
  const { results } = check(OctopusSchema, parseJson(text, 'Octopus'), 'Octopus');
  const includeVat = options.includeVat ?? true;
  return nonEmpty(results, 'Octopus results')
    .map((row) => ({
      startMs: Date.parse(row.valid_from),
      endMs: Date.parse(row.valid_to),
      pricePerKwh: (includeVat ? row.value_inc_vat : row.value_exc_vat) / 100,
    }))
    .sort((a, b) => a.startMs - b.startMs);
}

function tagText(xml: string, tag: string): string | undefined {
  const match = new RegExp(
    `<${tag.replace('.', '\\.')}(?:\\s[^>]*)?>([^<]*)</${tag.replace('.', '\\.')}>`,
  ).exec(xml);
  return match?.[1]?.trim();
}

function blocks(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);
}

const RESOLUTION_MINUTES: Record<string, number> = { PT15M: 15, PT30M: 30, PT60M: 60, PT1H: 60 };

/** ENTSO-E day-ahead prices (A44). Prices per MWh become prices per kWh. */
export function parseEntsoeXml(text: string): PricePoint[] {
  if (!/<Publication_MarketDocument[\s>]/.test(text)) {
    const reason = tagText(text, 'text');
    throw new PriceImportError(`ENTSO-E: not a Publication_MarketDocument${reason ? ` (${reason})` : ''}`);
  }
  const points: PricePoint[] = [];
  for (const [s, series] of blocks(text, 'TimeSeries').entries()) {
    const unit = tagText(series, 'price_Measure_Unit.name') ?? 'MWH';
    const factor = perKwhFactor(`/${unit}`, `ENTSO-E TimeSeries ${s + 1} price_Measure_Unit.name`);
    const curveType = tagText(series, 'curveType') ?? 'A01';
    for (const period of blocks(series, 'Period')) {
      const start = Date.parse(tagText(period, 'start') ?? '');
      const end = Date.parse(tagText(period, 'end') ?? '');
      const resolution = tagText(period, 'resolution') ?? '';
      const minutes = RESOLUTION_MINUTES[resolution];
      if (Number.isNaN(start) || Number.isNaN(end))
        throw new PriceImportError(`ENTSO-E TimeSeries ${s + 1}: Period.timeInterval is missing or invalid`);
      if (minutes === undefined)
        throw new PriceImportError(`ENTSO-E TimeSeries ${s + 1}: unsupported resolution "${resolution}"`);
      const count = Math.round((end - start) / (minutes * 60_000));
      const byPosition = new Map<number, number>();
      for (const point of blocks(period, 'Point')) {
        const position = Number(tagText(point, 'position'));
        const amount = Number(tagText(point, 'price.amount'));
        if (!Number.isInteger(position) || position < 1 || position > count || !Number.isFinite(amount)) {
          throw new PriceImportError(
            `ENTSO-E TimeSeries ${s + 1}: invalid Point (position ${tagText(point, 'position')})`,
          );
        }
        byPosition.set(position, amount);
      }
      let previous: number | undefined;
      for (let position = 1; position <= count; position++) {
        let amount = byPosition.get(position);
        // A03: an omitted point repeats the previous one; A01 has every point, a hole stays a gap.
        if (amount === undefined && curveType === 'A03') amount = previous;
        if (amount === undefined) continue;
        previous = amount;
        const from = start + (position - 1) * minutes * 60_000;
        points.push({ startMs: from, endMs: from + minutes * 60_000, pricePerKwh: amount * factor });
      }
    }
  }
  return nonEmpty(points, 'ENTSO-E document (no Point in any TimeSeries)').sort(
    (a, b) => a.startMs - b.startMs,
  );
}

/** Currency of an ENTSO-E document (`currency_Unit.name`, EUR for the German zone). */
export function entsoeCurrency(text: string): string | undefined {
  return tagText(text, 'currency_Unit.name')?.toUpperCase();
}

const HEADER_START = [
  'start',
  'start_ms',
  'start_time',
  'starttime',
  'from',
  'time',
  'timestamp',
  'valid_from',
  'deliverystart',
];
const HEADER_END = ['end', 'end_ms', 'end_time', 'endtime', 'to', 'valid_to', 'deliveryend'];
const HEADER_PRICE = ['price', 'value', 'marketprice', 'price_eur_mwh', 'price_per_kwh', 'value_inc_vat'];
/** Price columns whose name says the unit. */
const HEADER_PRICE_UNIT: Record<string, string> = { price_eur_mwh: 'EUR/MWh', price_per_kwh: '/kWh' };

function parseTime(value: string, where: string): number {
  const trimmed = value.trim();
  if (/^\d{10,13}$/.test(trimmed)) return trimmed.length === 10 ? Number(trimmed) * 1000 : Number(trimmed);
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms) || !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(trimmed)) {
    throw new PriceImportError(`${where}: "${value}" is not an epoch time or an ISO time with offset`);
  }
  return ms;
}

/**
 * Price CSV: delimiter `;` or `,`; optional header naming start/end/price(/unit) columns. Without a
 * header the columns are start, end, price, unit (the aWATTar archive); two or three columns lack the
 * unit. The unit comes from the unit column, from the price column's name (`price_eur_mwh`) or from
 * `options.unit` (`EUR/MWh`, `/kWh`); with none of them the file is refused. Without an end column each
 * row lasts one step of the series (the median spacing of its starts), so a missing row is a gap.
 */
export function parsePriceCsv(
  text: string,
  options: { unit?: string; /** @deprecated use `unit` */ defaultUnit?: 'MWh' | 'kWh' } = {},
): PricePoint[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#'));
  if (lines.length === 0) throw new PriceImportError('CSV is empty: the file holds no prices');
  const delimiter = lines[0]!.includes(';') ? ';' : ',';
  const firstCells = lines[0]!.split(delimiter).map((c) => c.trim().toLowerCase());
  const hasHeader = !/^\d/.test(firstCells[0] ?? '');
  let startCol = 0;
  let endCol: number | undefined = 1;
  let priceCol = 2;
  let unitCol: number | undefined = 3;
  let unitFromHeader: string | undefined;
  if (hasHeader) {
    startCol = firstCells.findIndex((c) => HEADER_START.includes(c));
    const e = firstCells.findIndex((c) => HEADER_END.includes(c));
    endCol = e >= 0 ? e : undefined;
    priceCol = firstCells.findIndex((c) => HEADER_PRICE.includes(c));
    const u = firstCells.indexOf('unit');
    unitCol = u >= 0 ? u : undefined;
    if (startCol < 0)
      throw new PriceImportError(`CSV header: no start column (one of ${HEADER_START.join(', ')})`);
    if (priceCol < 0)
      throw new PriceImportError(`CSV header: no price column (one of ${HEADER_PRICE.join(', ')})`);
    unitFromHeader = HEADER_PRICE_UNIT[firstCells[priceCol]!];
  } else if (firstCells.length === 2) {
    endCol = undefined;
    priceCol = 1;
    unitCol = undefined;
  } else if (firstCells.length === 3) {
    unitCol = undefined;
  }
  const statedUnit =
    options.unit ?? unitFromHeader ?? (options.defaultUnit ? `/${options.defaultUnit}` : undefined);
  if (unitCol === undefined && statedUnit === undefined) {
    throw new PriceImportError(
      'CSV has no unit column and no unit was stated: is the price per MWh or per kWh? Add a unit column (for example EUR/MWh) or state the unit (source.unit in a scenario)',
    );
  }
  const rows = hasHeader ? lines.slice(1) : lines;
  if (rows.length === 0) throw new PriceImportError('CSV has a header but no rows: the file holds no prices');
  const points: PricePoint[] = [];
  for (const [k, line] of rows.entries()) {
    const row = k + (hasHeader ? 2 : 1);
    const cells = line.split(delimiter);
    const startMs = parseTime(cells[startCol] ?? '', `CSV row ${row} start`);
    const endText = endCol === undefined ? undefined : cells[endCol];
    const price = Number(cells[priceCol]);
    if (cells[priceCol] === undefined || cells[priceCol]!.trim() === '' || !Number.isFinite(price)) {
      throw new PriceImportError(`CSV row ${row} price: "${cells[priceCol] ?? ''}" is not a number`);
    }
    const cellUnit = unitCol === undefined ? undefined : cells[unitCol]?.trim();
    const unit = cellUnit === undefined || cellUnit === '' ? statedUnit : cellUnit;
    if (unit === undefined) throw new PriceImportError(`CSV row ${row} unit: empty and no unit was stated`);
    points.push({
      startMs,
      endMs:
        endText === undefined || endText.trim() === ''
          ? Number.NaN
          : parseTime(endText, `CSV row ${row} end`),
      pricePerKwh: price * perKwhFactor(unit, `CSV row ${row} unit`),
    });
  }
  points.sort((a, b) => a.startMs - b.startMs);
  const step = medianStartSpacing(points);
  for (let k = 0; k < points.length; k++) {
    const p = points[k]!;
    if (!Number.isNaN(p.endMs)) continue;
    if (step === undefined)
      throw new PriceImportError(
        'CSV has a single row without an end: its length is unknown (add an end column)',
      );
    points[k] = { ...p, endMs: p.startMs + step };
  }
  return points;
}

/** Currency named by a CSV's unit column or price column (`EUR/MWh`, `price_eur_mwh`), if any. */
export function csvCurrency(text: string): string | undefined {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#'));
  const first = lines[0];
  if (!first) return undefined;
  const delimiter = first.includes(';') ? ';' : ',';
  const cells = first.split(delimiter).map((c) => c.trim());
  if (/^\d/.test(cells[0] ?? '')) return cells[3] === undefined ? undefined : currencyOfUnit(cells[3]);
  const lower = cells.map((c) => c.toLowerCase());
  if (lower.includes('price_eur_mwh')) return 'EUR';
  const u = lower.indexOf('unit');
  const row = lines[1]?.split(delimiter);
  return u >= 0 && row?.[u] ? currencyOfUnit(row[u]) : undefined;
}

/** Median distance between consecutive distinct starts (ms); the step of a start-only series. */
function medianStartSpacing(points: readonly PricePoint[]): number | undefined {
  const gaps: number[] = [];
  for (let k = 1; k < points.length; k++) {
    const gap = points[k]!.startMs - points[k - 1]!.startMs;
    if (gap > 0) gaps.push(gap);
  }
  if (gaps.length === 0) return undefined;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor((gaps.length - 1) / 2)]!;
}
