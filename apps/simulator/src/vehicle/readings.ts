import { ApiError } from '../api-error.ts';
import type { ModelSpec } from '../catalog/brands.ts';
import type { VehicleRecord } from '../state/records.ts';
import { electricRangeKm, fuelRangeKm, tirePressuresKpa } from './physics.ts';

export type UnitSystem = 'metric' | 'imperial';

/** The GET endpoints whose bodies come from vehicle state (names as in VEHICLE_ENDPOINTS). */
export type DataEndpointName =
  | 'attributes'
  | 'vin'
  | 'location'
  | 'odometer'
  | 'battery'
  | 'batteryCapacity'
  | 'nominalCapacity'
  | 'charge'
  | 'getChargeLimit'
  | 'fuel'
  | 'tirePressure'
  | 'engineOil'
  | 'lockStatus'
  | 'diagnosticSystemStatus'
  | 'diagnosticTroubleCodes'
  | 'serviceHistory';

const KM_TO_MI = 0.621371192;
const L_TO_GAL = 0.264172052;
const KPA_TO_PSI = 0.145037738;

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

const distance = (km: number, units: UnitSystem) => round(units === 'metric' ? km : km * KM_TO_MI, 2);
const volume = (liters: number, units: UnitSystem) =>
  round(units === 'metric' ? liters : liters * L_TO_GAL, 2);
const pressure = (kpa: number, units: UnitSystem) => round(units === 'metric' ? kpa : kpa * KPA_TO_PSI, 2);

export interface ReadContext {
  readonly units: UnitSystem;
  /** Raw query of the request (service history takes `start_date` / `end_date`). */
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly now: number;
}

/** The JSON body of a data endpoint, computed from the vehicle's current state. */
export function readEndpoint(
  name: DataEndpointName,
  vehicle: VehicleRecord,
  spec: ModelSpec,
  ctx: ReadContext,
): unknown {
  const s = vehicle.state;
  const { units } = ctx;
  switch (name) {
    case 'attributes':
      return { id: vehicle.id, make: vehicle.make, model: vehicle.model, year: vehicle.year };
    case 'vin':
      return { vin: vehicle.vin };
    case 'location':
      return { latitude: round(s.latitude, 6), longitude: round(s.longitude, 6) };
    case 'odometer':
      return { distance: distance(s.odometerKm, units) };
    case 'battery':
      return { percentRemaining: round(s.soc ?? 0, 4), range: distance(electricRangeKm(s, spec), units) };
    case 'batteryCapacity':
      return { capacity: spec.batteryKwh ?? 0 };
    case 'nominalCapacity':
      return {
        availableCapacities: [{ capacity: spec.batteryKwh ?? 0, description: null }],
        capacity: { nominal: spec.batteryKwh ?? 0, source: 'SMARTCAR' },
        url: null,
      };
    case 'charge':
      return { isPluggedIn: s.pluggedIn, state: s.chargeState };
    case 'getChargeLimit':
      return { limit: s.chargeLimit };
    case 'fuel': {
      const liters = s.fuelLiters ?? 0;
      const tank = spec.tankLiters ?? 1;
      return {
        amountRemaining: volume(liters, units),
        percentRemaining: round(liters / tank, 4),
        range: distance(fuelRangeKm(s, spec), units),
      };
    }
    case 'tirePressure': {
      const t = tirePressuresKpa(s);
      return {
        frontLeft: pressure(t.frontLeft, units),
        frontRight: pressure(t.frontRight, units),
        backLeft: pressure(t.backLeft, units),
        backRight: pressure(t.backRight, units),
      };
    }
    case 'engineOil':
      return { lifeRemaining: round(s.oilLife, 4) };
    case 'lockStatus':
      return {
        isLocked: s.isLocked,
        doors: corners(s.doors),
        windows: corners(s.windows),
        sunroof: [{ type: 'sunroof', status: s.sunroof }],
        storage: [
          { type: 'rear', status: s.trunk },
          { type: 'front', status: s.hood },
        ],
        chargingPort: spec.batteryKwh === null ? [] : [{ type: 'chargingPort', status: s.chargingPort }],
      };
    case 'diagnosticSystemStatus': {
      const tires = tirePressuresKpa(s);
      const lowTire = Math.min(tires.frontLeft, tires.frontRight, tires.backLeft, tires.backRight) < 200;
      return {
        systems: [
          system('SYSTEM_TPMS', lowTire, 'Tire pressure low'),
          system('SYSTEM_MIL', s.dtcs.length > 0, 'Check engine light on'),
          system('SYSTEM_ABS', false, null),
          system('SYSTEM_AIRBAG', false, null),
          system('SYSTEM_OIL_LIFE', s.oilLife < 0.15, 'Oil change due'),
        ],
      };
    }
    case 'diagnosticTroubleCodes':
      return { activeCodes: s.dtcs.map((d) => ({ code: d.code, timestamp: d.timestamp })) };
    case 'serviceHistory': {
      const start = parseDateParam(ctx.query['start_date'], 'start_date') ?? ctx.now - 365 * 86_400_000;
      const end = parseDateParam(ctx.query['end_date'], 'end_date') ?? ctx.now;
      return s.serviceRecords
        .filter((r) => {
          const at = Date.parse(r.serviceDate);
          return at >= start && at <= end + 86_400_000;
        })
        .map((r) => ({
          serviceId: r.serviceId,
          serviceDate: r.serviceDate,
          odometerDistance: distance(r.odometerKm, units),
          serviceTasks: r.tasks.map((task, i) => ({ taskId: String(i + 1), taskDescription: task })),
          serviceDetails: [{ type: 'dealership', value: null }],
          serviceCost: { totalCost: r.totalCost, currency: r.currency },
        }));
    }
  }
}

function corners(c: Record<'frontLeft' | 'frontRight' | 'backLeft' | 'backRight', string>) {
  return (['frontLeft', 'frontRight', 'backLeft', 'backRight'] as const).map((type) => ({
    type,
    status: c[type],
  }));
}

function system(systemId: string, alert: boolean, description: string | null) {
  return { systemId, status: alert ? 'ALERT' : 'OK', description: alert ? description : null };
}

/** `YYYY-MM-DD` or ISO-8601; absent (or the SDK's literal `undefined`) means "use the default". */
function parseDateParam(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '' || value === 'undefined') return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) {
    throw new ApiError('VALIDATION', 'PARAMETER', {
      detail: [{ field: [field], message: `"${field}" must be a date (YYYY-MM-DD or ISO-8601)` }],
    });
  }
  return at;
}
