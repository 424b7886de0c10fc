/** Constraint checks shared by tests: every bound of the fleet LP, on a solution's energy. */
import type { FleetProblem } from '../fleet-solver.ts';
import { nodeLoads, treeAsFleetProblem, type GridTreeProblem } from '../tree-solver.ts';

export interface Violation {
  readonly what: string;
  readonly amount: number;
}

/** Returns the violations (empty when all constraints hold within `tolerance` kWh). */
export function fleetViolations(
  problem: FleetProblem,
  energyKwh: Float64Array,
  tolerance = 1e-7,
): Violation[] {
  const { slotCount: T, vehicleCount: N } = problem;
  const violations: Violation[] = [];
  const slotLoad = new Float64Array(T);
  for (let i = 0; i < N; i++) {
    let total = 0;
    for (let t = 0; t < T; t++) {
      const e = energyKwh[i * T + t]!;
      const inWindow = t >= problem.windowStart[i]! && t < problem.windowEnd[i]!;
      if (e < -tolerance) violations.push({ what: `vehicle ${i} slot ${t} negative`, amount: e });
      if (!inWindow && Math.abs(e) > tolerance)
        violations.push({ what: `vehicle ${i} slot ${t} outside window`, amount: e });
      if (e > problem.arcCapKwh[i * T + t]! + tolerance) {
        violations.push({
          what: `vehicle ${i} slot ${t} above power cap`,
          amount: e - problem.arcCapKwh[i * T + t]!,
        });
      }
      total += e;
      slotLoad[t] = slotLoad[t]! + e;
    }
    const most = problem.demandKwh[i]! + problem.optionalKwh[i]!;
    if (total > most + tolerance)
      violations.push({ what: `vehicle ${i} gets more than it may take`, amount: total - most });
  }
  for (let t = 0; t < T; t++) {
    if (slotLoad[t]! > problem.slotRoomKwh[t]! + tolerance) {
      violations.push({
        what: `slot ${t} above grid headroom`,
        amount: slotLoad[t]! - problem.slotRoomKwh[t]!,
      });
    }
  }
  return violations;
}

export function relativeGap(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));
}

/** Fleet bounds plus every node's room in every slot. */
export function treeViolations(
  problem: GridTreeProblem,
  energyKwh: Float64Array,
  tolerance = 1e-7,
): Violation[] {
  const violations = fleetViolations(treeAsFleetProblem(problem), energyKwh, tolerance);
  const T = problem.slotCount;
  const load = nodeLoads(problem, energyKwh);
  for (let n = 0; n < problem.nodeCount; n++) {
    for (let t = 0; t < T; t++) {
      const over = load[n * T + t]! - Math.max(0, problem.nodeRoomKwh[n * T + t]!);
      if (over > tolerance) violations.push({ what: `node ${n} slot ${t} above its room`, amount: over });
    }
  }
  return violations;
}
