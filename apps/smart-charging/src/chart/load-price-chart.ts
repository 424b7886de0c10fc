import { scaleLinear, scaleTime } from 'd3-scale';
import { area, curveStepAfter, line, stack } from 'd3-shape';

/** One planning slot as the chart draws it; `end` of a slot is the next slot's `start`. */
export interface ChartSlot {
  readonly start: string;
  readonly pricePerKwh: number | null;
  /** The plan assumed this price (the series had none): shaded and named in the legend. */
  readonly priceAssumed: boolean;
  readonly limitKw: number | null;
  readonly baseLoadKw: number;
  /** Planned charging per series id, kW (slot average). */
  readonly plannedKw: Readonly<Record<string, number>>;
}

export interface LoadPriceChartInput {
  readonly slots: readonly ChartSlot[];
  /** Slot length, used for the last slot's end. */
  readonly slotMinutes: number;
  /** Display names per series id (cars); missing ids show the id. */
  readonly seriesNames?: Readonly<Record<string, string>>;
  /** ISO 4217 code of the prices; null when the tariff does not state it (the axis says so, no guess). */
  readonly currency: string | null;
  /** IANA zone the times are shown in; its offset is printed on the axis. */
  readonly timeZone: string;
  readonly width?: number;
  readonly height?: number;
  /** Past this many series with charging, one aggregate series is drawn instead. @default 6 */
  readonly maxSeries?: number;
  readonly title?: string;
}

const PALETTE = ['#2b6cb0', '#2f855a', '#b7791f', '#805ad5', '#c53030', '#2c7a7b', '#d53f8c', '#4a5568'];
const MARGIN = { top: 28, right: 64, bottom: 46, left: 52 };

const escapeXml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
const num = (value: number): string => (Math.round(value * 10) / 10).toString();
const priceUnit = (currency: string | null): string =>
  currency === null ? 'per kWh (currency not stated)' : `${currency}/kWh`;

/** `UTC+1`-style offset of `zone` at `date`. */
export function zoneOffsetLabel(date: Date, zone: string): string {
  const part = new Intl.DateTimeFormat('en-GB', { timeZone: zone, timeZoneName: 'shortOffset' })
    .formatToParts(date)
    .find((p) => p.type === 'timeZoneName');
  return (part?.value ?? 'GMT').replace('GMT', 'UTC').replace(/^UTC$/, 'UTC+0');
}

/** The series the chart stacks: each car while there are few, else one aggregate. */
export function chartSeries(
  slots: readonly ChartSlot[],
  maxSeries: number,
  names: Readonly<Record<string, string>>,
): { id: string; label: string; values: number[] }[] {
  const ids = [...new Set(slots.flatMap((slot) => Object.keys(slot.plannedKw)))]
    .filter((id) => slots.some((slot) => (slot.plannedKw[id] ?? 0) > 0))
    .sort();
  if (ids.length <= maxSeries)
    return ids.map((id) => ({
      id,
      label: names[id] ?? id,
      values: slots.map((slot) => slot.plannedKw[id] ?? 0),
    }));
  return [
    {
      id: 'all-cars',
      label: `planned charging, ${ids.length} cars`,
      values: slots.map((slot) => ids.reduce((sum, id) => sum + (slot.plannedKw[id] ?? 0), 0)),
    },
  ];
}

/**
 * The load and price chart as an SVG string: base load with planned charging stacked on it, the limit,
 * and the price as a step line on its own axis. Pure (no DOM), so the browser and the CLI draw the same.
 */
