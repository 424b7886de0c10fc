import {
  loadPriceLegend,
  renderLoadPriceChart,
  type LoadPriceChartInput,
} from '../chart/load-price-chart.ts';
import type { DashboardData } from '../service/http/dashboard-data.ts';
import { h } from './dom.ts';

/** Slot length of the plan, from its first two slots (the plan's slots are uniform). */
export function slotMinutesOf(data: DashboardData): number {
  const [first, second] = data.fleet.slots;
  return first && second ? (Date.parse(second.start) - Date.parse(first.start)) / 60_000 : 15;
}

/** Draws the shared SVG chart into `target` with an HTML legend beside it. */
export function drawLoadChart(
  target: HTMLElement,
  data: DashboardData,
  options: Partial<Pick<LoadPriceChartInput, 'slots' | 'maxSeries' | 'title' | 'height' | 'width'>> = {},
): void {
  const input: LoadPriceChartInput = {
    slots: options.slots ?? data.fleet.slots,
    slotMinutes: slotMinutesOf(data),
    seriesNames: Object.fromEntries(data.vehicles.map((vehicle) => [vehicle.id, vehicle.name])),
    currency: data.currency,
    timeZone: data.timeZone,
    ...(options.maxSeries === undefined ? {} : { maxSeries: options.maxSeries }),
    ...(options.title === undefined ? {} : { title: options.title }),
    ...(options.height === undefined ? {} : { height: options.height }),
    ...(options.width === undefined ? {} : { width: options.width }),
  };
  const figure = h('div', { class: 'chart-figure' });
  // The SVG string is built from numbers and escaped labels only (see renderLoadPriceChart).
  figure.innerHTML = renderLoadPriceChart(input);
  const legend = h(
    'ul',
    { class: 'legend', 'aria-label': 'legend' },
    ...loadPriceLegend(input).map((entry) =>
      h(
        'li',
        { 'data-kind': entry.kind },
        h('span', { class: 'swatch', 'data-colour': entry.colour }),
        entry.label,
      ),
    ),
  );
  legend.querySelectorAll<HTMLElement>('.swatch').forEach((swatch) => {
    swatch.style.backgroundColor = swatch.dataset['colour'] ?? '';
  });
  target.replaceChildren(figure, legend);
}
