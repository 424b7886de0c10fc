import type { VehicleEndpointName } from '@voltkit/core/permissions';

/** Powertrain as the compatibility matrix names it (the simulator models BEV, PHEV and ICE). */
export type Powertrain = 'BEV' | 'PHEV' | 'ICE';
export type Region = 'US' | 'CA' | 'EUROPE';

/** What the brand's connected-services backend exposes; the model's powertrain decides the rest. */
interface BrandFeatures {
  readonly security: boolean;
  readonly tires: boolean;
  readonly engineOil: boolean;
  readonly chargeControl: boolean;
  readonly chargeLimit: boolean;
  readonly navigation: boolean;
  readonly serviceHistory: boolean;
  readonly diagnostics: 'gm' | 'fca' | 'none';
}

export interface ModelSpec {
  /** Upper-case make as the API returns it (`CITROEN`, `MERCEDES-BENZ`). */
  readonly make: string;
  readonly model: string;
  readonly startYear: number;
  /** `null` = still produced. */
  readonly endYear: number | null;
  readonly powertrain: Powertrain;
  /** Usable high-voltage battery capacity in kWh (BEV, PHEV). */
  readonly batteryKwh: number | null;
  /** Fuel tank in liters (ICE, PHEV). */
  readonly tankLiters: number | null;
  /** Electric consumption, kWh per 100 km. */
  readonly kwhPer100Km: number | null;
  /** Fuel consumption, liters per 100 km. */
  readonly litersPer100Km: number | null;
  /** Maximum AC charging power of the on-board charger, kW. */
  readonly maxAcKw: number | null;
  readonly capabilities: ReadonlySet<VehicleEndpointName>;
}

export interface BrandSpec {
  /** Upper-case make as the API returns it. */
  readonly make: string;
  /** Stable DOM id on the brand picker: upper case, without spaces or hyphens (`LANDROVER`). */
  readonly id: string;
  readonly displayName: string;
  readonly regions: readonly Region[];
  readonly models: readonly ModelSpec[];
}

const GM: BrandFeatures = {
  security: true,
  tires: true,
  engineOil: true,
  chargeControl: true,
  chargeLimit: true,
  navigation: true,
  serviceHistory: true,
  diagnostics: 'gm',
};
const FCA: BrandFeatures = {
  ...GM,
  navigation: false,
  serviceHistory: false,
  chargeLimit: false,
  diagnostics: 'fca',
};
// FordPass and its siblings send destinations and report service records, without GM-style diagnostics.
const FORD_LIKE: BrandFeatures = { ...GM, diagnostics: 'none' };
const TESLA_LIKE: BrandFeatures = { ...GM, engineOil: false, serviceHistory: false, diagnostics: 'none' };
const STANDARD: BrandFeatures = {
  security: true,
  tires: true,
  engineOil: true,
  chargeControl: true,
  chargeLimit: false,
  navigation: false,
  serviceHistory: false,
  diagnostics: 'none',
};
const GERMAN_PREMIUM: BrandFeatures = { ...STANDARD, chargeLimit: true, navigation: true };
const STELLANTIS_EU: BrandFeatures = { ...STANDARD, security: false, tires: false, engineOil: false };
const NISSAN_LIKE: BrandFeatures = { ...STANDARD, tires: false, engineOil: false };
const TOYOTA_LIKE: BrandFeatures = { ...STANDARD, serviceHistory: true, engineOil: false };
// Kia Connect and Hyundai Bluelink let the owner set a target charge level.
const HYUNDAI_KIA: BrandFeatures = { ...STANDARD, chargeLimit: true };

type ModelRow = readonly [
  model: string,
  startYear: number,
  endYear: number | null,
  powertrain: Powertrain,
  batteryKwh: number | null,
  tankLiters: number | null,
];

function capabilitiesFor(powertrain: Powertrain, features: BrandFeatures): Set<VehicleEndpointName> {
  const caps = new Set<VehicleEndpointName>([
    'attributes',
    'vin',
    'location',
    'odometer',
    'permissions',
    'disconnect',
    'subscribe',
    'unsubscribe',
    'batch',
  ]);
  const electric = powertrain !== 'ICE';
  const combustion = powertrain !== 'BEV';
  if (features.security) for (const c of ['lockStatus', 'lock', 'unlock'] as const) caps.add(c);
  if (features.tires) caps.add('tirePressure');
  if (electric)
    for (const c of ['battery', 'batteryCapacity', 'nominalCapacity', 'charge'] as const) caps.add(c);
  if (electric && features.chargeControl) for (const c of ['startCharge', 'stopCharge'] as const) caps.add(c);
  if (electric && features.chargeLimit)
    for (const c of ['getChargeLimit', 'setChargeLimit'] as const) caps.add(c);
  if (combustion) caps.add('fuel');
  if (combustion && features.engineOil) caps.add('engineOil');
  if (features.navigation) caps.add('sendDestination');
  if (features.serviceHistory) caps.add('serviceHistory');
  if (features.diagnostics !== 'none') caps.add('diagnosticSystemStatus');
  if (features.diagnostics === 'gm') caps.add('diagnosticTroubleCodes');
  return caps;
}

