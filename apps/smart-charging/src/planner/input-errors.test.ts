/**
 * One test per input defect found by the independent check of the planner (issue 17, point 3) and
 * the invented-price finding of issue 11: each is refused with the field named, or listed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPlanCli } from './cli-program.ts';
import { PlanInputError } from './errors.ts';
import { createPlan, parsePlanRequest, type PlanRequestInput } from './plan.ts';
import { PriceImportError, parsePriceCsv } from './price-import.ts';
import { ScenarioError, parseScenario, resolveScenario } from './scenario.ts';
import { fixture } from './testing/fixtures.ts';

const car = {
  id: 'car',
  socPercent: 30,
  capacityKwh: 60,
  targetSocPercent: 80,
  arrival: '2022-03-26T18:00',
  departure: '2022-03-27T07:00',
  maxPowerKw: 11,
};

function homeRequest(overrides: Partial<PlanRequestInput> = {}): PlanRequestInput {
  return {
    horizon: { start: '2022-03-26T12:00', hours: 24, slotMinutes: 15, timeZone: 'Europe/Berlin' },
    tariff: {
      type: 'dynamic',
      currency: 'EUR',
      prices: parsePriceCsv(fixture('awattar-de-2022-03-26_28.csv')),
    },
    grid: { limitKw: 11 },
    vehicles: [car],
    ...overrides,
  };
}

/** The issues a request is refused with (fails the test when it is accepted). */
function refusal(input: unknown): { path: string; message: string }[] {
  try {
    createPlan(parsePlanRequest(input));
  } catch (error) {
    expect(error).toBeInstanceOf(PlanInputError);
    return [...(error as PlanInputError).issues];
  }
  expect.unreachable('the request was accepted');
}

/** Runs voltkit-plan in-process on a scenario written to a temporary directory. */
function runScenario(scenario: unknown, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'voltkit-plan-input-'));
  writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  let stdout = '';
  let stderr = '';
  const status = runPlanCli([join(dir, 'scenario.json'), '--format', 'json'], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    cwd: dir,
  });
  return { status, stdout, stderr };
}

const scenarioWithCsv = (source: Record<string, unknown>) => ({
  horizon: { start: '2025-02-24T00:00', hours: 6, slotMinutes: 60, timeZone: 'UTC' },
  tariff: { type: 'dynamic', source: { format: 'csv', file: 'prices.csv', ...source } },
  grid: { limitKw: 11 },
  vehicles: [{ ...car, arrival: '2025-02-24T00:00', departure: '2025-02-24T06:00' }],
});

describe('units are never guessed', () => {
  const unitless = '2025-02-24 00:00:00+00:00,0.1419\n2025-02-24 01:00:00+00:00,0.1250\n';

  it('refuses a CSV without a unit column instead of reading it as per MWh', () => {
    expect(() => parsePriceCsv(unitless)).toThrow(PriceImportError);
    expect(() => parsePriceCsv(unitless)).toThrow(/no unit column and no unit was stated/);
    const cli = runScenario(scenarioWithCsv({}), { 'prices.csv': unitless });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('tariff.source');
    expect(cli.stderr).toContain('per MWh or per kWh');
  });

  it('reads it when the scenario states the unit, and every output carries the currency', () => {
    expect(parsePriceCsv(unitless, { unit: 'EUR/kWh' })[0]!.pricePerKwh).toBeCloseTo(0.1419, 12);
    const cli = runScenario(scenarioWithCsv({ unit: 'EUR/kWh' }), {
      'prices.csv': `${unitless}2025-02-24 02:00:00+00:00,0.1\n2025-02-24 03:00:00+00:00,0.1\n2025-02-24 04:00:00+00:00,0.1\n2025-02-24 05:00:00+00:00,0.1\n`,
    });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    const { plan } = JSON.parse(cli.stdout) as { plan: { summary: { currency: string } } };
    expect(plan.summary.currency).toBe('EUR');
  });

  it('refuses a scenario whose currency nobody states', () => {
    const cli = runScenario({ ...scenarioWithCsv({}), tariff: { type: 'fixed', pricePerKwh: 0.3 } });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('tariff.currency: state the currency');
  });
});

