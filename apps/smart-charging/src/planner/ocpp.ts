/**
 * A vehicle's plan as an OCPP 2.0.1 ChargingProfile (the body of SetChargingProfileRequest
 * `chargingProfile`): Absolute kind, one ChargingSchedule whose periods start at slot boundaries
 * (seconds from `startSchedule`) and carry the planned mean power in W, or current in A per phase.
 * Consecutive slots with the same limit are merged. When the planned mean power lies below the
 * car's minimum power, the slot is split: minimum power first, then 0, same energy.
 */
import type { Plan, VehiclePlan } from './plan.ts';

export type ChargingProfilePurpose = 'TxProfile' | 'TxDefaultProfile';
export type ChargingRateUnit = 'W' | 'A';

export interface ChargingSchedulePeriod {
  startPeriod: number;
  limit: number;
  numberPhases?: number;
}

export interface ChargingSchedule {
  id: number;
  startSchedule: string;
  duration: number;
  chargingRateUnit: ChargingRateUnit;
  chargingSchedulePeriod: ChargingSchedulePeriod[];
  minChargingRate?: number;
}

export interface ChargingProfile {
  id: number;
  stackLevel: number;
  chargingProfilePurpose: ChargingProfilePurpose;
  chargingProfileKind: 'Absolute';
  validFrom: string;
  validTo: string;
  transactionId?: string;
  chargingSchedule: [ChargingSchedule];
}

export interface ChargingProfileOptions {
  readonly id: number;
  readonly stackLevel?: number;
  /** Defaults to TxProfile when a transaction id is given, else TxDefaultProfile. */
  readonly purpose?: ChargingProfilePurpose;
  readonly transactionId?: string;
  readonly unit?: ChargingRateUnit;
  /** For amps: phase voltage (default 230 V) and phases in use (default 3). */
  readonly voltage?: number;
  readonly phases?: number;
  /** Lowest power the car accepts (kW); slots below it are time-sliced. */
  readonly minPowerKw?: number;
}

/** OCPP 2.0.1 allows at most 1024 periods per schedule. */
export const MAX_SCHEDULE_PERIODS = 1024;

export class ChargingProfileError extends Error {
  override name = 'ChargingProfileError';
}

export function toChargingProfile(
  plan: Plan,
  vehicle: VehiclePlan,
  options: ChargingProfileOptions,
): ChargingProfile {
  const purpose = options.purpose ?? (options.transactionId ? 'TxProfile' : 'TxDefaultProfile');
  if (purpose === 'TxProfile' && !options.transactionId) {
    throw new ChargingProfileError(
      `vehicle ${vehicle.id}: a TxProfile needs the transactionId it applies to`,
    );
  }
  const unit = options.unit ?? 'W';
  const phases = options.phases ?? 3;
  const voltage = options.voltage ?? 230;
  const slotSeconds = plan.slotMinutes * 60;
  const minKw = options.minPowerKw ?? 0;
  const toLimit = (kw: number): number => {
    const value = unit === 'W' ? kw * 1000 : (kw * 1000) / (voltage * phases);
    // OCPP limits have one decimal; round down so the charger never exceeds the plan.
    return Math.max(0, Math.floor(value * 10 + 1e-6) / 10);
  };
  const raw: ChargingSchedulePeriod[] = [];
  vehicle.powerKw.forEach((kw, t) => {
    const start = t * slotSeconds;
    if (kw > 1e-9 && kw < minKw - 1e-9) {
      const onSeconds = Math.round((kw / minKw) * slotSeconds);
      raw.push({ startPeriod: start, limit: toLimit(minKw) });
      if (onSeconds < slotSeconds) raw.push({ startPeriod: start + onSeconds, limit: 0 });
    } else {
      raw.push({ startPeriod: start, limit: toLimit(kw) });
    }
  });
  const periods: ChargingSchedulePeriod[] = [];
  for (const period of raw) {
    const last = periods[periods.length - 1];
    if (last && last.limit === period.limit) continue;
    periods.push(unit === 'A' ? { ...period, numberPhases: phases } : period);
  }
  if (periods.length > MAX_SCHEDULE_PERIODS) {
    throw new ChargingProfileError(
      `vehicle ${vehicle.id}: ${periods.length} schedule periods exceed OCPP's ${MAX_SCHEDULE_PERIODS}; use longer slots`,
    );
  }
  const schedule: ChargingSchedule = {
    id: options.id,
    startSchedule: new Date(Date.parse(plan.start)).toISOString(),
    duration: vehicle.powerKw.length * slotSeconds,
    chargingRateUnit: unit,
    chargingSchedulePeriod: periods,
  };
  if (minKw > 0) schedule.minChargingRate = toLimit(minKw);
  const profile: ChargingProfile = {
    id: options.id,
    stackLevel: options.stackLevel ?? 0,
    chargingProfilePurpose: purpose,
    chargingProfileKind: 'Absolute',
    validFrom: new Date(Date.parse(plan.start)).toISOString(),
    validTo: new Date(Date.parse(plan.end)).toISOString(),
    chargingSchedule: [schedule],
  };
  if (options.transactionId) profile.transactionId = options.transactionId;
  return profile;
}
