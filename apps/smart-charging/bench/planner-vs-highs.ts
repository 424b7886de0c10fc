/**
 * Benchmark: the planner against HiGHS (WebAssembly) on the same fleet LPs, in one run.
 *
 *   pnpm --filter @voltkit/smart-charging bench            (all sections)
 *   pnpm --filter @voltkit/smart-charging bench -- --quick (skip HiGHS at 10k and the minimax LP)
 *
 * 1. Cost LP, 96 quarter-hour slots, real day-ahead prices (aWATTar DE, 2022-10-12, hourly → 15 min),
 *    random windows 6–18 h, p ∈ {3.7, 7.4, 11} kW, 5–40 kWh, shared limit 40 % of Σp: 1k, 5k, 10k
 *    vehicles against HiGHS; 100k for the planner alone. Objectives must agree within 1e-6.
 * 2. Valley filling (least peak over H25 base load), 1,000 vehicles: planner vs HiGHS minimax LP.
 * 3. The 954 real ACN sessions (Caltech, March 2019) replayed day by day behind a transformer limit,
 *    SCE TOU-EV-4 with its demand charge, 5-min slots; each day checked against HiGHS.
 * 4. Solar fleets: section 1's LP with PV surplus (clear-sky profile, up to 60 % of the slot room at
 *    noon) as a cheaper first tier at a 0.08 EUR/kWh feed-in price: 1k and 10k vehicles against HiGHS.
 * 5. The overnight feeder (24 kW, five homes, four 11 kW cars, real November prices): hard limit
 *    against the average-limit LP optimum, and the highest one-minute draw of each.
 * 6. A week of 15-min slots (672) with weekday departures, 200 cars: planner against HiGHS.
 * Every loop here is bounded; HiGHS gets a time limit and the output says when it hit it.
 */
import { readFileSync } from 'node:fs';
import { acnCaltech201903Csv, awattarDeHourlyCsv } from '@voltkit/data';
import type { Highs } from 'highs';
import { solveFleet, type FleetProblem } from '../src/planner/fleet-solver.ts';
import {
  createPlan,
  createPlanningContext,
  lpObjective,
  optimise,
  parsePlanRequest,
} from '../src/planner/plan.ts';
import { parsePriceCsv } from '../src/planner/price-import.ts';
import { parseAcnSessionsCsv } from '../src/planner/scenario.ts';
import { parseTouTariffJson } from '../src/planner/tariff.ts';
import { fleetViolations, relativeGap } from '../src/planner/testing/check-plan.ts';
import { h25Profile, randomVehicles } from '../src/planner/testing/fixtures.ts';
import { loadHighs, solveWithHighs } from '../src/planner/testing/highs-reference.ts';
import { referencePlan } from '../src/planner/testing/plan-reference.ts';
import { createRandomFleet, fleetObjective } from '../src/planner/testing/random-fleet.ts';
import { highestMinuteDrawKw } from '../src/planner/hard-limit.ts';
import { overnightRequest } from '../src/planner/testing/overnight.ts';
import { clearSkyPvKw } from '../src/planner/testing/solar.ts';
import { createSlotGrid } from '../src/planner/time-grid.ts';

const quick = process.argv.includes('--quick');
const HIGHS_TIME_LIMIT_S = 300;

function dayPrices96(): Float64Array {
  const all = parsePriceCsv(readFileSync(awattarDeHourlyCsv, 'utf8'));
  const start = Date.parse('2022-10-12T00:00:00+02:00');
  const hourly = all
    .filter((p) => p.startMs >= start && p.startMs < start + 24 * 3_600_000)
    .map((p) => p.pricePerKwh);
  if (hourly.length !== 24) throw new Error(`expected 24 hourly prices, found ${hourly.length}`);
  return Float64Array.from({ length: 96 }, (_, t) => hourly[Math.floor(t / 4)]!);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Best and median of several runs after a warm-up: the machine is shared, the best run is the signal. */
function timePlanner(
  problem: FleetProblem,
  runs: number,
): { ms: number; medianMs: number; solution: ReturnType<typeof solveFleet> } {
  let solution = solveFleet(problem); // warm-up (JIT)
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    solution = solveFleet(problem);
    times.push(performance.now() - started);
  }
  return { ms: Math.min(...times), medianMs: median(times), solution };
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, k) => String(c).padStart(widths[k]!)).join('  ');
}

