/**
 * Grid side of the plan: the site/feeder limit per slot, lowered by demand-response events, minus the
 * forecast base load (non-EV consumption) = headroom the chargers may share.
 */
import { z } from 'zod';
import { profilePowerKw, type LoadProfile } from './load-profile.ts';
import { localTime, parseInstant, slotStartMs, type SlotGrid } from './time-grid.ts';

const TimeSchema = z.union([z.string(), z.number()], {
  error:
    'must be a time: an ISO 8601 string (with offset, or local in horizon.timeZone) or epoch milliseconds',
});

export const DemandResponseEventSchema = z.object({
  id: z.string().optional(),
  start: TimeSchema,
  end: TimeSchema,
  /** Import limit during the event (kW). */
  limitKw: z.number().min(0),
});

export const BaseLoadSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('none') }),
    /** Standard household profile H25, scaled to a yearly consumption (e.g. 300 homes × 3,500 kWh). */
    z.object({ kind: z.literal('bdew-h25'), annualKwh: z.number().min(0) }),
    /** Explicit forecast, one value per slot (kW). */
    z.object({ kind: z.literal('series'), kw: z.array(z.number().min(0)) }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? 'kind must be "none", "bdew-h25" or "series"' : undefined,
  },
);

export const GridSchema = z.object({
  /** Import limit of the site or feeder (kW): one number, or one per slot. */
  limitKw: z.union([z.number().min(0), z.array(z.number().min(0))], {
    error: 'must be a power in kW (≥ 0), or an array with one value per slot',
  }),
  baseLoad: BaseLoadSchema.default({ kind: 'none' }),
  demandResponse: z.array(DemandResponseEventSchema).default([]),
  /**
   * `average` (default): the limit holds for each slot's mean power, as meters bill it. `hard`: it
   * holds in every minute of the on/off schedule (cars draw all or nothing), see hard-limit.ts.
   */
  limitMode: z.enum(['average', 'hard']).default('average'),
  /** PV generation forecast behind the same meter (kW, one value per slot); needs `feedInTariff`. */
  pvKw: z.array(z.number().min(0)).optional(),
});
export type GridInput = z.input<typeof GridSchema>;
export type Grid = z.infer<typeof GridSchema>;

export interface GridSlots {
  /** Import limit (kW). */
  readonly limitKw: Float64Array;
  /** Household / site load without the chargers (kW). */
  readonly baseKw: Float64Array;
  /** PV generation (kW), zeros without PV. */
  readonly pvKw: Float64Array;
  /** base − PV (kW): what the site imports (> 0) or exports (< 0) before any car charges. */
  readonly netBaseKw: Float64Array;
  /** max(0, PV − base): PV the chargers can take before importing (kW). */
  readonly surplusKw: Float64Array;
  /** max(0, limit − (base − PV)): what chargers may draw together, PV surplus included. */
  readonly headroomKw: Float64Array;
}

export class GridError extends Error {
  override name = 'GridError';
}

export function gridSlots(grid: Grid, slots: SlotGrid, profile?: LoadProfile): GridSlots {
  const T = slots.slotCount;
  const limit = new Float64Array(T);
  if (typeof grid.limitKw === 'number') limit.fill(grid.limitKw);
  else {
    if (grid.limitKw.length !== T)
      throw new GridError(`grid.limitKw: expected ${T} values (one per slot), got ${grid.limitKw.length}`);
    limit.set(grid.limitKw);
  }
  const slotMs = slots.slotMinutes * 60_000;
  for (const event of grid.demandResponse) {
    const from = parseInstant(event.start, slots.timeZone);
    const to = parseInstant(event.end, slots.timeZone);
    for (let t = 0; t < T; t++) {
      const start = slotStartMs(slots, t);
      // A slot touched by the event is held to the event limit for all of it (meters average per slot).
      if (start < to && start + slotMs > from) limit[t] = Math.min(limit[t]!, event.limitKw);
    }
  }
  const base = baseLoadKw(grid.baseLoad, slots, profile);
  const pv = new Float64Array(T);
  if (grid.pvKw) {
    if (grid.pvKw.length !== T)
      throw new GridError(`grid.pvKw: expected ${T} values (one per slot), got ${grid.pvKw.length}`);
    pv.set(grid.pvKw);
  }
  const netBase = Float64Array.from(base, (b, t) => b - pv[t]!);
  const surplus = Float64Array.from(netBase, (n) => Math.max(0, -n));
  const headroom = Float64Array.from(limit, (l, t) => Math.max(0, l - netBase[t]!));
  return {
    limitKw: limit,
    baseKw: base,
    pvKw: pv,
    netBaseKw: netBase,
    surplusKw: surplus,
    headroomKw: headroom,
  };
}

/** The base load per slot (kW) of a base-load setting. */
export function baseLoadKw(
  baseLoad: Grid['baseLoad'],
  slots: SlotGrid,
  profile: LoadProfile | undefined,
): Float64Array {
  const T = slots.slotCount;
  switch (baseLoad.kind) {
    case 'none':
      return new Float64Array(T);
    case 'series':
      if (baseLoad.kw.length !== T)
        throw new GridError(
          `grid.baseLoad.kw: expected ${T} values (one per slot), got ${baseLoad.kw.length}`,
        );
      return Float64Array.from(baseLoad.kw);
    case 'bdew-h25': {
      if (!profile) throw new GridError('grid.baseLoad: the bdew-h25 base load needs the parsed H25 profile');
      const result = new Float64Array(T);
      const quarters = slots.slotMinutes / 15;
      for (let t = 0; t < T; t++) {
        const local = localTime(slotStartMs(slots, t), slots.timeZone);
        if (quarters < 1) {
          result[t] = profilePowerKw(
            profile,
            local.month,
            local.weekday,
            Math.floor(local.hour * 4) % 96,
            baseLoad.annualKwh,
          );
          continue;
        }
        let sum = 0;
        for (let q = 0; q < quarters; q++) {
          sum += profilePowerKw(
            profile,
            local.month,
            local.weekday,
            Math.floor(local.hour * 4 + q) % 96,
            baseLoad.annualKwh,
          );
        }
        result[t] = sum / quarters;
      }
      return result;
    }
  }
}
