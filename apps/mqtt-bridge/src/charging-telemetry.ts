import type { VehicleReading } from './vehicle-source.ts';

/**
 * Charging numbers the Smartcar v2 API does not give directly, derived from what it does give: the
 * state-of-charge change over time × the battery capacity. Every derived value says so in its attributes.
 */

export const CHARGE_EVENT_TYPES = [
  'plugged_in',
  'unplugged',
  'charge_started',
  'charge_stopped',
  'charge_completed',
] as const;
export type ChargeEventType = (typeof CHARGE_EVENT_TYPES)[number];

/** How far back the power estimate looks: long enough for a 1 % SoC step to show at a few kW. */
const POWER_WINDOW_MS = 20 * 60_000;

export interface SocSample {
  readonly at: number;
  readonly socPercent: number;
}

export interface ChargingTelemetry {
  /** The current (or last) session: from plug-in, or from the first time the bridge saw the car charging. */
  session: { startedAt: number; startSocPercent: number; seenFromStart: boolean } | undefined;
  samples: SocSample[];
  powerKw: number | undefined;
  energyAddedKwh: number | undefined;
  minutesToFull: number | undefined;
  completeAt: Date | undefined;
  /** What the values were derived from, for the attributes. */
  basis: Record<string, unknown>;
}

export function emptyTelemetry(): ChargingTelemetry {
  return {
    session: undefined,
    samples: [],
    powerKw: undefined,
    energyAddedKwh: undefined,
    minutesToFull: undefined,
    completeAt: undefined,
    basis: {},
  };
}

/** Plug and charge transitions between two readings (none on the first reading: nothing changed yet). */
export function chargeEvents(previous: VehicleReading, next: VehicleReading): ChargeEventType[] {
  const events: ChargeEventType[] = [];
  if (
    previous.pluggedIn !== undefined &&
    next.pluggedIn !== undefined &&
    previous.pluggedIn !== next.pluggedIn
  )
    events.push(next.pluggedIn ? 'plugged_in' : 'unplugged');
  const was = previous.chargeState;
  const now = next.chargeState;
  if (was !== undefined && now !== undefined && was !== now) {
    if (now === 'charging') events.push('charge_started');
    else if (was === 'charging') events.push(now === 'fully_charged' ? 'charge_completed' : 'charge_stopped');
    else if (now === 'fully_charged') events.push('charge_completed');
  }
  return events;
}

/**
 * Folds a new reading into the car's telemetry. `at` is when the car recorded the state of charge (its
 * data age) or, without one, when it was read.
 */
export function updateTelemetry(
  telemetry: ChargingTelemetry,
  previous: VehicleReading,
  next: VehicleReading,
  at: number,
): void {
  const soc = next.socPercent;
  const capacity = next.batteryCapacityKwh;
  const charging = next.chargeState === 'charging';
  const pluggedNow = next.pluggedIn === true && previous.pluggedIn === false;
  const startedNow = charging && previous.chargeState !== undefined && previous.chargeState !== 'charging';

  if (soc !== undefined) {
    if (pluggedNow || (startedNow && telemetry.session === undefined) || (charging && !telemetry.session)) {
      telemetry.session = {
        startedAt: at,
        startSocPercent: previous.socPercent ?? soc,
        seenFromStart: pluggedNow || startedNow,
      };
      telemetry.samples = [];
    }
    if (charging) {
      const last = telemetry.samples.at(-1);
      if (!last || at > last.at) telemetry.samples.push({ at, socPercent: soc });
      // Keep one sample older than the window so the estimate always spans it.
      while (telemetry.samples.length > 2 && telemetry.samples[1]!.at <= at - POWER_WINDOW_MS)
        telemetry.samples.shift();
    } else {
      telemetry.samples = [];
    }
  }

  if (capacity === undefined || capacity <= 0 || soc === undefined) {
    telemetry.powerKw = undefined;
    telemetry.energyAddedKwh = undefined;
    telemetry.minutesToFull = undefined;
    telemetry.completeAt = undefined;
    telemetry.basis = { unavailable: 'needs the battery capacity and the state of charge' };
    return;
  }

  const session = telemetry.session;
  telemetry.energyAddedKwh =
    session === undefined ? undefined : Math.max(0, ((soc - session.startSocPercent) / 100) * capacity);

  if (!charging) {
    telemetry.powerKw = next.chargeState === undefined ? undefined : 0;
    telemetry.minutesToFull = undefined;
    telemetry.completeAt = undefined;
  } else {
    const first = telemetry.samples[0];
    const last = telemetry.samples.at(-1);
    const spanMs = first && last ? last.at - first.at : 0;
    telemetry.powerKw =
      first && last && spanMs > 0
        ? Math.max(0, (((last.socPercent - first.socPercent) / 100) * capacity) / (spanMs / 3_600_000))
        : undefined;
    const limit = next.chargeLimitPercent ?? 100;
    if (soc >= limit) {
      telemetry.minutesToFull = 0;
      telemetry.completeAt = new Date(at);
    } else if (telemetry.powerKw !== undefined && telemetry.powerKw > 0) {
      const hours = (((limit - soc) / 100) * capacity) / telemetry.powerKw;
      telemetry.minutesToFull = Math.round(hours * 60);
      telemetry.completeAt = new Date(at + hours * 3_600_000);
    } else {
      telemetry.minutesToFull = undefined;
      telemetry.completeAt = undefined;
    }
  }

  const first = telemetry.samples[0];
  const last = telemetry.samples.at(-1);
  telemetry.basis = {
    derived: 'state-of-charge change × battery capacity (the vehicle API reports no charging power)',
    battery_capacity_kwh: capacity,
    ...(session
      ? {
          session_started_at: new Date(session.startedAt).toISOString(),
          session_start_soc: session.startSocPercent,
          session_seen_from_start: session.seenFromStart,
        }
      : {}),
    ...(first && last && last.at > first.at
      ? {
          power_window_start: new Date(first.at).toISOString(),
          power_window_end: new Date(last.at).toISOString(),
          power_window_soc_change: Math.round((last.socPercent - first.socPercent) * 100) / 100,
        }
      : {}),
    charge_limit: next.chargeLimitPercent ?? null,
  };
}
