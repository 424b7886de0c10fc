import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.ts';

describe('pnpm demo --scenario overnight', () => {
  it('runs a night end to end, reports every car, and exits 0 only because every target was met within the limit', async () => {
    const demo = runDemo(['--scenario', 'overnight'], {});
    const code = await demo.exited;
    const report = demo.stdout();
    expect(code, `${report}\n${demo.stderr()}`).toBe(0);

    expect(report).toContain('Overnight scenario: 24 Nov 2026, 18:00 → 25 Nov 2026, 07:00 (Europe/Berlin)');
    expect(report).toMatch(
      /prices: aWATTar DE day-ahead, \d+ slots replayed from awattar-de-hourly\.csv; feeder limit 24 kW/,
    );
    for (const car of ['DS DS 3 Crossback E-Tense', 'CITROEN ë-C4', 'BMW i8', 'TESLA Model 3', 'KIA EV6']) {
      const row = report.split('\n').find((line) => line.trimStart().startsWith(car));
      expect(row, car).toMatch(/ (79\.[5-9]|[89]\d\.\d|100\.0) % +80\.0 % .* target met$/);
    }
    expect(report).toMatch(/INFINITI Q50 +no traction battery/);

    const cost = /cost: ([\d.]+) EUR smart vs ([\d.]+) EUR charging on arrival/.exec(report);
    expect(Number(cost?.[1])).toBeGreaterThan(0);
    expect(Number(cost?.[1])).toBeLessThan(Number(cost?.[2]));

    const peak =
      /peak load: ([\d.]+) kW smart vs ([\d.]+) kW uncontrolled; limit 24 kW, slots over limit: 0/.exec(
        report,
      );
    expect(peak).not.toBeNull();
    expect(Number(peak?.[1])).toBeLessThanOrEqual(24);
    expect(Number(peak?.[2])).toBeGreaterThan(24); // the limit really binds

    const commands = /commands: (\d+) sent, (\d+) confirmed, 0 failed, 0 open/.exec(report);
    expect(Number(commands?.[1])).toBeGreaterThan(0);
    expect(commands?.[2]).toBe(commands?.[1]);

    const mqtt =
      /MQTT: (\d+) messages published \((\d+) discovery, (\d+) vehicle states\); refresh over MQTT (\d+)\/(\d+) answered; bridge offline on stop: yes/.exec(
        report,
      );
    expect(Number(mqtt?.[1])).toBeGreaterThan(100);
    expect(Number(mqtt?.[2])).toBeGreaterThanOrEqual(6);
    expect(mqtt?.[4]).toBe(mqtt?.[5]);

    const seconds = Number(/ran in ([\d.]+) s/.exec(report)?.[1]);
    expect(seconds).toBeLessThan(100);
    expect(report.trimEnd().split('\n').at(-1)).toBe('PASS: every target met, no limit broken');
  }, 150_000);

  it('exits non-zero with the reason when a limit cannot hold every target', async () => {
    // 9 kW for five cars and five homes: the targets cannot all be reached by 07:00.
    const demo = runDemo(['--scenario', 'overnight', '--grid-limit', '9'], {});
    const code = await demo.exited;
    expect(code, demo.stderr()).toBe(1);
    expect(demo.stdout()).toMatch(/FAIL: .*left with [\d.]+ %, target 80\.0 %/);
  }, 150_000);

  it('exits 1 with the reason when a slot of the night has no real price, instead of a PASS on zeros', async () => {
    const empty = join(mkdtempSync(join(tmpdir(), 'voltkit-demo-prices-')), 'empty.csv');
    writeFileSync(empty, '');
    const demo = runDemo(['--scenario', 'overnight', '--prices', empty], {});
    const code = await demo.exited;
    expect(code, demo.stdout()).toBe(1);
    expect(demo.stderr()).toContain(
      `FAIL: the scenario could not run: No prices from file:${empty} for 2026-11-24T17:00:00.000Z – 2026-11-25T06:00:00.000Z`,
    );
    expect(demo.stdout()).not.toContain('PASS');
  }, 150_000);

  it('with --limit-mode hard keeps every minute under the feeder limit and still meets every target', async () => {
    const demo = runDemo(['--scenario', 'overnight', '--limit-mode', 'hard'], {});
    const code = await demo.exited;
    const report = demo.stdout();
    expect(code, `${report}\n${demo.stderr()}`).toBe(0);
    const draw = /hard limit: highest one-minute draw ([\d.]+) kW, limit 24 kW/.exec(report);
    expect(draw).not.toBeNull();
    expect(Number(draw?.[1])).toBeLessThanOrEqual(24);
    expect(Number(draw?.[1])).toBeGreaterThan(10); // it did charge, and hard
    const cost = /cost: ([\d.]+) EUR smart vs ([\d.]+) EUR charging on arrival/.exec(report);
    expect(Number(cost?.[1])).toBeGreaterThan(0);
    expect(Number(cost?.[1])).toBeLessThan(Number(cost?.[2]));
    expect(report.trimEnd().split('\n').at(-1)).toBe('PASS: every target met, no limit broken');
  }, 200_000);
});
