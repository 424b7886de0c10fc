import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runPlanCli } from './cli-program.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Runs `voltkit-plan <scenario> --svg` and returns the SVG it wrote. */
function planSvg(scenario: string, cwd = here): string {
  const out = join(mkdtempSync(join(tmpdir(), 'voltkit-svg-')), 'plan.svg');
  let stderr = '';
  const status = runPlanCli([scenario, '--svg', out, '--quiet'], {
    stdout: { write: () => true },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    cwd,
  });
  expect(stderr).toBe('');
  expect(status).toBe(0);
  return readFileSync(out, 'utf8');
}

const texts = (svg: string, className: string): string[] =>
  [...svg.matchAll(new RegExp(`class="${className}"[^>]*>([^<]+)<`, 'g'))].map((match) => match[1]!);

describe('voltkit-plan --svg draws with the shared load and price chart', () => {
  it('a DST night: local times with the zone, the currency of the price file, the legend in the file', () => {
    const svg = planSvg('examples/home-dst-night.json');
    // Nice ticks: whole steps from 0, never the old max/5 fractions.
    const ticks = texts(svg, 'tick-kw').map(Number);
    expect(ticks[0]).toBe(0);
    const step = ticks[1]! - ticks[0]!;
    expect([1, 2, 2.5, 5, 10]).toContain(step);
    ticks.forEach((tick, index) => expect(tick).toBeCloseTo(index * step, 9));
    // 2022-10-30 03:00 CEST → 02:00 CET happens before the horizon's noon start; the next morning has
    // no change, but the zone is on the axis with its offset.
    expect(texts(svg, 'zone')).toEqual(['Europe/Berlin (UTC+1)']);
    expect(texts(svg, 'tick-date')).toContain('Mon 31 Oct');
    // ENTSO-E documents state their currency; the axis and the legend name it.
    expect(svg).toContain('>EUR/kWh<');
    expect(svg).toContain('price (EUR/kWh)');
    // The legend is in the file itself: the limit, the price and both cars by id.
    const legend = [...svg.matchAll(/class="legend-entry" data-kind="(\w[\w-]*)"/g)].map((m) => m[1]);
    expect(legend).toEqual(expect.arrayContaining(['base-load', 'planned', 'limit', 'price']));
    expect(svg).toContain('>family-car<');
    expect(svg).toContain('>commuter<');
    // Tomorrow's prices were not published: the assumed slots are shaded and said above the chart.
    expect(svg).toContain('class="assumed"');
    expect(texts(svg, 'warning').join(' ')).toMatch(/slots use an assumed price/);
  });

  it('a clock change inside the horizon is marked on the chart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'voltkit-dst-'));
    const scenario = JSON.parse(readFileSync(join(here, 'examples/home-dst-night.json'), 'utf8')) as {
      horizon: { start: string; end: string };
      tariff: { source: { file: string } };
      grid: { demandResponse?: unknown };
      vehicles: { arrival: string; departure: string }[];
    };
    copyFileSync(join(here, '__fixtures__/entsoe-a44-de-2022-10-30.xml'), join(dir, 'prices.xml'));
    scenario.tariff.source.file = 'prices.xml';
    scenario.horizon = { ...scenario.horizon, start: '2022-10-30T00:00', end: '2022-10-30T12:00' };
    delete scenario.grid.demandResponse;
    for (const vehicle of scenario.vehicles) {
      vehicle.arrival = '2022-10-30T00:00';
      vehicle.departure = '2022-10-30T11:00';
    }
    writeFileSync(join(dir, 'dst.json'), JSON.stringify(scenario));
    const svg = planSvg('dst.json', dir);
    expect(texts(svg, 'dst-label')).toEqual(['clock change UTC+2 → UTC+1']);
    // 02:00 appears twice on the axis (before and after the change), never a jump from 02:00 to 04:00.
    expect(texts(svg, 'tick-time').filter((time) => time === '02:00').length).toBe(2);
  });

  it('a shortfall is said above the chart, with the cars and the energy missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'voltkit-short-'));
    const scenario = JSON.parse(readFileSync(join(here, 'examples/home-dst-night.json'), 'utf8')) as {
      tariff: { source: { file: string } };
      vehicles: { id: string; departure: string; targetSocPercent: number }[];
    };
    copyFileSync(join(here, '__fixtures__/entsoe-a44-de-2022-10-30.xml'), join(dir, 'prices.xml'));
    scenario.tariff.source.file = 'prices.xml';
    // Leaving 45 minutes after arriving with 22 %: 100 % is out of reach.
    scenario.vehicles[0]!.departure = '2022-10-30T18:15';
    scenario.vehicles[0]!.targetSocPercent = 100;
    writeFileSync(join(dir, 'short.json'), JSON.stringify(scenario));
    const warning = texts(planSvg('short.json', dir), 'warning')[0];
    expect(warning).toMatch(
      /^Shortfall: 1 of 2 vehicles miss their target by \d+\.\d kWh in all \(family-car\)$/,
    );
  });

  it('a garage of real sessions: currency from the tariff, one aggregate series instead of a car each', () => {
    const svg = planSvg('examples/caltech-garage-tou.json');
    expect(svg).toContain('>USD/kWh<');
    expect(svg).toContain('price (USD/kWh)');
    expect(texts(svg, 'zone')[0]).toMatch(/^America\/Los_Angeles \(UTC-8\)$/);
    // The horizon starts at local midnight: its date is written once, under the first tick.
    expect(svg.match(/>Tue 5 Mar</g)).toHaveLength(1);
    const planned = [...svg.matchAll(/class="planned" data-series="([^"]+)"/g)].map((m) => m[1]);
    expect(planned).toEqual(['all-cars']);
    expect(svg).toMatch(/planned charging, \d{2,} cars/);
  });
});
