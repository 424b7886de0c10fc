import { describe, expect, it } from 'vitest';
import { chartSeries, loadPriceLegend, renderLoadPriceChart, type ChartSlot } from './load-price-chart.ts';

function slots(
  startIso: string,
  count: number,
  cars: number,
  price = (i: number) => 0.1 + i * 0.01,
): ChartSlot[] {
  return Array.from({ length: count }, (_, i) => ({
    start: new Date(Date.parse(startIso) + i * 3_600_000).toISOString(),
    pricePerKwh: price(i),
    priceAssumed: i === count - 1,
    limitKw: 24.2,
    baseLoadKw: 1.3,
    plannedKw: Object.fromEntries(
      Array.from({ length: cars }, (_, car) => [`car-${car}`, i % 2 === 0 ? 3.7 : 0]),
    ),
  }));
}
const base = { slotMinutes: 60, currency: 'EUR', timeZone: 'Europe/Berlin' } as const;

describe('the load and price chart', () => {
  it('uses nice kW ticks, names units and the zone, and shades assumed prices in the legend', () => {
    const svg = renderLoadPriceChart({ ...base, slots: slots('2026-11-21T21:00:00Z', 8, 2) });
    const ticks = [...svg.matchAll(/class="tick-kw"[^>]*>([^<]+)</g)].map((m) => Number(m[1]));
    // The limit 24.2 kW plus headroom: ticks by 5 up to 30, never 6.05 steps.
    expect(ticks).toEqual([0, 5, 10, 15, 20, 25, 30]);
    expect(svg).toContain('>kW<');
    expect(svg).toContain('>EUR/kWh<');
    expect(svg).toContain('Europe/Berlin (UTC+1)');
    expect(svg).toContain('>22:00<');
    expect(svg.match(/class="assumed"/g)).toHaveLength(1);
    expect(
      loadPriceLegend({ ...base, slots: slots('2026-11-21T21:00:00Z', 8, 2) }).map((e) => e.kind),
    ).toContain('assumed');
  });

  it('marks the DST change and labels local hours across it (02:00 is not skipped in autumn)', () => {
    // 2026-10-25: Berlin goes from UTC+2 to UTC+1 at 03:00 local.
    const svg = renderLoadPriceChart({ ...base, slots: slots('2026-10-24T22:00:00Z', 8, 1) });
    expect(svg).toContain('clock change UTC+2 → UTC+1');
    const hours = [...svg.matchAll(/class="tick-time"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(hours.filter((hour) => hour === '02:00')).toHaveLength(2);
  });

  it('draws one aggregate instead of per-car series past the limit, and leaves out cars with nothing planned', () => {
    const many = slots('2026-11-21T21:00:00Z', 4, 1000);
    const [aggregate, ...rest] = chartSeries(many, 6, {});
    expect(rest).toEqual([]);
    expect(aggregate!.label).toBe('planned charging, 1000 cars');
    expect(aggregate!.values.map((kw) => Math.round(kw * 1000) / 1000)).toEqual([3700, 0, 3700, 0]);
    const idle = slots('2026-11-21T21:00:00Z', 4, 2).map((slot) => ({
      ...slot,
      plannedKw: { ...slot.plannedKw, idle: 0 },
    }));
    expect(chartSeries(idle, 6, {}).map((s) => s.id)).toEqual(['car-0', 'car-1']);
  });

  it('draws a zero line when prices go negative, and gaps where no price is known', () => {
    const svg = renderLoadPriceChart({
      ...base,
      slots: slots('2026-11-21T21:00:00Z', 6, 1, (i) => (i === 2 ? -0.05 : 0.1)),
    });
    expect(svg).toContain('class="price-zero"');
    const gap = slots('2026-11-21T21:00:00Z', 6, 1).map((slot, i) =>
      i === 3 ? { ...slot, pricePerKwh: null } : slot,
    );
    const d = /class="price" d="([^"]+)"/.exec(renderLoadPriceChart({ ...base, slots: gap }))![1]!;
    expect(d.match(/M/g)!.length).toBe(2);
  });
  it('names no currency the tariff did not state', () => {
    const input = { ...base, currency: null, slots: slots('2026-11-21T21:00:00Z', 4, 1) };
    const svg = renderLoadPriceChart(input);
    expect(svg).toContain('per kWh (currency not stated)');
    expect(svg).not.toMatch(/EUR|USD|€|\$/);
    expect(loadPriceLegend(input).map((entry) => entry.label)).toContain(
      'price per kWh (currency not stated)',
    );
  });
});
