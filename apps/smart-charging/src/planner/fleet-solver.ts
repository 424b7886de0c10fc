/**
 * Exact solver for the fleet charging LP
 *
 *   min  Σ_t c_t · Σ_i x_it  −  M · Σ_i m_i  −  Σ_i v_i · o_i
 *   s.t. Σ_t x_it = m_i + o_i,   0 ≤ m_i ≤ E_i,   0 ≤ o_i ≤ X_i
 *        0 ≤ x_it ≤ u_it          (vehicle power × slot overlap, taper cap)
 *        Σ_i x_it ≤ h_t           (shared grid headroom of slot t)
 *
 * with x in kWh drawn from the grid, c_t the slot price, E_i the energy a vehicle needs (delivered
 * first, whatever it costs: M is "infinitely" large, so shortfall is minimised lexicographically) and
 * X_i optional energy worth v_i per kWh (opportunistic charging below a price cap).
 *
 * Because the price depends on the slot only, this is a transportation problem whose arc costs are
 * separable: every alternating path vehicle → slot ← vehicle → … → slot costs the price of its last
 * slot minus the value of its first vehicle. The slot loads reachable by a set of vehicles form a
 * polymatroid, so greedy over slots by ascending price is optimal *provided* each step pushes the
 * maximum flow into the new slot. We do that with a direct fill (least-flexible vehicles first, which
 * makes re-routing rare) followed by Dinic phases over the residual graph: slots are the nodes, and a
 * vehicle that draws at slot s and could draw more at slot q is an edge s → q (it can hand its draw
 * over). Each vehicle keeps two bit masks over the slots (where it draws; where it could draw more),
 * so a breadth-first level of the search is one sequential sweep of a few words per vehicle.
 * Optional energy is handled afterwards, one value group at a time in descending value, the same way.
 *
 * A slot may have a cheaper first part (`lowerTierKwh` at `lowerTierPrice`, the PV surplus valued at the
 * feed-in price): its cost is then convex piecewise linear in the slot's load. The greedy stays exact
 * over "segments" (slot, tier) taken by ascending price, each releasing its share of the slot's room —
 * separable convex costs over a polymatroid, where the greedy on marginal costs is optimal.
 */

/** Energy below this (kWh) counts as zero; keeps float noise from spawning endless augmentations. */
export const EPSILON_KWH = 1e-9;

export interface FleetProblem {
  readonly slotCount: number;
  readonly vehicleCount: number;
  /** Price per slot in currency per kWh (may be negative). */
  readonly price: Float64Array;
  /** Energy the grid can still deliver to chargers in each slot (kWh). */
  readonly slotRoomKwh: Float64Array;
  /** First slot index of each vehicle's window (inclusive). */
  readonly windowStart: Int32Array;
  /** Slot index after each vehicle's window (exclusive). */
  readonly windowEnd: Int32Array;
  /** Per-vehicle, per-slot energy cap (kWh), row-major `vehicle * slotCount + slot`; 0 outside the window. */
  readonly arcCapKwh: Float64Array;
  /** Energy each vehicle must get before anything else counts (kWh). */
  readonly demandKwh: Float64Array;
  /** Extra energy each vehicle may take when it is worth it (kWh). */
  readonly optionalKwh: Float64Array;
  /** Value per kWh of the optional energy (a price cap); optional energy is bought only below it. */
  readonly optionalValue: Float64Array;
  /**
   * The first `lowerTierKwh[t]` of slot t's room (part of `slotRoomKwh`, not on top) cost
   * `lowerTierPrice[t]` instead of `price[t]`: PV surplus, worth what exporting it would earn. Must not
   * exceed `price[t]` (a slot's cost must be convex); absent, every kWh costs `price[t]`.
   */
  readonly lowerTierKwh?: Float64Array;
  readonly lowerTierPrice?: Float64Array;
}

/** A part of a slot's room at one price; a slot's parts are released in ascending price. */
interface RoomSegment {
  readonly slot: number;
  readonly price: number;
  /** Room of the slot up to and including this segment (kWh). */
  readonly cumulativeKwh: number;
}

