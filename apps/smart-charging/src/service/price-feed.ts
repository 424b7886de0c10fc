import { readFile } from 'node:fs/promises';
import {
  parseAwattarJson,
  parseEntsoeXml,
  parseOctopusAgileJson,
  parsePriceCsv,
} from '../planner/price-import.ts';
import { parseTouTariffJson, priceSlots, type PricePoint } from '../planner/tariff.ts';
import { createSlotGrid } from '../planner/time-grid.ts';
import type { PriceSlot } from '../store/prices.ts';

/** Public day-ahead price APIs by source name (overridable for tests and mirrors). */
export const PRICE_API_ORIGINS = {
  'awattar-de': 'https://api.awattar.de',
  'awattar-at': 'https://api.awattar.at',
  entsoe: 'https://web-api.tp.entsoe.eu',
  'octopus-agile': 'https://api.octopus.energy',
} as const;

/** ENTSO-E bidding zone of Germany–Luxembourg, the default market of the embedded demo. */
const ENTSOE_DE_LU = '10Y1001A1001A82H';
const OCTOPUS_AGILE_PRODUCT = 'AGILE-24-10-01';

export interface PriceFeedOptions {
  readonly source: string;
  readonly entsoeToken?: string;
  /** The site's time zone: time-of-use bands are local hours. @default 'UTC' */
  readonly timeZone?: string;
  readonly origins?: Partial<Record<keyof typeof PRICE_API_ORIGINS, string>>;
  readonly fetch?: typeof fetch;
}

export interface FetchedPrices {
  readonly slots: PriceSlot[];
  /** How the series was obtained, for the plan's honest account of its inputs. */
  readonly note: string;
}

/**
 * Prices for a window from the configured source. API sources return what the market has published
 * (tomorrow appears around 13:00 CET); a `file:` source replays history: each day of the window gets the
 * prices of the same calendar day in the latest year the file covers.
 */
export async function fetchPrices(options: PriceFeedOptions, from: Date, to: Date): Promise<FetchedPrices> {
  const fetchImpl = options.fetch ?? fetch;
  const origin = (name: keyof typeof PRICE_API_ORIGINS) => options.origins?.[name] ?? PRICE_API_ORIGINS[name];
  const source = options.source;

  if (source.startsWith('file:')) {
    const path = source.slice('file:'.length);
    const text = await readFile(path, 'utf8');
    if (isTouTariff(text)) return touPrices(text, from, to, options.timeZone ?? 'UTC', path);
    return replayHistory(parseByContent(text, path), from, to, path);
  }
  switch (source) {
    case 'awattar-de':
    case 'awattar-at': {
      const url = `${origin(source)}/v1/marketdata?start=${from.getTime()}&end=${to.getTime()}`;
      return {
        slots: toSlots(parseAwattarJson(await getText(fetchImpl, url, source))),
        note: `${source} day-ahead`,
      };
    }
    case 'entsoe': {
      if (!options.entsoeToken) throw new Error('entsoe: ENTSOE_TOKEN is required');
      const stamp = (date: Date) => date.toISOString().slice(0, 16).replace(/[-:T]/g, '');
      const query = new URLSearchParams({
        securityToken: options.entsoeToken,
        documentType: 'A44',
        in_Domain: ENTSOE_DE_LU,
        out_Domain: ENTSOE_DE_LU,
        periodStart: stamp(from),
        periodEnd: stamp(to),
      });
      return {
        slots: toSlots(parseEntsoeXml(await getText(fetchImpl, `${origin('entsoe')}/api?${query}`, source))),
        note: 'ENTSO-E day-ahead (DE-LU)',
      };
    }
    case 'octopus-agile': {
      const tariff = `E-1R-${OCTOPUS_AGILE_PRODUCT}-C`;
      const query = new URLSearchParams({
        period_from: from.toISOString(),
        period_to: to.toISOString(),
        page_size: '1500',
      });
      const url = `${origin('octopus-agile')}/v1/products/${OCTOPUS_AGILE_PRODUCT}/electricity-tariffs/${tariff}/standard-unit-rates/?${query}`;
      return {
        slots: toSlots(parseOctopusAgileJson(await getText(fetchImpl, url, source))),
        note: 'Octopus Agile (region C)',
      };
    }
    default:
      throw new Error(`unknown price source "${source}"`);
  }
}