function costSection(highs: Highs): void {
  console.log('\n== 1. Fleet cost LP, 96 × 15-min slots (real prices 2022-10-12), limit 40 % of Σp ==');
  const price = dayPrices96();
  const widths = [8, 10, 12, 12, 10, 14, 14, 12];
  console.log(
    row(
      ['vehicles', 'variables', 'planner', 'HiGHS', 'ratio', 'cost planner', 'cost HiGHS', 'rel. gap'],
      widths,
    ),
  );
  const growth: { n: number; ms: number; medianMs: number }[] = [];
  for (const n of [1_000, 5_000, 10_000, 100_000]) {
    const problem = createRandomFleet(20_221_012 + n, {
      vehicles: n,
      slots: 96,
      slotHours: 0.25,
      price,
      capacityShare: 0.4,
    });
    let variables = 0;
    for (const c of problem.arcCapKwh) if (c > 0) variables++;
    const { ms, medianMs, solution } = timePlanner(problem, n >= 100_000 ? 3 : 5);
    growth.push({ n, ms, medianMs });
    const violations = fleetViolations(problem, solution.energyKwh);
    if (violations.length > 0)
      throw new Error(`planner violates constraints at ${n}: ${violations[0]!.what}`);
    const cost = fleetObjective(problem, solution.energyKwh, solution.optionalDeliveredKwh);
    if (n >= 100_000 || (quick && n >= 10_000)) {
      console.log(row([n, variables, fmtMs(ms), 'not run', '', cost.toFixed(4), '', ''], widths));
      continue;
    }
    const reference = solveWithHighs(highs, problem, {
      objective: 'cost',
      slotHours: 0.25,
      shortfallPenalty: 100,
      timeLimitSeconds: HIGHS_TIME_LIMIT_S,
    });
    const highsMs = reference.seconds * 1000;
    const optimal = reference.status === 'Optimal';
    console.log(
      row(
        [
          n,
          variables,
          fmtMs(ms),
          optimal ? fmtMs(highsMs) : `>${HIGHS_TIME_LIMIT_S} s (${reference.status})`,
          `${optimal ? '' : '>'}${(highsMs / ms).toFixed(0)}×`,
          cost.toFixed(4),
          optimal ? reference.objective.toFixed(4) : '—',
          optimal ? relativeGap(cost, reference.objective).toExponential(1) : '—',
        ],
        widths,
      ),
    );
  }
  console.log('growth (planner):');
  for (let k = 0; k < growth.length; k++) {
    const g = growth[k]!;
    const previous = growth[k - 1];
    const factor = previous
      ? `  ×${(g.ms / previous.ms).toFixed(1)} time for ×${(g.n / previous.n).toFixed(0)} vehicles`
      : '';
    console.log(
      `  ${String(g.n).padStart(7)} vehicles: best ${fmtMs(g.ms).padStart(9)} (median ${fmtMs(g.medianMs)})  ${((g.ms * 1000) / g.n).toFixed(1)} µs/vehicle${factor}`,
    );
  }
  console.log('  (HiGHS time includes reading the CPLEX-LP text; building that text is not counted.)');
}

