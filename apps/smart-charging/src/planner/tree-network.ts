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
 * path), then phases of a breadth-first search backwards from the targets over everything that can
 * reach them, and a blocking flow from every vehicle in need it reached along strictly decreasing
 * levels (any such path is an augmenting path). Unlike Dinic the search does not stop at the nearest
 * vehicle in need: each search reaches most of the graph anyway, and pushing from all of them halves
 * the number of searches. The last search of a slot finds no vehicle in need: the flow is maximal.
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
  // Per vehicle, bit masks over the slots: where it draws (could draw less), where it could draw more.
  const words = (T + 31) >>> 5;
  const drawsMask = new Uint32Array(N * words);
  const freeMask = new Uint32Array(N * words);
  for (let i = 0; i < N; i++)
    for (let t = windowStart[i]!; t < windowEnd[i]!; t++)
      if (cap[i * T + t]! > EPSILON_KWH) freeMask[i * words + (t >>> 5)]! |= 1 << (t & 31);

  function setEnergy(i: number, t: number, value: number): void {
    const at = i * T + t;
    x[at] = value;
    const w = i * words + (t >>> 5);
    const bit = 1 << (t & 31);
    if (value > EPSILON_KWH) drawsMask[w]! |= bit;
    else drawsMask[w]! &= ~bit;
    if (cap[at]! - value > EPSILON_KWH) freeMask[w]! |= bit;
    else freeMask[w]! &= ~bit;
  }

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
  // When `restricted`, searches visit only items whose allowStamp is `allowed` (see `keepPaths`).
  const allowStamp = new Int32Array(items);
  let allowed = 0;
  let restricted = false;
  // Slots whose sink the current search fills.
  const isTarget = new Uint8Array(T);

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

  function directFill(t: number): void {
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
      setEnergy(i, t, x[at]! + amount);
      for (let u = vehicleAt[i]!; u > 0; u = parent[u]!) load[t * V + u] = load[t * V + u]! + amount;
      load[t * V] = load[t * V]! + amount;
      sinkRoom[t] = sinkRoom[t]! - amount;
      need[i] = want - amount;
    }
  }

  /** Direct fill of each slot, then the maximum flow into them together (they share one price). */
  function fillSlots(slots: readonly number[]): void {
    for (const t of slots) directFill(t);
    refreshNeeding();
    for (const t of slots) isTarget[t] = 1;
    const roomLeft = (): boolean => slots.some((t) => sinkRoom[t]! > EPSILON_KWH);
    // The first search of the slots walks everything the targets can be reached from; later ones only
    // what is left of the paths from a vehicle in need to a target (see `keepPaths`).
    restricted = false;
    while (roomLeft() && needingCount > 0) {
      const pushed = dinicPhase(slots);
      refreshNeeding();
      if (pushed <= EPSILON_KWH) break;
      keepPaths();
      restricted = true;
    }
    for (const t of slots) isTarget[t] = 0;
  }

  /**
   * Narrows the next search to the items the last one visited that a vehicle in need can still send
   * energy to. Exact while the targets stay: an augmentation only adds edges back along its own path,
   * the sinks only shrink and so do the needs, so an item that can no longer reach a target (or be
   * reached from a vehicle in need) never can again, and every later augmenting path lies in this set.
   */
  function keepPaths(): void {
    allowed++;
    let head = 0;
    let tail = 0;
    const vehicleBase = T * V;
    for (let k = 0; k < needingCount; k++) {
      const item = vehicleBase + needingList[k]!;
      if (stamp[item] !== search) continue;
      allowStamp[item] = allowed;
      queue[tail++] = item;
    }
    while (head < tail) {
      const item = queue[head++]!;
      if (item >= vehicleBase) {
        // Vehicle j can draw more at any slot where it is below its cap.
        const j = item - vehicleBase;
        const v = vehicleAt[j]!;
        for (let w = 0; w < words; w++) {
          for (let bits = freeMask[j * words + w]!; bits !== 0; bits &= bits - 1) {
            const node = ((w << 5) + lowestBit(bits)) * V + v;
            if (stamp[node] === search && allowStamp[node] !== allowed) {
              allowStamp[node] = allowed;
              queue[tail++] = node;
            }
          }
        }
        continue;
      }
      const q = (item / V) | 0;
      const v = item - q * V;
      if (v > 0 && room[item]! - load[item]! > EPSILON_KWH) {
        const up = q * V + parent[v]!;
        if (stamp[up] === search && allowStamp[up] !== allowed) {
          allowStamp[up] = allowed;
          queue[tail++] = up;
        }
      }
      for (let c = childOffsets[v]!, end = childOffsets[v + 1]!; c < end; c++) {
        const child = q * V + children[c]!;
        if (stamp[child] === search && allowStamp[child] !== allowed && load[child]! > EPSILON_KWH) {
          allowStamp[child] = allowed;
          queue[tail++] = child;
        }
      }
      for (let k = atOffsets[item]!, end = atOffsets[item + 1]!; k < end; k++) {
        const j = atVehicles[k]!;
        const vehicle = vehicleBase + j;
        if (stamp[vehicle] !== search || allowStamp[vehicle] === allowed) continue;
        if ((drawsMask[j * words + (q >>> 5)]! & (1 << (q & 31))) === 0) continue;
        allowStamp[vehicle] = allowed;
        queue[tail++] = vehicle;
      }
    }
  }

  function visit(item: number, at: number, tail: number): number {
    stamp[item] = search;
    level[item] = at;
    cursor[item] = 0;
    queue[tail] = item;
    return tail + 1;
  }

  /** Levels backwards from the targets' roots; returns the level of the nearest vehicle in need, or −1. */
  function levelGraph(slots: readonly number[]): number {
    search++;
    searchCount++;
    let head = 0;
    let tail = 0;
    for (const t of slots)
      if (sinkRoom[t]! > EPSILON_KWH && (!restricted || allowStamp[t * V] === allowed))
        tail = visit(t * V, 0, tail);
    let entryLevel = -1;
    const vehicleBase = T * V;
    while (head < tail) {
      const item = queue[head++]!;
      const at = level[item]!;
      const next = at + 1;
      if (item >= vehicleBase) {
        // Vehicle j: it can take over from itself at any slot it draws at.
        const j = item - vehicleBase;
        const v = vehicleAt[j]!;
        for (let w = 0; w < words; w++) {
          for (let bits = drawsMask[j * words + w]!; bits !== 0; bits &= bits - 1) {
            const node = ((w << 5) + lowestBit(bits)) * V + v;
            if (stamp[node] !== search && (!restricted || allowStamp[node] === allowed))
              tail = visit(node, next, tail);
          }
        }
        continue;
      }
      const q = (item / V) | 0;
      const v = item - q * V;
      for (let c = childOffsets[v]!, end = childOffsets[v + 1]!; c < end; c++) {
        const child = q * V + children[c]!;
        if (
          stamp[child] !== search &&
          room[child]! - load[child]! > EPSILON_KWH &&
          (!restricted || allowStamp[child] === allowed)
        )
          tail = visit(child, next, tail);
      }
      if (v > 0 && load[item]! > EPSILON_KWH) {
        const up = q * V + parent[v]!;
        if (stamp[up] !== search && (!restricted || allowStamp[up] === allowed)) tail = visit(up, next, tail);
      }
      for (let k = atOffsets[item]!, end = atOffsets[item + 1]!; k < end; k++) {
        const j = atVehicles[k]!;
        const vehicle = vehicleBase + j;
        if (stamp[vehicle] === search || (restricted && allowStamp[vehicle] !== allowed)) continue;
        if ((freeMask[j * words + (q >>> 5)]! & (1 << (q & 31))) === 0) continue;
        tail = visit(vehicle, next, tail);
        if (active[j] === 1 && need[j]! > EPSILON_KWH && entryLevel < 0) entryLevel = next;
      }
    }
    return entryLevel;
  }

  function dinicPhase(slots: readonly number[]): number {
    const entryLevel = levelGraph(slots);
    if (entryLevel < 0) return 0;
    let pushed = 0;
    const vehicleBase = T * V;
    for (let k = 0; k < needingCount; k++) {
      const i = needingList[k]!;
      if (need[i]! <= EPSILON_KWH || levelOf(vehicleBase + i) < 1) continue;
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
    let pushed = 0;
    // The cursor is the next slot to try; slots before it cannot take more this phase.
    for (let w = cursor[item]! >>> 5; w < words; w++) {
      const below = w === cursor[item]! >>> 5 ? ~((1 << (cursor[item]! & 31)) - 1) : -1;
      for (let bits = freeMask[j * words + w]! & below; bits !== 0; bits &= bits - 1) {
        const q = (w << 5) + lowestBit(bits);
        cursor[item] = q;
        const node = q * V + v;
        if (levelOf(node) !== closer) continue;
        const at = j * T + q;
        const amount = pushFromNode(node, Math.min(limit - pushed, cap[at]! - x[at]!));
        if (amount <= 0) continue;
        setEnergy(j, q, x[at]! + amount);
        pushed += amount;
        if (limit - pushed <= EPSILON_KWH) return pushed;
      }
    }
    level[item] = -2;
    return pushed;
  }

  /**
   * Pushes up to `limit` kWh from (v, q) one level closer: up to the parent, down into a child that
   * carries charging (it carries less), or back into a vehicle drawing here (it draws less here).
   */
  function pushFromNode(item: number, limit: number): number {
    const q = (item / V) | 0;
    const v = item - q * V;
    if (v === 0 && isTarget[q] === 1) {
      const amount = Math.min(limit, sinkRoom[q]!);
      sinkRoom[q] = sinkRoom[q]! - amount;
      load[item] = load[item]! + amount;
      if (sinkRoom[q] <= EPSILON_KWH) level[item] = -2;
      return amount;
    }
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
        if (amount > 0) setEnergy(j, q, x[at]! - amount);
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
    fillSlot: (t: number) => fillSlots([t]),
    fillSlots,
    needing: () => needingCount,
    setRoom: (t: number, kwh: number) => {
      sinkRoom[t] = kwh;
    },
    roomOf: (t: number) => sinkRoom[t]!,
    searches: () => searchCount,
  };
}

function lowestBit(bits: number): number {
  return 31 - Math.clz32(bits & -bits);
}
