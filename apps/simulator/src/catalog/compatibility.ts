import {
  VEHICLE_ENDPOINTS,
  type EndpointDefinition,
  type Scope,
  type VehicleEndpointName,
} from '@voltkit/core/permissions';
import { BRANDS, findBrand, type ModelSpec, type Powertrain, type Region } from './brands.ts';

const ENDPOINT_LABELS: Partial<Record<VehicleEndpointName, string>> = {
  attributes: 'Vehicle info',
  vin: 'VIN',
  location: 'Location',
  odometer: 'Odometer',
  battery: 'EV battery',
  batteryCapacity: 'EV battery capacity',
  nominalCapacity: 'EV battery nominal capacity',
  charge: 'EV charging status',
  getChargeLimit: 'EV charge limit',
  fuel: 'Fuel tank',
  tirePressure: 'Tire pressure',
  engineOil: 'Engine oil life',
  lockStatus: 'Lock status',
  diagnosticSystemStatus: 'Diagnostic system status',
  diagnosticTroubleCodes: 'Diagnostic trouble codes',
  serviceHistory: 'Service history',
  lock: 'Lock & unlock',
  startCharge: 'EV start & stop charge',
  setChargeLimit: 'EV set charge limit',
  sendDestination: 'Send destination',
};

// World manufacturer identifiers (first three VIN characters) of the catalog's brands.
const WMI: Readonly<Record<string, string>> = {
  '1G1': 'CHEVROLET',
  '1GC': 'CHEVROLET',
  '1G6': 'CADILLAC',
  '1GT': 'GMC',
  '1G4': 'BUICK',
  '5YJ': 'TESLA',
  '7SA': 'TESLA',
  '1FA': 'FORD',
  '1FM': 'FORD',
  '1FT': 'FORD',
  '3FM': 'FORD',
  '5LM': 'LINCOLN',
  KNA: 'KIA',
  KND: 'KIA',
  WBA: 'BMW',
  WBY: 'BMW',
  WMW: 'MINI',
  JN1: 'NISSAN',
  JNK: 'INFINITI',
  '5N1': 'NISSAN',
  VR1: 'DS',
  VF7: 'CITROEN',
  VF3: 'PEUGEOT',
  VF1: 'RENAULT',
  W0L: 'OPEL',
  WVW: 'VOLKSWAGEN',
  WVG: 'VOLKSWAGEN',
  WAU: 'AUDI',
  WDD: 'MERCEDES-BENZ',
  W1K: 'MERCEDES-BENZ',
  KMH: 'HYUNDAI',
  JTD: 'TOYOTA',
  '4T1': 'TOYOTA',
  '2T3': 'TOYOTA',
  JTJ: 'LEXUS',
  YV1: 'VOLVO',
  SAL: 'LAND ROVER',
  SAJ: 'JAGUAR',
  '1C4': 'JEEP',
  '2C4': 'CHRYSLER',
  '2C3': 'DODGE',
  '1C6': 'RAM',
  WP0: 'PORSCHE',
  WP1: 'PORSCHE',
  '7PD': 'RIVIAN',
  TMB: 'SKODA',
  ZFA: 'FIAT',
  ZAR: 'ALFA ROMEO',
  JM1: 'MAZDA',
  '19U': 'ACURA',
  '1HG': 'HONDA',
  LPS: 'POLESTAR',
};

const ENDPOINT_ENTRIES = Object.entries(VEHICLE_ENDPOINTS) as [VehicleEndpointName, EndpointDefinition][];

/** The endpoints a scope unlocks, one per path (lock and unlock share `/security`). */
function endpointsOfScope(scope: Scope): [VehicleEndpointName, EndpointDefinition][] {
  const seen = new Set<string>();
  return ENDPOINT_ENTRIES.filter(([, def]) => {
    if (def.scope !== scope || seen.has(def.path)) return false;
    seen.add(def.path);
    return true;
  });
}

export interface Capability {
  permission: Scope;
  endpoint: string;
  capable: boolean;
  reason: 'VEHICLE_NOT_CAPABLE' | 'SMARTCAR_NOT_CAPABLE' | null;
}