function valleySection(highs: Highs): void {
  console.log('\n== 2. Valley filling: least peak over H25 base load, 1,000 vehicles, 96 × 15-min ==');
  const request = parsePlanRequest({
    horizon: { start: '2025-01-15', end: '2025-01-16', slotMinutes: 15, timeZone: 'Europe/Berlin' },
    tariff: { type: 'fixed', pricePerKwh: 0.3 },
    grid: { limitKw: 20_000, baseLoad: { kind: 'bdew-h25', annualKwh: 3_000 * 3_500 } },
    vehicles: randomVehicles(7, 1_000, '2025-01-15'),
    objective: 'peak',
  });
  const options = { profile: h25Profile() };
  const context = createPlanningContext(request, options);
  optimise(context, 'peak'); // warm-up
  const times: number[] = [];
  let level = 0;
  for (let r = 0; r < 5; r++) {
    const started = performance.now();
    level = optimise(createPlanningContext(request, options), 'peak').level;
    times.push(performance.now() - started);
  }
  const plan = createPlan(request, options);
  console.log(
    `planner: peak ${level.toFixed(3)} kW in ${fmtMs(Math.min(...times))} best, ${fmtMs(median(times))} median of 5 (incl. building the problem)`,
  );
  console.log(
    `  base-load peak ${plan.summary.baseLoadPeakKw.toFixed(1)} kW, charging at once on arrival ${plan.summary.peakBeforeKw.toFixed(1)} kW`,
  );
  if (quick) return;
  const reference = referencePlan(highs, context, 'peak');
  if (reference.status !== 'Optimal') {
    console.log(
      `HiGHS minimax LP: ${reference.status} after ${reference.seconds.toFixed(1)} s (limit ${HIGHS_TIME_LIMIT_S} s)`,
    );
    return;
  }
  const gap = (level - reference.objective) / reference.objective;
  console.log(
    `HiGHS minimax LP: peak ${reference.objective.toFixed(3)} kW in ${fmtMs(reference.seconds * 1000)} (two stages: delivery, then peak)`,
  );
  console.log(
    `  peak gap ${(gap * 100).toExponential(2)} % (goal ≤ 0.1 %), ratio ${((reference.seconds * 1000) / Math.min(...times)).toFixed(0)}× (best run)`,
  );
}

function acnSection(highs: Highs): void {
  const transformerKw = 50;
  console.log(
    `\n== 3. ACN sessions (Caltech, March 2019) day by day behind ${transformerKw} kW, SCE TOU-EV-4 + demand charge, 5-min slots ==`,
  );
  const text = readFileSync(acnCaltech201903Csv, 'utf8');
  const tariff = parseTouTariffJson(
    readFileSync(
      new URL('../src/planner/__fixtures__/sce_tou_ev_4_march_2019.json', import.meta.url),
      'utf8',
    ),
  );
  const widths = [10, 8, 10, 10, 9, 9, 10, 10, 10, 10];
  console.log(
    row(
      [
        'day',
        'sessions',
        'kWh asked',
        'delivered',
        'peak kW',
        'at once',
        'cost',
        'at once',
        'planner',
        'HiGHS gap',
      ],
      widths,
    ),
  );
  let totalMs = 0;
  let worstGap = 0;
  let asked = 0;
  let delivered = 0;
  for (let day = 1; day <= 31; day++) {
    const date = `2019-03-${String(day).padStart(2, '0')}`;
    const vehicles = parseAcnSessionsCsv(text, date).map((v) => ({
      ...v,
      // Sessions may run past midnight; the day's horizon ends at midnight.
      departure:
        Date.parse(String(v.departure)) > Date.parse(`${date}T23:55:00-08:00`)
          ? `${date}T23:55:00-08:00`
          : v.departure,
    }));
    if (vehicles.length === 0) continue;
    const request = parsePlanRequest({
      horizon: { start: date, hours: 24, slotMinutes: 5, timeZone: 'America/Los_Angeles' },
      tariff,
      grid: { limitKw: transformerKw },
      vehicles,
      objective: 'cost',
    });
    const started = performance.now();
    const plan = createPlan(request);
    const ms = performance.now() - started;
    totalMs += ms;
    const context = createPlanningContext(request);
    const { solution } = optimise(context, 'cost');
    const reference = referencePlan(highs, context, 'cost');
    const mine =
      lpObjective(context.fleet.problem, solution) +
      context.prices.demandChargePerKw * plan.summary.peakAfterKw;
    const gap = reference.status === 'Optimal' ? relativeGap(mine, reference.objective) : Number.NaN;
    worstGap = Math.max(worstGap, Number.isNaN(gap) ? Infinity : gap);
    const askedDay = vehicles.reduce((s, v) => s + v.capacityKwh, 0);
    asked += askedDay;
    delivered += plan.summary.energyKwh;
    console.log(
      row(
        [
          date,
          vehicles.length,
          askedDay.toFixed(1),
          `${((plan.summary.energyKwh / askedDay) * 100).toFixed(1)} %`,
          plan.summary.peakAfterKw.toFixed(1),
          plan.summary.peakBeforeKw.toFixed(1),
          plan.summary.totalCost.toFixed(2),
          plan.summary.immediateCost.toFixed(2),
          fmtMs(ms),
          Number.isNaN(gap) ? reference.status : gap.toExponential(1),
        ],
        widths,
      ),
    );
  }
  console.log(
    `all days: ${((delivered / asked) * 100).toFixed(2)} % of requested energy delivered, planner total ${fmtMs(totalMs)}, worst gap to HiGHS ${worstGap.toExponential(1)}`,
  );
}

