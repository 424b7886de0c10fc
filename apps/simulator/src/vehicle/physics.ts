import type { ModelSpec } from '../catalog/brands.ts';
import type { ChargeState, VehicleState } from '../state/records.ts';

export type ChargingEventType = 'CHARGING_STARTED' | 'CHARGING_STOPPED' | 'CHARGING_COMPLETED';

export interface ChargingEvent {
  readonly type: ChargingEventType;
  readonly at: number;
}

const CHARGE_EFFICIENCY = 0.9;
/** Above this state of charge the charging power tapers linearly down to 10 % at full. */
const TAPER_START = 0.8;
/** Integration step while something changes (charging or driving). */
const STEP_MS = 60_000;
/** Upper bound on integration steps per advance, so a jump of months stays cheap. */
const MAX_STEPS = 5_000;
const TIRE_LEAK_KPA_PER_DAY = 0.1;
const TIRE_WARMUP_KPA = 12;
const OIL_LIFE_KM = 15_000;
/** Driving on electricity stops here on a PHEV, which then burns fuel. */
const PHEV_RESERVE_SOC = 0.05;
const KM_PER_DEGREE = 111.32;
const DAY_MS = 86_400_000;

/** The charge state implied by the plug, the owner's start/stop and the limit. */
export function impliedChargeState(state: VehicleState): ChargeState {
  if (state.soc === null || !state.pluggedIn) return 'NOT_CHARGING';
  if (state.soc >= state.chargeLimit - 1e-6) return 'FULLY_CHARGED';
  return state.chargeEnabled ? 'CHARGING' : 'NOT_CHARGING';
}

/** Updates `chargeState` and reports the transition as a charging event, if there was one. */
export function settleChargeState(state: VehicleState, at: number): ChargingEvent | undefined {
  const before = state.chargeState;
  const after = impliedChargeState(state);
  state.chargeState = after;
  if (before === after) return undefined;
  if (after === 'CHARGING') return { type: 'CHARGING_STARTED', at };
  if (before !== 'CHARGING') return undefined;
  return after === 'FULLY_CHARGED' ? { type: 'CHARGING_COMPLETED', at } : { type: 'CHARGING_STOPPED', at };
}

/** Power flowing into the battery right now, kW (after the taper, before losses). */
export function chargingPowerKw(state: VehicleState, spec: ModelSpec): number {
  if (state.chargeState !== 'CHARGING' || state.soc === null) return 0;
  const peak = Math.min(state.stationKw, spec.maxAcKw ?? state.stationKw);
  const taper = state.soc <= TAPER_START ? 1 : 1 - (0.9 * (state.soc - TAPER_START)) / (1 - TAPER_START);
  return peak * Math.max(0.1, taper);
}

/** Kilometers of range left on the battery (electric part) at the model's consumption. */
export function electricRangeKm(state: VehicleState, spec: ModelSpec): number {
  if (state.soc === null || spec.batteryKwh === null || spec.kwhPer100Km === null) return 0;
  const usable = spec.powertrain === 'PHEV' ? Math.max(0, state.soc - PHEV_RESERVE_SOC) : state.soc;
  return (usable * spec.batteryKwh * 100) / spec.kwhPer100Km;
}

export function fuelRangeKm(state: VehicleState, spec: ModelSpec): number {
  if (state.fuelLiters === null || spec.litersPer100Km === null) return 0;
  return (state.fuelLiters * 100) / spec.litersPer100Km;
}

/** Tire pressures as the sensors read them (warm while driving). */
export function tirePressuresKpa(state: VehicleState): VehicleState['tiresKpa'] {
  const warm = state.drive === null ? 0 : TIRE_WARMUP_KPA;
  const t = state.tiresKpa;
  return {
    frontLeft: t.frontLeft + warm,
    frontRight: t.frontRight + warm,
    backLeft: t.backLeft + warm,
    backRight: t.backRight + warm,
  };
}

/**
 * Moves a vehicle's state forward to `toMs` of simulated time: charging (with taper, up to the limit),
 * driving (energy, odometer, location, oil), slow tire leak. Returns the charging events on the way.
 */