async function getText(fetchImpl: typeof fetch, url: string, source: string): Promise<string> {
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(20_000) });
  // The URL may carry an API token, so errors name the source, never the URL.
  if (!response.ok) throw new Error(`${source}: price API answered HTTP ${response.status}`);
  return response.text();
}

function parseByContent(text: string, name: string): PricePoint[] {
  const head = text.trimStart();
  if (head.startsWith('<')) return parseEntsoeXml(text);
  if (head.startsWith('{'))
    return head.includes('"results"') ? parseOctopusAgileJson(text) : parseAwattarJson(text);
  if (head.length > 0) return parsePriceCsv(text);
  throw new Error(`${name}: empty price file`);
}

/** A time-of-use tariff file (seasons, weekday masks, hour bands) rather than a price series. */
function isTouTariff(text: string): boolean {
  const head = text.trimStart();
  return head.startsWith('{') && head.includes('"schedule"') && head.includes('"dow_mask"');
}

function touPrices(text: string, from: Date, to: Date, timeZone: string, name: string): FetchedPrices {
  const tariff = parseTouTariffJson(text);
  const grid = createSlotGrid({ startMs: from.getTime(), endMs: to.getTime(), slotMinutes: 15, timeZone });
  const prices = priceSlots(tariff, grid).pricePerKwh;
  const slotMs = 15 * 60_000;
  const slots = Array.from(prices, (pricePerKwh, k) => ({
    start: new Date(from.getTime() + k * slotMs),
    end: new Date(from.getTime() + (k + 1) * slotMs),
    pricePerKwh,
  }));
  return {
    slots,
    note: `time-of-use tariff ${tariff.name} from ${name.split('/').at(-1)} (${timeZone} hours)`,
  };
}

function toSlots(points: readonly PricePoint[]): PriceSlot[] {
  return points.map((point) => ({
    start: new Date(point.startMs),
    end: new Date(point.endMs),
    pricePerKwh: point.pricePerKwh,
  }));
}

const DAY_MS = 86_400_000;

function replayHistory(points: readonly PricePoint[], from: Date, to: Date, name: string): FetchedPrices {
  if (points.length === 0) throw new Error(`${name}: no prices`);
  const byStart = new Map(points.map((point) => [point.startMs, point]));
  const lastYear = new Date(points.at(-1)!.startMs).getUTCFullYear();
  const slots: PriceSlot[] = [];
  const sourceDays: string[] = [];
  for (let day = Math.floor(from.getTime() / DAY_MS) * DAY_MS; day < to.getTime(); day += DAY_MS) {
    const target = new Date(day);
    // The same calendar day in the latest year that has it (falls back a year at the file's end).
    let sourceDay: number | undefined;
    for (let year = lastYear; year >= lastYear - 2 && sourceDay === undefined; year--) {
      const candidate = Date.UTC(year, target.getUTCMonth(), target.getUTCDate());
      if (byStart.has(candidate)) sourceDay = candidate;
    }
    if (sourceDay === undefined) continue;
    sourceDays.push(new Date(sourceDay).toISOString().slice(0, 10));
    const shift = day - sourceDay;
    for (let ms = sourceDay; ms < sourceDay + DAY_MS;) {
      const point = byStart.get(ms);
      if (!point) break;
      slots.push({
        start: new Date(point.startMs + shift),
        end: new Date(point.endMs + shift),
        pricePerKwh: point.pricePerKwh,
      });
      ms = point.endMs;
    }
  }
  return { slots, note: `replayed from ${name.split('/').at(-1)} (${sourceDays.join(', ')})` };
}
