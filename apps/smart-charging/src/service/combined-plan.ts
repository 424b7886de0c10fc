import type { Plan, PlanSlot, VehiclePlan } from '../planner/plan.ts';
import { formatZoned } from '../planner/time-grid.ts';

/**
 * The units' current plans as one fleet plan, for the API and the dashboard. Units are planned at
 * different moments, so their slots are laid on one grid from the earliest start to the latest end: a
 * slot sums the units whose plan covers it, a car's series is padded with no power (and its SoC held)
 * where its unit's plan does not reach. Peaks after are read off the combined slots; the baseline's peak
 * (charging on arrival) is the sum of the units' peaks, since their arrival peaks need not coincide.
 */
export function combinePlans(plans: readonly Plan[]): Plan | undefined {
  const first = plans[0];
  if (first === undefined) return undefined;
  if (plans.length === 1) return first;
  const slotMs = first.slotMinutes * 60_000;
  const startOf = (plan: Plan) => Date.parse(plan.slots[0]?.start ?? plan.start);
  const withSlots = plans.filter((plan) => plan.slots.length > 0);
  const startMs = Math.min(...plans.map(startOf));
  const endMs = Math.max(...plans.map((plan) => startOf(plan) + plan.slots.length * slotMs));
  const T = Math.max(0, Math.round((endMs - startMs) / slotMs));
  const slots: (PlanSlot | undefined)[] = new Array<PlanSlot | undefined>(T).fill(undefined);
  const vehicles: VehiclePlan[] = [];
  for (const plan of withSlots) {
    const offset = Math.round((startOf(plan) - startMs) / slotMs);
    plan.slots.forEach((slot, t) => {
      const into = slots[offset + t];
      slots[offset + t] = into === undefined ? slot : addSlots(into, slot);
    });
    for (const vehicle of plan.vehicles) {
      const before = new Array<number>(offset).fill(0);
      const after = new Array<number>(T - offset - plan.slots.length).fill(0);
      const firstSoc = vehicle.socPercent[0] ?? vehicle.finalSocPercent;
      const lastSoc = vehicle.socPercent.at(-1) ?? vehicle.finalSocPercent;
      vehicles.push({
        ...vehicle,
        powerKw: [...before, ...vehicle.powerKw, ...after],
        socPercent: [...before.map(() => firstSoc), ...vehicle.socPercent, ...after.map(() => lastSoc)],
      });
    }
  }
  const filled = slots.map(
    (slot, t): PlanSlot =>
      slot ?? {
        ...EMPTY_SLOT,
        start: formatZoned(startMs + t * slotMs, first.timeZone),
      },
  );
  const sum = (pick: (plan: Plan) => number) => plans.reduce((total, plan) => total + pick(plan), 0);
  const summary = first.summary;
  return {
    ...first,
    start: plans.find((plan) => startOf(plan) === startMs)?.start ?? first.start,
    end: plans.find((plan) => startOf(plan) + plan.slots.length * slotMs === endMs)?.end ?? first.end,
    slots: filled,
    vehicles,
    summary: {
      ...summary,
      vehicles: sum((plan) => plan.summary.vehicles),
      energyKwh: sum((plan) => plan.summary.energyKwh),
      energyCost: sum((plan) => plan.summary.energyCost),
      demandCharge: sum((plan) => plan.summary.demandCharge),
      totalCost: sum((plan) => plan.summary.totalCost),
      targetEnergyKwh: sum((plan) => plan.summary.targetEnergyKwh),
      targetEnergyCost: sum((plan) => plan.summary.targetEnergyCost),
      immediateCost: sum((plan) => plan.summary.immediateCost),
      immediateEnergyKwh: sum((plan) => plan.summary.immediateEnergyKwh),
      savings: sum((plan) => plan.summary.savings),
      opportunisticEnergyKwh: sum((plan) => plan.summary.opportunisticEnergyKwh),
      opportunisticCost: sum((plan) => plan.summary.opportunisticCost),
      peakBeforeKw: sum((plan) => plan.summary.peakBeforeKw),
      peakAfterKw: Math.max(0, ...filled.map((slot) => slot.baseKw + slot.chargingKw - slot.pvKw)),
      baseLoadPeakKw: Math.max(0, ...filled.map((slot) => slot.baseKw)),
      shortfallKwh: sum((plan) => plan.summary.shortfallKwh),
      vehiclesShort: sum((plan) => plan.summary.vehiclesShort),
      solarChargingKwh: sum((plan) => plan.summary.solarChargingKwh),
      gridImportKwh: sum((plan) => plan.summary.gridImportKwh),
      gridExportKwh: sum((plan) => plan.summary.gridExportKwh),
    },
    assumptions: dedupe(plans.flatMap((plan) => plan.assumptions)),
    warnings: [...new Set(plans.flatMap((plan) => plan.warnings))],
    nodes: plans.flatMap((plan) => plan.nodes ?? []),
  };
}

const EMPTY_SLOT: Omit<PlanSlot, 'start'> = {
  pricePerKwh: 0,
  // No unit's plan reaches this slot, so nothing here rests on a real price.
  priceAssumed: true,
  limitKw: 0,
  baseKw: 0,
  chargingKw: 0,
  pvKw: 0,
  exportPricePerKwh: null,
  solarChargingKw: 0,
  selfConsumptionKw: 0,
  gridImportKw: 0,
  gridExportKw: 0,
};

function addSlots(a: PlanSlot, b: PlanSlot): PlanSlot {
  return {
    start: a.start,
    // One price source for every unit: the slot's price is the same in each.
    pricePerKwh: a.pricePerKwh,
    priceAssumed: a.priceAssumed || b.priceAssumed,
    limitKw: a.limitKw + b.limitKw,
    baseKw: a.baseKw + b.baseKw,
    chargingKw: a.chargingKw + b.chargingKw,
    pvKw: a.pvKw + b.pvKw,
    exportPricePerKwh: a.exportPricePerKwh ?? b.exportPricePerKwh,
    solarChargingKw: a.solarChargingKw + b.solarChargingKw,
    selfConsumptionKw: a.selfConsumptionKw + b.selfConsumptionKw,
    gridImportKw: a.gridImportKw + b.gridImportKw,
    gridExportKw: a.gridExportKw + b.gridExportKw,
  };
}

function dedupe<T>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = JSON.stringify(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
