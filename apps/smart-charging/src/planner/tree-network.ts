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
 *
 * The search is level-synchronous over bit masks: each tree node keeps masks over the slots (room
 * left, carries charging), each vehicle two (draws, could draw more), so one step moves a node's
 * frontier 32 slots at a time (as in fleet-solver.ts), and a level is a mask per node.
 */
import { EPSILON_KWH, type FleetProblem, type ResidualNetwork } from './fleet-solver.ts';
import type { GridTreeProblem } from './tree-solver.ts';

// A module-local copy: an imported binding can cost a getter call per read in the hot loops.
const EPSILON = EPSILON_KWH;

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
      if (cap[i * T + t]! > EPSILON) freeMask[i * words + (t >>> 5)]! |= 1 << (t & 31);

  function setEnergy(i: number, t: number, value: number): void {
    const at = i * T + t;
    x[at] = value;
    const w = i * words + (t >>> 5);
    const bit = 1 << (t & 31);
    if (value > EPSILON) drawsMask[w]! |= bit;
    else drawsMask[w]! &= ~bit;
    if (cap[at]! - value > EPSILON) freeMask[w]! |= bit;
    else freeMask[w]! &= ~bit;
  }

  // Vehicles at each network node, any slot, in priority order (the vehicles are numbered that way).
  const nodeVehicleOffsets = new Int32Array(V + 1);
  for (let i = 0; i < N; i++) nodeVehicleOffsets[vehicleAt[i]! + 1]!++;
  for (let v = 0; v < V; v++) nodeVehicleOffsets[v + 1]! += nodeVehicleOffsets[v]!;
  const nodeVehicles = new Int32Array(N);
  {
    const fill = nodeVehicleOffsets.slice(0, V);
    for (let i = 0; i < N; i++) nodeVehicles[fill[vehicleAt[i]!]!++] = i;
  }
  const active = new Uint8Array(N);
  let need: Float64Array = new Float64Array(N);
  let needingList = new Int32Array(N);
  let needingCount = 0;
  let searchCount = 0;

  // Search state, as bit masks over the slots per network node (`v * words + w`), so one step of the
  // search handles a node's slots 32 at a time. levelMasks[L] holds the (v, q) at level L of the
  // current search; a node item that cannot pass on more is retired by clearing its bit. Vehicles
  // carry a level of their own; a stamp marks this search's visits, so nothing is cleared for them.
  const nodeWords = V * words;
  const roomMask = new Uint32Array(nodeWords);
  const loadMask = new Uint32Array(nodeWords);
  const visited = new Uint32Array(nodeWords);
  let levelMasks = new Uint32Array(8 * nodeWords);
  let levelsUsed = 0;
  const vehicleStamp = new Int32Array(N);
  const vehicleLevel = new Int32Array(N);
  const vehicleCursor = new Int32Array(N);
  // Push cursors of node items, valid where cursorStamp is this search.
  const cursor = new Int32Array(T * V);
  const cursorStamp = new Int32Array(T * V);
  let search = 0;
  // Breadth-first lists of one level and the next; listedAt says a node is already on the next one.
  let frontierNodes = new Int32Array(V);
  let nextNodes = new Int32Array(V);
  let frontierVehicles = new Int32Array(N);
  let nextVehicles = new Int32Array(N);
  const listedAt = new Int32Array(V);
  // Per node, its vehicles this search has not visited: unvisited[offset(v) .. unvisitedEnd[v]).
  const unvisited = new Int32Array(N);
  const unvisitedEnd = new Int32Array(V);
  let listSerial = 0;
  // When `restricted`, searches visit only what allowedMask / allowedVehicle admit (see `keepPaths`).
  const allowedMask = new Uint32Array(nodeWords);
  const allowedVehicle = new Int32Array(N);
  let allowed = 0;
  let restricted = false;
  // keepPaths' work list: slots of each node still to expand, nodes queued (ring) and vehicles.
  const pendingMask = new Uint32Array(nodeWords);
  const queuedNode = new Uint8Array(V);
  const nodeRing = new Int32Array(V);
  const vehicleQueue = new Int32Array(N);
  const expanding = new Uint32Array(words);
  // Slots whose sink the current search fills.
  const isTarget = new Uint8Array(T);

  for (let v = 1; v < V; v++)
    for (let t = 0; t < T; t++)
      if (room[t * V + v]! > EPSILON) roomMask[v * words + (t >>> 5)]! |= 1 << (t & 31);

  /** Sets the load of tree node v at slot q and keeps its masks in step. */
  function setLoad(q: number, v: number, value: number): void {
    const item = q * V + v;
    load[item] = value;
    if (v === 0) return;
    const w = v * words + (q >>> 5);
    const bit = 1 << (q & 31);
    if (value > EPSILON) loadMask[w]! |= bit;
    else loadMask[w]! &= ~bit;
    if (room[item]! - value > EPSILON) roomMask[w]! |= bit;
    else roomMask[w]! &= ~bit;
  }

  function atLevel(at: number, v: number, q: number): boolean {
    return (levelMasks[at * nodeWords + v * words + (q >>> 5)]! & (1 << (q & 31))) !== 0;
  }

  function retire(at: number, v: number, q: number): void {
    levelMasks[at * nodeWords + v * words + (q >>> 5)]! &= ~(1 << (q & 31));
  }

  function refreshNeeding(): void {
    let n = 0;
    for (let k = 0; k < needingCount; k++) {
      const i = needingList[k]!;
      if (need[i]! > EPSILON) needingList[n++] = i;
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

  /**
   * Direct fill: each vehicle in need, in priority order, takes what its path has room for in each
   * slot in turn. Vehicle by vehicle rather than slot by slot gives the same fill (a slot's room only
   * depends on the vehicles before it in that slot) and reads each vehicle's row once for all slots.
   */
  function directFill(slots: readonly number[]): void {
    for (let k = 0; k < needingCount; k++) {
      const i = needingList[k]!;
      const v = vehicleAt[i]!;
      let want = need[i]!;
      for (let s = 0; s < slots.length && want > EPSILON; s++) {
        const t = slots[s]!;
        const left = sinkRoom[t]!;
        if (left <= EPSILON || (freeMask[i * words + (t >>> 5)]! & (1 << (t & 31))) === 0) continue;
        const row = t * V;
        let least = left;
        for (let u = v; u > 0; u = parent[u]!) {
          const roomLeft = room[row + u]! - load[row + u]!;
          if (roomLeft < least) least = roomLeft;
        }
        if (least <= EPSILON) continue;
        const at = i * T + t;
        const amount = Math.min(want, cap[at]! - x[at]!, least);
        if (amount <= EPSILON) continue;
        // setEnergy written out: a call to a closure of this network deoptimises the code shared with
        // the previous network's closures ("wrong call target") on every new solve.
        const drawn = x[at]! + amount;
        x[at] = drawn;
        const word = i * words + (t >>> 5);
        const bit = 1 << (t & 31);
        drawsMask[word]! |= bit;
        if (cap[at]! - drawn <= EPSILON) freeMask[word]! &= ~bit;
        for (let u = v; u > 0; u = parent[u]!) load[row + u] = load[row + u]! + amount;
        load[row] = load[row]! + amount;
        sinkRoom[t] = left - amount;
        want -= amount;
      }
      need[i] = want;
    }
    // The masks of the filled slots once at the end, not at every fill on every path.
    for (let s = 0; s < slots.length; s++) {
      const t = slots[s]!;
      const word = t >>> 5;
      const bit = 1 << (t & 31);
      for (let u = 1; u < V; u++) {
        const at = t * V + u;
        if (load[at]! > EPSILON) loadMask[u * words + word]! |= bit;
        if (room[at]! - load[at]! <= EPSILON) roomMask[u * words + word]! &= ~bit;
      }
    }
  }

  /** Direct fill of each slot, then the maximum flow into them together (they share one price). */
  function fillSlots(slots: readonly number[]): void {
    directFill(slots);
    refreshNeeding();
    for (const t of slots) isTarget[t] = 1;
    const roomLeft = (): boolean => slots.some((t) => sinkRoom[t]! > EPSILON);
    // The first search of the slots walks everything the targets can be reached from; later ones only
    // what is left of the paths from a vehicle in need to a target (see `keepPaths`).
    restricted = false;
    while (roomLeft() && needingCount > 0) {
      const pushed = dinicPhase(slots);
      refreshNeeding();
      if (pushed <= EPSILON) break;
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
    allowedMask.fill(0);
    let vehicleTail = 0;
    for (let k = 0; k < needingCount; k++) {
      const j = needingList[k]!;
      if (vehicleStamp[j] !== search) continue;
      allowedVehicle[j] = allowed;
      vehicleQueue[vehicleTail++] = j;
    }
    let ringHead = 0;
    let ringSize = 0;
    /** Admits the slots of `add` at node v, masked to what the last search visited; queues v. */
    const admit = (v: number, w: number, add: number): void => {
      const at = v * words + w;
      const fresh = add & visited[at]! & ~allowedMask[at]!;
      if (fresh === 0) return;
      allowedMask[at]! |= fresh;
      pendingMask[at]! |= fresh;
      if (queuedNode[v] === 1) return;
      queuedNode[v] = 1;
      nodeRing[(ringHead + ringSize++) % V] = v;
    };
    for (let vehicleHead = 0; vehicleHead < vehicleTail || ringSize > 0;) {
      if (vehicleHead < vehicleTail) {
        // Vehicle j can draw more at any slot where it is below its cap.
        const j = vehicleQueue[vehicleHead++]!;
        const v = vehicleAt[j]!;
        for (let w = 0; w < words; w++) admit(v, w, freeMask[j * words + w]!);
        continue;
      }
      const v = nodeRing[ringHead]!;
      ringHead = (ringHead + 1) % V;
      ringSize--;
      queuedNode[v] = 0;
      for (let w = 0; w < words; w++) {
        expanding[w] = pendingMask[v * words + w]!;
        pendingMask[v * words + w] = 0;
      }
      // Up where v has room, down into children that carry charging, out to vehicles drawing here.
      if (v > 0)
        for (let w = 0; w < words; w++) admit(parent[v]!, w, expanding[w]! & roomMask[v * words + w]!);
      for (let c = childOffsets[v]!, end = childOffsets[v + 1]!; c < end; c++) {
        const child = children[c]!;
        for (let w = 0; w < words; w++) admit(child, w, expanding[w]! & loadMask[child * words + w]!);
      }
      for (let k = nodeVehicleOffsets[v]!, end = nodeVehicleOffsets[v + 1]!; k < end; k++) {
        const j = nodeVehicles[k]!;
        if (vehicleStamp[j] !== search || allowedVehicle[j] === allowed) continue;
        let draws = false;
        for (let w = 0; w < words; w++) if ((expanding[w]! & drawsMask[j * words + w]!) !== 0) draws = true;
        if (!draws) continue;
        allowedVehicle[j] = allowed;
        vehicleQueue[vehicleTail++] = j;
      }
    }
  }

  /** Levels backwards from the targets' roots; returns the level of the nearest vehicle in need, or −1. */
  function levelGraph(slots: readonly number[]): number {
    search++;
    searchCount++;
    levelMasks.fill(0, 0, levelsUsed * nodeWords);
    visited.fill(0);
    unvisited.set(nodeVehicles);
    unvisitedEnd.set(nodeVehicleOffsets.subarray(1));
    let nodeCount = 0;
    let vehicleCount = 0;
    for (const t of slots) {
      if (sinkRoom[t]! <= EPSILON) continue;
      const w = t >>> 5;
      const bit = 1 << (t & 31);
      if (restricted && (allowedMask[w]! & bit) === 0) continue;
      levelMasks[w]! |= bit;
      visited[w]! |= bit;
      nodeCount = 1;
    }
    frontierNodes[0] = 0;
    levelsUsed = 1;
    let entryLevel = -1;
    for (let at = 0; nodeCount + vehicleCount > 0; at++) {
      const next = at + 1;
      if ((next + 1) * nodeWords > levelMasks.length) {
        const grown = new Uint32Array(2 * levelMasks.length);
        grown.set(levelMasks);
        levelMasks = grown;
      }
      levelsUsed = next + 1;
      const here = at * nodeWords;
      const there = next * nodeWords;
      listSerial++;
      let nextNodeCount = 0;
      let nextVehicleCount = 0;
      for (let n = 0; n < nodeCount; n++) {
        const v = frontierNodes[n]!;
        const row = here + v * words;
        // Down into children with room, up where v carries charging.
        // (Each step below adds the fresh slots of a node to the next level, written out three times:
        // a call to a closure of this network would deoptimise on every new network.)
        for (let c = childOffsets[v]!, end = childOffsets[v + 1]!; c < end; c++) {
          const child = children[c]!;
          for (let w = 0; w < words; w++) {
            const k = child * words + w;
            let fresh = levelMasks[row + w]! & roomMask[child * words + w]! & ~visited[k]!;
            if (restricted) fresh &= allowedMask[k]!;
            if (fresh !== 0) {
              visited[k]! |= fresh;
              levelMasks[there + k]! |= fresh;
              if (listedAt[child] !== listSerial) {
                listedAt[child] = listSerial;
                nextNodes[nextNodeCount++] = child;
              }
            }
          }
        }
        if (v > 0) {
          const up = parent[v]!;
          for (let w = 0; w < words; w++) {
            const k = up * words + w;
            let fresh = levelMasks[row + w]! & loadMask[v * words + w]! & ~visited[k]!;
            if (restricted) fresh &= allowedMask[k]!;
            if (fresh !== 0) {
              visited[k]! |= fresh;
              levelMasks[there + k]! |= fresh;
              if (listedAt[up] !== listSerial) {
                listedAt[up] = listSerial;
                nextNodes[nextNodeCount++] = up;
              }
            }
          }
        }
        // Vehicles here that could draw more at one of these slots. A vehicle leaves v's unvisited
        // list once visited (or not allowed), so a node active at many levels scans each only until then.
        let end = unvisitedEnd[v]!;
        for (let k = nodeVehicleOffsets[v]!; k < end;) {
          const j = unvisited[k]!;
          if (restricted && allowedVehicle[j] !== allowed) {
            unvisited[k] = unvisited[--end]!;
            continue;
          }
          let free = false;
          for (let w = 0; w < words; w++)
            if ((freeMask[j * words + w]! & levelMasks[row + w]!) !== 0) free = true;
          if (!free) {
            k++;
            continue;
          }
          unvisited[k] = unvisited[--end]!;
          vehicleStamp[j] = search;
          vehicleLevel[j] = next;
          vehicleCursor[j] = 0;
          nextVehicles[nextVehicleCount++] = j;
          if (active[j] === 1 && need[j]! > EPSILON && entryLevel < 0) entryLevel = next;
        }
        unvisitedEnd[v] = end;
      }
      // A vehicle can take over from itself at any slot it draws at.
      for (let n = 0; n < vehicleCount; n++) {
        const j = frontierVehicles[n]!;
        const v = vehicleAt[j]!;
        for (let w = 0; w < words; w++) {
          const k = v * words + w;
          let fresh = drawsMask[j * words + w]! & ~visited[k]!;
          if (restricted) fresh &= allowedMask[k]!;
          if (fresh !== 0) {
            visited[k]! |= fresh;
            levelMasks[there + k]! |= fresh;
            if (listedAt[v] !== listSerial) {
              listedAt[v] = listSerial;
              nextNodes[nextNodeCount++] = v;
            }
          }
        }
      }
      [frontierNodes, nextNodes] = [nextNodes, frontierNodes];
      [frontierVehicles, nextVehicles] = [nextVehicles, frontierVehicles];
      nodeCount = nextNodeCount;
      vehicleCount = nextVehicleCount;
    }
    return entryLevel;
  }

  function dinicPhase(slots: readonly number[]): number {
    const entryLevel = levelGraph(slots);
    if (entryLevel < 0) return 0;
    let pushed = 0;
    for (let k = 0; k < needingCount; k++) {
      const i = needingList[k]!;
      if (need[i]! <= EPSILON || vehicleStamp[i] !== search || vehicleLevel[i]! < 1) continue;
      const amount = pushFromVehicle(i, need[i]!);
      need[i] = need[i]! - amount;
      pushed += amount;
    }
    return pushed;
  }

  /** Pushes up to `limit` kWh from vehicle j towards the target; returns what got through. */
  function pushFromVehicle(j: number, limit: number): number {
    const closer = vehicleLevel[j]! - 1;
    const v = vehicleAt[j]!;
    const row = closer * nodeWords + v * words;
    let pushed = 0;
    // The cursor is the next slot to try; slots before it cannot take more this phase.
    for (let w = vehicleCursor[j]! >>> 5; w < words; w++) {
      const below = w === vehicleCursor[j]! >>> 5 ? ~((1 << (vehicleCursor[j]! & 31)) - 1) : -1;
      for (let bits = freeMask[j * words + w]! & levelMasks[row + w]! & below; bits !== 0; bits &= bits - 1) {
        const q = (w << 5) + lowestBit(bits);
        vehicleCursor[j] = q;
        if (!atLevel(closer, v, q)) continue;
        const at = j * T + q;
        const amount = pushFromNode(q, v, closer, Math.min(limit - pushed, cap[at]! - x[at]!));
        if (amount <= 0) continue;
        setEnergy(j, q, x[at]! + amount);
        pushed += amount;
        if (limit - pushed <= EPSILON) return pushed;
      }
    }
    vehicleLevel[j] = -2;
    return pushed;
  }

  /**
   * Pushes up to `limit` kWh from (v, q), at level `at`, one level closer: up to the parent, down into
   * a child that carries charging (it carries less), or back into a vehicle drawing here (it draws
   * less here).
   */
  function pushFromNode(q: number, v: number, at: number, limit: number): number {
    const item = q * V + v;
    if (v === 0 && isTarget[q] === 1) {
      const amount = Math.min(limit, sinkRoom[q]!);
      sinkRoom[q] = sinkRoom[q]! - amount;
      load[item] = load[item]! + amount;
      if (sinkRoom[q] <= EPSILON) retire(at, v, q);
      return amount;
    }
    if (cursorStamp[item] !== search) {
      cursorStamp[item] = search;
      cursor[item] = 0;
    }
    const closer = at - 1;
    const childCount = childOffsets[v + 1]! - childOffsets[v]!;
    const vehicleCount = nodeVehicleOffsets[v + 1]! - nodeVehicleOffsets[v]!;
    let pushed = 0;
    for (; cursor[item]! <= childCount + vehicleCount; cursor[item]!++) {
      const k = cursor[item]!;
      let amount = 0;
      if (k === 0) {
        if (v === 0) continue;
        const up = parent[v]!;
        const left = room[item]! - load[item]!;
        if (left <= EPSILON || !atLevel(closer, up, q)) continue;
        amount = pushFromNode(q, up, closer, Math.min(limit - pushed, left));
        if (amount > 0) setLoad(q, v, load[item]! + amount);
      } else if (k <= childCount) {
        const child = children[childOffsets[v]! + k - 1]!;
        const carried = load[q * V + child]!;
        if (carried <= EPSILON || !atLevel(closer, child, q)) continue;
        amount = pushFromNode(q, child, closer, Math.min(limit - pushed, carried));
        if (amount > 0) setLoad(q, child, carried - amount);
      } else {
        // A vehicle at v that draws at q (its drawsMask bit: x > EPSILON).
        const j = nodeVehicles[nodeVehicleOffsets[v]! + k - 1 - childCount]!;
        if (vehicleStamp[j] !== search || vehicleLevel[j] !== closer) continue;
        if ((drawsMask[j * words + (q >>> 5)]! & (1 << (q & 31))) === 0) continue;
        const cell = j * T + q;
        const drawn = x[cell]!;
        amount = pushFromVehicle(j, Math.min(limit - pushed, drawn));
        if (amount > 0) setEnergy(j, q, x[cell]! - amount);
      }
      if (amount <= 0) continue;
      pushed += amount;
      if (limit - pushed <= EPSILON) return pushed;
    }
    retire(at, v, q);
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
