import type { VehicleEndpointName } from '@voltkit/core/permissions';
import { SIGNALS, type SignalBodies, type SignalCode } from '@voltkit/core/v3';
import type { ModelSpec } from '../catalog/brands.ts';
import type { VehicleRecord } from '../state/records.ts';
import { chargingPowerKw, electricRangeKm, fuelRangeKm, tirePressuresKpa } from '../vehicle/physics.ts';
import type { UnitSystem } from '../vehicle/readings.ts';

const KM_TO_MI = 0.621371192;
const L_TO_GAL = 0.264172052;
const KPA_TO_PSI = 0.145037738;
/** Single-phase AC as most home wallboxes supply it. */
const AC_VOLTS = 230;

const round = (value: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};

interface Reading<TCode extends SignalCode> {
  readonly code: TCode;
  /** The v2 capability that tells whether the car's brand and powertrain provide it. */
  readonly capability: VehicleEndpointName;
  readonly applies?: (spec: ModelSpec) => boolean;
  readonly read: (vehicle: VehicleRecord, spec: ModelSpec, units: UnitSystem) => SignalBodies[TCode];
}

type AnyReading = { [TCode in SignalCode]: Reading<TCode> }[SignalCode];

const distance = (km: number, units: UnitSystem) =>
  units === 'metric'
    ? { value: round(km, 2), unit: 'kilometers' as const }
    : { value: round(km * KM_TO_MI, 2), unit: 'miles' as const };

const DIRECTIONS = ['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'] as const;

function compass(headingDeg: number): (typeof DIRECTIONS)[number] {
  const normalized = ((headingDeg % 360) + 360) % 360;
  return DIRECTIONS[Math.round(normalized / 45) % 8] ?? 'N';
}

const CORNERS = [
  ['frontLeft', 0, 0],
  ['frontRight', 0, 1],
  ['backLeft', 1, 0],
  ['backRight', 1, 1],
] as const;

function chargeMinutesLeft(vehicle: VehicleRecord, spec: ModelSpec): number {
  const s = vehicle.state;
  const kw = s.chargeState === 'CHARGING' ? chargingPowerKw(s, spec) : 0;
  if (kw <= 0 || s.soc === null || spec.batteryKwh === null) return 0;
  return Math.max(0, Math.round((((s.chargeLimit - s.soc) * spec.batteryKwh) / kw) * 60));
}

