/**
 * The residual network of a grid tree, for the greedy of fleet-solver.ts.
 *
 * Nodes are (tree node, slot) pairs and vehicles. A vehicle's draw at slot q enters at its node's
 * (node, q) and climbs to a virtual root above the top-level nodes, whose edge to the sink at the
 * target slot is the room the greedy has released there. Residual edges:
 *   vehicle → (its node, q)     it may draw more at q        (x < cap)
 *   (its node, q) → vehicle     it may draw less at q        (x > 0)
 *   (n, q) → (parent, q)        n has room left at q         (load < room)
 *   (parent, q) → (n, q)        n carries charging at q      (load > 0)
 * An augmenting path from a vehicle in need to the target therefore re-routes other vehicles' draw
 * between slots and between branches of the tree, never breaking a node's room or a vehicle's cap,
 * and never changing what another slot delivers (the virtual root has no edge to their sinks).
 *
 * Each slot first gets a direct fill (vehicles in priority order, each up to the least room on its
 * path), then Dinic phases: a breadth-first search backwards from the target that stops at the first
 * level holding a vehicle in need, and a blocking flow along strictly decreasing levels.
 */
import {
  EPSILON_KWH,
  buildSlotVehicleLists,
  type FleetProblem,
  type ResidualNetwork,
} from './fleet-solver.ts';
import type { GridTreeProblem } from './tree-solver.ts';

