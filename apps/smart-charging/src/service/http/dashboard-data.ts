import { z } from 'zod';

/** One slot of the fleet chart. */
export const FleetSlotSchema = z.object({
  start: z.string(),
  pricePerKwh: z.number().nullable(),
  limitKw: z.number().nullable(),
  baseLoadKw: z.number(),
  /** Planned charging power per vehicle id (kW, slot average). */
  plannedKw: z.record(z.string(), z.number()),
});

export const DashboardVehicleSchema = z.object({
  id: z.string(),
  name: z.string(),
  grantStatus: z.enum(['pending', 'active', 'revoked', 'expired']),
  /** Where to POST (signed in) for a Connect link that re-authorises the car's grant. */
  reconnectPath: z.string().nullable(),
  soc: z.number().nullable(),
  pluggedIn: z.boolean().nullable(),
  chargingState: z.string().nullable(),
  targetSoc: z.number(),
  departure: z.string().nullable(),
  /** Planned SoC at the end of each fleet slot (fraction), aligned with `fleet.slots`. */
  socTrajectory: z.array(z.number()),
  shortfall: z.string().nullable(),
  costPlanned: z.number(),
  costOnArrival: z.number(),
});

export const DashboardDataSchema = z.object({
  generatedAt: z.string(),
  currency: z.string(),
  /** IANA zone the site plans in; the page shows times in it. */
  timeZone: z.string(),
  planReason: z.string().nullable(),
  fleet: z.object({
    slots: z.array(FleetSlotSchema),
    costPlanned: z.number(),
    costOnArrival: z.number(),
    peakBeforeKw: z.number(),
    peakAfterKw: z.number(),
  }),
  vehicles: z.array(DashboardVehicleSchema),
});

export type DashboardData = z.infer<typeof DashboardDataSchema>;
