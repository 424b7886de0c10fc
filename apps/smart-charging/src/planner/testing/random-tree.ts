/** Seeded random grid-tree problems for tests and the benchmark (same seed → same instance). */
import type { GridTreeProblem } from '../tree-solver.ts';
import { createRandom, createRandomFleet, type RandomFleetOptions } from './random-fleet.ts';

export interface RandomTreeOptions extends Omit<RandomFleetOptions, 'capacityShare' | 'lowerTier'> {
  /** Levels of the tree (1: top-level nodes only). */
  readonly depth: number;
  /** Top-level nodes (a forest when more than one); default 1. */
  readonly topLevel?: number;
  /** Mean vehicles per leaf; default 2 (household connections). */
  readonly vehiclesPerLeaf?: number;
  /** Share of vehicles connected at an inner node instead of a leaf; default 0.15. */
  readonly innerShare?: number;
  /** Node room as a share of the power of the vehicles below it: drawn from this range. */
  readonly roomShare?: readonly [number, number];
}

export function createRandomGridTree(seed: number, options: RandomTreeOptions): GridTreeProblem {
  const fleet = createRandomFleet(seed, { ...options, capacityShare: 1 });
  const random = createRandom(seed ^ 0x5bd1e995);
  const { vehicles: N, slots: T, slotHours, depth } = options;
  const topLevel = Math.max(1, options.topLevel ?? 1);
  const leavesWanted = Math.max(topLevel, Math.ceil(N / (options.vehiclesPerLeaf ?? 2)));
  const branching = depth <= 1 ? 1 : Math.max(1, (leavesWanted / topLevel) ** (1 / (depth - 1)));
  const parent: number[] = [];
  let levelNodes: number[] = [];
  for (let k = 0; k < topLevel; k++) levelNodes.push(parent.push(-1) - 1);
  const inner: number[] = [];
  for (let d = 1; d < depth; d++) {
    const next: number[] = [];
    for (const node of levelNodes) {
      const count = Math.max(1, Math.round(branching * (0.5 + random())));
      for (let c = 0; c < count; c++) next.push(parent.push(node) - 1);
    }
    inner.push(...levelNodes);
    levelNodes = next;
  }
  const leaves = levelNodes;
  const V = parent.length;
  const vehicleNode = Int32Array.from({ length: N }, () =>
    inner.length > 0 && random() < (options.innerShare ?? 0.15)
      ? inner[Math.floor(random() * inner.length)]!
      : leaves[Math.floor(random() * leaves.length)]!,
  );
  // Power below each node, then a room that binds at some nodes and not at others.
  const powerBelow = new Float64Array(V);
  for (let i = 0; i < N; i++) {
    let most = 0;
    for (let t = fleet.windowStart[i]!; t < fleet.windowEnd[i]!; t++)
      most = Math.max(most, fleet.arcCapKwh[i * T + t]!);
    for (let n = vehicleNode[i]!; n !== -1; n = parent[n]!) powerBelow[n] = powerBelow[n]! + most / slotHours;
  }
  const [low, high] = options.roomShare ?? [0.2, 1.1];
  const nodeRoom = new Float64Array(V * T);
  for (let n = 0; n < V; n++) {
    const share = low + (high - low) * random();
    const kw = Math.max(1, powerBelow[n]! * share);
    // A base-load-like dip in the evening makes the room vary over the slots.
    const phase = random() * 2 * Math.PI;
    for (let t = 0; t < T; t++) {
      const shape = 0.75 + 0.25 * Math.sin((2 * Math.PI * t) / T + phase);
      nodeRoom[n * T + t] = kw * shape * slotHours * (0.9 + 0.1 * random());
    }
  }
  return {
    slotCount: T,
    vehicleCount: N,
    price: fleet.price,
    windowStart: fleet.windowStart,
    windowEnd: fleet.windowEnd,
    arcCapKwh: fleet.arcCapKwh,
    demandKwh: fleet.demandKwh,
    optionalKwh: fleet.optionalKwh,
    optionalValue: fleet.optionalValue,
    nodeCount: V,
    nodeParent: Int32Array.from(parent),
    nodeRoomKwh: nodeRoom,
    vehicleNode,
  };
}

/** Tree depth (levels) of a problem: 1 for top-level nodes only. */
export function treeDepth(problem: GridTreeProblem): number {
  let deepest = 0;
  for (let n = 0; n < problem.nodeCount; n++) {
    let d = 1;
    for (let u = problem.nodeParent[n]!; u !== -1; u = problem.nodeParent[u]!) d++;
    deepest = Math.max(deepest, d);
  }
  return deepest;
}