export function renderLoadPriceChart(input: LoadPriceChartInput): string {
  const width = input.width ?? 960;
  const height = input.height ?? 320;
  const { slots, timeZone, currency } = input;
  if (slots.length === 0)
    return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} 60" role="img" aria-label="no plan"><text x="8" y="30">No plan yet: nothing to draw.</text></svg>`;
  const slotMs = input.slotMinutes * 60_000;
  const starts = slots.map((slot) => Date.parse(slot.start));
  const ends = starts.map((start, index) => starts[index + 1] ?? start + slotMs);
  const series = chartSeries(slots, input.maxSeries ?? 6, input.seriesNames ?? {});

  const x = scaleTime()
    .domain([new Date(starts[0]!), new Date(ends.at(-1)!)])
    .range([MARGIN.left, width - MARGIN.right]);
  const totals = slots.map((slot, i) => slot.baseLoadKw + series.reduce((sum, s) => sum + s.values[i]!, 0));
  const kwMax = Math.max(1, ...totals, ...slots.map((slot) => slot.limitKw ?? 0));
  const y = scaleLinear()
    .domain([0, kwMax * 1.05])
    .range([height - MARGIN.bottom, MARGIN.top])
    .nice(6);
  const prices = slots.map((slot) => slot.pricePerKwh).filter((p): p is number => p !== null);
  const priceLow = Math.min(0, ...prices);
  const priceHigh = Math.max(priceLow + 0.01, ...prices);
  const yPrice = scaleLinear()
    .domain([priceLow, priceHigh])
    .range([height - MARGIN.bottom, MARGIN.top])
    .nice(6);

  // Stack base load and each series; step-after so a slot's value spans the whole slot.
  type Row = Record<string, number> & { index: number };
  const rows: Row[] = slots.map((slot, index) => {
    const row: Row = { index, base: slot.baseLoadKw };
    for (const s of series) row[s.id] = s.values[index]!;
    return row;
  });
  // A repeated last row closes the final step at the horizon's end.
  rows.push({ ...rows.at(-1)!, index: slots.length });
  const xAt = (index: number): number => x(new Date(index < slots.length ? starts[index]! : ends.at(-1)!));
  const layers = stack<Row>().keys(['base', ...series.map((s) => s.id)])(rows);
  const band = area<[number, number] & { data: Row }>()
    .x((point) => xAt(point.data.index))
    .y0((point) => y(point[0]))
    .y1((point) => y(point[1]))
    .curve(curveStepAfter);

  const parts: string[] = [];
  const label = input.title ?? 'Load and price';
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeXml(label)}" font-family="system-ui, sans-serif" font-size="11">`,
  );

  // Assumed prices: shaded slots behind everything.
  slots.forEach((slot, index) => {
    if (!slot.priceAssumed) return;
    parts.push(
      `<rect class="assumed" x="${num(xAt(index))}" y="${MARGIN.top}" width="${num(xAt(index + 1) - xAt(index))}" height="${height - MARGIN.top - MARGIN.bottom}" fill="#fbd38d" fill-opacity="0.35"/>`,
    );
  });

  // Grid lines and the kW axis.
  for (const tick of y.ticks(6)) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${num(y(tick))}" y2="${num(y(tick))}" stroke="#e2e8f0"/>`,
      `<text class="tick-kw" x="${MARGIN.left - 6}" y="${num(y(tick) + 4)}" text-anchor="end" fill="#4a5568">${y.tickFormat(6)(tick)}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left - 6}" y="${MARGIN.top - 12}" text-anchor="end" fill="#1a202c" font-weight="600">kW</text>`,
  );

  layers.forEach((layer, index) => {
    const isBase = index === 0;
    const s = series[index - 1];
    const fill = isBase ? '#cbd5e0' : PALETTE[(index - 1) % PALETTE.length]!;
    parts.push(
      `<path class="${isBase ? 'base-load' : 'planned'}"${s ? ` data-series="${escapeXml(s.id)}"` : ''} d="${band(layer as never) ?? ''}" fill="${fill}" fill-opacity="${isBase ? 1 : 0.85}"/>`,
    );
  });

  // The limit (a step line; gaps where no limit applies).
  const limitLine = line<Row>()
    .defined((row) => (slots[Math.min(row.index, slots.length - 1)]!.limitKw ?? null) !== null)
    .x((row) => xAt(row.index))
    .y((row) => y(slots[Math.min(row.index, slots.length - 1)]!.limitKw ?? 0))
    .curve(curveStepAfter);
  parts.push(
    `<path class="limit" d="${limitLine(rows) ?? ''}" fill="none" stroke="#c53030" stroke-width="2" stroke-dasharray="6 3"/>`,
  );

  // Price: step line on the right axis, zero line when prices go negative.
  const priceLine = line<Row>()
    .defined((row) => slots[Math.min(row.index, slots.length - 1)]!.pricePerKwh !== null)
    .x((row) => xAt(row.index))
    .y((row) => yPrice(slots[Math.min(row.index, slots.length - 1)]!.pricePerKwh ?? 0))
    .curve(curveStepAfter);
  parts.push(
    `<path class="price" d="${priceLine(rows) ?? ''}" fill="none" stroke="#dd6b20" stroke-width="2"/>`,
  );
  if (priceLow < 0)
    parts.push(
      `<line class="price-zero" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${num(yPrice(0))}" y2="${num(yPrice(0))}" stroke="#dd6b20" stroke-dasharray="2 2"/>`,
    );
  const priceFormat = yPrice.tickFormat(6);
  for (const tick of yPrice.ticks(6))
    parts.push(
      `<text class="tick-price" x="${width - MARGIN.right + 6}" y="${num(yPrice(tick) + 4)}" fill="#c05621">${priceFormat(tick)}</text>`,
    );
  parts.push(
    `<text x="${width - MARGIN.right + 6}" y="${MARGIN.top - 12}" fill="#c05621" font-weight="600">${escapeXml(priceUnit(currency))}</text>`,
  );

  // Time axis in the site's zone: hours every 1–12 h so at most ~12 labels, dates at midnight.
  const hours = (ends.at(-1)! - starts[0]!) / 3_600_000;
  const step = [1, 2, 3, 4, 6, 12].find((candidate) => hours / candidate <= 12) ?? 24;
  const clock = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const day = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
  });
  const axisY = height - MARGIN.bottom;
  parts.push(
    `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${axisY}" y2="${axisY}" stroke="#4a5568"/>`,
  );
  for (let t = Math.ceil(starts[0]! / 3_600_000) * 3_600_000; t <= ends.at(-1)!; t += 3_600_000) {
    const text = clock.format(t);
    const hour = Number(text.slice(0, 2));
    if (hour % step !== 0) continue;
    const px = num(x(new Date(t)));
    parts.push(
      `<line x1="${px}" x2="${px}" y1="${axisY}" y2="${axisY + 4}" stroke="#4a5568"/>`,
      `<text class="tick-time" x="${px}" y="${axisY + 16}" text-anchor="middle" fill="#4a5568">${text}</text>`,
    );
    if (hour === 0)
      parts.push(
        `<text class="tick-date" x="${px}" y="${axisY + 30}" text-anchor="middle" fill="#1a202c">${escapeXml(day.format(t))}</text>`,
      );
  }
  parts.push(
    `<text class="zone" x="${width - MARGIN.right}" y="${height - 4}" text-anchor="end" fill="#4a5568">${escapeXml(`${timeZone} (${zoneOffsetLabel(new Date(starts[0]!), timeZone)})`)}</text>`,
  );
  // The start's date, unless the axis already labels it (a horizon starting at local midnight).
  if (clock.format(starts[0]) !== '00:00')
    parts.push(
      `<text class="start-date" x="${MARGIN.left}" y="${height - 4}" fill="#1a202c">${escapeXml(day.format(starts[0]))}</text>`,
    );

  // DST changes: where the zone's offset differs from the slot before.
  for (let index = 1; index < starts.length; index++) {
    const before = zoneOffsetLabel(new Date(starts[index - 1]!), timeZone);
    const after = zoneOffsetLabel(new Date(starts[index]!), timeZone);
    if (before === after) continue;
    const px = num(xAt(index));
    parts.push(
      `<line class="dst" x1="${px}" x2="${px}" y1="${MARGIN.top}" y2="${axisY}" stroke="#553c9a" stroke-dasharray="3 3"/>`,
      `<text class="dst-label" x="${px}" y="${MARGIN.top - 2}" text-anchor="middle" fill="#553c9a">clock change ${escapeXml(before)} → ${escapeXml(after)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Legend entries (label and colour) for the chart drawn from the same input. */
export function loadPriceLegend(
  input: LoadPriceChartInput,
): { label: string; colour: string; kind: string }[] {
  const series = chartSeries(input.slots, input.maxSeries ?? 6, input.seriesNames ?? {});
  // Only what is drawn: a car's own chart has no base load or limit.
  const entries = [
    ...(input.slots.some((slot) => slot.baseLoadKw > 0)
      ? [{ label: 'base load', colour: '#cbd5e0', kind: 'base-load' }]
      : []),
    ...series.map((s, index) => ({
      label: s.label,
      colour: PALETTE[index % PALETTE.length]!,
      kind: 'planned',
    })),
    ...(input.slots.some((slot) => slot.limitKw !== null)
      ? [{ label: 'grid limit (kW)', colour: '#c53030', kind: 'limit' }]
      : []),
    {
      label:
        input.currency === null ? 'price per kWh (currency not stated)' : `price (${input.currency}/kWh)`,
      colour: '#dd6b20',
      kind: 'price',
    },
  ];
  if (input.slots.some((slot) => slot.priceAssumed))
    entries.push({ label: 'price assumed (no published price)', colour: '#fbd38d', kind: 'assumed' });
  return entries;
}

export interface LoadPriceFigureOptions {
  readonly title: string;
  /** Lines a reader must see before the chart (shortfalls, assumptions), drawn in red under the title. */
  readonly warnings?: readonly string[];
}

const LEGEND_COLUMNS = 3;
const LEGEND_ROW = 18;

/**
 * The chart as a self-contained SVG document for a file (the CLI's `--svg`): a title, warnings, the chart
 * and its legend drawn in the SVG itself, on a white background, since no page is around it.
 */
export function renderLoadPriceFigure(input: LoadPriceChartInput, options: LoadPriceFigureOptions): string {
  const width = input.width ?? 960;
  const chartHeight = input.height ?? 320;
  const warnings = options.warnings ?? [];
  const legend = loadPriceLegend(input);
  const headerHeight = 30 + warnings.length * 16;
  const legendTop = headerHeight + chartHeight + 8;
  const height = legendTop + Math.ceil(legend.length / LEGEND_COLUMNS) * LEGEND_ROW + 8;
  const columnWidth = (width - MARGIN.left - MARGIN.right) / LEGEND_COLUMNS;
  const chart = renderLoadPriceChart({ ...input, width, height: chartHeight, title: options.title }).replace(
    '<svg ',
    `<svg x="0" y="${headerHeight}" width="${width}" height="${chartHeight}" `,
  );
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${MARGIN.left}" y="20" font-size="15" font-weight="600" fill="#1a202c">${escapeXml(options.title)}</text>`,
    ...warnings.map(
      (warning, index) =>
        `<text class="warning" x="${MARGIN.left}" y="${38 + index * 16}" fill="#c53030">${escapeXml(warning)}</text>`,
    ),
    // The nested chart keeps its own viewBox; `width="100%"` would stretch it, so it gets the pixel size.
    chart.replace(' width="100%"', ''),
  ];
  legend.forEach((entry, index) => {
    const x = MARGIN.left + (index % LEGEND_COLUMNS) * columnWidth;
    const y = legendTop + Math.floor(index / LEGEND_COLUMNS) * LEGEND_ROW + 10;
    const swatch =
      entry.kind === 'limit' || entry.kind === 'price'
        ? `<line x1="${num(x)}" x2="${num(x + 16)}" y1="${y - 4}" y2="${y - 4}" stroke="${entry.colour}" stroke-width="2"${entry.kind === 'limit' ? ' stroke-dasharray="6 3"' : ''}/>`
        : `<rect x="${num(x)}" y="${y - 10}" width="16" height="10" fill="${entry.colour}"/>`;
    parts.push(
      `<g class="legend-entry" data-kind="${entry.kind}">${swatch}<text x="${num(x + 22)}" y="${y}" fill="#1a202c">${escapeXml(entry.label)}</text></g>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('')}\n`;
}
