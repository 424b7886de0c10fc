/** Seeded random fleet problems for tests and the benchmark (same seed → same instance). */
import type { FleetProblem } from '../fleet-solver.ts';

/** mulberry32: small, fast, good enough for test instances. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomFleetOptions {
  readonly vehicles: number;
  readonly slots: number;
  readonly slotHours: number;
  /** Prices per slot; random (including negative ones) when omitted. */
  readonly price?: Float64Array;
  /** Shared capacity as a share of the sum of vehicle powers (the reference benchmark used 0.4). */
  readonly capacityShare?: number;
  /** Share of vehicles with a taper-reduced cap near the end of their window. */
  readonly taperShare?: number;
  /** Share of vehicles that also want optional energy below a price cap. */
  readonly optionalShare?: number;
  /** Energy range in kWh (defaults to 5–40, some targets unreachable on short windows). */
  readonly energyKwh?: readonly [number, number];
  /** Give slots a cheaper first part (PV surplus at a feed-in price below the slot price). */
  readonly lowerTier?: boolean;
}

const POWERS_KW = [3.7, 7.4, 11] as const;

export function createRandomFleet(seed: number, options: RandomFleetOptions): FleetProblem {
  const random = createRandom(seed);
  const { vehicles: N, slots: T, slotHours } = options;
  const price =
    options.price ?? Float64Array.from({ length: T }, () => Math.round((random() * 0.5 - 0.08) * 1e4) / 1e4);
  const windowStart = new Int32Array(N);
  const windowEnd = new Int32Array(N);
  const arcCap = new Float64Array(N * T);
  const demand = new Float64Array(N);
  const optional = new Float64Array(N);
  const optionalValue = new Float64Array(N);
  const [eMin, eMax] = options.energyKwh ?? [5, 40];
  let powerSum = 0;
  for (let i = 0; i < N; i++) {
    const power = POWERS_KW[Math.floor(random() * POWERS_KW.length)]!;
    powerSum += power;
    const lengthHours = 6 + random() * 12;
    const length = Math.max(1, Math.min(T, Math.round(lengthHours / slotHours)));
    const start = Math.floor(random() * (T - length + 1));
    windowStart[i] = start;
    windowEnd[i] = start + length;
    const tapered = random() < (options.taperShare ?? 0);
    for (let t = start; t < start + length; t++) {
      // Taper-like caps: the last quarter of the window is limited to 40–100 % of full power.
      const fromEnd = start + length - t;
      const factor =
        tapered && fromEnd <= Math.ceil(length / 4) ? 0.4 + 0.6 * (fromEnd / Math.ceil(length / 4)) : 1;
      arcCap[i * T + t] = power * slotHours * factor;
    }
    demand[i] = Math.round((eMin + random() * (eMax - eMin)) * 1000) / 1000;
    if (random() < (options.optionalShare ?? 0)) {
      optional[i] = Math.round(random() * 15 * 1000) / 1000;
      optionalValue[i] = Math.round((random() * 0.3 - 0.05) * 1e4) / 1e4;
    }
  }
  const capacityKw = powerSum * (options.capacityShare ?? 0.4);
  const slotRoom = Float64Array.from({ length: T }, () => capacityKw * slotHours * (0.7 + 0.3 * random()));
  const tier = options.lowerTier
    ? {
        // A midday bump of surplus (about a third of the room at noon), worth 0–0.1 per kWh below the price.
        lowerTierKwh: Float64Array.from(slotRoom, (room, t) => {
          const sun = Math.sin((Math.PI * (t / T - 0.25)) / 0.5);
          return sun > 0 ? room * 0.6 * sun * random() : 0;
        }),
        lowerTierPrice: Float64Array.from(price, (p) => p - random() * 0.1),
      }
    : {};
  return {
    ...tier,
    slotCount: T,
    vehicleCount: N,
    price,
    slotRoomKwh: slotRoom,
    windowStart,
    windowEnd,
    arcCapKwh: arcCap,
    demandKwh: demand,
    optionalKwh: optional,
    optionalValue,
  };
}

/** Σ price × energy − Σ value × optional energy, the quantity both solvers minimise after shortfall. */
export function fleetObjective(
  problem: FleetProblem,
  energyKwh: Float64Array,
  optionalDeliveredKwh: Float64Array,
): number {
  const { slotCount: T, vehicleCount: N, price } = problem;
  let cost = 0;
  const load = new Float64Array(T);
  for (let i = 0; i < N; i++) {
    for (let t = problem.windowStart[i]!; t < problem.windowEnd[i]!; t++) {
      cost += price[t]! * energyKwh[i * T + t]!;
      load[t] = load[t]! + energyKwh[i * T + t]!;
    }
    cost -= problem.optionalValue[i]! * optionalDeliveredKwh[i]!;
  }
  // A lower tier refunds the price difference on the load it covers.
  if (problem.lowerTierKwh && problem.lowerTierPrice) {
    for (let t = 0; t < T; t++) {
      const covered = Math.min(load[t]!, problem.lowerTierKwh[t]!, Math.max(0, problem.slotRoomKwh[t]!));
      cost -= Math.max(0, price[t]! - problem.lowerTierPrice[t]!) * Math.max(0, covered);
    }
  }
  return cost;
}
