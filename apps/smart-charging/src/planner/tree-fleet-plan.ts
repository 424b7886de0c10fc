/**
 * A grid-tree plan in the shape of a site plan (`Plan`): what the service stores, the dashboard draws and
 * the command log follows, whichever planner made it. The slots show the top of the tree (its limit, the
 * base load of everything below it, all charging), `nodes` every node's own series.
 */
import { immediateCharging, horizonGrid, vehiclePlansOf, type Plan, type PlanSlot } from './plan.ts';
import { priceSlots } from './tariff.ts';
import { formatZoned, slotStartMs } from './time-grid.ts';
import {
  createGridTreePlanningContext,
  gridTreePlan,
  type GridTreePlanningContext,
  type GridTreePlanRequest,
} from './tree-plan.ts';
import { solveGridTree } from './tree-solver.ts';

/** Plans the request with the tree planner (exact under every node's limit) and reports it as a `Plan`. */
export function planGridTreeFleet(request: GridTreePlanRequest): Plan {
  const context = createGridTreePlanningContext(request);
  const solution = solveGridTree(context.problem);
  const treePlan = gridTreePlan(context, solution);
  const { prepared, problem, tree } = context;
  const grid = horizonGrid(request);
  const T = grid.slotCount;
  const prices = priceSlots(request.tariff, grid);
  const energyKwh = Float64Array.from(solution.energyKwh, (e, k) => e + prepared.fixedKwh[k]!);
  const vehicles = vehiclePlansOf(prepared.setups, grid, energyKwh, prices.pricePerKwh).map((vehicle, i) => {
    const limiting = treePlan.vehicles[i]?.shortfall?.nodeId;
    if (vehicle.shortfall?.cause !== 'grid' || limiting === undefined) return vehicle;
    // The tree knows which limit binds: say so instead of the site planner's generic reason.
    return {
      ...vehicle,
      shortfall: {
        ...vehicle.shortfall,
        message: `the limit of grid node "${limiting}" (after the base load below it) leaves too little room in the window`,
      },
    };
  });

  const chargingKwh = slotSums(energyKwh, T);
  // Like with like: the baseline buys the same target energy flat out from plug-in, ignoring every limit.
  const targetEnergyKwh = Float64Array.from(
    vehicles,
    (vehicle, i) => vehicle.energyKwh - solution.optionalDeliveredKwh[i]!,
  );
  const immediate = immediateCharging(prepared, T, targetEnergyKwh);
  const topLimitKw = new Float64Array(T);
  const topBaseKw = new Float64Array(T);
  for (let n = 0; n < tree.ids.length; n++) {
    if (tree.parent[n] !== -1) continue;
    for (let t = 0; t < T; t++) {
      topLimitKw[t] = topLimitKw[t]! + tree.limitKw[n * T + t]!;
      topBaseKw[t] = topBaseKw[t]! + tree.subtreeBaseKw[n * T + t]!;
    }
  }
  let energyCost = 0;
  let immediateCost = 0;
  let peakAfterKw = 0;
  let peakBeforeKw = 0;
  let baseLoadPeakKw = 0;
  let importKwh = 0;
  const slots: PlanSlot[] = Array.from({ length: T }, (_, t) => {
    const price = prices.pricePerKwh[t]!;
    const chargingKw = chargingKwh[t]! / grid.slotHours;
    energyCost += chargingKwh[t]! * price;
    immediateCost += immediate.loadKwh[t]! * price;
    peakAfterKw = Math.max(peakAfterKw, topBaseKw[t]! + chargingKw);
    peakBeforeKw = Math.max(peakBeforeKw, topBaseKw[t]! + immediate.loadKwh[t]! / grid.slotHours);
    baseLoadPeakKw = Math.max(baseLoadPeakKw, topBaseKw[t]!);
    importKwh += (topBaseKw[t]! + chargingKw) * grid.slotHours;
    return {
      start: formatZoned(slotStartMs(grid, t), grid.timeZone),
      pricePerKwh: price,
      priceAssumed: prices.assumed[t] === 1,
      limitKw: topLimitKw[t]!,
      baseKw: topBaseKw[t]!,
      chargingKw,
      pvKw: 0,
      exportPricePerKwh: null,
      solarChargingKw: 0,
      selfConsumptionKw: 0,
      gridImportKw: topBaseKw[t]! + chargingKw,
      gridExportKw: 0,
    };
  });
  const targetCost = costOfTargets(context, vehicles, targetEnergyKwh);
  const energyTotal = vehicles.reduce((sum, vehicle) => sum + vehicle.energyKwh, 0);
  const targetTotal = targetEnergyKwh.reduce((sum, kwh) => sum + kwh, 0);
  const short = vehicles.filter((vehicle) => vehicle.shortfall);
  const warnings = [...treePlan.warnings];
  if (prices.energyOnly)
    warnings.push(
      'no price is known for any slot: planned for energy only (whenNoPriceKnown: energy-only); every cost in this plan is unknown, not 0',
    );
  if (problem.vehicleCount > 0 && prices.demandChargePerKw > 0)
    warnings.push('the tariff’s demand charge is not part of a grid-tree plan; costs leave it out');
  return {
    timeZone: grid.timeZone,
    slotMinutes: grid.slotMinutes,
    start: formatZoned(grid.startMs, grid.timeZone),
    end: formatZoned(slotStartMs(grid, T), grid.timeZone),
    slots,
    vehicles,
    summary: {
      objective: 'cost',
      currency: request.tariff.currency ?? null,
      vehicles: vehicles.length,
      energyKwh: energyTotal,
      energyCost,
      demandCharge: 0,
      totalCost: energyCost,
      targetEnergyKwh: targetTotal,
      targetEnergyCost: targetCost,
      immediateCost,
      immediateEnergyKwh: immediate.energyKwh,
      savings: immediateCost - targetCost,
      opportunisticEnergyKwh: Math.max(0, energyTotal - targetTotal),
      opportunisticCost: energyCost - targetCost,
      peakBeforeKw,
      peakAfterKw,
      baseLoadPeakKw,
      shortfallKwh: short.reduce((sum, vehicle) => sum + (vehicle.shortfall?.kwh ?? 0), 0),
      vehiclesShort: short.length,
      solarChargingKwh: 0,
      gridImportKwh: importKwh,
      gridExportKwh: 0,
    },
    assumptions: prices.assumptions,
    warnings,
    nodes: treePlan.nodes,
  };
}

