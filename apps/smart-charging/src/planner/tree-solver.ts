/**
 * Exact solver for the fleet LP under a grid tree (substation → feeders → transformers → connections):
 *
 *   min  Σ_t c_t · Σ_i x_it  −  M · Σ_i m_i  −  Σ_i v_i · o_i
 *   s.t. Σ_t x_it = m_i + o_i,  0 ≤ m_i ≤ E_i,  0 ≤ o_i ≤ X_i,  0 ≤ x_it ≤ u_it
 *        Σ_{i below n} x_it ≤ h_nt   for every node n and slot t (h: the node's room, kWh)
 *
 * The node constraints of one slot are laminar (two subtrees are nested or disjoint), so the slot is a
 * flow network: vehicle → its node → parent → … → top-level node → sink, each tree edge carrying the
 * node's room. The slot loads a fleet can reach are then still a polymatroid and the greedy of
 * fleet-solver.ts (slots by ascending price, the maximum flow into each) stays exact; only the
 * max-flow step changes, see tree-network.ts. Top-level nodes share nothing but prices, so a forest
 * splits into independent problems (tree-shard.ts).
 */
import {
  permuteVehicles,
  solveFleet,
  solveInPriorityOrder,
  type FleetProblem,
  type FleetSolution,
  type SolveOptions,
} from './fleet-solver.ts';
import { createTreeNetwork } from './tree-network.ts';
import { reduceGridTree } from './tree-reduce.ts';

export interface GridTreeProblem {
  readonly slotCount: number;
  readonly vehicleCount: number;
  /** Price per slot (currency per kWh, may be negative). */
  readonly price: Float64Array;
  readonly windowStart: Int32Array;
  readonly windowEnd: Int32Array;
  /** Per-vehicle, per-slot energy cap (kWh), `vehicle * slotCount + slot`; 0 outside the window. */
  readonly arcCapKwh: Float64Array;
  readonly demandKwh: Float64Array;
  readonly optionalKwh: Float64Array;
  readonly optionalValue: Float64Array;
  readonly nodeCount: number;
  /** Parent index of each node, −1 for a top-level node. Parents may come in any order; no cycles. */
  readonly nodeParent: Int32Array;
  /** Energy each node may still carry for chargers in each slot (kWh), `node * slotCount + slot`. */
  readonly nodeRoomKwh: Float64Array;
  /** Node each vehicle is connected at (any node, not only a leaf). */
  readonly vehicleNode: Int32Array;
}

export interface GridTreeSolution extends FleetSolution {
  /** Charging energy through each node per slot (kWh), `node * slotCount + slot`. */
  readonly nodeLoadKwh: Float64Array;
}

/** Σ of the top-level nodes' room per slot: the most a slot can take, whatever the tree below. */
export function topLevelRoomKwh(problem: GridTreeProblem): Float64Array {
  const T = problem.slotCount;
  const room = new Float64Array(T);
  for (let n = 0; n < problem.nodeCount; n++) {
    if (problem.nodeParent[n] !== -1) continue;
    for (let t = 0; t < T; t++) room[t] = room[t]! + Math.max(0, problem.nodeRoomKwh[n * T + t]!);
  }
  return room;
}

/**
 * The tree problem as a fleet problem (one room per slot: Σ of the top-level rooms) with the tree
 * carried along; exact for the greedy, whose segments release the slot room while the tree network
 * enforces every node.
 */
export function treeAsFleetProblem(problem: GridTreeProblem): FleetProblem & GridTreeProblem {
  return { ...problem, slotRoomKwh: topLevelRoomKwh(problem) };
}

/** Solves the tree problem exactly. Pure: the problem's arrays are not modified. */
export function solveGridTree(problem: GridTreeProblem, options: SolveOptions = {}): GridTreeSolution {
  // The slot room comes from the whole tree; the reduced tree enforces the same constraints.
  const reduced = reduceGridTree(problem);
  const fleet = { ...reduced, slotRoomKwh: topLevelRoomKwh(problem) };
  // No node left, or one node above every vehicle, is the single-limit fleet: its network is the
  // specialised one (bit masks over slots).
  const connected = reduced.vehicleNode.some((n) => n !== -1);
  const oneLimit = reduced.nodeCount === 1 && reduced.vehicleNode.every((n) => n === 0);
  const solution = !connected
    ? solveFleet(fleet, options)
    : oneLimit
      ? solveFleet(
          {
            ...fleet,
            slotRoomKwh: Float64Array.from(fleet.slotRoomKwh, (room, t) =>
              Math.min(room, Math.max(0, reduced.nodeRoomKwh[t]!)),
            ),
          },
          options,
        )
      : solveInPriorityOrder(
          fleet,
          (p, order) => ({
            ...permuteVehicles(p, order),
            vehicleNode: Int32Array.from(order, (i) => p.vehicleNode[i]!),
          }),
          createTreeNetwork,
          options,
          pathLimitedCap(reduced),
        );
  return { ...solution, nodeLoadKwh: nodeLoads(problem, solution.energyKwh) };
}

/** What a vehicle could take in a slot if it were alone: its cap, or less where a node on its path has less room. */
function pathLimitedCap(problem: GridTreeProblem): (i: number, t: number) => number {
  const { slotCount: T, nodeParent, nodeRoomKwh } = problem;
  return (i, t) => {
    let most = problem.arcCapKwh[i * T + t]!;
    for (let n = problem.vehicleNode[i]!; n !== -1; n = nodeParent[n]!)
      most = Math.min(most, nodeRoomKwh[n * T + t]!);
    return Math.max(0, most);
  };
}

/** Charging energy through each node per slot: every vehicle's energy added up its path to the top. */
export function nodeLoads(problem: GridTreeProblem, energyKwh: Float64Array): Float64Array {
  const { slotCount: T, vehicleCount: N, nodeCount: V, nodeParent, windowStart, windowEnd } = problem;
  const load = new Float64Array(V * T);
  // Each vehicle into its own node, then each node into its parent, deepest first: one pass over a
  // node's row per level instead of one per vehicle and ancestor.
  for (let i = 0; i < N; i++) {
    const n = problem.vehicleNode[i]!;
    if (n === -1) continue;
    for (let t = windowStart[i]!, end = windowEnd[i]!; t < end; t++)
      load[n * T + t] = load[n * T + t]! + energyKwh[i * T + t]!;
  }
  const depth = new Int32Array(V);
  for (let n = 0; n < V; n++) for (let u = nodeParent[n]!; u !== -1; u = nodeParent[u]!) depth[n]!++;
  const deepestFirst = Int32Array.from({ length: V }, (_, n) => n).sort((a, b) => depth[b]! - depth[a]!);
  for (const n of deepestFirst) {
    const up = nodeParent[n]!;
    if (up === -1) continue;
    for (let t = 0; t < T; t++) load[up * T + t] = load[up * T + t]! + load[n * T + t]!;
  }
  return load;
}
