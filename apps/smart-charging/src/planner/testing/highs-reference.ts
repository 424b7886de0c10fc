/**
 * The fleet LP written out for HiGHS (npm `highs`, WebAssembly), used by tests and the benchmark as the
 * independent referee of the planner's optimality. Same variables and constraints as `FleetProblem`
 * (see fleet-solver.ts); shortfall is minimised first (stage 1), then the chosen objective (stage 2),
 * then — for "cost-then-peak" — the peak among cost-optimal plans (stage 3).
 */
import type { Highs } from 'highs';
import type { FleetProblem } from '../fleet-solver.ts';
import { treeAsFleetProblem, type GridTreeProblem } from '../tree-solver.ts';

export type ReferenceObjective = 'cost' | 'peak' | 'cost-then-peak' | 'cost-with-demand-charge';

export interface ReferenceOptions {
  readonly objective: ReferenceObjective;
  readonly slotHours: number;
  /** Non-EV load per slot (kW); counts towards the peak. */
  readonly baseKw?: Float64Array;
  /** Currency per kW of peak (for `cost-with-demand-charge`). */
  readonly demandChargePerKw?: number;
  /** Peak already billed this period (kW); only the peak above it is charged. */
  readonly demandFloorKw?: number;
  readonly timeLimitSeconds?: number;
  /**
   * Solve once with shortfall priced at this penalty per kWh instead of two stages. Exact when the
   * penalty exceeds every price (an augmenting path costs at most one slot price), and it is how a
   * user would hand the problem to an LP solver, so the benchmark uses it.
   */
  readonly shortfallPenalty?: number;
}

export interface ReferenceResult {
  readonly status: string;
  /** Mandatory energy delivered (kWh). */
  readonly deliveredKwh: number;
  /** Σ price × energy − Σ value × optional energy (+ demand charge when asked for). */
  readonly objective: number;
  /** Peak of base + charging (kW), when the objective involves it. */
  readonly peakKw: number;
  readonly energyKwh: Float64Array;
  readonly seconds: number;
}

export async function loadHighs(): Promise<Highs> {
  // The package ships ESM (build/highs.mjs) but declares its types as CommonJS; take the default export.
  const module = (await import('highs')) as unknown as { default: () => Promise<Highs> };
  return module.default();
}

/** Relative slack when an earlier stage's optimum becomes a constraint of the next stage. */
const STAGE_TOLERANCE = 1e-9;