function solarSection(highs: Highs): void {
  console.log(
    '\n== 4. Solar fleets: PV surplus at a 0.08 EUR/kWh feed-in price, 96 × 15-min, limit 40 % of Σp ==',
  );
  const price = dayPrices96();
  const grid = createSlotGrid({
    startMs: Date.parse('2022-10-12T00:00:00+02:00'),
    endMs: Date.parse('2022-10-13T00:00:00+02:00'),
    slotMinutes: 15,
    timeZone: 'Europe/Berlin',
  });
  const sun = clearSkyPvKw(grid, { peakKw: 1, latitude: 52.52, longitude: 13.4 });
  const sunPeak = Math.max(...sun);
  const widths = [8, 12, 12, 10, 14, 14, 10, 12];
  console.log(
    row(
      ['vehicles', 'planner', 'HiGHS', 'ratio', 'cost planner', 'cost HiGHS', 'rel. gap', 'PV used kWh'],
      widths,
    ),
  );
  for (const n of [1_000, 10_000]) {
    const base = createRandomFleet(20_221_012 + n, {
      vehicles: n,
      slots: 96,
      slotHours: 0.25,
      price,
      capacityShare: 0.4,
    });
    const problem: FleetProblem = {
      ...base,
      lowerTierKwh: Float64Array.from(base.slotRoomKwh, (room, t) => (room * 0.6 * sun[t]!) / sunPeak),
      lowerTierPrice: Float64Array.from(price, (p) => Math.min(0.08, p)),
    };
    const { ms, solution } = timePlanner(problem, 5);
    const violations = fleetViolations(problem, solution.energyKwh);
    if (violations.length > 0)
      throw new Error(`planner violates constraints at ${n}: ${violations[0]!.what}`);
    const cost = fleetObjective(problem, solution.energyKwh, solution.optionalDeliveredKwh);
    let pvUsed = 0;
    for (let t = 0; t < 96; t++) {
      let load = 0;
      for (let i = 0; i < n; i++) load += solution.energyKwh[i * 96 + t]!;
      pvUsed += Math.min(load, problem.lowerTierKwh![t]!);
    }
    if (quick && n >= 10_000) {
      console.log(row([n, fmtMs(ms), 'not run', '', cost.toFixed(4), '', '', pvUsed.toFixed(0)], widths));
      continue;
    }
    const reference = solveWithHighs(highs, problem, {
      objective: 'cost',
      slotHours: 0.25,
      shortfallPenalty: 100,
      timeLimitSeconds: HIGHS_TIME_LIMIT_S,
    });
    const optimal = reference.status === 'Optimal';
    const highsMs = reference.seconds * 1000;
    console.log(
      row(
        [
          n,
          fmtMs(ms),
          optimal ? fmtMs(highsMs) : `>${HIGHS_TIME_LIMIT_S} s (${reference.status})`,
          `${optimal ? '' : '>'}${(highsMs / ms).toFixed(0)}×`,
          cost.toFixed(4),
          optimal ? reference.objective.toFixed(4) : '—',
          optimal ? relativeGap(cost, reference.objective).toExponential(1) : '—',
          pvUsed.toFixed(0),
        ],
        widths,
      ),
    );
  }
}

