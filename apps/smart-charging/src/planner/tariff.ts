/**
 * Tariffs → one price per slot. Fixed, time-of-use (seasons × weekday/weekend × hour bands, in the
 * acnportal JSON shape of the tariffs in __fixtures__) and dynamic day-ahead series. Where a dynamic series
 * does not cover a slot (tomorrow not yet published) the price is assumed by a declared policy and the
 * assumption is reported, never hidden.
 */
import { z } from 'zod';
import { PlanInputError } from './errors.ts';
import { formatZoned, localTime, slotStartMs, type SlotGrid } from './time-grid.ts';

/** ISO 4217 code of the currency every price of a tariff is in; shown beside every amount. */
export const CurrencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 currency code such as EUR, GBP or USD' });

/** "MM-DD" (also "4-30") → month × 100 + day; an already converted number passes through. */
const MonthDaySchema = z.union([
  z.number().int().min(101).max(1231),
  z
    .string()
    .regex(/^\d{1,2}-\d{1,2}$/, 'expected "MM-DD"')
    .transform((value) => {
      const [month, day] = value.split('-').map(Number) as [number, number];
      return month * 100 + day;
    }),
]);

export const TouPeriodSchema = z
  .object({
    id: z.string(),
    effective_start: MonthDaySchema,
    effective_end: MonthDaySchema,
    dow_mask: z.enum(['ALL', 'WEEKDAYS', 'WEEKENDS']),
    /** Band start hours (local, fractional), ascending, starting at 0. */
    times: z.array(z.number().min(0).max(24)).min(1),
    /** Price per kWh of each band. */
    tariffs: z.array(z.number()).min(1),
    /** Currency per kW of monthly peak. */
    demand_charge: z.number().min(0).default(0),
  })
  .refine((p) => p.times.length === p.tariffs.length, {
    message: 'times and tariffs must have the same length',
    path: ['tariffs'],
  });

export const TouTariffSchema = z.object({
  type: z.literal('tou'),
  name: z.string().default('time-of-use'),
  currency: CurrencySchema.optional(),
  schedule: z.array(TouPeriodSchema).min(1),
});

export const FixedTariffSchema = z.object({
  type: z.literal('fixed'),
  name: z.string().default('fixed'),
  currency: CurrencySchema.optional(),
  pricePerKwh: z.number(),
  demandChargePerKw: z.number().min(0).default(0),
});

export const PricePointSchema = z
  .object({
    startMs: z.number(),
    endMs: z.number(),
    pricePerKwh: z.number(),
  })
  .refine((p) => p.endMs > p.startMs, { message: 'end must be after start', path: ['endMs'] });
export type PricePoint = z.infer<typeof PricePointSchema>;

export const GapPolicySchema = z.union(
  [
    z.literal('previous-day'),
    z.literal('last-known'),
    z.literal('mean'),
    z.object({ fixedPricePerKwh: z.number() }),
  ],
  { error: 'must be "previous-day", "last-known", "mean" or { "fixedPricePerKwh": number }' },
);
export type GapPolicy = z.infer<typeof GapPolicySchema>;

export const DynamicTariffSchema = z.object({
  type: z.literal('dynamic'),
  name: z.string().default('dynamic'),
  currency: CurrencySchema.optional(),
  /** Spot prices per kWh (already converted from the source's unit). */
  prices: z.array(PricePointSchema),
  /** Added to the spot price (grid fees, levies) before VAT. */
  surchargePerKwh: z.number().default(0),
  vatRate: z.number().min(0).default(0),
  demandChargePerKw: z.number().min(0).default(0),
  /** How to price slots the series does not cover. */
  gapPolicy: GapPolicySchema.default('previous-day'),
  /**
   * When no slot of the horizon has a price: `error` (default) refuses to plan; `energy-only` plans
   * energy (and peak) alone, every slot flagged as assumed and the plan's costs meaningless — only
   * for callers that show costs as unknown.
   */
  whenNoPriceKnown: z.enum(['error', 'energy-only']).default('error'),
});

export const TariffSchema = z.discriminatedUnion(
  'type',
  [FixedTariffSchema, TouTariffSchema, DynamicTariffSchema],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? 'type must be "fixed", "tou" or "dynamic"' : undefined,
  },
);
export type Tariff = z.infer<typeof TariffSchema>;
export type TariffInput = z.input<typeof TariffSchema>;

/** A run of slots whose price was assumed because the series did not cover them. */
export interface PriceAssumption {
  readonly from: string;
  readonly to: string;
  readonly slots: number;
  readonly method: string;
  readonly meanPricePerKwh: number;
}