export interface CompatibilityResult {
  compatible: boolean;
  reason: 'VEHICLE_NOT_COMPATIBLE' | 'MAKE_NOT_COMPATIBLE' | null;
  capabilities: Capability[];
}

// VIN position 10: model year, repeating every 30 years (I, O, Q, U, Z and 0 are never used).
const YEAR_CODES = 'ABCDEFGHJKLMNPRSTVWXY123456789';

/** The model year a VIN encodes, taking the latest cycle that is not in the future. */
export function modelYearOfVin(vin: string, currentYear: number): number | undefined {
  const index = YEAR_CODES.indexOf(vin.charAt(9).toUpperCase());
  if (index < 0) return undefined;
  let year = 2010 + index;
  while (year > currentYear + 1) year -= 30;
  return year;
}

/**
 * Compatibility of a VIN with a set of scopes. `compatible` says whether the platform connects to the
 * make in that country; each capability says whether the vehicle answers that endpoint: a simulator
 * vehicle by its model, any other VIN by the brand's catalog models of its model year (by WMI).
 */
export function compatibilityForVin(
  vin: string,
  scopes: readonly Scope[],
  country: string,
  knownModel: ModelSpec | undefined,
  currentYear: number,
): CompatibilityResult {
  const make = knownModel?.make ?? WMI[vin.slice(0, 3).toUpperCase()];
  const brand = make === undefined ? undefined : findBrand(make);
  const region: Region = country === 'CA' ? 'CA' : country === 'US' ? 'US' : 'EUROPE';
  const compatible = brand !== undefined && brand.regions.includes(region);
  const year = modelYearOfVin(vin, currentYear);
  const candidates: readonly ModelSpec[] =
    knownModel !== undefined
      ? [knownModel]
      : (brand?.models.filter(
          (m) => year !== undefined && m.startYear <= year && (m.endYear === null || year <= m.endYear),
        ) ?? []);
  const capabilities = scopes.flatMap((scope) =>
    endpointsOfScope(scope).map(([name, def]) => {
      const capable = compatible && candidates.some((m) => m.capabilities.has(name));
      return {
        permission: scope,
        endpoint: def.path === '' ? '/' : def.path,
        capable,
        reason: capable
          ? null
          : brand === undefined
            ? ('SMARTCAR_NOT_CAPABLE' as const)
            : ('VEHICLE_NOT_CAPABLE' as const),
      };
    }),
  );
  return { compatible, reason: compatible ? null : 'MAKE_NOT_COMPATIBLE', capabilities };
}

export interface MatrixEntry {
  model: string;
  startYear: number;
  endYear: number | null;
  type: Powertrain;
  endpoints: string[];
  permissions: string[];
}

/** `GET /v2.0/compatibility/matrix`: models by make, filtered by region, powertrain, makes and scopes. */
export function compatibilityMatrix(filter: {
  region: Region;
  types?: readonly string[];
  makes?: readonly string[];
  scopes?: readonly string[];
}): Record<string, MatrixEntry[]> {
  const result: Record<string, MatrixEntry[]> = {};
  const makes = filter.makes?.map((m) => findBrand(m)?.make ?? m.toUpperCase());
  for (const brand of BRANDS) {
    if (!brand.regions.includes(filter.region)) continue;
    if (makes !== undefined && !makes.includes(brand.make)) continue;
    const entries: MatrixEntry[] = [];
    for (const spec of brand.models) {
      if (filter.types !== undefined && filter.types.length > 0 && !filter.types.includes(spec.powertrain))
        continue;
      const names = ENDPOINT_ENTRIES.filter(
        ([name]) => spec.capabilities.has(name) && ENDPOINT_LABELS[name] !== undefined,
      );
      const permissions = [
        ...new Set(names.map(([, def]) => def.scope).filter((s): s is Scope => s !== null)),
      ];
      if (filter.scopes !== undefined && !filter.scopes.every((s) => permissions.includes(s as Scope)))
        continue;
      entries.push({
        model: spec.model,
        startYear: spec.startYear,
        endYear: spec.endYear,
        type: spec.powertrain,
        endpoints: names.map(([name]) => ENDPOINT_LABELS[name] ?? name),
        permissions,
      });
    }
    if (entries.length > 0) result[brand.make] = entries;
  }
  return result;
}