export function advanceVehicle(state: VehicleState, spec: ModelSpec, toMs: number): ChargingEvent[] {
  const events: ChargingEvent[] = [];
  if (toMs <= state.updatedAt) return events;
  const settled = settleChargeState(state, state.updatedAt);
  if (settled !== undefined) events.push(settled);

  const totalMs = toMs - state.updatedAt;
  const busy = () => state.chargeState === 'CHARGING' || state.drive !== null;
  const stepMs = Math.max(STEP_MS, Math.ceil(totalMs / MAX_STEPS));
  let now = state.updatedAt;
  while (now < toMs) {
    const dt = busy() ? Math.min(stepMs, toMs - now) : toMs - now;
    if (state.chargeState === 'CHARGING') chargeFor(state, spec, dt);
    if (state.drive !== null) driveFor(state, spec, dt);
    leakTires(state, dt);
    now += dt;
    const event = settleChargeState(state, now);
    if (event !== undefined) events.push(event);
  }
  state.updatedAt = toMs;
  if (!state.asleep && !state.unreachable) state.recordedAt = toMs;
  return events;
}

function chargeFor(state: VehicleState, spec: ModelSpec, dtMs: number): void {
  if (state.soc === null || spec.batteryKwh === null) return;
  const energyKwh = (chargingPowerKw(state, spec) * CHARGE_EFFICIENCY * dtMs) / 3_600_000;
  state.soc = Math.min(state.chargeLimit, state.soc + energyKwh / spec.batteryKwh);
}

function driveFor(state: VehicleState, spec: ModelSpec, dtMs: number): void {
  const drive = state.drive;
  if (drive === null) return;
  let distance = Math.min(drive.remainingKm, (drive.speedKph * dtMs) / 3_600_000);

  // Spend electricity first (BEV, PHEV above its reserve), then fuel.
  const electricKm = Math.min(distance, electricRangeKm(state, spec));
  if (electricKm > 0 && state.soc !== null && spec.batteryKwh !== null && spec.kwhPer100Km !== null) {
    state.soc = Math.max(0, state.soc - (electricKm * spec.kwhPer100Km) / 100 / spec.batteryKwh);
  }
  const fuelKm = Math.min(distance - electricKm, fuelRangeKm(state, spec));
  if (fuelKm > 0 && state.fuelLiters !== null && spec.litersPer100Km !== null) {
    state.fuelLiters = Math.max(0, state.fuelLiters - (fuelKm * spec.litersPer100Km) / 100);
  }
  distance = electricKm + fuelKm;

  state.odometerKm += distance;
  state.oilLife = Math.max(0, state.oilLife - distance / OIL_LIFE_KM);
  moveAlongHeading(state, distance);
  drive.remainingKm -= distance;
  // Out of energy or arrived: the car stops, and the driver walks away and locks it.
  if (drive.remainingKm <= 1e-9 || distance <= 1e-9) {
    state.drive = null;
    state.isLocked = true;
  }
}

function moveAlongHeading(state: VehicleState, km: number): void {
  const radians = (state.headingDeg * Math.PI) / 180;
  const latitude = state.latitude + (km * Math.cos(radians)) / KM_PER_DEGREE;
  const cosLat = Math.max(0.01, Math.cos((state.latitude * Math.PI) / 180));
  const longitude = state.longitude + (km * Math.sin(radians)) / (KM_PER_DEGREE * cosLat);
  state.latitude = Math.max(-89.9, Math.min(89.9, latitude));
  state.longitude = ((((longitude + 180) % 360) + 360) % 360) - 180;
  // Roads bend: a gentle turn keeps long drives from leaving the region in a straight line.
  state.headingDeg = (state.headingDeg + km * 9) % 360;
}

function leakTires(state: VehicleState, dtMs: number): void {
  const loss = (TIRE_LEAK_KPA_PER_DAY * dtMs) / DAY_MS;
  const t = state.tiresKpa;
  t.frontLeft = Math.max(0, t.frontLeft - loss);
  t.frontRight = Math.max(0, t.frontRight - loss);
  t.backLeft = Math.max(0, t.backLeft - loss);
  t.backRight = Math.max(0, t.backRight - loss);
}