export interface SlotPrices {
  readonly pricePerKwh: Float64Array;
  /** Per slot: 1 when the price was assumed. */
  readonly assumed: Uint8Array;
  readonly assumptions: readonly PriceAssumption[];
  /** Currency per kW of peak over the horizon (0 when the tariff has none). */
  readonly demandChargePerKw: number;
  /** No price was known and the caller asked to plan energy only: every price is a placeholder 0. */
  readonly energyOnly?: boolean;
}

/** Parses a TOU tariff file in the acnportal JSON shape (`{name, effective, schedule: [...]}`). */
export function parseTouTariffJson(text: string): z.infer<typeof TouTariffSchema> {
  const raw: unknown = JSON.parse(text);
  return TouTariffSchema.parse({ ...(raw as object), type: 'tou' });
}

export function priceSlots(tariff: Tariff, grid: SlotGrid): SlotPrices {
  switch (tariff.type) {
    case 'fixed':
      return {
        pricePerKwh: new Float64Array(grid.slotCount).fill(tariff.pricePerKwh),
        assumed: new Uint8Array(grid.slotCount),
        assumptions: [],
        demandChargePerKw: tariff.demandChargePerKw,
      };
    case 'tou':
      return touPrices(tariff, grid);
    case 'dynamic':
      return dynamicPrices(tariff, grid);
  }
}

type TouPeriod = z.infer<typeof TouPeriodSchema>;

function periodApplies(period: TouPeriod, monthDay: number, weekday: number): boolean {
  const { effective_start: from, effective_end: to } = period;
  const inSeason = from <= to ? monthDay >= from && monthDay <= to : monthDay >= from || monthDay <= to;
  if (!inSeason) return false;
  const weekend = weekday === 0 || weekday === 6;
  return period.dow_mask === 'ALL' || (period.dow_mask === 'WEEKENDS') === weekend;
}

function bandPrice(period: TouPeriod, hour: number): number {
  let price = period.tariffs[0]!;
  for (let k = 0; k < period.times.length; k++) if (hour >= period.times[k]!) price = period.tariffs[k]!;
  return price;
}

function touPrices(tariff: z.infer<typeof TouTariffSchema>, grid: SlotGrid): SlotPrices {
  const prices = new Float64Array(grid.slotCount);
  let demandCharge = 0;
  for (let t = 0; t < grid.slotCount; t++) {
    const local = localTime(slotStartMs(grid, t), grid.timeZone);
    // First matching period wins (the PG&E file lists two overlapping winter entries).
    const period = tariff.schedule.find((p) =>
      periodApplies(p, local.month * 100 + local.day, local.weekday),
    );
    if (!period)
      throw new PlanInputError([
        {
          path: 'tariff.schedule',
          message: `tariff "${tariff.name}" has no period for ${String(local.month).padStart(2, '0')}-${String(local.day).padStart(2, '0')} (${formatZoned(slotStartMs(grid, t), grid.timeZone)}); its seasons must cover the horizon`,
        },
      ]);
    demandCharge = Math.max(demandCharge, period.demand_charge);
    // Average the bands over the slot minute by minute (a 60-min slot may straddle 08:30).
    let sum = 0;
    let lowest = Infinity;
    let highest = -Infinity;
    for (let minute = 0; minute < grid.slotMinutes; minute++) {
      const price = bandPrice(period, (local.hour + minute / 60) % 24);
      sum += price;
      lowest = Math.min(lowest, price);
      highest = Math.max(highest, price);
    }
    prices[t] = lowest === highest ? lowest : sum / grid.slotMinutes;
  }
  return {
    pricePerKwh: prices,
    assumed: new Uint8Array(grid.slotCount),
    assumptions: [],
    demandChargePerKw: demandCharge,
  };
}

/** The assumption method of an energy-only plan (no price known for the horizon). */
export const ENERGY_ONLY = 'energy only: no price known, costs unknown';

