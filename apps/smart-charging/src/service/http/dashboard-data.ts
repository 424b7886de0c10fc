import { z } from 'zod';
import { GRANT_STATUSES } from '../../store/grant-status.ts';

/** One slot of the fleet chart. */
export const FleetSlotSchema = z.object({
  start: z.string(),
  pricePerKwh: z.number().nullable(),
  /** The series had no price for this slot; the plan assumed one (see `prices.problem`). */
  priceAssumed: z.boolean(),
  limitKw: z.number().nullable(),
  baseLoadKw: z.number(),
  /**
   * Planned charging power (kW, slot average) per series: per car in an owner's view, per work unit (a
   * top-level grid node, `node:<id>`, or `site`) in the fleet view.
   */
  plannedKw: z.record(z.string(), z.number()),
});

export const DashboardVehicleSchema = z.object({
  id: z.string(),
  name: z.string(),
  grantStatus: z.enum(GRANT_STATUSES),
  /** Where to POST (signed in) for a Connect link that re-authorises the car's grant. */
  reconnectPath: z.string().nullable(),
  soc: z.number().nullable(),
  pluggedIn: z.boolean().nullable(),
  chargingState: z.string().nullable(),
  targetSoc: z.number(),
  departure: z.string().nullable(),
  /** Planned charging power per fleet slot (kW, slot average), aligned with `fleet.slots`. */
  plannedKw: z.array(z.number()),
  /** Planned SoC at the end of each fleet slot (fraction), aligned with `fleet.slots`. */
  socTrajectory: z.array(z.number()),
  shortfall: z.string().nullable(),
  /** Null when a slot the car charges in (planned or on arrival) has no real price: the cost is unknown. */
  costPlanned: z.number().nullable(),
  costOnArrival: z.number().nullable(),
});

export const PriceCoverageViewSchema = z.object({
  source: z.string(),
  from: z.string(),
  to: z.string(),
  /** Windows with no stored price. */
  missing: z.array(z.object({ start: z.string(), end: z.string() })),
  fetchError: z.string().nullable(),
  /** A sentence naming the source and the missing window, for a banner; null when all is priced. */
  problem: z.string().nullable(),
});

export const DashboardDataSchema = z.object({
  generatedAt: z.string(),
  currency: z.string(),
  /** IANA zone the site plans in; the page shows times in it. */
  timeZone: z.string(),
  planReason: z.string().nullable(),
  prices: PriceCoverageViewSchema,
  fleet: z.object({
    slots: z.array(FleetSlotSchema),
    /** Null when any slot with charging has no real price. */
    costPlanned: z.number().nullable(),
    costOnArrival: z.number().nullable(),
    /**
     * Charging on arrival minus the plan, for the same energy (the energy the targets need; what the plan
     * buys opportunistically on top is `opportunisticCost`). Null when a cost is unknown.
     */
    savings: z.number().nullable(),
    /** What the plan spends on extra energy beyond the targets because it is cheap; fleet view only (null for an owner). */
    opportunisticCost: z.number().nullable(),
    peakBeforeKw: z.number(),
    peakAfterKw: z.number(),
  }),
  vehicles: z.array(DashboardVehicleSchema),
});

export type DashboardData = z.infer<typeof DashboardDataSchema>;

export type PriceCoverageView = z.infer<typeof PriceCoverageViewSchema>;
