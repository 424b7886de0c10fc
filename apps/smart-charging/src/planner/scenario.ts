/**
 * Scenario files for the `voltkit-plan` CLI: a plan request whose tariff, prices, base-load profile
 * and vehicles may come from files in the supported formats. Resolution is pure: the caller passes a
 * `readText` function (the CLI reads from disk relative to the scenario file).
 */
import { z } from 'zod';
import { issuesFromZod } from './errors.ts';
import { GridSchema } from './grid.ts';
import { parseBdewProfileCsv, type LoadProfile } from './load-profile.ts';
import { OBJECTIVES, PlanRequestSchema, horizonGrid, type PlanRequest } from './plan.ts';
import { parsePvForecastCsv } from './pv-forecast.ts';
import {
  csvCurrency,
  entsoeCurrency,
  parseAwattarJson,
  parseEntsoeXml,
  parseOctopusAgileJson,
  parsePriceCsv,
} from './price-import.ts';
import {
  CurrencySchema,
  GapPolicySchema,
  TariffSchema,
  parseTouTariffJson,
  type PricePoint,
} from './tariff.ts';
import { VehicleSchema } from './vehicle.ts';

export const PRICE_FORMATS = ['awattar-json', 'entsoe-xml', 'octopus-json', 'csv'] as const;

const PriceSourceSchema = z.object({
  format: z.enum(PRICE_FORMATS),
  file: z.string().min(1),
  /** Unit of a CSV's prices when the file does not say (`EUR/MWh`, `GBP/kWh`); a CSV naming none is refused. */
  unit: z
    .string()
    .regex(/^[A-Za-z]{3}\/(MWh|kWh)$/, { error: 'must be a currency per MWh or kWh, such as EUR/MWh' })
    .optional(),
});

const TariffFromFileSchema = z.union([
  z.object({ type: z.literal('tou'), file: z.string().min(1), currency: CurrencySchema.optional() }),
  z.object({
    type: z.literal('dynamic'),
    name: z.string().optional(),
    currency: CurrencySchema.optional(),
    source: PriceSourceSchema,
    surchargePerKwh: z.number().optional(),
    vatRate: z.number().min(0).optional(),
    demandChargePerKw: z.number().min(0).optional(),
    gapPolicy: GapPolicySchema.optional(),
  }),
]);

const VehicleSourceSchema = z.object({
  format: z.literal('acn-csv'),
  file: z.string().min(1),
  /** Only sessions arriving on this local date (YYYY-MM-DD). */
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
});

export const ScenarioSchema = z
  .object({
    name: z.string().optional(),
    horizon: PlanRequestSchema.shape.horizon,
    tariff: z.union([TariffFromFileSchema, TariffSchema], {
      error:
        'must be { type: "fixed", pricePerKwh }, { type: "tou", file | schedule } or { type: "dynamic", source: { format, file } | prices }',
    }),
    grid: GridSchema.extend({
      profileFile: z.string().optional(),
      /** PV forecast as a `start,kw` CSV (instead of `pvKw`). */
      pvFile: z.string().min(1).optional(),
    }),
    /** What exported PV earns; its currency defaults to the tariff's (one meter, one contract). */
    feedInTariff: z
      .union([TariffFromFileSchema, TariffSchema], {
        error:
          'must be { type: "fixed", pricePerKwh }, { type: "tou", file | schedule } or { type: "dynamic", source: { format, file } | prices }',
      })
      .optional(),
    vehicles: z.array(VehicleSchema).default([]),
    vehicleSource: VehicleSourceSchema.optional(),
    objective: z.enum(OBJECTIVES).default('cost'),
    demandFloorKw: z.number().min(0).default(0),
  })
  .refine((s) => s.vehicles.length > 0 || s.vehicleSource !== undefined, {
    message: 'give vehicles or a vehicleSource',
    path: ['vehicles'],
  });
export type Scenario = z.infer<typeof ScenarioSchema>;

export class ScenarioError extends Error {
  override name = 'ScenarioError';
  readonly issues: readonly { path: string; message: string }[];
  constructor(issues: readonly { path: string; message: string }[], options?: ErrorOptions) {
    super(issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('\n'), options);
    this.issues = issues;
  }
}

export function parseScenario(text: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError([{ path: '', message: `not valid JSON (${(error as Error).message})` }], {
      cause: error,
    });
  }
  const result = ScenarioSchema.safeParse(raw);
  if (!result.success) {
    throw new ScenarioError(issuesFromZod(result.error.issues));
  }
  return result.data;
}

function wrap<T>(path: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ScenarioError) throw error;
    const message =
      error instanceof z.ZodError
        ? error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
        : (error as Error).message;
    throw new ScenarioError([{ path, message }], { cause: error });
  }
}

export function parsePrices(
  format: (typeof PRICE_FORMATS)[number],
  text: string,
  options: { unit?: string } = {},
): PricePoint[] {
  switch (format) {
    case 'awattar-json':
      return parseAwattarJson(text);
    case 'entsoe-xml':
      return parseEntsoeXml(text);
    case 'octopus-json':
      return parseOctopusAgileJson(text);
    case 'csv':
      return parsePriceCsv(text, options.unit === undefined ? {} : { unit: options.unit });
  }
}

/** The currency a price file says it is in (aWATTar EUR, Octopus GBP, ENTSO-E and CSV from their units). */
export function priceFileCurrency(
  format: (typeof PRICE_FORMATS)[number],
  text: string,
  unit?: string,
): string | undefined {
  switch (format) {
    case 'awattar-json':
      return 'EUR';
    case 'octopus-json':
      return 'GBP';
    case 'entsoe-xml':
      return entsoeCurrency(text);
    case 'csv':
      return csvCurrency(text) ?? (unit === undefined ? undefined : unit.slice(0, 3).toUpperCase());
  }
}

