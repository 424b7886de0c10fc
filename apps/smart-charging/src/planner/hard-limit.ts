/**
 * A limit that holds in every minute. Cars behind the Vehicle API only switch on and off, so a slot's
 * energies that fit the limit on average may not fit any instant. In `hard` mode a slot with headroom H
 * is split into k = ⌊H / p_max⌋ lanes (p_max: the strongest car that may charge in it), each holding at
 * most one car at a time; a car drawing p_i needs x_i / p_i of lane time. Laying the cars' on-times end
 * to end over the lanes (McNaughton's wrap-around) never runs more than k cars at once, so no instant
 * exceeds k · p_max ≤ H. The LP sees this as a smaller slot room, k · p_min · Δt (p_min: the weakest
 * car's power in the slot): exact for fleets of equal chargers, conservative for mixed ones, and still
 * the same transportation LP (the solver stays exact).
 */
import { parseInstant, type SlotGrid } from './time-grid.ts';
import { taperPowerKw, type Vehicle } from './vehicle.ts';

/** Cars that may draw at once under a hard limit: ⌊headroom / strongest charger⌋ (0 without a charger). */
export function laneCount(headroomKw: number, strongestKw: number): number {
  return strongestKw > 0 ? Math.floor(headroomKw / strongestKw + 1e-9) : 0;
}

/** Headroom (kW) that a hard limit leaves the LP in each slot, given the average headroom. */
export function hardLimitHeadroomKw(
  headroomKw: Float64Array,
  vehicles: readonly Vehicle[],
  grid: SlotGrid,
): Float64Array {
  const T = grid.slotCount;
  const slotMs = grid.slotMinutes * 60_000;
  const strongest = new Float64Array(T);
  const weakest = new Float64Array(T).fill(Number.POSITIVE_INFINITY);
  for (const vehicle of vehicles) {
    const arrival =
      vehicle.arrival === undefined ? grid.startMs : parseInstant(vehicle.arrival, grid.timeZone);
    const departure = parseInstant(vehicle.departure, grid.timeZone);
    const from = Math.max(0, Math.floor((arrival - grid.startMs) / slotMs));
    const to = Math.min(T, Math.ceil((departure - grid.startMs) / slotMs));
    // With a taper the car may draw less near full: its weakest draw bounds the lane time it needs.
    const lowest = vehicle.taper
      ? Math.min(vehicle.maxPowerKw, taperPowerKw(vehicle, 100))
      : vehicle.maxPowerKw;
    for (let t = from; t < to; t++) {
      strongest[t] = Math.max(strongest[t]!, vehicle.maxPowerKw);
      weakest[t] = Math.min(weakest[t]!, Math.max(lowest, 1e-9));
    }
  }
  return Float64Array.from(headroomKw, (h, t) => {
    if (strongest[t] === 0) return h;
    const lanes = laneCount(h, strongest[t]!);
    return Math.min(h, lanes * weakest[t]!);
  });
}

export interface OnInterval {
  /** Minutes from the slot start (fractional). */
  readonly from: number;
  readonly to: number;
}

/**
 * The on/off schedule of one slot: each car's on-time (energy / power) laid end to end over `lanes`
 * lanes of `slotMinutes` (McNaughton). Returns each car's intervals, in the order given.
 */
export function laneSchedule(
  onMinutes: readonly number[],
  lanes: number,
  slotMinutes: number,
): OnInterval[][] {
  const result: OnInterval[][] = onMinutes.map(() => []);
  let cursor = 0;
  onMinutes.forEach((minutes, i) => {
    let left = Math.min(minutes, slotMinutes);
    while (left > 1e-9) {
      const take = Math.min(left, slotMinutes - cursor);
      result[i]!.push({ from: cursor, to: cursor + take });
      left -= take;
      cursor += take;
      if (cursor >= slotMinutes - 1e-9) cursor = 0;
    }
  });
  if (lanes <= 0 && onMinutes.some((m) => m > 1e-9))
    throw new RangeError('no lane for a car that must charge');
  return result;
}

/**
 * Highest draw (kW) in any minute of a plan executed on/off with lanes as above: for each slot, the
 * cars' on-intervals are evaluated minute by minute; base load counts as its slot average.
 */
export function highestMinuteDrawKw(
  plan: {
    readonly slotMinutes: number;
    readonly slots: readonly { readonly baseKw: number; readonly limitKw: number; readonly pvKw?: number }[];
    readonly vehicles: readonly { readonly powerKw: readonly number[] }[];
  },
  drawKw: readonly number[],
  mode: 'average' | 'hard',
): number {
  let peak = 0;
  plan.slots.forEach((slot, t) => {
    const onMinutes = plan.vehicles.map((v, i) => ((v.powerKw[t] ?? 0) / drawKw[i]!) * plan.slotMinutes);
    const headroom = slot.limitKw - slot.baseKw + (slot.pvKw ?? 0);
    const strongest = Math.max(
      0,
      ...plan.vehicles.map((v, i) => ((v.powerKw[t] ?? 0) > 1e-9 ? drawKw[i]! : 0)),
    );
    // Average mode has no lanes: every car starts at the slot start (what a naive executor does).
    const schedule =
      mode === 'hard'
        ? laneSchedule(onMinutes, laneCount(headroom, strongest), plan.slotMinutes)
        : onMinutes.map((m) => (m > 1e-9 ? [{ from: 0, to: Math.min(m, plan.slotMinutes) }] : []));
    for (let minute = 0; minute < plan.slotMinutes; minute++) {
      const at = minute + 0.5;
      let draw = slot.baseKw - (slot.pvKw ?? 0);
      schedule.forEach((intervals, i) => {
        if (intervals.some((iv) => iv.from <= at && at < iv.to)) draw += drawKw[i]!;
      });
      peak = Math.max(peak, draw);
    }
  });
  return peak;
}
