import type { PlannedCommand } from '../store/command-log.ts';

export interface VehicleSchedule {
  readonly vehicleId: string;
  /** Power the car can draw when it charges (kW): the API can only switch charging on and off. */
  readonly chargingPowerKw: number;
  /** Grid energy planned per slot (kWh), aligned with `slotStarts`. */
  readonly energyPerSlotKwh: readonly number[];
  /** Charge limit to set before the first start (fraction), if the plan wants one. */
  readonly chargeLimit?: number;
  /** Nothing starts before this instant (a plan made mid-slot can only use the rest of the slot). */
  readonly notBefore?: Date;
}

/** Commands run on a minute schedule, so on-times are whole minutes. */
const MINUTE_MS = 60_000;
/** Below this the plan's energy is float noise, not a wish to charge. */
const NEGLIGIBLE_KWH = 0.005;

/**
 * Turns planned energy per slot into on/off commands. The Vehicle API cannot modulate power, so a slot
 * with part of the car's full-power energy becomes charging at full power from the slot start for that
 * fraction of the slot (the slot's average power is what the plan and the grid limit count). Adjacent
 * charging intervals merge, so a car charging through several slots gets one start and one stop.
 */
export function planToCommands(
  schedule: VehicleSchedule,
  slotStarts: readonly Date[],
  slotMs: number,
): PlannedCommand[] {
  const intervals: { start: number; end: number }[] = [];
  schedule.energyPerSlotKwh.forEach((energyKwh, slot) => {
    const slotStart = slotStarts[slot];
    if (slotStart === undefined || energyKwh <= NEGLIGIBLE_KWH || schedule.chargingPowerKw <= 0) return;
    const slotEnd = slotStart.getTime() + slotMs;
    const onMs = Math.min(slotMs, (energyKwh / schedule.chargingPowerKw) * 3_600_000);
    const start = Math.max(slotStart.getTime(), schedule.notBefore?.getTime() ?? Number.NEGATIVE_INFINITY);
    // Whole minutes, rounded down so a slot never draws more than planned (the grid limit holds); what
    // this leaves out shows up as the car falling behind its plan, which triggers a re-plan.
    const end = Math.min(slotEnd, start + Math.floor(onMs / MINUTE_MS) * MINUTE_MS);
    if (end - start < MINUTE_MS) return;
    const last = intervals.at(-1);
    if (last && last.end >= start) last.end = Math.max(last.end, end);
    else intervals.push({ start, end });
  });

  const commands: PlannedCommand[] = [];
  const first = intervals[0];
  if (first && schedule.chargeLimit !== undefined) {
    commands.push({
      vehicleId: schedule.vehicleId,
      action: 'set_charge_limit',
      value: schedule.chargeLimit,
      dueAt: new Date(first.start),
    });
  }
  for (const interval of intervals) {
    commands.push({ vehicleId: schedule.vehicleId, action: 'start_charge', dueAt: new Date(interval.start) });
    commands.push({ vehicleId: schedule.vehicleId, action: 'stop_charge', dueAt: new Date(interval.end) });
  }
  return commands;
}
