import type { PlannedCommand } from '../store/command-log.ts';

export interface VehicleSchedule {
  readonly vehicleId: string;
  /** Power the car can draw when it charges (kW): the API can only switch charging on and off. */
  readonly chargingPowerKw: number;
  /** Grid energy planned per slot (kWh), aligned with `slotStarts`. */
  readonly energyPerSlotKwh: readonly number[];
  /** Charge limit to set before the first start (fraction), if the plan wants one. */
  readonly chargeLimit?: number;
}

/** Commands run on a minute schedule, so on-times are whole minutes. */
const MINUTE_MS = 60_000;
/** Below this the plan's energy is float noise, not a wish to charge. */
const NEGLIGIBLE_KWH = 0.005;

interface Interval {
  start: number;
  end: number;
}

/**
 * Turns the fleet's planned energy per slot into on/off commands. The Vehicle API cannot modulate power,
 * so a car with part of a slot's full-power energy charges at full power for that share of the slot.
 *
 * Within a slot those shares are laid end to end, wrapping round the slot (McNaughton's rule): a car that
 * does not fit before the slot ends finishes at its start. So the cars switched on at any instant are the
 * ones running all slot plus as few part-time ones as their minutes allow, instead of all of them at once
 * from the slot start: the slot's average (what the plan and the grid limit count) is unchanged, and the
 * instantaneous peak stays within one car of it. On-times are whole minutes, rounded down so a slot never
 * draws more than planned; the remainder shows up as the car falling behind, which triggers a re-plan.
 */
export function planToCommands(
  fleet: readonly VehicleSchedule[],
  slotStarts: readonly Date[],
  slotMs: number,
  /** Nothing starts before this instant (a plan made mid-slot can only use the rest of the slot). */
  notBefore?: Date,
  /**
   * Hard limit: at most this many cars may be on at once in each slot (⌊headroom / strongest charger⌋).
   * On-time beyond `lanes × window` is not scheduled (the car falls behind and the next plan catches up),
   * so no minute ever draws more than the limit. Omitted: the average limit, no cap.
   */
  lanesPerSlot?: readonly number[],
): PlannedCommand[] {
  const intervals = new Map<string, Interval[]>(fleet.map((vehicle) => [vehicle.vehicleId, []]));
  slotStarts.forEach((slotStart, slot) => {
    const slotEnd = slotStart.getTime() + slotMs;
    const windowStart = Math.max(slotStart.getTime(), notBefore?.getTime() ?? Number.NEGATIVE_INFINITY);
    const windowMinutes = Math.floor((slotEnd - windowStart) / MINUTE_MS);
    if (windowMinutes < 1) return;
    const lanes = lanesPerSlot?.[slot];
    // Lane-minutes this slot may use: unbounded for the average limit.
    let budget = lanes === undefined ? Number.POSITIVE_INFINITY : Math.max(0, lanes) * windowMinutes;
    const partTime: { vehicleId: string; minutes: number; powerKw: number }[] = [];
    const fullTime: string[] = [];
    for (const vehicle of fleet) {
      const energyKwh = vehicle.energyPerSlotKwh[slot] ?? 0;
      if (energyKwh <= NEGLIGIBLE_KWH || vehicle.chargingPowerKw <= 0) continue;
      const minutes = Math.floor((energyKwh / vehicle.chargingPowerKw) * 60 + 1e-9);
      if (minutes < 1) continue;
      if (minutes >= windowMinutes) fullTime.push(vehicle.vehicleId);
      else partTime.push({ vehicleId: vehicle.vehicleId, minutes, powerKw: vehicle.chargingPowerKw });
    }
    // A car on all slot takes a whole lane; past the lanes there is no room for it.
    for (const vehicleId of fullTime) {
      if (budget < windowMinutes) {
        partTime.push({ vehicleId, minutes: windowMinutes, powerKw: 0 });
        continue;
      }
      budget -= windowMinutes;
      intervals.get(vehicleId)!.push({ start: windowStart, end: slotEnd });
    }
    // Strongest chargers first, so the cars sharing a lane are alike; ties by id keep plans reproducible.
    partTime.sort((a, b) => b.powerKw - a.powerKw || a.vehicleId.localeCompare(b.vehicleId));
    let cursor = 0;
    for (const car of partTime) {
      let left = Math.min(car.minutes, budget);
      budget -= left;
      while (left > 0) {
        const take = Math.min(left, windowMinutes - cursor);
        intervals.get(car.vehicleId)!.push({
          start: windowStart + cursor * MINUTE_MS,
          end: windowStart + (cursor + take) * MINUTE_MS,
        });
        left -= take;
        cursor = (cursor + take) % windowMinutes;
      }
    }
  });

  const commands: PlannedCommand[] = [];
  for (const vehicle of fleet) {
    const merged = mergeTouching(intervals.get(vehicle.vehicleId)!);
    const first = merged[0];
    if (first && vehicle.chargeLimit !== undefined) {
      commands.push({
        vehicleId: vehicle.vehicleId,
        action: 'set_charge_limit',
        value: vehicle.chargeLimit,
        dueAt: new Date(first.start),
      });
    }
    for (const interval of merged) {
      commands.push({
        vehicleId: vehicle.vehicleId,
        action: 'start_charge',
        dueAt: new Date(interval.start),
      });
      commands.push({ vehicleId: vehicle.vehicleId, action: 'stop_charge', dueAt: new Date(interval.end) });
    }
  }
  return commands;
}

function mergeTouching(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const interval of sorted) {
    const last = merged.at(-1);
    if (last && last.end >= interval.start) last.end = Math.max(last.end, interval.end);
    else merged.push({ ...interval });
  }
  return merged;
}