/** ACN-Data sessions CSV (`session_id,station_id,arrival,departure,requested_energy_kwh,max_power_kw`). */
export function parseAcnSessionsCsv(text: string, date?: string): z.input<typeof VehicleSchema>[] {
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0]?.split(',') ?? [];
  const column = (name: string): number => {
    const k = header.indexOf(name);
    if (k < 0) throw new Error(`sessions CSV: missing column ${name}`);
    return k;
  };
  const [id, arrival, departure, energy, power] = [
    'session_id',
    'arrival',
    'departure',
    'requested_energy_kwh',
    'max_power_kw',
  ].map(column) as [number, number, number, number, number];
  return lines
    .slice(1)
    .map((line) => line.split(','))
    .filter((cells) => date === undefined || (cells[arrival] ?? '').startsWith(date))
    .map((cells, k) => {
      const kwh = Number(cells[energy]);
      if (!Number.isFinite(kwh) || kwh < 0)
        throw new Error(`sessions CSV row ${k + 2}: requested_energy_kwh is not a number`);
      // Sessions know energy, not SoC: model the request as 0 → 100 % of a "battery" of that size.
      return {
        id: cells[id] ?? `session-${k + 1}`,
        socPercent: 0,
        capacityKwh: Math.max(kwh, 0.01),
        targetSocPercent: 100,
        arrival: cells[arrival] ?? '',
        departure: cells[departure] ?? '',
        maxPowerKw: Number(cells[power]),
        efficiency: 1,
      };
    });
}

function resolveTariff(
  t: z.infer<typeof ScenarioSchema>['tariff'],
  path: string,
  readText: (file: string) => string,
) {
  return wrap(path, () => {
    if (t.type === 'tou' && 'file' in t)
      return { ...parseTouTariffJson(readText(t.file)), ...(t.currency ? { currency: t.currency } : {}) };
    if (t.type === 'dynamic' && 'source' in t) {
      const text = wrap(`${path}.source.file`, () => readText(t.source.file));
      const prices = wrap(`${path}.source`, () =>
        parsePrices(t.source.format, text, t.source.unit === undefined ? {} : { unit: t.source.unit }),
      );
      const fileCurrency = priceFileCurrency(t.source.format, text, t.source.unit);
      if (t.currency && fileCurrency && t.currency !== fileCurrency)
        throw new ScenarioError([
          {
            path: `${path}.currency`,
            message: `is ${t.currency} but ${t.source.file} is in ${fileCurrency}`,
          },
        ]);
      const currency = t.currency ?? fileCurrency;
      return {
        type: 'dynamic' as const,
        name: t.name ?? t.source.file,
        prices,
        ...(currency === undefined ? {} : { currency }),
        ...(t.surchargePerKwh === undefined ? {} : { surchargePerKwh: t.surchargePerKwh }),
        ...(t.vatRate === undefined ? {} : { vatRate: t.vatRate }),
        ...(t.demandChargePerKw === undefined ? {} : { demandChargePerKw: t.demandChargePerKw }),
        ...(t.gapPolicy === undefined ? {} : { gapPolicy: t.gapPolicy }),
      };
    }
    return t;
  });
}

/** Turns a scenario into a validated plan request (and the load profile it needs), reading files via `readText`. */
export function resolveScenario(
  scenario: Scenario,
  readText: (file: string) => string,
  defaultProfileText?: () => string,
): { request: PlanRequest; profile?: LoadProfile } {
  const tariff = resolveTariff(scenario.tariff, 'tariff', readText);
  if (!('currency' in tariff) || tariff.currency === undefined) {
    // Every amount the CLI prints carries its currency; a scenario must say which one.
    throw new ScenarioError([
      {
        path: 'tariff.currency',
        message: 'state the currency of the prices (ISO 4217, for example EUR, GBP or USD)',
      },
    ]);
  }
  const fromSource = scenario.vehicleSource
    ? wrap('vehicleSource', () =>
        parseAcnSessionsCsv(readText(scenario.vehicleSource!.file), scenario.vehicleSource!.date),
      )
    : [];
  const feedInTariff =
    scenario.feedInTariff === undefined
      ? undefined
      : resolveTariff(scenario.feedInTariff, 'feedInTariff', readText);
  const { profileFile, pvFile, ...gridFields } = scenario.grid;
  let grid: typeof gridFields = gridFields;
  if (pvFile !== undefined) {
    if (gridFields.pvKw !== undefined)
      throw new ScenarioError([{ path: 'grid.pvFile', message: 'give grid.pvKw or grid.pvFile, not both' }]);
    const slots = wrap('horizon', () => horizonGrid({ horizon: scenario.horizon }));
    grid = { ...gridFields, pvKw: wrap('grid.pvFile', () => parsePvForecastCsv(readText(pvFile), slots)) };
  }
  let profile: LoadProfile | undefined;
  if (grid.baseLoad.kind === 'bdew-h25') {
    profile = wrap('grid.profileFile', () =>
      parseBdewProfileCsv(profileFile !== undefined ? readText(profileFile) : (defaultProfileText?.() ?? '')),
    );
  }
  const result = PlanRequestSchema.safeParse({
    horizon: scenario.horizon,
    tariff,
    grid,
    vehicles: [...scenario.vehicles, ...fromSource],
    objective: scenario.objective,
    demandFloorKw: scenario.demandFloorKw,
    ...(feedInTariff === undefined
      ? {}
      : { feedInTariff: { ...feedInTariff, currency: feedInTariff.currency ?? tariff.currency } }),
  });
  if (!result.success) throw new ScenarioError(issuesFromZod(result.error.issues));
  return profile ? { request: result.data, profile } : { request: result.data };
}