/** Every signal the simulator serves, with what decides whether a car has it and how it is read. */
const READINGS: readonly AnyReading[] = [
  {
    code: 'tractionbattery-stateofcharge',
    capability: 'battery',
    read: (v) => ({ value: round((v.state.soc ?? 0) * 100, 1), unit: 'percent' }),
  },
  {
    code: 'tractionbattery-range',
    capability: 'battery',
    read: (v, spec, units) => distance(electricRangeKm(v.state, spec), units),
  },
  {
    code: 'tractionbattery-nominalcapacity',
    capability: 'nominalCapacity',
    read: (_v, spec) => ({
      capacity: spec.batteryKwh ?? 0,
      source: 'SMARTCAR',
      unit: 'kWhr',
      availableCapacities: [{ capacity: spec.batteryKwh ?? 0, description: null }],
    }),
  },
  {
    code: 'charge-ischarging',
    capability: 'charge',
    read: (v) => ({ value: v.state.chargeState === 'CHARGING' }),
  },
  {
    code: 'charge-ischargingcableconnected',
    capability: 'charge',
    read: (v) => ({ value: v.state.pluggedIn }),
  },
  {
    code: 'charge-ischargingportflapopen',
    capability: 'charge',
    read: (v) => ({ value: v.state.chargingPort === 'OPEN' }),
  },
  {
    code: 'charge-detailedchargingstatus',
    capability: 'charge',
    read: (v) => ({ value: v.state.chargeState }),
  },
  {
    code: 'charge-activelimit',
    capability: 'getChargeLimit',
    read: (v) => ({ value: round(v.state.chargeLimit * 100, 0), unit: 'percent' }),
  },
  {
    code: 'charge-amperage',
    capability: 'charge',
    read: (v, spec) => ({
      value:
        v.state.chargeState === 'CHARGING' ? round((chargingPowerKw(v.state, spec) * 1000) / AC_VOLTS, 1) : 0,
      unit: 'ampere',
    }),
  },
  {
    code: 'charge-voltage',
    capability: 'charge',
    read: (v) => ({ value: v.state.pluggedIn ? AC_VOLTS : 0, unit: 'volts' }),
  },
  {
    code: 'charge-timetocomplete',
    capability: 'charge',
    read: (v, spec) => ({ value: chargeMinutesLeft(v, spec), unit: 'minutes' }),
  },
  {
    code: 'internalcombustionengine-fuellevel',
    capability: 'fuel',
    read: (v, spec) => ({
      value: round(((v.state.fuelLiters ?? 0) / (spec.tankLiters ?? 1)) * 100, 1),
      unit: 'percent',
    }),
  },
  {
    code: 'internalcombustionengine-amountremaining',
    capability: 'fuel',
    read: (v, _spec, units) =>
      units === 'metric'
        ? { value: round(v.state.fuelLiters ?? 0, 2), unit: 'liters' }
        : { value: round((v.state.fuelLiters ?? 0) * L_TO_GAL, 2), unit: 'gallons' },
  },
  {
    code: 'internalcombustionengine-range',
    capability: 'fuel',
    read: (v, spec, units) => distance(fuelRangeKm(v.state, spec), units),
  },
  {
    code: 'internalcombustionengine-oillife',
    capability: 'engineOil',
    read: (v) => ({ value: round(v.state.oilLife * 100, 1), unit: 'percent' }),
  },
  {
    code: 'location-preciselocation',
    capability: 'location',
    read: (v) => ({
      latitude: round(v.state.latitude, 6),
      longitude: round(v.state.longitude, 6),
      heading: round(v.state.headingDeg, 1),
      direction: compass(v.state.headingDeg),
      locationType: v.state.drive === null ? 'LAST_PARKED' : 'CURRENT',
    }),
  },
  {
    code: 'odometer-traveleddistance',
    capability: 'odometer',
    read: (v, _spec, units) => distance(v.state.odometerKm, units),
  },
  {
    code: 'wheel-tires',
    capability: 'tirePressure',
    read: (v, _spec, units) => {
      const kpa = tirePressuresKpa(v.state);
      return {
        values: CORNERS.map(([corner, row, column]) => ({
          row,
          column,
          tirePressure: round(units === 'metric' ? kpa[corner] : kpa[corner] * KPA_TO_PSI, 2),
        })),
        rowCount: 2,
        columnCount: 2,
        unit: units === 'metric' ? 'kilopascals' : 'psi',
      };
    },
  },
  {
    code: 'closure-islocked',
    capability: 'lockStatus',
    read: (v) => ({ value: v.state.isLocked }),
  },
  {
    code: 'closure-doors',
    capability: 'lockStatus',
    read: (v) => ({
      values: CORNERS.map(([corner, row, column]) => ({
        row,
        column,
        isOpen: v.state.doors[corner] === 'OPEN',
        isLocked: v.state.isLocked,
      })),
      rowCount: 2,
      columnCount: 2,
    }),
  },
  {
    code: 'closure-windows',
    capability: 'lockStatus',
    read: (v) => ({
      values: CORNERS.map(([corner, row, column]) => ({
        row,
        column,
        isOpen: v.state.windows[corner] === 'OPEN',
      })),
      rowCount: 2,
      columnCount: 2,
    }),
  },
  {
    code: 'closure-reartrunk',
    capability: 'lockStatus',
    read: (v) => ({ isOpen: v.state.trunk === 'OPEN', isLocked: v.state.isLocked }),
  },
  {
    code: 'closure-sunroof',
    capability: 'lockStatus',
    read: (v) => ({ isOpen: v.state.sunroof === 'OPEN' }),
  },
  {
    // An electric car's front lid covers a luggage space; a combustion car's covers the engine.
    code: 'closure-fronttrunk',
    capability: 'lockStatus',
    applies: (spec) => spec.powertrain === 'BEV',
    read: (v) => ({ isOpen: v.state.hood === 'OPEN', isLocked: v.state.isLocked }),
  },
  {
    code: 'closure-enginecover',
    capability: 'lockStatus',
    applies: (spec) => spec.powertrain !== 'BEV',
    read: (v) => ({ isOpen: v.state.hood === 'OPEN' }),
  },
];

const BY_CODE: ReadonlyMap<string, AnyReading> = new Map(READINGS.map((reading) => [reading.code, reading]));

/** Whether the simulator knows the code at all (known but not provided by a car = not capable). */
export function isServedSignalCode(code: string): code is SignalCode {
  return BY_CODE.has(code);
}

/** The codes a model provides, in catalogue order. */
export function signalCodesFor(spec: ModelSpec): SignalCode[] {
  return READINGS.filter(
    (reading) => spec.capabilities.has(reading.capability) && (reading.applies?.(spec) ?? true),
  ).map((reading) => reading.code);
}

export function providesSignal(spec: ModelSpec, code: SignalCode): boolean {
  const reading = BY_CODE.get(code);
  return (
    reading !== undefined && spec.capabilities.has(reading.capability) && (reading.applies?.(spec) ?? true)
  );
}

/** The body of one signal from the car's current state (the caller checked `providesSignal`). */
export function readSignal(
  code: SignalCode,
  vehicle: VehicleRecord,
  spec: ModelSpec,
  units: UnitSystem,
): SignalBodies[SignalCode] {
  const reading = BY_CODE.get(code);
  if (reading === undefined) throw new Error(`no reading for signal ${code}`);
  return (reading.read as (v: VehicleRecord, s: ModelSpec, u: UnitSystem) => SignalBodies[SignalCode])(
    vehicle,
    spec,
    units,
  );
}

export function signalMeta(code: SignalCode): { name: string; group: string; scope: string } {
  const definition = SIGNALS[code];
  return { name: definition.name, group: definition.group, scope: definition.scope };
}
