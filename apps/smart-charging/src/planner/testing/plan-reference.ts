/** Runs HiGHS on exactly the LP a planning context poses, with the fixed (min-SoC) load in the base. */
import type { Highs } from 'highs';
import type { Objective, PlanningContext } from '../plan.ts';
import { solveWithHighs, type ReferenceResult } from './highs-reference.ts';

export function referencePlan(
  highs: Highs,
  context: PlanningContext,
  objective: Objective,
  demandFloorKw = 0,
): ReferenceResult {
  const { grid, gridSlots, fleet, prices } = context;
  const T = grid.slotCount;
  // Import peak: base − PV, plus the energy fixed before optimising (min SoC at once).
  const baseKw = Float64Array.from(gridSlots.netBaseKw);
  for (let i = 0; i < fleet.problem.vehicleCount; i++) {
    for (let t = 0; t < T; t++) baseKw[t] = baseKw[t]! + fleet.fixedKwh[i * T + t]! / grid.slotHours;
  }
  const withDemand = prices.demandChargePerKw > 0 && objective !== 'peak';
  return solveWithHighs(highs, fleet.problem, {
    objective: withDemand ? 'cost-with-demand-charge' : objective,
    slotHours: grid.slotHours,
    baseKw,
    demandChargePerKw: prices.demandChargePerKw,
    demandFloorKw,
  });
}