function slotSums(energyKwh: Float64Array, T: number): Float64Array {
  const sums = new Float64Array(T);
  for (let k = 0; k < energyKwh.length; k++) sums[k % T] = sums[k % T]! + energyKwh[k]!;
  return sums;
}

/**
 * What the target energy alone costs as planned: each car's extras beyond its target (bought below its
 * price cap) are its most expensive planned kWh to leave out, so the target energy is priced at its
 * cheapest planned slots — a lower bound of a re-plan without extras, and exact when there are none.
 */
function costOfTargets(
  context: GridTreePlanningContext,
  vehicles: readonly {
    readonly energyKwh: number;
    readonly cost: number;
    readonly powerKw: readonly number[];
  }[],
  targetEnergyKwh: Float64Array,
): number {
  const { slotHours, pricePerKwh } = context;
  return vehicles.reduce((sum, vehicle, i) => {
    if (vehicle.energyKwh - targetEnergyKwh[i]! <= 1e-9) return sum + vehicle.cost;
    const bySlot = vehicle.powerKw
      .map((kw, t) => ({ kwh: kw * slotHours, price: pricePerKwh[t]! }))
      .filter((slot) => slot.kwh > 0)
      .sort((a, b) => a.price - b.price);
    let left = targetEnergyKwh[i]!;
    let cost = 0;
    for (const slot of bySlot) {
      if (left <= 0) break;
      const kwh = Math.min(left, slot.kwh);
      cost += kwh * slot.price;
      left -= kwh;
    }
    return sum + cost;
  }, 0);
}
