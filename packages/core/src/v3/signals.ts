import { z } from 'zod';
import type { Scope } from '../permissions/catalog.ts';

/** Units a v3 signal body names in `unit` (the unit system only changes distance, volume and pressure). */
export type PercentUnit = 'percent';
export type DistanceUnit = 'kilometers' | 'miles';
export type VolumeUnit = 'liters' | 'gallons';
export type PressureUnit = 'kilopascals' | 'psi';
export type EnergyUnit = 'kWhr';
export type VoltageUnit = 'volts';
export type CurrentUnit = 'ampere';
export type DurationUnit = 'minutes';

/** A number with its unit. */
export interface Measure<TUnit extends string> {
  value: number;
  unit: TUnit;
}

export interface BooleanValue {
  value: boolean;
}

/** One cell of a row/column layout (doors, windows, tires): row 0 is the front, column 0 the left. */
export interface GridPosition {
  row: number;
  column: number;
}

export interface DoorState extends GridPosition {
  isOpen: boolean;
  isLocked?: boolean | undefined;
}

export interface WindowState extends GridPosition {
  isOpen: boolean;
}

export interface TireState extends GridPosition {
  tirePressure: number;
}

export interface Grid<TValue> {
  values: TValue[];
  rowCount: number;
  columnCount: number;
}

export type CompassDirection = 'N' | 'NE' | 'E' | 'SE' | 'S' | 'SW' | 'W' | 'NW';

export interface PreciseLocation {
  latitude: number;
  longitude: number;
  /** Degrees clockwise from north. */
  heading?: number | undefined;
  direction?: CompassDirection | undefined;
  /** `CURRENT` updates while driving; `LAST_PARKED` only when the car is parked. */
  locationType?: 'CURRENT' | 'LAST_PARKED' | undefined;
}

export interface BatteryNominalCapacity {
  capacity: number;
  source: 'SMARTCAR' | 'USER_SELECTED';
  unit: EnergyUnit;
  availableCapacities?: { capacity: number; description: string | null }[] | undefined;
}

export interface Closure {
  isOpen: boolean;
  isLocked?: boolean | undefined;
}

/** The body of each signal this version knows, by code (Smartcar's signal schema, api-reference/signals). */
export interface SignalBodies {
  'tractionbattery-stateofcharge': Measure<PercentUnit>;
  'tractionbattery-range': Measure<DistanceUnit>;
  'tractionbattery-nominalcapacity': BatteryNominalCapacity;
  'charge-ischarging': BooleanValue;
  'charge-ischargingcableconnected': BooleanValue;
  'charge-ischargingportflapopen': BooleanValue;
  'charge-detailedchargingstatus': { value: string };
  /** The charge limit in force, 50..100. */
  'charge-activelimit': { value: number; unit?: PercentUnit | undefined };
  'charge-amperage': Measure<CurrentUnit>;
  'charge-voltage': Measure<VoltageUnit>;
  'charge-timetocomplete': Measure<DurationUnit>;
  'internalcombustionengine-fuellevel': Measure<PercentUnit>;
  'internalcombustionengine-amountremaining': Measure<VolumeUnit>;
  'internalcombustionengine-range': Measure<DistanceUnit>;
  'internalcombustionengine-oillife': Measure<PercentUnit>;
  'location-preciselocation': PreciseLocation;
  'odometer-traveleddistance': Measure<DistanceUnit>;
  'wheel-tires': Grid<TireState> & { unit: PressureUnit };
  'closure-islocked': BooleanValue;
  'closure-doors': Grid<DoorState>;
  'closure-windows': Grid<WindowState>;
  'closure-reartrunk': Closure;
  'closure-fronttrunk': Closure;
  'closure-sunroof': Closure;
  'closure-enginecover': Closure;
}

/** A signal code this version types. */
export type SignalCode = keyof SignalBodies;

export type SignalGroup =
  'TractionBattery' | 'Charge' | 'InternalCombustionEngine' | 'Location' | 'Odometer' | 'Wheel' | 'Closure';

export interface SignalDefinition<TCode extends SignalCode = SignalCode> {
  readonly code: TCode;
  readonly name: string;
  readonly group: SignalGroup;
  /** The permission a grant needs to read it. */
  readonly scope: Scope;
  readonly body: z.ZodType<SignalBodies[TCode]>;
}

const measure = <const TUnits extends readonly [string, ...string[]]>(
  units: TUnits,
): z.ZodType<Measure<TUnits[number]>> => z.object({ value: z.number(), unit: z.enum(units) });
const percent = measure(['percent']);
const distance = measure(['kilometers', 'miles']);
const booleanValue: z.ZodType<BooleanValue> = z.object({ value: z.boolean() });
const position = { row: z.number().int().nonnegative(), column: z.number().int().nonnegative() };
const grid = <TValue>(value: z.ZodType<TValue>): z.ZodType<Grid<TValue>> =>
  z.object({
    values: z.array(value),
    rowCount: z.number().int().nonnegative(),
    columnCount: z.number().int().nonnegative(),
  });
const closure: z.ZodType<Closure> = z.object({ isOpen: z.boolean(), isLocked: z.boolean().optional() });

type Definitions = { readonly [TCode in SignalCode]: SignalDefinition<TCode> };

function define<TCode extends SignalCode>(
  code: TCode,
  name: string,
  group: SignalGroup,
  scope: Scope,
  body: z.ZodType<SignalBodies[TCode]>,
): SignalDefinition<TCode> {
  return { code, name, group, scope, body };
}

