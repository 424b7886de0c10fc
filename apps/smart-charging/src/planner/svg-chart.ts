/**
 * Hand-written SVG chart of a plan: base load and planned charging per vehicle as stacked areas
 * (the largest vehicles individually, the rest together), the grid limit as a step line, and the
 * price as a line on its own axis.
 */
import type { Plan } from './plan.ts';

const WIDTH = 1000;
const HEIGHT = 520;
const MARGIN = { left: 60, right: 70, top: 40, bottom: 90 };
const COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number): string => (Math.round(v * 100) / 100).toString();

export function renderPlanSvg(plan: Plan, options: { title?: string; maxSeries?: number } = {}): string {
  const T = plan.slots.length;
  const maxSeries = options.maxSeries ?? 8;
  const ranked = plan.vehicles
    .map((v, k) => ({ k, energy: v.energyKwh }))
    .sort((a, b) => b.energy - a.energy);
  const individual = ranked
    .slice(0, maxSeries)
    .filter((r) => r.energy > 0)
    .map((r) => r.k);
  const series: { name: string; kw: number[]; color: string }[] = [
    { name: 'base load', kw: plan.slots.map((s) => s.baseKw), color: '#c8c8c8' },
  ];
  individual.forEach((k, n) =>
    series.push({
      name: plan.vehicles[k]!.id,
      kw: plan.vehicles[k]!.powerKw,
      color: COLORS[n % COLORS.length]!,
    }),
  );
  if (plan.vehicles.length > individual.length) {
    const rest = plan.slots.map(
      (s, t) => s.chargingKw - individual.reduce((sum, k) => sum + (plan.vehicles[k]!.powerKw[t] ?? 0), 0),
    );
    series.push({
      name: `${plan.vehicles.length - individual.length} other vehicles`,
      kw: rest.map((v) => Math.max(0, v)),
      color: '#8da0cb',
    });
  }
  const totals = plan.slots.map((s) => s.baseKw + s.chargingKw);
  const finiteLimits = plan.slots.map((s) => s.limitKw).filter(Number.isFinite);
  const maxKw = Math.max(1, ...totals, ...finiteLimits) * 1.08;
  const prices = plan.slots.map((s) => s.pricePerKwh);
  let minPrice = Math.min(0, ...prices);
  let maxPrice = Math.max(...prices);
  if (maxPrice - minPrice < 1e-9) {
    maxPrice += 0.01;
    minPrice -= 0.01;
  }
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (t: number): number => MARGIN.left + (t / T) * plotW;
  const y = (kw: number): number => MARGIN.top + plotH - (kw / maxKw) * plotH;
  const yPrice = (p: number): number => MARGIN.top + plotH - ((p - minPrice) / (maxPrice - minPrice)) * plotH;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  parts.push(
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${esc(options.title ?? `Charging plan ${plan.start} → ${plan.end}`)}</text>`,
  );
  // Assumed-price slots get a hatched background so nobody mistakes them for published prices.
  plan.slots.forEach((s, t) => {
    if (s.priceAssumed)
      parts.push(
        `<rect x="${num(x(t))}" y="${MARGIN.top}" width="${num(x(t + 1) - x(t))}" height="${plotH}" fill="#fff3cd"/>`,
      );
  });
  // Stacked areas as step shapes.
  const stack = new Array<number>(T).fill(0);
  for (const s of series) {
    const lower = stack.slice();
    for (let t = 0; t < T; t++) stack[t] = stack[t]! + (s.kw[t] ?? 0);
    const top: string[] = [];
    for (let t = 0; t < T; t++)
      top.push(`${num(x(t))},${num(y(stack[t]!))} ${num(x(t + 1))},${num(y(stack[t]!))}`);
    const bottom: string[] = [];
    for (let t = T - 1; t >= 0; t--)
      bottom.push(`${num(x(t + 1))},${num(y(lower[t]!))} ${num(x(t))},${num(y(lower[t]!))}`);
    parts.push(
      `<polygon points="${top.join(' ')} ${bottom.join(' ')}" fill="${s.color}" fill-opacity="0.85"><title>${esc(s.name)}</title></polygon>`,
    );
  }
  // Grid limit (step line).
  const limitPath: string[] = [];
  plan.slots.forEach((s, t) =>
    limitPath.push(
      `${t === 0 ? 'M' : 'L'}${num(x(t))},${num(y(s.limitKw))} L${num(x(t + 1))},${num(y(s.limitKw))}`,
    ),
  );
  parts.push(
    `<path d="${limitPath.join(' ')}" fill="none" stroke="#d62728" stroke-width="2" stroke-dasharray="6 3"/>`,
  );
  // Price line (slot midpoints).
  const pricePath = plan.slots.map(
    (s, t) => `${t === 0 ? 'M' : 'L'}${num((x(t) + x(t + 1)) / 2)},${num(yPrice(s.pricePerKwh))}`,
  );
  parts.push(`<path d="${pricePath.join(' ')}" fill="none" stroke="#111" stroke-width="1.5"/>`);
  // Axes and ticks.
  parts.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
  );
  parts.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
  );
  parts.push(
    `<line x1="${MARGIN.left + plotW}" y1="${MARGIN.top}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
  );
  for (let k = 0; k <= 5; k++) {
    const kw = (maxKw / 5) * k;
    const price = minPrice + ((maxPrice - minPrice) / 5) * k;
    parts.push(`<text x="${MARGIN.left - 6}" y="${num(y(kw) + 4)}" text-anchor="end">${num(kw)}</text>`);
    parts.push(
      `<text x="${MARGIN.left + plotW + 6}" y="${num(yPrice(price) + 4)}">${price.toFixed(3)}</text>`,
    );
  }
  parts.push(
    `<text x="14" y="${MARGIN.top + plotH / 2}" transform="rotate(-90 14 ${MARGIN.top + plotH / 2})" text-anchor="middle">kW</text>`,
  );
  parts.push(
    `<text x="${WIDTH - 12}" y="${MARGIN.top + plotH / 2}" transform="rotate(90 ${WIDTH - 12} ${MARGIN.top + plotH / 2})" text-anchor="middle">price per kWh</text>`,
  );
  const labelEvery = Math.max(1, Math.round(T / 12));
  plan.slots.forEach((s, t) => {
    if (t % labelEvery !== 0) return;
    parts.push(
      `<text x="${num(x(t))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${esc(s.start.slice(11, 16))}</text>`,
    );
  });
  // Legend.
  const legend = [
    ...series.map((s) => ({ name: s.name, color: s.color, line: false })),
    { name: 'grid limit', color: '#d62728', line: true },
    { name: 'price', color: '#111', line: true },
  ];
  legend.forEach((item, k) => {
    const lx = MARGIN.left + (k % 5) * 180;
    const ly = HEIGHT - 48 + Math.floor(k / 5) * 18;
    parts.push(
      item.line
        ? `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 14}" y2="${ly - 4}" stroke="${item.color}" stroke-width="2"/>`
        : `<rect x="${lx}" y="${ly - 10}" width="14" height="10" fill="${item.color}"/>`,
    );
    parts.push(
      `<text x="${lx + 20}" y="${ly}">${esc(item.name.length > 24 ? `${item.name.slice(0, 23)}…` : item.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