describe('gaps are gaps', () => {
  it('a start-only row lasts one step of the series; a 4-hour gap is assumed and listed', () => {
    const hours = [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
    const csv = `start,price,unit\n${hours.map((h) => `2025-02-24T${String(h).padStart(2, '0')}:00:00Z,${100 + h},EUR/MWh`).join('\n')}\n`;
    const points = parsePriceCsv(csv);
    expect(points[5]!.endMs - points[5]!.startMs).toBe(3_600_000);
    const plan = createPlan(
      parsePlanRequest({
        horizon: { start: '2025-02-24T00:00Z', hours: 24, slotMinutes: 60, timeZone: 'UTC' },
        tariff: { type: 'dynamic', currency: 'EUR', prices: points, gapPolicy: 'last-known' },
        grid: { limitKw: 11 },
        vehicles: [{ ...car, arrival: undefined, departure: '2025-02-25T00:00Z' }],
      }),
    );
    expect(plan.assumptions).toEqual([
      expect.objectContaining({
        from: '2025-02-24T06:00:00+00:00',
        to: '2025-02-24T10:00:00+00:00',
        slots: 4,
        method: 'last known price',
      }),
    ]);
    expect(plan.slots.filter((s) => s.priceAssumed)).toHaveLength(4);
  });
});

describe('bad values are refused naming the field, without a stack trace', () => {
  it('an unparseable departure names vehicles.N.departure', () => {
    const issues = refusal(homeRequest({ vehicles: [{ ...car, departure: 'tomorrow 7am' }] }));
    expect(issues).toEqual([
      { path: 'vehicles.0.departure', message: expect.stringContaining('"tomorrow 7am" is not a time') },
    ]);
    const cli = runScenario(
      { ...scenarioWithCsv({ unit: 'EUR/MWh' }), vehicles: [{ ...car, departure: 'x' }] },
      {
        'prices.csv': '2025-02-24T00:00Z,100\n2025-02-24T01:00Z,100\n',
      },
    );
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('vehicles.0.departure');
    expect(cli.stderr).not.toMatch(/\n\s+at /);
  });

  it('a horizon end before its start names horizon.end', () => {
    const issues = refusal(
      homeRequest({
        horizon: {
          start: '2022-03-27T12:00',
          end: '2022-03-26T12:00',
          slotMinutes: 15,
          timeZone: 'Europe/Berlin',
        },
      }),
    );
    expect(issues).toEqual([
      { path: 'horizon.end', message: expect.stringContaining('must be after horizon.start') },
    ]);
  });

  it('a base-load series of the wrong length names grid.baseLoad.kw and the slot count', () => {
    const issues = refusal(
      homeRequest({ grid: { limitKw: 11, baseLoad: { kind: 'series', kw: [0.5, 0.5] } } }),
    );
    expect(issues).toEqual([
      { path: 'grid.baseLoad.kw', message: expect.stringContaining('the horizon has 96 slots of 15 min') },
    ]);
  });

  it('a departure before the arrival is an error, not a shortfall', () => {
    const issues = refusal(homeRequest({ vehicles: [{ ...car, departure: '2022-03-26T17:00' }] }));
    expect(issues).toEqual([
      { path: 'vehicles.0.departure', message: 'must be after vehicles.0.arrival (2022-03-26T18:00)' },
    ]);
  });

  it('duplicate vehicle ids are an error', () => {
    const issues = refusal(homeRequest({ vehicles: [car, { ...car }] }));
    expect(issues).toEqual([
      { path: 'vehicles.1.id', message: '"car" is already the id of vehicles.0; ids must be unique' },
    ]);
  });

  it('union fields say what is allowed: slot lengths, tariff types, limits', () => {
    expect(
      refusal(
        homeRequest({
          horizon: { start: '2022-03-26T12:00', hours: 24, slotMinutes: 20 as 15, timeZone: 'UTC' },
        }),
      ),
    ).toEqual([{ path: 'horizon.slotMinutes', message: 'must be one of 5, 15, 30, 60 (minutes)' }]);
    expect(refusal(homeRequest({ tariff: { type: 'spot' } as never }))).toEqual([
      { path: 'tariff.type', message: expect.stringMatching(/"fixed", "tou" or "dynamic"/) },
    ]);
    expect(refusal(homeRequest({ grid: { limitKw: 'lots' as never } }))).toEqual([
      { path: 'grid.limitKw', message: expect.stringContaining('a power in kW') },
    ]);
    expect(() => parseScenario(JSON.stringify({ ...scenarioWithCsv({}), tariff: { type: 'spot' } }))).toThrow(
      /tariff: must be \{ type: "fixed"/,
    );
  });
});

describe('the planner never invents a price', () => {
  it('an empty price series is an error, not prices of 0', () => {
    const issues = refusal(homeRequest({ tariff: { type: 'dynamic', currency: 'EUR', prices: [] } }));
    expect(issues).toEqual([
      { path: 'tariff.prices', message: expect.stringContaining('the tariff has no prices at all') },
    ]);
    try {
      createPlan(parsePlanRequest(homeRequest({ tariff: { type: 'dynamic', prices: [] } })));
    } catch (error) {
      expect((error as PlanInputError).code).toBe('no-prices');
    }
  });

  it('plans energy only when the caller asks for it by name, every slot assumed and said so', () => {
    const plan = createPlan(
      parsePlanRequest(
        homeRequest({
          tariff: { type: 'dynamic', currency: 'EUR', prices: [], whenNoPriceKnown: 'energy-only' },
        }),
      ),
    );
    expect(plan.vehicles[0]!.targetReached).toBe(true);
    expect(plan.slots.every((slot) => slot.priceAssumed)).toBe(true);
    expect(plan.assumptions).toEqual([
      expect.objectContaining({ slots: 96, method: 'energy only: no price known, costs unknown' }),
    ]);
    expect(plan.warnings[0]).toMatch(/every cost in this plan is unknown, not 0/);
  });

  it('prices wholly outside the horizon are an error naming both spans', () => {
    const issues = refusal(
      homeRequest({
        horizon: { start: '2023-06-01T00:00', hours: 24, slotMinutes: 60, timeZone: 'Europe/Berlin' },
        vehicles: [{ ...car, arrival: '2023-06-01T18:00', departure: '2023-06-01T23:00' }],
      }),
    );
    expect(issues[0]!.path).toBe('tariff.prices');
    expect(issues[0]!.message).toMatch(
      /no price is known for any slot of the horizon 2023-06-01T00:00:00\+02:00/,
    );
    expect(issues[0]!.message).toMatch(
      /the prices cover 2022-03-26T00:00:00\+01:00 → 2022-03-29T00:00:00\+02:00/,
    );
  });

  it('a header-only or empty price file is an error', () => {
    expect(() => parsePriceCsv('start,end,price,unit\n')).toThrow(/header but no rows/);
    expect(() => parsePriceCsv('\n')).toThrow(/empty/);
    const cli = runScenario(scenarioWithCsv({}), { 'prices.csv': 'start,end,price,unit\n' });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('tariff.source: CSV has a header but no rows');
  });

  it('a partly unknown horizon is planned and every assumed run listed', () => {
    const plan = createPlan(
      parsePlanRequest(
        homeRequest({
          horizon: { start: '2022-03-28T12:00', hours: 24, slotMinutes: 15, timeZone: 'Europe/Berlin' },
          vehicles: [{ ...car, arrival: '2022-03-28T18:00', departure: '2022-03-29T07:00' }],
        }),
      ),
    );
    expect(plan.assumptions.map((a) => [a.from, a.to, a.method])).toEqual([
      ['2022-03-29T00:00:00+02:00', '2022-03-29T12:00:00+02:00', 'same time previous day'],
    ]);
  });

  it('ScenarioError and PlanInputError carry the same issue shape', () => {
    expect(() => resolveScenario(parseScenario(JSON.stringify(scenarioWithCsv({}))), () => '')).toThrow(
      ScenarioError,
    );
  });
});