/** The slots' room as price segments, ascending; ties go to the earlier slot, then the cheaper tier. */
function roomSegments(problem: FleetProblem): RoomSegment[] {
  const { slotCount: T, price, lowerTierKwh, lowerTierPrice } = problem;
  const segments: (RoomSegment & { tier: number })[] = [];
  for (let t = 0; t < T; t++) {
    const room = Math.max(0, problem.slotRoomKwh[t]!);
    const lower = lowerTierKwh && lowerTierPrice ? Math.min(room, Math.max(0, lowerTierKwh[t]!)) : 0;
    if (lower > 0)
      segments.push({
        slot: t,
        price: Math.min(lowerTierPrice![t]!, price[t]!),
        cumulativeKwh: lower,
        tier: 0,
      });
    segments.push({ slot: t, price: price[t]!, cumulativeKwh: room, tier: 1 });
  }
  return segments.sort((a, b) => a.price - b.price || a.slot - b.slot || a.tier - b.tier);
}

export interface FleetSolution {
  /** Energy per vehicle and slot (kWh), same layout as `arcCapKwh`. */
  readonly energyKwh: Float64Array;
  /** Mandatory energy each vehicle did not get (kWh). */
  readonly shortfallKwh: Float64Array;
  /** Optional energy each vehicle got (kWh). */
  readonly optionalDeliveredKwh: Float64Array;
  /** Number of augmenting-path searches (a measure of how much re-routing was needed). */
  readonly searches: number;
}

export interface SolveOptions {
  /** Called after each processed slot with (done, total); lets a CLI show progress on huge fleets. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * The max-flow engine the greedy drives: slots' room is released segment by segment and `fillSlot`
 * pushes the maximum flow from the vehicles in need into one slot. The single-limit network below
 * and the grid tree's (tree-network.ts) implement it; the greedy around them is the same.
 */
export interface ResidualNetwork {
  /** Energy per vehicle and slot (kWh), `vehicle * slotCount + slot`, updated in place. */
  readonly energy: Float64Array;
  beginPhase(needs: Float64Array, isActive: (i: number) => boolean): void;
  fillSlot(t: number): void;
  /** Optional: fills several slots of one price together (their total is what counts). */
  fillSlots?(slots: readonly number[]): void;
  needing(): number;
  setRoom(t: number, kwh: number): void;
  roomOf(t: number): number;
  searches(): number;
}

/** Solves the fleet LP exactly (see module comment). Pure: the problem's arrays are not modified. */
export function solveFleet(problem: FleetProblem, options: SolveOptions = {}): FleetSolution {
  return solveInPriorityOrder(
    problem,
    permuteVehicles,
    (inner) =>
      createResidualNetwork(
        inner,
        Int32Array.from({ length: inner.vehicleCount }, (_, i) => i),
      ),
    options,
  );
}

/**
 * Renumbers vehicles least flexible first (slack = energy the window could take minus what the vehicle
 * needs; `usableKwh` says what a vehicle could take in a slot, its cap by default), runs the greedy on the network `createNetwork` builds for the renumbered problem, and maps
 * the solution back. Every scan of a slot's vehicle list then walks the per-vehicle arrays front to
 * back, which keeps large fleets (100k × 96 doubles) cache-friendly.
 */
export function solveInPriorityOrder<P extends FleetProblem>(
  problem: P,
  permute: (problem: P, order: Int32Array) => P,
  createNetwork: (inner: P) => ResidualNetwork,
  options: SolveOptions = {},
  usableKwh: (i: number, t: number) => number = (i, t) => problem.arcCapKwh[i * problem.slotCount + t]!,
): FleetSolution {
  const { slotCount: T, vehicleCount: N, windowStart, windowEnd } = problem;
  const slack = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let total = 0;
    for (let t = windowStart[i]!; t < windowEnd[i]!; t++) total += usableKwh(i, t);
    slack[i] = total - Math.max(0, problem.demandKwh[i]!);
  }
  const order = Int32Array.from({ length: N }, (_, i) => i).sort((a, b) => slack[a]! - slack[b]!);
  const inner = permute(problem, order);
  const solved = solveOrdered(inner, createNetwork(inner), options);
  const energy = new Float64Array(N * T);
  const shortfall = new Float64Array(N);
  const optional = new Float64Array(N);
  for (let k = 0; k < N; k++) {
    const i = order[k]!;
    energy.set(solved.energyKwh.subarray(k * T, (k + 1) * T), i * T);
    shortfall[i] = solved.shortfallKwh[k]!;
    optional[i] = solved.optionalDeliveredKwh[k]!;
  }
  return {
    energyKwh: energy,
    shortfallKwh: shortfall,
    optionalDeliveredKwh: optional,
    searches: solved.searches,
  };
}

