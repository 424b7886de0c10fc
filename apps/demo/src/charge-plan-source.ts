import type { ChargePlanSource, ChargePlanWindow } from '@voltkit/mqtt-bridge';
import type { DashboardData } from '@voltkit/smart-charging';

/**
 * The bridge's `next_charge_*` values from the smart-charging service's current plan: the first run of
 * slots, from now on, in which the car is planned to charge, and what that energy costs at the slots' prices.
 */
export function serviceChargePlanSource(options: {
  readonly dashboard: () => Promise<DashboardData>;
  readonly slotMinutes: number;
  readonly now: () => Date;
}): ChargePlanSource {
  return {
    async nextWindow(vehicleId) {
      return nextChargeWindow(await options.dashboard(), vehicleId, options.slotMinutes, options.now());
    },
  };
}

export function nextChargeWindow(
  data: DashboardData,
  vehicleId: string,
  slotMinutes: number,
  now: Date,
): ChargePlanWindow | null {
  const slotMs = slotMinutes * 60_000;
  const slotHours = slotMinutes / 60;
  let start: number | undefined;
  let end = 0;
  let cost: number | null = 0;
  for (const slot of data.fleet.slots) {
    const slotStart = Date.parse(slot.start);
    if (slotStart + slotMs <= now.getTime()) continue;
    const kw = slot.plannedKw[vehicleId] ?? 0;
    if (kw > 1e-6) {
      if (start === undefined) start = slotStart;
      end = slotStart + slotMs;
      // A slot without a real price makes the whole window's cost unknown, never a made-up number.
      cost =
        cost === null || slot.priceAssumed || slot.pricePerKwh === null
          ? null
          : cost + kw * slotHours * slot.pricePerKwh;
    } else if (start !== undefined) {
      break;
    }
  }
  if (start === undefined) return null;
  return { start: new Date(start), end: new Date(end), cost, currency: data.currency };
}
