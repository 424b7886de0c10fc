/**
 * Exact reductions of a grid tree before solving, which shrink the network the search walks:
 * - a node with exactly one vehicle below it only caps that vehicle: its room folds into the
 *   vehicle's per-slot cap (a household connection with one car disappears);
 * - a node without vehicles of its own and with one remaining child constrains the same vehicles
 *   as that child: the child keeps the smaller room of the two;
 * - a node with no vehicle below it constrains nothing and goes.
 * A vehicle whose whole tree folded is connected at no node (−1) and bound only by its caps and
 * the slot room.
 */
import type { GridTreeProblem } from './tree-solver.ts';

/** The reduced problem; vehicles keep their indices, so a solution needs no mapping back. */
export function reduceGridTree(problem: GridTreeProblem): GridTreeProblem {
  const { slotCount: T, vehicleCount: N, nodeCount: V, nodeParent, nodeRoomKwh } = problem;
  const below = new Int32Array(V);
  for (let i = 0; i < N; i++) for (let n = problem.vehicleNode[i]!; n !== -1; n = nodeParent[n]!) below[n]!++;
  const arcCap = problem.arcCapKwh.slice();
  const vehicleNode = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let n = problem.vehicleNode[i]!;
    for (; n !== -1 && below[n] === 1; n = nodeParent[n]!) {
      for (let t = problem.windowStart[i]!; t < problem.windowEnd[i]!; t++)
        arcCap[i * T + t] = Math.min(arcCap[i * T + t]!, Math.max(0, nodeRoomKwh[n * T + t]!));
    }
    vehicleNode[i] = n;
  }
  // Nodes kept so far: two or more vehicles below. Count each one's own vehicles and kept children.
  const direct = new Int32Array(V);
  for (let i = 0; i < N; i++) if (vehicleNode[i] !== -1) direct[vehicleNode[i]!]!++;
  const keptChildren = new Int32Array(V);
  const onlyChild = new Int32Array(V).fill(-1);
  for (let n = 0; n < V; n++) {
    if (below[n]! < 2 || nodeParent[n] === -1) continue;
    keptChildren[nodeParent[n]!]!++;
    onlyChild[nodeParent[n]!] = n;
  }
  // Top-down, a pass-through node hands its room to its only child (depth order: parents first).
  const depth = new Int32Array(V);
  for (let n = 0; n < V; n++) for (let u = nodeParent[n]!; u !== -1; u = nodeParent[u]!) depth[n]!++;
  const order = Int32Array.from({ length: V }, (_, n) => n).sort((a, b) => depth[a]! - depth[b]!);
  const room = nodeRoomKwh.slice();
  const parent = Int32Array.from(nodeParent);
  const removed = new Uint8Array(V);
  for (const n of order) {
    if (below[n]! < 2) {
      removed[n] = 1;
      continue;
    }
    if (direct[n] === 0 && keptChildren[n] === 1) {
      const child = onlyChild[n]!;
      for (let t = 0; t < T; t++) room[child * T + t] = Math.min(room[child * T + t]!, room[n * T + t]!);
      parent[child] = parent[n]!;
      removed[n] = 1;
    }
  }
  const index = new Int32Array(V).fill(-1);
  let kept = 0;
  for (let n = 0; n < V; n++) if (removed[n] === 0) index[n] = kept++;
  const keptParent = new Int32Array(kept);
  const keptRoom = new Float64Array(kept * T);
  for (let n = 0; n < V; n++) {
    if (removed[n] === 1) continue;
    keptParent[index[n]!] = parent[n] === -1 ? -1 : index[parent[n]!]!;
    keptRoom.set(room.subarray(n * T, (n + 1) * T), index[n]! * T);
  }
  return {
    ...problem,
    arcCapKwh: arcCap,
    nodeCount: kept,
    nodeParent: keptParent,
    nodeRoomKwh: keptRoom,
    vehicleNode: Int32Array.from(vehicleNode, (n) => (n === -1 ? -1 : index[n]!)),
  };
}