function hardLimitSection(highs: Highs): void {
  console.log(
    '\n== 5. Hard limit: the overnight feeder, 24 kW, five homes (H25), four 11 kW cars, 2022-11-22 18:00 → 07:00 ==',
  );
  const options = { profile: h25Profile() };
  for (const mode of ['average', 'hard'] as const) {
    const request = parsePlanRequest(overnightRequest(mode));
    const plan = createPlan(request, options);
    const context = createPlanningContext(request, options);
    const { solution } = optimise(context, 'cost');
    const reference = referencePlan(highs, context, 'cost');
    const draws = request.vehicles.map((v) => v.maxPowerKw);
    console.log(
      `  ${mode.padEnd(7)}: cost ${plan.summary.totalCost.toFixed(4)} EUR for ${plan.summary.energyKwh.toFixed(2)} kWh, short ${plan.summary.shortfallKwh.toFixed(2)} kWh, highest one-minute draw ${highestMinuteDrawKw(plan, draws, mode).toFixed(2)} kW (limit 24), gap to HiGHS ${relativeGap(lpObjective(context.fleet.problem, solution), reference.objective).toExponential(1)}`,
    );
  }
  const average = createPlan(parsePlanRequest(overnightRequest('average')), options).summary.totalCost;
  const hard = createPlan(parsePlanRequest(overnightRequest('hard')), options).summary.totalCost;
  console.log(
    `  premium of hard over average: ${(hard - average).toFixed(4)} EUR (${(((hard - average) / average) * 100).toFixed(2)} %)`,
  );
  console.log(
    '  (average: every car switched on at the slot start; hard: McNaughton lanes of the strongest charger)',
  );
}

function weekSection(highs: Highs): void {
  console.log(
    '\n== 6. A week of 15-min slots (672), 200 cars with weekday departures at 07:00–08:45, real prices ==',
  );
  const all = parsePriceCsv(readFileSync(awattarDeHourlyCsv, 'utf8'));
  const vehicles = Array.from({ length: 200 }, (_, k) => ({
    id: `car-${k + 1}`,
    socPercent: 10 + (k % 40),
    capacityKwh: [40, 58, 77][k % 3]!,
    targetSocPercent: 80 + (k % 3) * 5,
    // Plugged in Monday evening, leaving on the Friday of the week at a weekday morning time.
    arrival: `2022-10-10T${String(17 + (k % 5)).padStart(2, '0')}:00`,
    departure: `2022-10-${String(11 + (k % 5)).padStart(2, '0')}T0${7 + (k % 2)}:${String((k % 4) * 15).padStart(2, '0')}`,
    maxPowerKw: [3.7, 7.4, 11][k % 3]!,
  }));
  const request = parsePlanRequest({
    horizon: {
      start: '2022-10-10T00:00',
      end: '2022-10-17T00:00',
      slotMinutes: 15,
      timeZone: 'Europe/Berlin',
    },
    tariff: { type: 'dynamic', currency: 'EUR', prices: all, surchargePerKwh: 0.15 },
    grid: { limitKw: 400, baseLoad: { kind: 'bdew-h25', annualKwh: 100 * 3500 } },
    vehicles,
  });
  const options = { profile: h25Profile() };
  createPlan(request, options); // warm-up
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const started = performance.now();
    createPlan(request, options);
    times.push(performance.now() - started);
  }
  const context = createPlanningContext(request, options);
  const { solution } = optimise(context, 'cost');
  const reference = referencePlan(highs, context, 'cost');
  console.log(
    `  ${context.grid.slotCount} slots: planner ${fmtMs(Math.min(...times))} best of 3 (whole createPlan), HiGHS ${fmtMs(reference.seconds * 1000)} (two stages), gap ${relativeGap(lpObjective(context.fleet.problem, solution), reference.objective).toExponential(1)}`,
  );
}

const highs = await loadHighs();
console.log(
  `node ${process.version}, ${quick ? 'quick run' : 'full run'}; HiGHS ${'highs@1.15.3 (wasm)'}, time limit ${HIGHS_TIME_LIMIT_S} s`,
);
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const sections: [string, (h: Highs) => void][] = [
  ['cost', costSection],
  ['valley', valleySection],
  ['acn', acnSection],
  ['solar', solarSection],
  ['hard', hardLimitSection],
  ['week', weekSection],
];
for (const [name, section] of sections) if (!only || only.includes(name)) section(highs);
