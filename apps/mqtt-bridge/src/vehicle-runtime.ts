import type { Activity, EntityDefinition } from './entities.ts';
import type { DailyBudget } from './poll-policy.ts';
import type { ChargePlanWindow, VehicleField, VehicleInfo, VehicleReading } from './vehicle-source.ts';

/** Everything the bridge tracks for one car while it runs. */
export interface VehicleRuntime {
  readonly info: VehicleInfo;
  readonly slug: string;
  readonly name: string;
  supported: Set<VehicleField>;
  entities: EntityDefinition[];
  reading: VehicleReading;
  activity: Activity;
  lastUpdated: Date | undefined;
  plan: ChargePlanWindow | null | undefined;
  available: boolean | undefined;
  budget: DailyBudget;
  fastUntil: number;
  notBefore: number;
  failures: number;
  lastFullReadAt: number;
  timer: NodeJS.Timeout | undefined;
  polling: Promise<void> | undefined;
  discoveryPublished: boolean;
  removed: boolean;
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
