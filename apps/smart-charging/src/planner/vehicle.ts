/** A vehicle's charging request, as the planner takes it. */
import { z } from 'zod';

const TimeSchema = z.union([z.string(), z.number()], {
  error:
    'must be a time: an ISO 8601 string (with offset, or local in horizon.timeZone) or epoch milliseconds',
});

export const TaperSchema = z.object({
  /** SoC (%) from which the charger power falls linearly … */
  startSocPercent: z.number().min(0).max(100),
  /** … down to this power (kW) at 100 %. */
  endPowerKw: z.number().min(0),
});

export const TripSchema = z.object({
  distanceKm: z.number().min(0),
  /** SoC to keep on arrival (%), for detours and a cold morning. */
  reservePercent: z.number().min(0).max(100).default(10),
});

export const VehicleSchema = z
  .object({
    id: z.string().min(1),
    socPercent: z.number().min(0).max(100),
    /** Usable battery capacity (kWh). */
    capacityKwh: z.number().positive(),
    /** SoC to reach by departure (%); or give `trip` and the target follows from it. */
    targetSocPercent: z.number().min(0).max(100).optional(),
    /** The next trip: its distance sets the target (see `tripTargetSocPercent`). */
    trip: TripSchema.optional(),
    /** Range per percent of SoC (km), from the car's readings (range ÷ SoC); needed with `trip`. */
    rangeKmPerPercent: z.number().positive().optional(),
    /** Plug-in time; defaults to the start of the horizon (already plugged in). */
    arrival: TimeSchema.optional(),
    departure: TimeSchema,
    /** Never charge above this SoC (%). */
    chargeLimitPercent: z.number().min(0).max(100).default(100),
    /** Grid-side power limit of car and charger together (kW). */
    maxPowerKw: z.number().positive(),
    /** Lowest power the car accepts while charging (kW); met by time-slicing within a slot. */
    minPowerKw: z.number().min(0).default(0),
    /** Share of grid energy that ends up in the battery. */
    efficiency: z.number().gt(0).max(1).default(0.9),
    taper: TaperSchema.optional(),
    /** Reach this SoC as soon as possible, whatever the price. */
    minSocPercent: z.number().min(0).max(100).optional(),
    /** Charge beyond the target (up to the charge limit) wherever the price is below this cap. */
    opportunisticPriceCap: z.number().optional(),
    /** For OCPP export (amps): phases and phase voltage. */
    phases: z.union([z.literal(1), z.literal(3)], { error: 'must be 1 or 3' }).default(3),
    voltage: z.number().positive().default(230),
    /** OCPP transaction, if one is running; its profile becomes a TxProfile. */
    transactionId: z.string().optional(),
    evseId: z.number().int().min(0).optional(),
  })
  .refine((v) => (v.targetSocPercent === undefined) !== (v.trip === undefined), {
    message: 'give targetSocPercent or trip (a distance to drive), one of them',
    path: ['targetSocPercent'],
  })
  .refine((v) => v.trip === undefined || v.rangeKmPerPercent !== undefined, {
    message: 'a trip needs the range per percent of SoC (km), from the car’s range and SoC readings',
    path: ['rangeKmPerPercent'],
  })
  .refine((v) => v.minPowerKw <= v.maxPowerKw, {
    message: 'must not exceed maxPowerKw',
    path: ['minPowerKw'],
  })
  .refine((v) => v.taper === undefined || v.taper.endPowerKw <= v.maxPowerKw, {
    message: 'must not exceed maxPowerKw',
    path: ['taper', 'endPowerKw'],
  });

export type Vehicle = z.infer<typeof VehicleSchema>;
export type VehicleInput = z.input<typeof VehicleSchema>;

/** Charger power limit (kW) at a state of charge under the linear taper. */
export function taperPowerKw(vehicle: Vehicle, socPercent: number): number {
  const taper = vehicle.taper;
  if (!taper || socPercent <= taper.startSocPercent) return vehicle.maxPowerKw;
  if (taper.startSocPercent >= 100) return vehicle.maxPowerKw;
  const share = Math.min(1, (socPercent - taper.startSocPercent) / (100 - taper.startSocPercent));
  return vehicle.maxPowerKw - (vehicle.maxPowerKw - taper.endPowerKw) * share;
}

/**
 * The SoC a vehicle is planned to (%), before the charge limit: the stated target, or the trip's
 * distance in percent of SoC (distance ÷ range per percent) plus the reserve.
 */
export function requestedTargetSocPercent(
  vehicle: Pick<Vehicle, 'targetSocPercent' | 'trip' | 'rangeKmPerPercent'>,
): number {
  if (vehicle.targetSocPercent !== undefined) return vehicle.targetSocPercent;
  const trip = vehicle.trip!;
  return Math.min(100, trip.distanceKm / vehicle.rangeKmPerPercent! + trip.reservePercent);
}