function brand(
  make: string,
  displayName: string,
  regions: readonly Region[],
  features: BrandFeatures,
  rows: readonly ModelRow[],
): BrandSpec {
  return {
    make,
    id: make.replace(/[^A-Z0-9]/g, ''),
    displayName,
    regions,
    models: rows.map(([model, startYear, endYear, powertrain, batteryKwh, tankLiters]) => ({
      make,
      model,
      startYear,
      endYear,
      powertrain,
      batteryKwh,
      tankLiters,
      // Plausible averages per class; exact figures vary by trim.
      kwhPer100Km: batteryKwh === null ? null : batteryKwh > 90 ? 21 : 17,
      litersPer100Km: tankLiters === null ? null : powertrain === 'PHEV' ? 6.5 : tankLiters > 80 ? 11.5 : 7.8,
      maxAcKw: batteryKwh === null ? null : powertrain === 'PHEV' ? 3.7 : 11,
      capabilities: capabilitiesFor(powertrain, features),
    })),
  };
}

const NA: readonly Region[] = ['US', 'CA'];
const EU: readonly Region[] = ['EUROPE'];
const ALL: readonly Region[] = ['US', 'CA', 'EUROPE'];

/**
 * The 39 brands the simulated platform covers in North America and Europe, with models from 2015 on.
 * The first model of each brand is the one a new test account gets.
 */