/** The problem with vehicle k of the result being vehicle `order[k]` of the input. */
export function permuteVehicles<P extends FleetProblem>(problem: P, order: Int32Array): P {
  const { slotCount: T, vehicleCount: N } = problem;
  const arcCap = new Float64Array(N * T);
  for (let k = 0; k < N; k++) {
    const i = order[k]!;
    arcCap.set(problem.arcCapKwh.subarray(i * T, (i + 1) * T), k * T);
  }
  return {
    ...problem,
    windowStart: Int32Array.from(order, (i) => problem.windowStart[i]!),
    windowEnd: Int32Array.from(order, (i) => problem.windowEnd[i]!),
    arcCapKwh: arcCap,
    demandKwh: Float64Array.from(order, (i) => problem.demandKwh[i]!),
    optionalKwh: Float64Array.from(order, (i) => problem.optionalKwh[i]!),
    optionalValue: Float64Array.from(order, (i) => problem.optionalValue[i]!),
  };
}

/** The greedy proper, for vehicles already numbered in priority order. */
function solveOrdered(problem: FleetProblem, network: ResidualNetwork, options: SolveOptions): FleetSolution {
  const { slotCount: T, vehicleCount: N } = problem;
  const deficit = Float64Array.from(problem.demandKwh, (e) => Math.max(0, e));
  const optionalLeft = Float64Array.from(problem.optionalKwh, (e) => Math.max(0, e));
  const segments = roomSegments(problem);
  // Load already placed in each slot; a segment releases its slot's room up to its cumulative size.
  const load = new Float64Array(T);
  const released = new Float64Array(T);
  /** Fills segments[from..to) (one price) and returns `to`. */
  const fillSegments = (from: number, to: number): number => {
    for (let k = from; k < to; k++) {
      const t = segments[k]!.slot;
      released[t] = Math.max(0, segments[k]!.cumulativeKwh - load[t]!);
      network.setRoom(t, released[t]);
    }
    if (to - from === 1) network.fillSlot(segments[from]!.slot);
    else network.fillSlots!(segments.slice(from, to).map((segment) => segment.slot));
    for (let k = from; k < to; k++) {
      const t = segments[k]!.slot;
      load[t] = load[t]! + released[t]! - network.roomOf(t);
    }
    return to;
  };
  /** End of the group of segments starting at k that the network fills together (equal price). */
  const groupEnd = (k: number): number => {
    if (!network.fillSlots) return k + 1;
    let end = k + 1;
    while (
      end < segments.length &&
      segments[end]!.price === segments[k]!.price &&
      segments[end]!.slot !== segments[end - 1]!.slot
    )
      end++;
    return end;
  };

  // Phase 1: mandatory energy, every segment, cheapest first.
  network.beginPhase(deficit, (i) => deficit[i]! > EPSILON_KWH);
  for (let k = 0; k < segments.length && network.needing() > 0;) {
    k = fillSegments(k, groupEnd(k));
    options.onProgress?.(k, segments.length);
  }
  options.onProgress?.(segments.length, segments.length);

  // Phase 2: optional energy, highest value first, only in segments cheaper than that value.
  const values = [
    ...new Set(
      Array.from(problem.optionalValue).filter(
        (v, i) => optionalLeft[i]! > EPSILON_KWH && Number.isFinite(v),
      ),
    ),
  ].sort((a, b) => b - a);
  for (const value of values) {
    network.beginPhase(
      optionalLeft,
      (i) => problem.optionalValue[i] === value && optionalLeft[i]! > EPSILON_KWH,
    );
    for (let k = 0; k < segments.length && network.needing() > 0;) {
      if (segments[k]!.price >= value) break;
      k = fillSegments(k, groupEnd(k));
    }
  }

  const optionalDelivered = new Float64Array(N);
  for (let i = 0; i < N; i++) optionalDelivered[i] = Math.max(0, problem.optionalKwh[i]! - optionalLeft[i]!);
  return {
    energyKwh: network.energy,
    shortfallKwh: deficit,
    optionalDeliveredKwh: optionalDelivered,
    searches: network.searches(),
  };
}

/** Vehicles covering each slot, concatenated (CSR layout), in the given priority order. */
export function buildSlotVehicleLists(
  problem: FleetProblem,
  order: Int32Array,
): { readonly offsets: Int32Array; readonly vehicles: Int32Array } {
  const { slotCount: T, windowStart, windowEnd } = problem;
  const offsets = new Int32Array(T + 1);
  for (const i of order) for (let t = windowStart[i]!; t < windowEnd[i]!; t++) offsets[t + 1]!++;
  for (let t = 0; t < T; t++) offsets[t + 1]! += offsets[t]!;
  const fill = offsets.slice(0, T);
  const vehicles = new Int32Array(offsets[T]!);
  for (const i of order) for (let t = windowStart[i]!; t < windowEnd[i]!; t++) vehicles[fill[t]!++] = i;
  return { offsets, vehicles };
}

