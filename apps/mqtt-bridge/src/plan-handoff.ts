import type { Logger } from './logger.ts';
import type { VehicleRuntime } from './vehicle-runtime.ts';
import type { ChargePlanSource } from './vehicle-source.ts';

/**
 * The smart-charging service's plan for a car, fetched after each read. A plan source that fails keeps
 * the last known plan (and says so in the log) rather than blanking the HA sensors.
 */
export async function refreshPlan(
  car: VehicleRuntime,
  chargePlan: ChargePlanSource | undefined,
  logger: Logger,
): Promise<void> {
  if (!chargePlan) return;
  car.plan = await chargePlan.nextWindow(car.info.id).catch((error: unknown) => {
    logger.warn({ vehicle: car.slug, err: error }, 'charge plan unavailable');
    return car.plan;
  });
}