/** Every typed signal: code, name, group, the scope it needs and the schema of its body. */
export const SIGNALS: Definitions = {
  'tractionbattery-stateofcharge': define(
    'tractionbattery-stateofcharge',
    'StateOfCharge',
    'TractionBattery',
    'read_battery',
    percent,
  ),
  'tractionbattery-range': define(
    'tractionbattery-range',
    'Range',
    'TractionBattery',
    'read_battery',
    distance,
  ),
  'tractionbattery-nominalcapacity': define(
    'tractionbattery-nominalcapacity',
    'NominalCapacity',
    'TractionBattery',
    'read_battery',
    z.object({
      capacity: z.number().positive(),
      source: z.enum(['SMARTCAR', 'USER_SELECTED']),
      unit: z.literal('kWhr'),
      availableCapacities: z
        .array(z.object({ capacity: z.number().positive(), description: z.string().nullable() }))
        .optional(),
    }),
  ),
  'charge-ischarging': define('charge-ischarging', 'IsCharging', 'Charge', 'read_charge', booleanValue),
  'charge-ischargingcableconnected': define(
    'charge-ischargingcableconnected',
    'IsChargingCableConnected',
    'Charge',
    'read_charge',
    booleanValue,
  ),
  'charge-ischargingportflapopen': define(
    'charge-ischargingportflapopen',
    'IsChargingPortFlapOpen',
    'Charge',
    'read_charge',
    booleanValue,
  ),
  'charge-detailedchargingstatus': define(
    'charge-detailedchargingstatus',
    'DetailedChargingStatus',
    'Charge',
    'read_charge',
    z.object({ value: z.string().min(1) }),
  ),
  'charge-activelimit': define(
    'charge-activelimit',
    'ActiveLimit',
    'Charge',
    'read_charge',
    z.object({ value: z.number().min(0).max(100), unit: z.literal('percent').optional() }),
  ),
  'charge-amperage': define('charge-amperage', 'Amperage', 'Charge', 'read_charge', measure(['ampere'])),
  'charge-voltage': define('charge-voltage', 'Voltage', 'Charge', 'read_charge', measure(['volts'])),
  'charge-timetocomplete': define(
    'charge-timetocomplete',
    'TimeToComplete',
    'Charge',
    'read_charge',
    measure(['minutes']),
  ),
  'internalcombustionengine-fuellevel': define(
    'internalcombustionengine-fuellevel',
    'FuelLevel',
    'InternalCombustionEngine',
    'read_fuel',
    percent,
  ),
  'internalcombustionengine-amountremaining': define(
    'internalcombustionengine-amountremaining',
    'AmountRemaining',
    'InternalCombustionEngine',
    'read_fuel',
    measure(['liters', 'gallons']),
  ),
  'internalcombustionengine-range': define(
    'internalcombustionengine-range',
    'Range',
    'InternalCombustionEngine',
    'read_fuel',
    distance,
  ),
  'internalcombustionengine-oillife': define(
    'internalcombustionengine-oillife',
    'OilLife',
    'InternalCombustionEngine',
    'read_engine_oil',
    percent,
  ),
  'location-preciselocation': define(
    'location-preciselocation',
    'PreciseLocation',
    'Location',
    'read_location',
    z.object({
      latitude: z.number().min(-90).max(90),
      longitude: z.number().min(-180).max(180),
      heading: z.number().optional(),
      direction: z.enum(['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW']).optional(),
      locationType: z.enum(['CURRENT', 'LAST_PARKED']).optional(),
    }),
  ),
  'odometer-traveleddistance': define(
    'odometer-traveleddistance',
    'TraveledDistance',
    'Odometer',
    'read_odometer',
    distance,
  ),
  'wheel-tires': define(
    'wheel-tires',
    'Tires',
    'Wheel',
    'read_tires',
    z.object({
      values: z.array(z.object({ ...position, tirePressure: z.number().nonnegative() })),
      rowCount: z.number().int().nonnegative(),
      columnCount: z.number().int().nonnegative(),
      unit: z.enum(['kilopascals', 'psi']),
    }),
  ),
  'closure-islocked': define('closure-islocked', 'IsLocked', 'Closure', 'read_security', booleanValue),
  'closure-doors': define(
    'closure-doors',
    'Doors',
    'Closure',
    'read_security',
    grid(z.object({ ...position, isOpen: z.boolean(), isLocked: z.boolean().optional() })),
  ),
  'closure-windows': define(
    'closure-windows',
    'Windows',
    'Closure',
    'read_security',
    grid(z.object({ ...position, isOpen: z.boolean() })),
  ),
  'closure-reartrunk': define('closure-reartrunk', 'RearTrunk', 'Closure', 'read_security', closure),
  'closure-fronttrunk': define('closure-fronttrunk', 'FrontTrunk', 'Closure', 'read_security', closure),
  'closure-sunroof': define('closure-sunroof', 'Sunroof', 'Closure', 'read_security', closure),
  'closure-enginecover': define('closure-enginecover', 'EngineCover', 'Closure', 'read_security', closure),
};

export const SIGNAL_CODES: readonly SignalCode[] = Object.keys(SIGNALS) as SignalCode[];

/** Whether `code` is a signal code this version types. */
export function isSignalCode(code: string): code is SignalCode {
  return Object.hasOwn(SIGNALS, code);
}
