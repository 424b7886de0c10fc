import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { PLAN_JSON_FORMAT, runPlanCli } from './cli-program.ts';
import { scenarioJsonSchema } from './scenario-schema.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const status = runPlanCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    cwd: here,
  });
  return { status, stdout, stderr };
}

describe('voltkit-plan', () => {
  it('--help lists every option with examples and the exit codes', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    for (const option of [
      '--format',
      '--out',
      '--json',
      '--csv',
      '--svg',
      '--ocpp',
      '--unit',
      '--objective',
      '--vehicles',
      '--quiet',
      '--schema',
      '--version',
    ])
      expect(help.stdout).toContain(option);
    expect(help.stdout).toContain('examples:');
    expect(help.stdout).toContain('exit codes: 0 planned, 1 bad input');
  });

  it('--version prints the package version', () => {
    expect(run(['--version'])).toEqual({ status: 0, stdout: `${packageJson.version}\n`, stderr: '' });
  });

  it('the committed scenario.schema.json is the one generated from the zod schema', () => {
    const committed = JSON.parse(readFileSync(join(here, 'scenario.schema.json'), 'utf8')) as unknown;
    expect(committed).toEqual(scenarioJsonSchema());
    expect(JSON.parse(run(['--schema']).stdout)).toEqual(committed);
  });

  it('--format json prints one stable document: format tag, scenario, plan with currency', () => {
    const result = run(['examples/home-dst-night.json', '--format', 'json']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const document = JSON.parse(result.stdout) as {
      format: string;
      scenario: { name: string; file: string };
      plan: Record<string, unknown> & { summary: Record<string, unknown>; slots: Record<string, unknown>[] };
    };
    expect(document.format).toBe(PLAN_JSON_FORMAT);
    expect(document.scenario.file).toBe('examples/home-dst-night.json');
    // The documented fields (README "--format json"); adding is allowed, removing or renaming is not.
    expect(Object.keys(document.plan)).toEqual(
      expect.arrayContaining([
        'timeZone',
        'slotMinutes',
        'start',
        'end',
        'slots',
        'vehicles',
        'summary',
        'assumptions',
      ]),
    );
    expect(Object.keys(document.plan.summary)).toEqual(
      expect.arrayContaining([
        'objective',
        'currency',
        'energyKwh',
        'totalCost',
        'targetEnergyKwh',
        'targetEnergyCost',
        'immediateCost',
        'immediateEnergyKwh',
        'savings',
        'opportunisticEnergyKwh',
        'opportunisticCost',
        'peakAfterKw',
        'shortfallKwh',
      ]),
    );
    expect(Object.keys(document.plan.slots[0]!)).toEqual(
      expect.arrayContaining(['start', 'pricePerKwh', 'priceAssumed', 'limitKw', 'baseKw', 'chargingKw']),
    );
    expect(document.plan.summary['currency']).toBe('EUR');
    // Same input, same bytes: nothing in the document depends on the clock.
    expect(run(['examples/home-dst-night.json', '--format', 'json']).stdout).toBe(result.stdout);
  });

  it('compares like with like: the baseline buys the same energy; extras are on their own line', () => {
    const report = run(['examples/home-dst-night.json', '--quiet', '--format', 'json']);
    const { summary } = (JSON.parse(report.stdout) as { plan: { summary: Record<string, number> } }).plan;
    expect(summary['immediateEnergyKwh']).toBeCloseTo(summary['targetEnergyKwh']!, 6);
    expect(summary['savings']).toBeGreaterThan(0);
    expect(summary['opportunisticEnergyKwh']).toBeGreaterThan(1);
    expect(summary['targetEnergyCost']! + summary['opportunisticCost']!).toBeCloseTo(
      summary['totalCost']!,
      9,
    );
    const text = run([
      'examples/home-dst-night.json',
      '--out',
      mkdtempSync(join(tmpdir(), 'voltkit-plan-cli-')),
    ]);
    expect(text.stdout).toMatch(/savings for the same energy: \d+\.\d\d EUR/);
    expect(text.stdout).toMatch(/opportunistic extra: \d+\.\d\d kWh beyond the targets/);
  });

  it('usage mistakes exit 2 with a hint, not a stack trace', () => {
    for (const argv of [
      [],
      ['a.json', 'b.json'],
      ['x.json', '--format', 'yaml'],
      ['x.json', '--vehicles', 'many'],
      ['--bogus'],
    ]) {
      const result = run(argv);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('voltkit-plan --help');
    }
    expect(run(['missing.json']).status).toBe(1);
  });

  it('as a process: a bad scenario exits 1 with the message and no stack trace', () => {
    // The built CLI under plain node, as `voltkit-plan` runs it (turbo builds before testing).
    const child = spawnSync(
      process.execPath,
      [join(here, '../../bin/voltkit-plan.mjs'), join(here, '__fixtures__/prices-15min-header.csv')],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(child.status).toBe(1);
    expect(child.stderr).toContain('not valid JSON');
    expect(child.stderr).not.toMatch(/\n\s+at /);
  });
});