function dynamicPrices(tariff: z.infer<typeof DynamicTariffSchema>, grid: SlotGrid): SlotPrices {
  const T = grid.slotCount;
  const slotMs = grid.slotMinutes * 60_000;
  const spot = new Float64Array(T);
  const covered = new Float64Array(T);
  const points = [...tariff.prices].sort((a, b) => a.startMs - b.startMs);
  for (const point of points) {
    const first = Math.max(0, Math.floor((point.startMs - grid.startMs) / slotMs));
    const last = Math.min(T - 1, Math.ceil((point.endMs - grid.startMs) / slotMs) - 1);
    for (let t = first; t <= last; t++) {
      const start = slotStartMs(grid, t);
      const overlap = Math.min(start + slotMs, point.endMs) - Math.max(start, point.startMs);
      if (overlap <= 0) continue;
      spot[t] = spot[t]! + point.pricePerKwh * overlap;
      covered[t] = covered[t]! + overlap;
    }
  }
  const assumed = new Uint8Array(T);
  let knownSum = 0;
  let knownCount = 0;
  for (let t = 0; t < T; t++) {
    if (covered[t]! >= slotMs * 0.999) {
      spot[t] = spot[t]! / covered[t]!;
      knownSum += spot[t]!;
      knownCount++;
    } else {
      assumed[t] = 1;
    }
  }
  if (knownCount === 0) {
    if (tariff.whenNoPriceKnown !== 'energy-only') throw noPriceKnown(points, grid);
    // Asked for explicitly: equal prices, so only delivery and peak decide; nothing passes as a price.
    const methods = new Array<string>(T).fill(ENERGY_ONLY);
    return {
      pricePerKwh: new Float64Array(T),
      assumed: new Uint8Array(T).fill(1),
      assumptions: collectAssumptions(grid, new Uint8Array(T).fill(1), methods, new Float64Array(T)),
      demandChargePerKw: tariff.demandChargePerKw,
      energyOnly: true,
    };
  }
  const known = points.length > 0;
  const mean = knownSum / knownCount;
  const slotsPerDay = Math.round((24 * 60) / grid.slotMinutes);
  const methods: string[] = new Array<string>(T).fill('');
  for (let t = 0; t < T; t++) {
    if (assumed[t] === 0) continue;
    const policy = tariff.gapPolicy;
    if (typeof policy === 'object') {
      spot[t] = policy.fixedPricePerKwh;
      methods[t] = 'fixed price';
    } else if (policy === 'previous-day' && t >= slotsPerDay) {
      // Same time one day earlier (itself possibly assumed, so a two-day gap repeats the last day).
      spot[t] = spot[t - slotsPerDay]!;
      methods[t] = 'same time previous day';
    } else if (
      policy === 'previous-day' &&
      known &&
      sameTimeInSeries(points, slotStartMs(grid, t) - 86_400_000, slotMs) !== undefined
    ) {
      spot[t] = sameTimeInSeries(points, slotStartMs(grid, t) - 86_400_000, slotMs)!;
      methods[t] = 'same time previous day';
    } else if (policy === 'last-known' && t > 0) {
      spot[t] = spot[t - 1]!;
      methods[t] = 'last known price';
    } else {
      spot[t] = mean;
      methods[t] = 'mean of known prices';
    }
  }
  const price = Float64Array.from(spot, (p) => (p + tariff.surchargePerKwh) * (1 + tariff.vatRate));
  return {
    pricePerKwh: price,
    assumed,
    assumptions: collectAssumptions(grid, assumed, methods, price),
    demandChargePerKw: tariff.demandChargePerKw,
  };
}

/** Nothing to plan on: a made-up price would steer every car, so the caller must supply one. */
function noPriceKnown(points: readonly PricePoint[], grid: SlotGrid): PlanInputError {
  const horizon = `${formatZoned(grid.startMs, grid.timeZone)} → ${formatZoned(slotStartMs(grid, grid.slotCount), grid.timeZone)}`;
  const span =
    points.length === 0
      ? 'the tariff has no prices at all'
      : `the prices cover ${formatZoned(points[0]!.startMs, grid.timeZone)} → ${formatZoned(
          Math.max(...points.map((p) => p.endMs)),
          grid.timeZone,
        )}`;
  return new PlanInputError(
    [
      {
        path: 'tariff.prices',
        message: `no price is known for any slot of the horizon ${horizon} (${span}); the planner does not invent prices: give prices that cover the horizon, or a fixed tariff`,
      },
    ],
    'no-prices',
  );
}

function sameTimeInSeries(
  points: readonly PricePoint[],
  startMs: number,
  slotMs: number,
): number | undefined {
  let sum = 0;
  let covered = 0;
  for (const p of points) {
    const overlap = Math.min(startMs + slotMs, p.endMs) - Math.max(startMs, p.startMs);
    if (overlap > 0) {
      sum += p.pricePerKwh * overlap;
      covered += overlap;
    }
  }
  return covered >= slotMs * 0.999 ? sum / covered : undefined;
}

function collectAssumptions(
  grid: SlotGrid,
  assumed: Uint8Array,
  methods: string[],
  price: Float64Array,
): PriceAssumption[] {
  const result: PriceAssumption[] = [];
  for (let t = 0; t < grid.slotCount;) {
    if (assumed[t] === 0) {
      t++;
      continue;
    }
    let end = t;
    let sum = 0;
    while (end < grid.slotCount && assumed[end] === 1 && methods[end] === methods[t]) sum += price[end++]!;
    result.push({
      from: formatZoned(slotStartMs(grid, t), grid.timeZone),
      to: formatZoned(slotStartMs(grid, end), grid.timeZone),
      slots: end - t,
      method: methods[t]!,
      meanPricePerKwh: sum / (end - t),
    });
    t = end;
  }
  return result;
}