export function solveWithHighs(
  highs: Highs,
  problem: FleetProblem,
  options: ReferenceOptions,
): ReferenceResult {
  const started = performance.now();
  const model = new LpModel(problem, options);
  if (options.shortfallPenalty !== undefined && options.objective === 'cost') {
    const single = runStage(highs, model.text('penalised', []), options);
    if (single.Status !== 'Optimal') return failed(single.Status, started, problem);
    let deliveredSingle = 0;
    for (let i = 0; i < problem.vehicleCount; i++)
      deliveredSingle += (single.Columns[`m${i}`] as { Primal: number } | undefined)?.Primal ?? 0;
    return {
      status: single.Status,
      deliveredKwh: deliveredSingle,
      objective: single.ObjectiveValue + options.shortfallPenalty * deliveredSingle,
      peakKw: Number.NaN,
      energyKwh: new Float64Array(0),
      seconds: (performance.now() - started) / 1000,
    };
  }
  let delivered = 0;
  let totalDemand = 0;
  for (const e of problem.demandKwh) totalDemand += Math.max(0, e);
  if (totalDemand > 0) {
    const stage1 = runStage(highs, model.text('delivered', []), options);
    if (stage1.Status !== 'Optimal') return failed(stage1.Status, started, problem);
    delivered = -stage1.ObjectiveValue;
  }
  const floor = [
    `delivered: ${model.deliveredExpression()} >= ${fmt(delivered - STAGE_TOLERANCE * Math.max(1, delivered))}`,
  ];
  const main =
    options.objective === 'peak'
      ? 'peak'
      : options.objective === 'cost-with-demand-charge'
        ? 'cost+demand'
        : 'cost';
  const stage2 = runStage(highs, model.text(main, floor), options);
  if (stage2.Status !== 'Optimal') return failed(stage2.Status, started, problem);
  let solution = stage2;
  if (options.objective === 'cost-then-peak') {
    const cost = stage2.ObjectiveValue;
    const costLimit = cost + STAGE_TOLERANCE * Math.max(1, Math.abs(cost));
    const stage3 = runStage(
      highs,
      model.text('peak', [...floor, `costcap: ${model.costExpression()} <= ${fmt(costLimit)}`]),
      options,
    );
    if (stage3.Status !== 'Optimal') return failed(stage3.Status, started, problem);
    solution = stage3;
  }
  const energy = new Float64Array(problem.vehicleCount * problem.slotCount);
  for (const [name, column] of Object.entries(solution.Columns)) {
    if (!name.startsWith('x')) continue;
    const [i, t] = name.slice(1).split('_').map(Number) as [number, number];
    energy[i * problem.slotCount + t] = (column as { Primal: number }).Primal;
  }
  const peakColumn = solution.Columns['P'] as { Primal: number } | undefined;
  const objective =
    options.objective === 'peak' || options.objective === 'cost-then-peak'
      ? stage2.ObjectiveValue
      : solution.ObjectiveValue;
  return {
    status: solution.Status,
    deliveredKwh: delivered,
    objective,
    peakKw: peakColumn?.Primal ?? Number.NaN,
    energyKwh: energy,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The tree LP for HiGHS: the fleet LP plus one row per node and slot (Σ below the node ≤ its room). */
export function solveTreeWithHighs(
  highs: Highs,
  problem: GridTreeProblem,
  options: ReferenceOptions,
): ReferenceResult {
  return solveWithHighs(highs, treeAsFleetProblem(problem), options);
}

function isTree(problem: FleetProblem): problem is FleetProblem & GridTreeProblem {
  return 'nodeParent' in problem;
}

function failed(status: string, started: number, problem: FleetProblem): ReferenceResult {
  return {
    status,
    deliveredKwh: Number.NaN,
    objective: Number.NaN,
    peakKw: Number.NaN,
    energyKwh: new Float64Array(problem.vehicleCount * problem.slotCount),
    seconds: (performance.now() - started) / 1000,
  };
}

function runStage(highs: Highs, text: string, options: ReferenceOptions) {
  return highs.solve(text, {
    output_flag: false,
    // Tighter than the default 1e-7 so stage constraints (cost cap, delivered floor) are not bent.
    primal_feasibility_tolerance: 1e-9,
    ...(options.timeLimitSeconds === undefined ? {} : { time_limit: options.timeLimitSeconds }),
  });
}

function fmt(value: number): string {
  return Number.isFinite(value) ? value.toPrecision(15) : value > 0 ? '1e30' : '-1e30';
}

function term(coefficient: number, name: string): string {
  if (coefficient === 0) return '';
  return coefficient < 0 ? ` - ${fmt(-coefficient)} ${name}` : ` + ${fmt(coefficient)} ${name}`;
}

/** Joins terms, wrapping lines so the LP reader never meets an overly long line. */
function joinTerms(terms: string[]): string {
  const lines: string[] = [];
  for (let k = 0; k < terms.length; k += 8) lines.push(terms.slice(k, k + 8).join(''));
  return lines.join('\n ') || ' 0 dummy';
}

function nodeRows(problem: GridTreeProblem): string[] {
  const { slotCount: T, nodeParent } = problem;
  const terms: string[][] = Array.from({ length: problem.nodeCount * T }, () => []);
  for (let i = 0; i < problem.vehicleCount; i++) {
    for (let t = problem.windowStart[i]!; t < problem.windowEnd[i]!; t++) {
      if (problem.arcCapKwh[i * T + t]! <= 0) continue;
      for (let n = problem.vehicleNode[i]!; n !== -1; n = nodeParent[n]!)
        terms[n * T + t]!.push(` + x${i}_${t}`);
    }
  }
  const rows: string[] = [];
  for (let n = 0; n < problem.nodeCount; n++) {
    for (let t = 0; t < T; t++) {
      const row = terms[n * T + t]!;
      if (row.length > 0)
        rows.push(`n${n}_${t}: ${joinTerms(row)} <= ${fmt(Math.max(0, problem.nodeRoomKwh[n * T + t]!))}`);
    }
  }
  return rows;
}

class LpModel {
  readonly #problem: FleetProblem;
  readonly #options: ReferenceOptions;
  readonly #columns: string[] = [];
  readonly #bounds: string[] = [];
  readonly #rows: string[] = [];
  readonly #tierSlots: number[] = [];

  constructor(problem: FleetProblem, options: ReferenceOptions) {
    this.#problem = problem;
    this.#options = options;
    const { slotCount: T, vehicleCount: N, windowStart, windowEnd, arcCapKwh } = problem;
    const slotTerms: string[][] = Array.from({ length: T }, () => []);
    for (let i = 0; i < N; i++) {
      const balance: string[] = [];
      for (let t = windowStart[i]!; t < windowEnd[i]!; t++) {
        const cap = arcCapKwh[i * T + t]!;
        if (cap <= 0) continue;
        const name = `x${i}_${t}`;
        this.#columns.push(name);
        this.#bounds.push(`0 <= ${name} <= ${fmt(cap)}`);
        balance.push(` + ${name}`);
        slotTerms[t]!.push(` + ${name}`);
      }
      balance.push(` - m${i}`, ` - o${i}`);
      this.#bounds.push(`0 <= m${i} <= ${fmt(Math.max(0, problem.demandKwh[i]!))}`);
      this.#bounds.push(`0 <= o${i} <= ${fmt(Math.max(0, problem.optionalKwh[i]!))}`);
      this.#rows.push(`e${i}: ${joinTerms(balance)} = 0`);
    }
    if (isTree(problem)) for (const row of nodeRows(problem)) this.#rows.push(row);
    const base = options.baseKw;
    const needsPeak = options.objective !== 'cost';
    for (let t = 0; t < T; t++) {
      const terms = slotTerms[t]!;
      if (terms.length === 0) continue;
      this.#rows.push(`h${t}: ${joinTerms(terms)} <= ${fmt(Math.max(0, problem.slotRoomKwh[t]!))}`);
      // Lower tier (PV surplus): s_t ≤ min(tier, load) earns back (price − tier price) per kWh.
      const tier = Math.min(problem.lowerTierKwh?.[t] ?? 0, Math.max(0, problem.slotRoomKwh[t]!));
      if (tier > 0) {
        this.#tierSlots.push(t);
        this.#bounds.push(`0 <= s${t} <= ${fmt(tier)}`);
        this.#rows.push(`l${t}: ${joinTerms([...terms, ` - s${t}`])} >= 0`);
      }
      // Peak row: base_t + Σ x / Δt ≤ P  ⇔  Σ x − Δt·P ≤ −base_t·Δt.
      if (needsPeak)
        this.#rows.push(
          `p${t}: ${joinTerms([...terms, term(-options.slotHours, 'P')])} <= ${fmt(-(base?.[t] ?? 0) * options.slotHours)}`,
        );
    }
    let maxBase = 0;
    for (let t = 0; t < T; t++) maxBase = Math.max(maxBase, base?.[t] ?? 0);
    if (needsPeak) this.#bounds.push(`${fmt(Math.max(maxBase, options.demandFloorKw ?? 0))} <= P <= 1e30`);
  }

  deliveredExpression(): string {
    return joinTerms(Array.from({ length: this.#problem.vehicleCount }, (_, i) => ` + m${i}`));
  }

  costExpression(): string {
    const terms = this.#columns.map((name) => {
      const t = Number(name.slice(name.indexOf('_') + 1));
      return term(this.#problem.price[t]!, name);
    });
    for (let i = 0; i < this.#problem.vehicleCount; i++)
      terms.push(term(-this.#problem.optionalValue[i]!, `o${i}`));
    for (const t of this.#tierSlots) {
      const price = this.#problem.price[t]!;
      terms.push(term(-(price - Math.min(price, this.#problem.lowerTierPrice![t]!)), `s${t}`));
    }
    return joinTerms(terms.filter((s) => s !== ''));
  }

  text(objective: 'delivered' | 'cost' | 'peak' | 'cost+demand' | 'penalised', extraRows: string[]): string {
    let goal: string;
    switch (objective) {
      case 'penalised':
        goal = `${this.costExpression()}\n ${joinTerms(Array.from({ length: this.#problem.vehicleCount }, (_, i) => term(-(this.#options.shortfallPenalty ?? 0), `m${i}`)))}`;
        break;
      case 'delivered':
        goal = joinTerms(Array.from({ length: this.#problem.vehicleCount }, (_, i) => ` - m${i}`));
        break;
      case 'cost':
        goal = this.costExpression();
        break;
      case 'peak':
        goal = ' P';
        break;
      case 'cost+demand':
        goal = `${this.costExpression()}\n ${term(this.#options.demandChargePerKw ?? 0, 'P')}`;
        break;
    }
    return [
      'Minimize',
      ` obj: ${goal}`,
      'Subject To',
      ...this.#rows.map((r) => ` ${r}`),
      ...extraRows.map((r) => ` ${r}`),
      'Bounds',
      ...this.#bounds.map((b) => ` ${b}`),
      'End',
      '',
    ].join('\n');
  }
}