export const BRANDS: readonly BrandSpec[] = [
  brand('ACURA', 'Acura', NA, FORD_LIKE, [
    ['MDX', 2015, null, 'ICE', null, 73],
    ['RDX', 2019, null, 'ICE', null, 65],
  ]),
  brand('ALFA ROMEO', 'Alfa Romeo', ALL, FCA, [
    ['Tonale', 2023, null, 'PHEV', 15.5, 42],
    ['Giulia', 2017, null, 'ICE', null, 58],
    ['Stelvio', 2018, null, 'ICE', null, 64],
  ]),
  brand('AUDI', 'Audi', ALL, GERMAN_PREMIUM, [
    ['e-tron', 2019, 2023, 'BEV', 86.5, null],
    ['Q4 e-tron', 2022, null, 'BEV', 77, null],
    ['A4', 2017, null, 'ICE', null, 54],
    ['Q5', 2018, null, 'ICE', null, 70],
  ]),
  brand('BMW', 'BMW', ALL, GERMAN_PREMIUM, [
    ['X3', 2018, null, 'ICE', null, 65],
    ['5 Series', 2017, null, 'ICE', null, 68],
    ['i8', 2015, 2020, 'PHEV', 11.6, 42],
    ['i3', 2015, 2022, 'BEV', 37.9, null],
    ['iX', 2022, null, 'BEV', 105.2, null],
  ]),
  brand('BUICK', 'Buick', NA, GM, [
    ['Encore', 2015, null, 'ICE', null, 53],
    ['Enclave', 2018, null, 'ICE', null, 82],
  ]),
  brand('CADILLAC', 'Cadillac', NA, GM, [
    ['LYRIQ', 2023, null, 'BEV', 102, null],
    ['Escalade', 2015, null, 'ICE', null, 91],
    ['XT5', 2017, null, 'ICE', null, 83],
  ]),
  // The SDK's own end-to-end test expects a CHEVROLET test account to hold a Volt.
  brand('CHEVROLET', 'Chevrolet', NA, GM, [
    ['Volt', 2016, 2019, 'PHEV', 14, 33.7],
    ['Bolt EV', 2017, 2023, 'BEV', 65, null],
    ['Equinox', 2018, null, 'ICE', null, 56],
    ['Silverado', 2019, null, 'ICE', null, 91],
  ]),
  brand('CHRYSLER', 'Chrysler', NA, FCA, [
    ['Pacifica Hybrid', 2017, null, 'PHEV', 16, 62],
    ['300', 2015, 2023, 'ICE', null, 72],
  ]),
  brand('CITROEN', 'Citroën', EU, STELLANTIS_EU, [
    ['C3 Aircross', 2017, null, 'ICE', null, 45],
    ['ë-C4', 2020, null, 'BEV', 46, null],
    ['C5 X', 2022, null, 'PHEV', 12.4, 40],
  ]),
  brand('DODGE', 'Dodge', NA, FCA, [
    ['Charger', 2015, 2023, 'ICE', null, 70],
    ['Durango', 2015, null, 'ICE', null, 93],
  ]),
  brand('DS', 'DS Automobiles', EU, STELLANTIS_EU, [
    ['DS 3 Crossback E-Tense', 2019, 2022, 'BEV', 46, null],
    ['DS 4 E-TENSE', 2022, null, 'PHEV', 12.4, 40],
    ['DS 7 E-TENSE', 2019, null, 'PHEV', 13.2, 43],
  ]),
  brand('FIAT', 'Fiat', ALL, FCA, [
    ['500e', 2015, null, 'BEV', 37.3, null],
    ['500X', 2016, null, 'ICE', null, 48],
  ]),
  brand('FORD', 'Ford', ALL, FORD_LIKE, [
    ['Mustang Mach-E', 2021, null, 'BEV', 88, null],
    ['F-150 Lightning', 2022, null, 'BEV', 131, null],
    ['Escape', 2020, null, 'PHEV', 14.4, 42],
    ['F-150', 2015, null, 'ICE', null, 98],
  ]),
  brand('GMC', 'GMC', NA, GM, [
    ['Sierra', 2019, null, 'ICE', null, 91],
    ['HUMMER EV', 2022, null, 'BEV', 212.7, null],
  ]),
  brand('HONDA', 'Honda', NA, STANDARD, [
    ['Clarity Plug-In Hybrid', 2018, 2021, 'PHEV', 17, 26.5],
    ['Accord', 2018, null, 'ICE', null, 56],
  ]),
  brand('HYUNDAI', 'Hyundai', ALL, HYUNDAI_KIA, [
    ['IONIQ 5', 2022, null, 'BEV', 77.4, null],
    ['Kona Electric', 2019, null, 'BEV', 64, null],
    ['Tucson', 2016, null, 'ICE', null, 62],
  ]),
  brand('INFINITI', 'INFINITI', NA, NISSAN_LIKE, [
    ['Q50', 2015, null, 'ICE', null, 76],
    ['Q70', 2015, 2019, 'ICE', null, 80],
    ['QX60', 2016, null, 'ICE', null, 74],
  ]),
  brand('JAGUAR', 'Jaguar', ALL, STANDARD, [
    ['I-PACE', 2019, null, 'BEV', 84.7, null],
    ['F-PACE', 2017, null, 'ICE', null, 82],
  ]),
  brand('JEEP', 'Jeep', ALL, FCA, [
    ['Wrangler 4xe', 2021, null, 'PHEV', 17.3, 65],
    ['Grand Cherokee', 2015, null, 'ICE', null, 93],
  ]),
  brand('KIA', 'Kia', ALL, HYUNDAI_KIA, [
    ['EV6', 2022, null, 'BEV', 77.4, null],
    ['Niro EV', 2019, null, 'BEV', 64, null],
    ['Sorento', 2016, null, 'ICE', null, 67],
  ]),
  brand('LAND ROVER', 'Land Rover', ALL, STANDARD, [
    ['Range Rover Sport', 2018, null, 'ICE', null, 90],
    ['Defender', 2020, null, 'ICE', null, 90],
  ]),
  brand('LEXUS', 'Lexus', ALL, TOYOTA_LIKE, [
    ['RX', 2016, null, 'ICE', null, 72],
    ['NX', 2018, null, 'ICE', null, 60],
  ]),
  brand('LINCOLN', 'Lincoln', NA, FORD_LIKE, [
    ['Aviator', 2020, null, 'ICE', null, 76],
    ['Corsair', 2020, null, 'ICE', null, 61],
  ]),
  brand('MAZDA', 'Mazda', ALL, STANDARD, [
    ['CX-5', 2016, null, 'ICE', null, 56],
    ['MX-30', 2021, null, 'BEV', 30, null],
  ]),
  brand('MERCEDES-BENZ', 'Mercedes-Benz', ALL, GERMAN_PREMIUM, [
    ['EQS', 2022, null, 'BEV', 107.8, null],
    ['C-Class', 2015, null, 'ICE', null, 66],
    ['GLE', 2020, null, 'ICE', null, 85],
  ]),
  brand('MINI', 'MINI', ALL, GERMAN_PREMIUM, [
    ['Cooper SE', 2020, null, 'BEV', 28.9, null],
    ['Countryman', 2017, null, 'ICE', null, 51],
  ]),
  brand('NISSAN', 'Nissan', ALL, NISSAN_LIKE, [
    ['LEAF', 2018, null, 'BEV', 39, null],
    ['Ariya', 2023, null, 'BEV', 87, null],
    ['Rogue', 2016, null, 'ICE', null, 55],
  ]),
  brand('OPEL', 'Opel', EU, STELLANTIS_EU, [
    ['Corsa-e', 2020, null, 'BEV', 46, null],
    ['Astra', 2016, null, 'ICE', null, 52],
  ]),
  brand('PEUGEOT', 'Peugeot', EU, STELLANTIS_EU, [
    ['e-208', 2020, null, 'BEV', 46, null],
    ['3008', 2017, null, 'ICE', null, 53],
  ]),
  brand('POLESTAR', 'Polestar', ALL, GERMAN_PREMIUM, [['Polestar 2', 2020, null, 'BEV', 75, null]]),
  brand('PORSCHE', 'Porsche', ALL, GERMAN_PREMIUM, [
    ['Taycan', 2020, null, 'BEV', 83.7, null],
    ['Cayenne', 2015, null, 'ICE', null, 75],
  ]),
  brand('RAM', 'Ram', NA, FCA, [['1500', 2019, null, 'ICE', null, 98]]),
  brand('RENAULT', 'Renault', EU, STANDARD, [
    ['Zoe', 2015, null, 'BEV', 52, null],
    ['Megane E-Tech', 2022, null, 'BEV', 60, null],
  ]),
  brand('RIVIAN', 'Rivian', NA, TESLA_LIKE, [['R1T', 2022, null, 'BEV', 135, null]]),
  brand('SKODA', 'Škoda', EU, STANDARD, [
    ['Enyaq iV', 2021, null, 'BEV', 77, null],
    ['Octavia', 2017, null, 'ICE', null, 50],
  ]),
  brand('TESLA', 'Tesla', ALL, TESLA_LIKE, [
    ['Model 3', 2017, null, 'BEV', 75, null],
    ['Model S', 2015, null, 'BEV', 95, null],
    ['Model X', 2016, null, 'BEV', 95, null],
    ['Model Y', 2020, null, 'BEV', 75, null],
  ]),
  brand('TOYOTA', 'Toyota', ALL, TOYOTA_LIKE, [
    ['RAV4 Prime', 2021, null, 'PHEV', 18.1, 55],
    ['bZ4X', 2023, null, 'BEV', 64, null],
    ['Camry', 2015, null, 'ICE', null, 60],
  ]),
  brand('VOLKSWAGEN', 'Volkswagen', ALL, GERMAN_PREMIUM, [
    ['ID.4', 2021, null, 'BEV', 77, null],
    ['e-Golf', 2015, 2020, 'BEV', 35.8, null],
    ['Golf', 2015, null, 'ICE', null, 50],
  ]),
  brand('VOLVO', 'Volvo', ALL, GERMAN_PREMIUM, [
    ['XC40 Recharge', 2021, null, 'BEV', 75, null],
    ['XC90 Recharge', 2016, null, 'PHEV', 18.8, 71],
  ]),
];

const BRAND_BY_KEY = new Map<string, BrandSpec>();
for (const b of BRANDS) {
  BRAND_BY_KEY.set(b.make, b);
  BRAND_BY_KEY.set(b.id, b);
}

/** A brand by its make (`LAND ROVER`), its DOM id (`LANDROVER`) or either in any case. */
export function findBrand(key: string): BrandSpec | undefined {
  const upper = key.trim().toUpperCase();
  return BRAND_BY_KEY.get(upper) ?? BRAND_BY_KEY.get(upper.replace(/[^A-Z0-9]/g, ''));
}

/** A model of a brand by name (case-insensitive). */
export function findModel(make: string, model: string): ModelSpec | undefined {
  const wanted = model.trim().toLowerCase();
  return findBrand(make)?.models.find((m) => m.model.toLowerCase() === wanted);
}

/** The newest year a model is offered in, given the current year. */
export function latestYear(spec: ModelSpec, currentYear: number): number {
  return Math.max(spec.startYear, Math.min(spec.endYear ?? currentYear, currentYear));
}