function createResidualNetwork(problem: FleetProblem, priority: Int32Array): ResidualNetwork {
  const { slotCount: T, vehicleCount: N, windowStart, windowEnd, arcCapKwh: cap } = problem;
  const words = (T + 31) >>> 5;
  const x = new Float64Array(N * T);
  // Room of each slot released so far (set per segment by the caller).
  const room = new Float64Array(T);
  // Bit masks per vehicle: slots where it draws energy (could hand over), slots where it could draw more.
  const drawsMask = new Uint32Array(N * words);
  const freeMask = new Uint32Array(N * words);
  for (let i = 0; i < N; i++) {
    for (let t = windowStart[i]!; t < windowEnd[i]!; t++) {
      if (cap[i * T + t]! > EPSILON_KWH) freeMask[i * words + (t >>> 5)]! |= 1 << (t & 31);
    }
  }
  const { offsets, vehicles } = buildSlotVehicleLists(problem, priority);
  const active = new Uint8Array(N);
  let need: Float64Array = new Float64Array(N);
  let needingList = new Int32Array(N);
  let needingCount = 0;
  let searchCount = 0;

  // Search state: level of each slot (−1 unseen, −2 retired), one mask of slots per level.
  const level = new Int32Array(T);
  const levelMasks = new Uint32Array((T + 1) * words);
  const cursor = new Int32Array(T);
  const visited = new Uint32Array(words);
  const frontier = new Uint32Array(words);
  const next = new Uint32Array(words);
  const reach = new Uint32Array(words);
  let target = -1;

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

  /** Pushes the maximum flow into slot t from vehicles that still need energy in this phase. */
  function fillSlot(t: number): void {
    let left = room[t]!;
    for (let k = offsets[t]!, end = offsets[t + 1]!; k < end && left > EPSILON_KWH; k++) {
      const i = vehicles[k]!;
      if (active[i] === 0) continue;
      const want = need[i]!;
      if (want <= EPSILON_KWH) continue;
      const at = i * T + t;
      const free = cap[at]! - x[at]!;
      if (free <= EPSILON_KWH) continue;
      const amount = Math.min(want, free, left);
      setEnergy(i, t, x[at]! + amount);
      need[i] = want - amount;
      left -= amount;
    }
    room[t] = left;
    refreshNeeding();
    if (left <= EPSILON_KWH || needingCount === 0 || !canReach(t)) return;
    while (room[t] > EPSILON_KWH && needingCount > 0) {
      const pushed = dinicPhase(t);
      refreshNeeding();
      if (pushed <= EPSILON_KWH) break;
    }
  }

  /**
   * Whether energy from any vehicle in need can flow into slot t: the closure of the slots they could
   * draw at, extended by every vehicle that draws at a reached slot and could draw elsewhere.
   */
  function canReach(t: number): boolean {
    reach.fill(0);
    for (let k = 0; k < needingCount; k++) {
      const row = needingList[k]! * words;
      for (let w = 0; w < words; w++) reach[w]! |= freeMask[row + w]!;
    }
    const tw = t >>> 5;
    const tb = 1 << (t & 31);
    for (let changed = true; changed && (reach[tw]! & tb) === 0;) {
      changed = false;
      for (let j = 0; j < N; j++) {
        const row = j * words;
        let touches = false;
        for (let w = 0; w < words; w++) if ((drawsMask[row + w]! & reach[w]!) !== 0) touches = true;
        if (!touches) continue;
        for (let w = 0; w < words; w++) {
          const grown = (reach[w]! | freeMask[row + w]!) >>> 0;
          if (grown !== reach[w]) {
            reach[w] = grown;
            changed = true;
          }
        }
      }
    }
    return (reach[tw]! & tb) !== 0;
  }

  /**
   * One Dinic phase towards slot t: breadth-first levels backwards from t (level L+1 = slots whose
   * draw some vehicle could move to a level-L slot), stopping at the first level where a vehicle in
   * need can enter; then a blocking flow along strictly decreasing levels. Returns energy pushed into t.
   */
  function dinicPhase(t: number): number {
    searchCount++;
    level.fill(-1);
    visited.fill(0);
    frontier.fill(0);
    visited[t >>> 5] = 1 << (t & 31);
    frontier[t >>> 5] = 1 << (t & 31);
    level[t] = 0;
    levelMasks.fill(0, 0, words);
    levelMasks[t >>> 5] = 1 << (t & 31);
    let depth = 0;
    let entryFound = false;
    for (;;) {
      next.fill(0);
      for (let j = 0; j < N; j++) {
        const row = j * words;
        let touches = false;
        for (let w = 0; w < words; w++) if ((freeMask[row + w]! & frontier[w]!) !== 0) touches = true;
        if (!touches) continue;
        if (active[j] === 1 && need[j]! > EPSILON_KWH) {
          entryFound = true;
          continue;
        }
        for (let w = 0; w < words; w++) next[w]! |= drawsMask[row + w]!;
      }
      if (entryFound) break;
      let any = false;
      for (let w = 0; w < words; w++) {
        const fresh = next[w]! & ~visited[w]!;
        frontier[w] = fresh;
        visited[w]! |= fresh;
        if (fresh !== 0) any = true;
      }
      if (!any) return 0;
      depth++;
      const base = depth * words;
      for (let w = 0; w < words; w++) {
        levelMasks[base + w] = frontier[w]!;
        for (let bits = frontier[w]!; bits !== 0; bits &= bits - 1) level[(w << 5) + lowestBit(bits)] = depth;
      }
    }
    for (let q = 0; q < T; q++) cursor[q] = offsets[q]!;
    target = t;
    let pushed = 0;
    const entryLevel = depth * words;
    for (let k = 0; k < needingCount && room[t]! > EPSILON_KWH; k++) {
      const i = needingList[k]!;
      if (need[i]! <= EPSILON_KWH) continue;
      const row = i * words;
      for (let w = 0; w < words && need[i]! > EPSILON_KWH; w++) {
        for (let bits = freeMask[row + w]! & levelMasks[entryLevel + w]!; bits !== 0; bits &= bits - 1) {
          const q = (w << 5) + lowestBit(bits);
          if (level[q] !== depth) continue;
          const at = i * T + q;
          const amount = pushOut(q, Math.min(need[i]!, cap[at]! - x[at]!));
          if (amount <= 0) continue;
          setEnergy(i, q, x[at]! + amount);
          need[i] = need[i]! - amount;
          pushed += amount;
          if (need[i] <= EPSILON_KWH || room[t]! <= EPSILON_KWH) break;
        }
      }
    }
    return pushed;
  }

  /**
   * Moves up to `limit` kWh out of slot s towards the target, letting vehicles that draw at s draw at
   * a slot one level closer instead. A slot that cannot pass on what was asked is retired for the
   * phase, which keeps the phase linear in the size of the graph.
   */
  function pushOut(s: number, limit: number): number {
    if (s === target) {
      const amount = Math.min(limit, room[s]!);
      room[s] = room[s]! - amount;
      return amount;
    }
    const closer = (level[s]! - 1) * words;
    const sw = s >>> 5;
    const sb = 1 << (s & 31);
    let pushed = 0;
    for (let end = offsets[s + 1]!; cursor[s]! < end; cursor[s]!++) {
      const j = vehicles[cursor[s]!]!;
      const row = j * words;
      if ((drawsMask[row + sw]! & sb) === 0) continue;
      for (let w = 0; w < words; w++) {
        for (let bits = freeMask[row + w]! & levelMasks[closer + w]!; bits !== 0; bits &= bits - 1) {
          const q = (w << 5) + lowestBit(bits);
          const has = x[j * T + s]!;
          if (has <= EPSILON_KWH) break;
          const free = cap[j * T + q]! - x[j * T + q]!;
          if (free <= EPSILON_KWH) continue;
          const amount = pushOut(q, Math.min(limit - pushed, has, free));
          if (amount <= 0) continue;
          setEnergy(j, s, has - amount);
          setEnergy(j, q, x[j * T + q]! + amount);
          pushed += amount;
          if (limit - pushed <= EPSILON_KWH) return pushed;
        }
      }
    }
    levelMasks[level[s]! * words + sw]! &= ~sb;
    level[s] = -2;
    return pushed;
  }

  return {
    energy: x,
    beginPhase,
    fillSlot,
    needing: () => needingCount,
    setRoom: (t: number, kwh: number) => {
      room[t] = kwh;
    },
    roomOf: (t: number) => room[t]!,
    searches: () => searchCount,
  };
}

function lowestBit(bits: number): number {
  return 31 - Math.clz32(bits & -bits);
}
