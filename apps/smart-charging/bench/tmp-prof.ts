import { readFileSync } from 'node:fs';
import { awattarDeHourlyCsv } from '@voltkit/data';
import { parsePriceCsv } from '../src/planner/price-import.ts';
import { createRandomGridTree } from '../src/planner/testing/random-tree.ts';
import { solveGridTree } from '../src/planner/tree-solver.ts';
const all = parsePriceCsv(readFileSync(awattarDeHourlyCsv, 'utf8'));
const start = Date.parse('2022-10-12T00:00:00+02:00');
const hourly = all.filter((p) => p.startMs >= start && p.startMs < start + 24 * 3_600_000).map((p) => p.pricePerKwh);
const price = Float64Array.from({ length: 96 }, (_, t) => hourly[Math.floor(t / 4)]!);
const n = 10000;
const p = createRandomGridTree(20_221_012 + n * 10 + 4, { vehicles: n, slots: 96, slotHours: 0.25, price, depth: 4 });
for (let r = 0; r < 3; r++) { const s0 = performance.now(); const s = solveGridTree(p); console.log((performance.now() - s0).toFixed(0), 'ms', s.searches); }