export function createTreeNetwork(problem: FleetProblem & GridTreeProblem): ResidualNetwork {
  const { slotCount: T, vehicleCount: N, windowStart, windowEnd, arcCapKwh: cap } = problem;
  // Network node 0 is the virtual root; tree node n is network node n + 1.
  const V = problem.nodeCount + 1;
  const parent = new Int32Array(V);
  parent[0] = -1;
  for (let n = 0; n < problem.nodeCount; n++) parent[n + 1] = problem.nodeParent[n]! + 1;
  const childOffsets = new Int32Array(V + 1);
  for (let v = 1; v < V; v++) childOffsets[parent[v]! + 1]!++;
  for (let v = 0; v < V; v++) childOffsets[v + 1]! += childOffsets[v]!;
  const children = new Int32Array(V - 1);
  {
    const fill = childOffsets.slice(0, V);
    for (let v = 1; v < V; v++) children[fill[parent[v]!]!++] = v;
  }
  const vehicleAt = Int32Array.from(problem.vehicleNode, (n) => n + 1);

  // Room and load of (v, q) at q * V + v; the virtual root's room is not used (see `sinkRoom`).
  const room = new Float64Array(T * V);
  for (let n = 0; n < problem.nodeCount; n++)
    for (let t = 0; t < T; t++) room[t * V + n + 1] = Math.max(0, problem.nodeRoomKwh[n * T + t]!);
  const load = new Float64Array(T * V);
  const sinkRoom = new Float64Array(T);
  const x = new Float64Array(N * T);

  // Vehicles of each (slot, node), in priority order (the vehicles are numbered that way).
  const atOffsets = new Int32Array(T * V + 1);
  for (let i = 0; i < N; i++)
    for (let t = windowStart[i]!; t < windowEnd[i]!; t++) atOffsets[t * V + vehicleAt[i]! + 1]!++;
  for (let k = 0; k < T * V; k++) atOffsets[k + 1]! += atOffsets[k]!;
  const atVehicles = new Int32Array(atOffsets[T * V]!);
  {
    const fill = atOffsets.slice(0, T * V);
    for (let i = 0; i < N; i++)
      for (let t = windowStart[i]!; t < windowEnd[i]!; t++) atVehicles[fill[t * V + vehicleAt[i]!]!++] = i;
  }
  const { offsets: slotOffsets, vehicles: slotVehicles } = buildSlotVehicleLists(
    problem,
    Int32Array.from({ length: N }, (_, i) => i),
  );

  const active = new Uint8Array(N);
  let need: Float64Array = new Float64Array(N);
  let needingList = new Int32Array(N);
  let needingCount = 0;
  let searchCount = 0;

  // Search state. Items: (v, q) as q * V + v, vehicle i as T * V + i. A stamp marks this search's
  // visits, so nothing is cleared between searches; a dead item (no path left) gets level −2.
  const items = T * V + N;
  const stamp = new Int32Array(items);
  const level = new Int32Array(items);
  const cursor = new Int32Array(items);
  const queue = new Int32Array(items);
  let search = 0;
  let target = -1;

  function levelOf(item: number): number {
    return stamp[item] === search ? level[item]! : -1;
  }

  function refreshNeeding(): void {
    let n = 0;
    for (let k = 0; k < needingCount; k++) {
      const i = needingList[k]!;
      if (need[i]! > EPSILON_KWH) needingList[n++] = i;
    }
    needingCount = n;
  }

  function beginPhase(needs: Float64Array, isActive: (i: number) => boolean): void {
    need = needs;
    needingCount = 0;
    if (needingList.length < N) needingList = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      active[i] = isActive(i) ? 1 : 0;
      if (active[i] === 1) needingList[needingCount++] = i;
    }
  }

  /** Least room left on the path from v up to the sink of slot t. */
  function pathRoom(v: number, t: number): number {
    let least = sinkRoom[t]!;
    for (let u = v; u > 0; u = parent[u]!) {
      const left = room[t * V + u]! - load[t * V + u]!;
      if (left < least) least = left;
    }
    return least;
  }

  function fillSlot(t: number): void {
    for (let k = slotOffsets[t]!, end = slotOffsets[t + 1]!; k < end; k++) {
      if (sinkRoom[t]! <= EPSILON_KWH) break;
      const i = slotVehicles[k]!;
      if (active[i] === 0) continue;
      const want = need[i]!;
      if (want <= EPSILON_KWH) continue;
      const at = i * T + t;
      const free = cap[at]! - x[at]!;
      if (free <= EPSILON_KWH) continue;
      const amount = Math.min(want, free, pathRoom(vehicleAt[i]!, t));
      if (amount <= EPSILON_KWH) continue;
      x[at] = x[at]! + amount;
      for (let u = vehicleAt[i]!; u > 0; u = parent[u]!) load[t * V + u] = load[t * V + u]! + amount;
      load[t * V] = load[t * V]! + amount;
      sinkRoom[t] = sinkRoom[t]! - amount;
      need[i] = want - amount;
    }
    refreshNeeding();
    while (sinkRoom[t]! > EPSILON_KWH && needingCount > 0) {
      const pushed = dinicPhase(t);
      refreshNeeding();
      if (pushed <= EPSILON_KWH) break;
    }
  }

  function visit(item: number, at: number, tail: number): number {
    stamp[item] = search;
    level[item] = at;
    cursor[item] = 0;
    queue[tail] = item;
    return tail + 1;
  }

  /** Levels backwards from (root, t); returns the level of the nearest vehicles in need, or −1. */
  function levelGraph(t: number): number {
    search++;
    searchCount++;
    let head = 0;
    let tail = visit(t * V, 0, 0);
    let entryLevel = -1;
    const vehicleBase = T * V;
    while (head < tail) {
      const item = queue[head++]!;
      const at = level[item]!;
      if (entryLevel >= 0 && at >= entryLevel) break;
      const next = at + 1;
      if (item >= vehicleBase) {
        // Vehicle j: it can take over from itself at any slot it draws at.
        const j = item - vehicleBase;
        const v = vehicleAt[j]!;
        for (let q = windowStart[j]!; q < windowEnd[j]!; q++) {
          if (x[j * T + q]! <= EPSILON_KWH) continue;
          const node = q * V + v;
          if (stamp[node] !== search) tail = visit(node, next, tail);
        }
        continue;
      }
      const q = (item / V) | 0;
      const v = item - q * V;
      for (let c = childOffsets[v]!, end = childOffsets[v + 1]!; c < end; c++) {
        const child = q * V + children[c]!;
        if (stamp[child] !== search && room[child]! - load[child]! > EPSILON_KWH)
          tail = visit(child, next, tail);
      }
      if (v > 0 && load[item]! > EPSILON_KWH) {
        const up = q * V + parent[v]!;
        if (stamp[up] !== search) tail = visit(up, next, tail);
      }
      for (let k = atOffsets[item]!, end = atOffsets[item + 1]!; k < end; k++) {
        const j = atVehicles[k]!;
        const vehicle = vehicleBase + j;
        if (stamp[vehicle] === search) continue;
        if (cap[j * T + q]! - x[j * T + q]! <= EPSILON_KWH) continue;
        tail = visit(vehicle, next, tail);
        if (active[j] === 1 && need[j]! > EPSILON_KWH) entryLevel = next;
      }
    }
    return entryLevel;
  }

  function dinicPhase(t: number): number {
    const entryLevel = levelGraph(t);
    if (entryLevel < 0) return 0;
    target = t * V;
    let pushed = 0;
    const vehicleBase = T * V;
    for (let k = 0; k < needingCount && sinkRoom[t]! > EPSILON_KWH; k++) {
      const i = needingList[k]!;
      if (need[i]! <= EPSILON_KWH || levelOf(vehicleBase + i) !== entryLevel) continue;
      const amount = pushFromVehicle(i, need[i]!);
      need[i] = need[i]! - amount;
      pushed += amount;
    }
    return pushed;
  }

  /** Pushes up to `limit` kWh from vehicle j towards the target; returns what got through. */
  function pushFromVehicle(j: number, limit: number): number {
    const item = T * V + j;
    const closer = level[item]! - 1;
    const v = vehicleAt[j]!;
    const from = windowStart[j]!;
    const to = windowEnd[j]!;
    let pushed = 0;
    for (; from + cursor[item]! < to; cursor[item]!++) {
      const q = from + cursor[item]!;
      const at = j * T + q;
      const free = cap[at]! - x[at]!;
      if (free <= EPSILON_KWH) continue;
      const node = q * V + v;
      if (levelOf(node) !== closer) continue;
      const amount = pushFromNode(node, Math.min(limit - pushed, free));
      if (amount <= 0) continue;
      x[at] = x[at]! + amount;
      pushed += amount;
      if (limit - pushed <= EPSILON_KWH) return pushed;
    }
    level[item] = -2;
    return pushed;
  }

  /**
   * Pushes up to `limit` kWh from (v, q) one level closer: up to the parent, down into a child that
   * carries charging (it carries less), or back into a vehicle drawing here (it draws less here).
   */
  function pushFromNode(item: number, limit: number): number {
    if (item === target) {
      const t = (item / V) | 0;
      const amount = Math.min(limit, sinkRoom[t]!);
      sinkRoom[t] = sinkRoom[t]! - amount;
      load[item] = load[item]! + amount;
      return amount;
    }
    const q = (item / V) | 0;
    const v = item - q * V;
    const closer = level[item]! - 1;
    const childCount = childOffsets[v + 1]! - childOffsets[v]!;
    const vehicleCount = atOffsets[item + 1]! - atOffsets[item]!;
    let pushed = 0;
    for (; cursor[item]! <= childCount + vehicleCount; cursor[item]!++) {
      const k = cursor[item]!;
      let amount = 0;
      if (k === 0) {
        if (v === 0) continue;
        const up = q * V + parent[v]!;
        const left = room[item]! - load[item]!;
        if (left <= EPSILON_KWH || levelOf(up) !== closer) continue;
        amount = pushFromNode(up, Math.min(limit - pushed, left));
        load[item] = load[item]! + amount;
      } else if (k <= childCount) {
        const child = q * V + children[childOffsets[v]! + k - 1]!;
        const carried = load[child]!;
        if (carried <= EPSILON_KWH || levelOf(child) !== closer) continue;
        amount = pushFromNode(child, Math.min(limit - pushed, carried));
        load[child] = carried - amount;
      } else {
        const j = atVehicles[atOffsets[item]! + k - 1 - childCount]!;
        const at = j * T + q;
        const drawn = x[at]!;
        if (drawn <= EPSILON_KWH || levelOf(T * V + j) !== closer) continue;
        amount = pushFromVehicle(j, Math.min(limit - pushed, drawn));
        x[at] = x[at]! - amount;
      }
      if (amount <= 0) continue;
      pushed += amount;
      if (limit - pushed <= EPSILON_KWH) return pushed;
    }
    level[item] = -2;
    return pushed;
  }

  return {
    energy: x,
    beginPhase,
    fillSlot,
    needing: () => needingCount,
    setRoom: (t: number, kwh: number) => {
      sinkRoom[t] = kwh;
    },
    roomOf: (t: number) => sinkRoom[t]!,
    searches: () => searchCount,
  };
}
