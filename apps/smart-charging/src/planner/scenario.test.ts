import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bdewH25Csv } from '@voltkit/data';
import { describe, expect, it } from 'vitest';
import { createPlan } from './plan.ts';
import { ScenarioError, parseScenario, resolveScenario } from './scenario.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const readRelative = (dir: string) => (file: string) => readFileSync(join(dir, file), 'utf8');
const defaultProfile = () => readFileSync(bdewH25Csv, 'utf8');

function resolveExample(name: string) {
  const dir = join(here, 'examples');
  return resolveScenario(
    parseScenario(readFileSync(join(dir, name), 'utf8')),
    readRelative(dir),
    defaultProfile,
  );
}

describe('scenario files', () => {
  it('resolves the home example: ENTSO-E prices, H25 base load, a DSO event, tomorrow assumed', () => {
    const { request, profile } = resolveExample('home-dst-night.json');
    const plan = createPlan(request, profile ? { profile } : {});
    expect(plan.slots).toHaveLength(96);
    expect(plan.assumptions[0]!.method).toBe('same time previous day');
    expect(plan.vehicles.every((v) => v.targetReached)).toBe(true);
    // The DSO event caps the evening at 8 kW.
    const evening = plan.slots.filter((s) => s.start >= '2022-10-30T17:00' && s.start < '2022-10-30T19:00');
    expect(evening.every((s) => s.limitKw === 8 && s.chargingKw <= 8 - s.baseKw + 1e-9)).toBe(true);
  });

  it('resolves the Caltech example: real sessions, real TOU tariff with demand charge', () => {
    const { request } = resolveExample('caltech-garage-tou.json');
    expect(request.vehicles).toHaveLength(38);
    const plan = createPlan(request);
    expect(plan.summary.peakAfterKw).toBeLessThan(plan.summary.peakBeforeKw);
    expect(plan.summary.savings).toBeGreaterThan(0);
  });

  it('resolves the solar example: PV file, feed-in tariff, hard fuse, target from a trip', () => {
    const { request, profile } = resolveExample('home-solar-trip.json');
    expect(request.grid.limitMode).toBe('hard');
    expect(request.feedInTariff?.currency).toBe('EUR');
    const plan = createPlan(request, profile ? { profile } : {});
    expect(plan.summary.currency).toBe('EUR');
    expect(plan.summary.solarChargingKwh).toBeGreaterThan(20);
    const car = plan.vehicles[0]!;
    expect(car.targetReached).toBe(true);
    expect(car.targetSocPercent).toBeCloseTo(180 / 3.9 + 15, 9);
    expect(car.chargeCompleteAt! < '2022-03-27T23:45').toBe(true);
    expect(plan.slots.every((s) => s.gridImportKw <= 16 + 1e-9)).toBe(true);
  });

  it('names the field of every problem', () => {
    const bad = {
      horizon: { start: '2024-01-01', hours: 24, slotMinutes: 15, timeZone: 'Europe/Berlin' },
      tariff: { type: 'dynamic', source: { format: 'nordpool', file: 'x.json' } },
      grid: { limitKw: -5 },
      vehicles: [
        { id: 'a', socPercent: 20, capacityKwh: 50, targetSocPercent: 80, departure: '2024-01-01T08:00' },
      ],
    };
    try {
      parseScenario(JSON.stringify(bad));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ScenarioError);
      const paths = (error as ScenarioError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['grid.limitKw', 'vehicles.0.maxPowerKw']));
      expect(paths.some((p) => p.startsWith('tariff'))).toBe(true);
    }
    expect(() => parseScenario('{ not json')).toThrow(/not valid JSON/);
  });

  it('voltkit-plan writes JSON, CSV, SVG and OCPP profiles, and exits 1 naming the bad field', () => {
    const out = mkdtempSync(join(tmpdir(), 'voltkit-plan-'));
    const run = (args: string[]) =>
      spawnSync(
        process.execPath,
        // The built CLI under plain node, as `voltkit-plan` runs it (turbo builds before testing).
        [join(here, '../../bin/voltkit-plan.mjs'), ...args],
        {
          encoding: 'utf8',
          cwd: join(here, '../..'),
          timeout: 30_000,
        },
      );
    const ok = run([join(here, 'examples/home-dst-night.json'), '--out', out]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('family-car');
    expect(ok.stdout).toContain('Assumed prices');
    const { format, plan } = JSON.parse(readFileSync(join(out, 'home-dst-night.plan.json'), 'utf8')) as {
      format: string;
      plan: { slots: unknown[] };
    };
    expect(format).toBe('voltkit-plan/1');
    expect(plan.slots).toHaveLength(96);
    expect(readFileSync(join(out, 'home-dst-night.plan.csv'), 'utf8').trim().split('\n')).toHaveLength(
      1 + 96 * 2,
    );
    const svg = readFileSync(join(out, 'home-dst-night.plan.svg'), 'utf8');
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('family-car');
    const profiles = JSON.parse(readFileSync(join(out, 'home-dst-night.ocpp-profiles.json'), 'utf8')) as {
      chargingProfile: { chargingSchedule: { chargingSchedulePeriod: unknown[] }[] };
    }[];
    expect(profiles).toHaveLength(2);
    expect(profiles[0]!.chargingProfile.chargingSchedule[0]!.chargingSchedulePeriod.length).toBeGreaterThan(
      1,
    );

    const badFile = join(out, 'bad.json');
    writeFileSync(
      badFile,
      JSON.stringify({
        horizon: { start: '2024-01-01', hours: 24, slotMinutes: 15, timeZone: 'Europe/Berlin' },
        tariff: { type: 'fixed', pricePerKwh: 0.3 },
        grid: { limitKw: 10 },
        vehicles: [
          {
            id: 'a',
            socPercent: 20,
            capacityKwh: 50,
            targetSocPercent: 80,
            departure: '2024-01-01T08:00',
            maxPowerKw: 0,
          },
        ],
      }),
    );
    const bad = run([badFile]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('vehicles.0.maxPowerKw');
  });
});
