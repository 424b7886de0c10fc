import { chargeEvents, updateTelemetry } from './charging-telemetry.ts';
import type { ChargeEventType, ChargingTelemetry } from './charging-telemetry.ts';
import type { Activity, EntityDefinition } from './entities.ts';
import type { DailyBudget } from './poll-policy.ts';
import type { SmartChargingView } from './smart-charging-link.ts';
import type { ChargePlanWindow, VehicleField, VehicleInfo, VehicleReading } from './vehicle-source.ts';

/** Everything the bridge tracks for one car while it runs. */
export interface VehicleRuntime {
  readonly info: VehicleInfo;
  readonly slug: string;
  readonly name: string;
  supported: Set<VehicleField>;
  entities: EntityDefinition[];
  reading: VehicleReading;
  /** Per field: when the bridge last got it, when the car recorded it, and how (poll or webhook). */
  freshness: Map<VehicleField, FieldFreshness>;
  telemetry: ChargingTelemetry;
  /** Entities the car turned out not to report (no sunroof, no frunk). */
  dropped: Set<string>;
  activity: Activity;
  lastUpdated: Date | undefined;
  plan: ChargePlanWindow | null | undefined;
  /** What smart charging plans for the car (when linked to the service); undefined until first read. */
  smart: SmartChargingView | undefined;
  available: boolean | undefined;
  budget: DailyBudget;
  fastUntil: number;
  notBefore: number;
  failures: number;
  lastFullReadAt: number;
  /** Last read of the activity's regular fields (a parked car's cheap plug checks come in between). */
  lastRegularReadAt: number;
  timer: NodeJS.Timeout | undefined;
  polling: Promise<void> | undefined;
  discoveryPublished: boolean;
  removed: boolean;
}

export interface FieldFreshness {
  readonly readAt: Date;
  readonly recordedAt: Date | undefined;
  readonly source: 'poll' | 'webhook';
}

/**
 * Merges a new reading (from a poll or a push) into the car: values, freshness per field, activity and
 * charging telemetry. Returns the plug and charge transitions it saw.
 */
export function applyReading(
  car: VehicleRuntime,
  reading: VehicleReading,
  how: {
    readonly fields: readonly VehicleField[];
    readonly recordedAt?: ReadonlyMap<VehicleField, Date> | undefined;
    readonly source: 'poll' | 'webhook';
  },
): ChargeEventType[] {
  const now = new Date();
  const previous = car.reading;
  car.reading = { ...previous, ...reading };
  for (const field of how.fields) {
    car.freshness.set(field, {
      readAt: now,
      recordedAt: how.recordedAt?.get(field) ?? reading.dataAge,
      source: how.source,
    });
  }
  car.activity = inferActivity(previous, car.reading);
  car.lastUpdated = reading.dataAge ?? now;
  const socAt = how.recordedAt?.get('battery') ?? reading.dataAge ?? now;
  updateTelemetry(car.telemetry, previous, car.reading, socAt.getTime());
  return chargeEvents(previous, car.reading);
}

/** Chooses what the car is doing from what changed between two reads. */
export function inferActivity(previous: VehicleReading, next: VehicleReading): Activity {
  if (next.chargeState === 'charging') return 'charging';
  const movedKm =
    next.odometerKm !== undefined && previous.odometerKm !== undefined
      ? next.odometerKm - previous.odometerKm
      : 0;
  const moved =
    movedKm > 0.05 ||
    (next.location !== undefined &&
      previous.location !== undefined &&
      (Math.abs(next.location.latitude - previous.location.latitude) > 0.0005 ||
        Math.abs(next.location.longitude - previous.location.longitude) > 0.0005));
  if (moved) return 'driving';
  if (next.pluggedIn) return 'plugged';
  return 'parked';
}
