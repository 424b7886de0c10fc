/**
 * Top-level nodes of a grid tree share no constraint (only prices, which do not couple), so the tree
 * problem splits into one independent problem per top-level node: plan each on any instance and
 * merge, and the result is an optimum of the whole.
 */
import { nodeLoads, solveGridTree, type GridTreeProblem, type GridTreeSolution } from './tree-solver.ts';
import type { SolveOptions } from './fleet-solver.ts';

export interface GridTreeShard {
  /** Index of the shard's top-level node in the whole problem. */
  readonly topNode: number;
  /** Indices in the whole problem of the shard's nodes (its node k is `nodes[k]`) and vehicles. */
  readonly nodes: Int32Array;
  readonly vehicles: Int32Array;
  readonly problem: GridTreeProblem;
}

/** One shard per top-level node, in node order; a top-level node without vehicles gets one too. */
export function shardGridTree(problem: GridTreeProblem): GridTreeShard[] {
  const { slotCount: T, nodeCount: V, nodeParent } = problem;
  const top = new Int32Array(V);
  for (let n = 0; n < V; n++) {
    let u = n;
    while (nodeParent[u] !== -1) u = nodeParent[u]!;
    top[n] = u;
  }
  const shards: GridTreeShard[] = [];
  for (let root = 0; root < V; root++) {
    if (nodeParent[root] !== -1) continue;
    const nodes = Int32Array.from({ length: V }, (_, n) => n).filter((n) => top[n] === root);
    const local = new Int32Array(V).fill(-1);
    nodes.forEach((n, k) => (local[n] = k));
    const vehicles = Int32Array.from({ length: problem.vehicleCount }, (_, i) => i).filter(
      (i) => top[problem.vehicleNode[i]!] === root,
    );
    const rows = (values: Float64Array): Float64Array => {
      const out = new Float64Array(vehicles.length * T);
      vehicles.forEach((i, k) => out.set(values.subarray(i * T, (i + 1) * T), k * T));
      return out;
    };
    const nodeRoom = new Float64Array(nodes.length * T);
    nodes.forEach((n, k) => nodeRoom.set(problem.nodeRoomKwh.subarray(n * T, (n + 1) * T), k * T));
    shards.push({
      topNode: root,
      nodes,
      vehicles,
      problem: {
        slotCount: T,
        vehicleCount: vehicles.length,
        price: problem.price,
        windowStart: Int32Array.from(vehicles, (i) => problem.windowStart[i]!),
        windowEnd: Int32Array.from(vehicles, (i) => problem.windowEnd[i]!),
        arcCapKwh: rows(problem.arcCapKwh),
        demandKwh: Float64Array.from(vehicles, (i) => problem.demandKwh[i]!),
        optionalKwh: Float64Array.from(vehicles, (i) => problem.optionalKwh[i]!),
        optionalValue: Float64Array.from(vehicles, (i) => problem.optionalValue[i]!),
        nodeCount: nodes.length,
        nodeParent: Int32Array.from(nodes, (n) => (nodeParent[n] === -1 ? -1 : local[nodeParent[n]!]!)),
        nodeRoomKwh: nodeRoom,
        vehicleNode: Int32Array.from(vehicles, (i) => local[problem.vehicleNode[i]!]!),
      },
    });
  }
  return shards;
}

/** The whole problem's solution from each shard's (same order as `shards`). */
export function mergeGridTreeSolutions(
  problem: GridTreeProblem,
  shards: readonly GridTreeShard[],
  solutions: readonly GridTreeSolution[],
): GridTreeSolution {
  const T = problem.slotCount;
  const energy = new Float64Array(problem.vehicleCount * T);
  const shortfall = new Float64Array(problem.vehicleCount);
  const optional = new Float64Array(problem.vehicleCount);
  let searches = 0;
  shards.forEach((shard, s) => {
    const solution = solutions[s]!;
    shard.vehicles.forEach((i, k) => {
      energy.set(solution.energyKwh.subarray(k * T, (k + 1) * T), i * T);
      shortfall[i] = solution.shortfallKwh[k]!;
      optional[i] = solution.optionalDeliveredKwh[k]!;
    });
    searches += solution.searches;
  });
  return {
    energyKwh: energy,
    shortfallKwh: shortfall,
    optionalDeliveredKwh: optional,
    searches,
    nodeLoadKwh: nodeLoads(problem, energy),
  };
}

/** Solves shard by shard and merges: the same optimum as `solveGridTree` on the whole problem. */
export function solveGridTreeSharded(problem: GridTreeProblem, options: SolveOptions = {}): GridTreeSolution {
  const shards = shardGridTree(problem);
  return mergeGridTreeSolutions(
    problem,
    shards,
    shards.map((shard) => solveGridTree(shard.problem, options)),
  );
}
