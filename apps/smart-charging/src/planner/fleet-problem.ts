/**
 * From vehicles, slots and grid headroom to the LP the solver takes (see fleet-solver.ts).
 *
 * Modelling decisions, shared by the planner and the HiGHS reference (both see the same FleetProblem):
 * - Energy is grid-side; the battery gets `efficiency` × grid energy.
 * - A slot the car is plugged in for only partly gets a proportional energy cap.
 * - Taper stays linear: each slot's cap uses the power the taper allows at the *highest* SoC the car
 *   could have reached by the end of that slot (charging flat out since plug-in, never above the SoC it
 *   may end at). Every plan within these caps is physically feasible under the taper curve; the price is
 *   some conservatism when a car's plan leaves early slots unused.
 * - Minimum SoC "at once": before optimising, cars charge flat out from plug-in until they reach it,
 *   slot by slot in time order, within the grid headroom. That energy is fixed (and costed); the LP
 *   optimises the rest.
 * - Minimum power does not constrain energy: below min power × slot length the charger runs at min
 *   power for part of the slot (see ocpp.ts), so the LP is unchanged.
 */
import type { FleetProblem } from './fleet-solver.ts';
import { parseInstant, type SlotGrid } from './time-grid.ts';
import { requestedTargetSocPercent, taperPowerKw, type Vehicle } from './vehicle.ts';

export interface VehicleSetup {
  readonly vehicle: Vehicle;
  readonly arrivalMs: number;
  readonly departureMs: number;
  /** Target after clipping to the charge limit (%). */
  readonly targetSocPercent: number;
  /** Grid energy to reach the target (kWh), including any minimum-SoC energy. */
  readonly needKwh: number;
  /** Grid energy the car could take at full power over its window, ignoring the taper (kWh). */
  readonly fullPowerKwh: number;
  /** Grid energy the car could take within its taper caps (kWh). */
  readonly cappedKwh: number;
  /** Whether the departure lies after the end of the horizon. */
  readonly departsAfterHorizon: boolean;
}

export interface PreparedFleet {
  readonly problem: FleetProblem;
  readonly setups: readonly VehicleSetup[];
  /** Energy fixed before optimising (minimum SoC at once), same layout as the solver's energy. */
  readonly fixedKwh: Float64Array;
  /** Arc caps before the fixed energy was taken out (for checks). */
  readonly fullArcCapKwh: Float64Array;
}

export function prepareFleet(
  vehicles: readonly Vehicle[],
  grid: SlotGrid,
  pricePerKwh: Float64Array,
  headroomKw: Float64Array,
  /**
   * Room beyond the slot's for the minimum-SoC energy: called with (vehicle, slot, kWh wanted, kWh the
   * slot has left), returns what it grants (and books it). A grid tree checks each node on the path.
   */
  grantRoom: (i: number, t: number, wantKwh: number, slotLeftKwh: number) => number = (_i, _t, want, left) =>
    Math.min(want, left),
): PreparedFleet {
  const T = grid.slotCount;
  const N = vehicles.length;
  const slotMs = grid.slotMinutes * 60_000;
  const endMs = grid.startMs + T * slotMs;
  const windowStart = new Int32Array(N);
  const windowEnd = new Int32Array(N);
  const arcCap = new Float64Array(N * T);
  const demand = new Float64Array(N);
  const optional = new Float64Array(N);
  const optionalValue = new Float64Array(N);
  const forced = new Float64Array(N);
  const setups: VehicleSetup[] = [];

  vehicles.forEach((vehicle, i) => {
    const arrivalMs =
      vehicle.arrival === undefined ? grid.startMs : parseInstant(vehicle.arrival, grid.timeZone);
    const departureMs = parseInstant(vehicle.departure, grid.timeZone);
    const from = Math.max(0, Math.floor((arrivalMs - grid.startMs) / slotMs));
    const to = Math.min(T, Math.ceil((departureMs - grid.startMs) / slotMs));
    windowStart[i] = Math.min(from, T);
    windowEnd[i] = Math.max(Math.min(from, T), to);
    const target = Math.min(requestedTargetSocPercent(vehicle), vehicle.chargeLimitPercent);
    const toKwh = (socDelta: number): number =>
      (Math.max(0, socDelta) / 100) * (vehicle.capacityKwh / vehicle.efficiency);
    const minSoc = Math.min(vehicle.minSocPercent ?? 0, vehicle.chargeLimitPercent);
    const need = toKwh(Math.max(target, minSoc) - vehicle.socPercent);
    forced[i] = toKwh(minSoc - vehicle.socPercent);
    demand[i] = need;
    const finalSoc =
      vehicle.opportunisticPriceCap === undefined
        ? Math.max(target, minSoc, vehicle.socPercent)
        : Math.max(vehicle.chargeLimitPercent, vehicle.socPercent);
    if (vehicle.opportunisticPriceCap !== undefined) {
      optional[i] = toKwh(vehicle.chargeLimitPercent - Math.max(target, minSoc, vehicle.socPercent));
      optionalValue[i] = vehicle.opportunisticPriceCap;
    }
    let reachableSoc = vehicle.socPercent;
    let fullPower = 0;
    let capped = 0;
    for (let t = windowStart[i]; t < windowEnd[i]; t++) {
      const start = grid.startMs + t * slotMs;
      const overlapHours = (Math.min(start + slotMs, departureMs) - Math.max(start, arrivalMs)) / 3_600_000;
      if (overlapHours <= 0) continue;
      const full = vehicle.maxPowerKw * overlapHours;
      fullPower += full;
      const socGainAtFull = ((full * vehicle.efficiency) / vehicle.capacityKwh) * 100;
      const socAtSlotEnd = Math.min(finalSoc, reachableSoc + socGainAtFull);
      const cap = taperPowerKw(vehicle, socAtSlotEnd) * overlapHours;
      arcCap[i * T + t] = cap;
      capped += cap;
      reachableSoc = Math.min(
        finalSoc,
        reachableSoc + ((cap * vehicle.efficiency) / vehicle.capacityKwh) * 100,
      );
    }
    setups.push({
      vehicle,
      arrivalMs,
      departureMs,
      targetSocPercent: target,
      needKwh: need,
      fullPowerKwh: fullPower,
      cappedKwh: capped,
      departsAfterHorizon: departureMs > endMs,
    });
  });

  const fullArcCap = arcCap.slice();
  const room = Float64Array.from(headroomKw, (h) => h * grid.slotHours);
  const fixed = new Float64Array(N * T);
  // Minimum SoC at once: flat out from plug-in, in time order, inside the grid headroom.
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < N && room[t]! > 0; i++) {
      if (forced[i]! <= 0 || t < windowStart[i]! || t >= windowEnd[i]!) continue;
      const amount = grantRoom(i, t, Math.min(forced[i]!, arcCap[i * T + t]!), room[t]!);
      if (amount <= 0) continue;
      fixed[i * T + t] = amount;
      arcCap[i * T + t] = arcCap[i * T + t]! - amount;
      forced[i] = forced[i]! - amount;
      demand[i] = demand[i]! - amount;
      room[t] = room[t]! - amount;
    }
  }
  return {
    problem: {
      slotCount: T,
      vehicleCount: N,
      price: pricePerKwh,
      slotRoomKwh: room,
      windowStart,
      windowEnd,
      arcCapKwh: arcCap,
      demandKwh: demand,
      optionalKwh: optional,
      optionalValue,
    },
    setups,
    fixedKwh: fixed,
    fullArcCapKwh: fullArcCap,
  };
}
