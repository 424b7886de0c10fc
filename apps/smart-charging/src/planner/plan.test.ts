import type { Highs } from 'highs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createPlan,
  createPlanningContext,
  lpObjective,
  optimise,
  parsePlanRequest,
  PlanInputError,
  type Objective,
  type Plan,
  type PlanRequest,
  type PlanRequestInput,
} from '@voltkit/smart-charging/planner';
import { parsePriceCsv } from './price-import.ts';
import { parseInstant } from './time-grid.ts';
import { parseTouTariffJson } from './tariff.ts';
import { fleetViolations, relativeGap } from './testing/check-plan.ts';
import { fixture, h25Profile, randomVehicles } from './testing/fixtures.ts';
import { loadHighs } from './testing/highs-reference.ts';
import { referencePlan } from './testing/plan-reference.ts';

let highs: Highs;
beforeAll(async () => {
  highs = await loadHighs();
});

function request(input: PlanRequestInput): PlanRequest {
  return parsePlanRequest(input);
}

/** Every physical constraint on the final plan: power, plug-in window, SoC, charge limit, grid limit. */
function expectPlanFeasible(req: PlanRequest, plan: Plan): void {
  const slotMs = plan.slotMinutes * 60_000;
  const startMs = Date.parse(plan.start);
  for (const [k, v] of plan.vehicles.entries()) {
    const vehicle = req.vehicles[k]!;
    const arrival = vehicle.arrival === undefined ? startMs : parseInstant(vehicle.arrival, plan.timeZone);
    const departure = parseInstant(vehicle.departure, plan.timeZone);
    v.powerKw.forEach((kw, t) => {
      expect(kw).toBeGreaterThanOrEqual(-1e-9);
      expect(kw).toBeLessThanOrEqual(vehicle.maxPowerKw + 1e-9);
      const slotStart = startMs + t * slotMs;
      if (slotStart + slotMs <= arrival || slotStart >= departure) expect(Math.abs(kw)).toBeLessThan(1e-9);
    });
    for (const soc of v.socPercent)
      expect(soc).toBeLessThanOrEqual(Math.max(vehicle.chargeLimitPercent, vehicle.socPercent) + 1e-6);
  }
  plan.slots.forEach((slot) => {
    const headroom = Math.max(0, slot.limitKw - slot.baseKw);
    expect(slot.chargingKw).toBeLessThanOrEqual(headroom + 1e-6);
  });
}

function planAndCompare(req: PlanRequest, objective: Objective) {
  const context = createPlanningContext(req, { profile: h25Profile() });
  const result = optimise(context, objective, req.demandFloorKw);
  expect(fleetViolations(context.fleet.problem, result.solution.energyKwh)).toEqual([]);
  const reference = referencePlan(highs, context, objective, req.demandFloorKw);
  expect(reference.status).toBe('Optimal');
  let delivered = 0;
  for (let i = 0; i < context.fleet.problem.vehicleCount; i++) {
    delivered += context.fleet.problem.demandKwh[i]! - result.solution.shortfallKwh[i]!;
  }
  expect(relativeGap(delivered, reference.deliveredKwh)).toBeLessThan(1e-6);
  const plan = createPlan(req, { profile: h25Profile() });
  expectPlanFeasible(req, plan);
  return { context, result, reference, plan, cost: lpObjective(context.fleet.problem, result.solution) };
}

const berlinGrid = (limitKw: number) => ({
  limitKw,
  baseLoad: { kind: 'bdew-h25' as const, annualKwh: 40 * 3500 },
  demandResponse: [{ start: '2022-03-27T18:00', end: '2022-03-27T20:00', limitKw: limitKw * 0.6 }],
});

describe('plans on real days equal the HiGHS optimum', () => {
  const spring = parsePriceCsv(fixture('awattar-de-2022-03-26_28.csv'));
  const autumn = parsePriceCsv(fixture('awattar-de-2022-10-29_31.csv'));
  const newYear = parsePriceCsv(fixture('awattar-de-2022-12-31_2023-01-02.csv'));

  it('cost objective, DST spring day (23 h) in 15-min slots, base load and a demand-response event', () => {
    const req = request({
      horizon: { start: '2022-03-27', end: '2022-03-28', slotMinutes: 15, timeZone: 'Europe/Berlin' },
      tariff: { type: 'dynamic', prices: spring, surchargePerKwh: 0.15, vatRate: 0.19 },
      grid: berlinGrid(70),
      vehicles: randomVehicles(1, 30, '2022-03-27', { extras: true }),
    });
    const { context, reference, cost, plan } = planAndCompare(req, 'cost');
    expect(context.grid.slotCount).toBe(92);
    expect(relativeGap(cost, reference.objective)).toBeLessThan(1e-6);
    expect(plan.summary.savings).toBeGreaterThan(0);
    expect(plan.vehicles.some((v) => v.shortfall)).toBe(true);
  });

  it('cost-then-peak, DST autumn day (25 h) in 60-min slots: same cost, the LP-optimal peak', () => {
    const req = request({
      horizon: { start: '2022-10-30', end: '2022-10-31', slotMinutes: 60, timeZone: 'Europe/Berlin' },
      tariff: { type: 'dynamic', prices: autumn },
      grid: { limitKw: 90, baseLoad: { kind: 'bdew-h25', annualKwh: 40 * 3500 } },
      vehicles: randomVehicles(2, 25, '2022-10-30', { extras: true }),
      objective: 'cost-then-peak',
    });
    const { context, reference, result, plan } = planAndCompare(req, 'cost-then-peak');
    expect(context.grid.slotCount).toBe(25);
    expect(relativeGap(result.level, reference.peakKw)).toBeLessThan(1e-6);
    expect(plan.summary.peakAfterKw).toBeLessThanOrEqual(reference.peakKw * (1 + 1e-6));
    // Cost equals the pure cost optimum.
    const costOnly = optimise(context, 'cost');
    expect(
      relativeGap(
        lpObjective(context.fleet.problem, result.solution),
        lpObjective(context.fleet.problem, costOnly.solution),
      ),
    ).toBeLessThan(1e-6);
  });

  it('peak objective (valley filling) with negative prices on New Year 2023, 15-min slots', () => {
    const req = request({
      horizon: { start: '2023-01-01', end: '2023-01-02', slotMinutes: 15, timeZone: 'Europe/Berlin' },
      tariff: { type: 'dynamic', prices: newYear },
      grid: { limitKw: 120, baseLoad: { kind: 'bdew-h25', annualKwh: 60 * 3500 } },
      vehicles: randomVehicles(3, 30, '2023-01-01'),
      objective: 'peak',
    });
    const { reference, plan } = planAndCompare(req, 'peak');
    expect(newYear.some((p) => p.pricePerKwh < 0)).toBe(true);
    expect(relativeGap(plan.summary.peakAfterKw, reference.objective)).toBeLessThan(1e-6);
    expect(plan.summary.peakAfterKw).toBeLessThan(plan.summary.peakBeforeKw);
  });

  it('TOU tariff with a demand charge (SCE TOU-EV-4) on the real ACN sessions of 2019-03-05', () => {
    const sessions = fixture('acn-caltech-2019-03-05.csv')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    const req = request({
      horizon: { start: '2019-03-05', end: '2019-03-06', slotMinutes: 15, timeZone: 'America/Los_Angeles' },
      tariff: parseTouTariffJson(fixture('sce_tou_ev_4_march_2019.json')),
      grid: { limitKw: 60 },
      vehicles: sessions.map(([id, , arrival, departure, kwh, kw]) => ({
        id: id!,
        socPercent: 0,
        capacityKwh: Math.max(Number(kwh), 0.1),
        targetSocPercent: 100,
        arrival: arrival!,
        departure: departure!,
        maxPowerKw: Number(kw),
        efficiency: 1,
      })),
    });
    const { context, reference, cost, plan } = planAndCompare(req, 'cost');
    expect(context.prices.demandChargePerKw).toBe(15.51);
    const total = cost + context.prices.demandChargePerKw * plan.summary.peakAfterKw;
    expect(relativeGap(total, reference.objective)).toBeLessThan(1e-6);
    expect(relativeGap(plan.summary.totalCost, total)).toBeLessThan(1e-9);
  });
});

describe('plan contents', () => {
  const base = {
    horizon: { start: '2022-03-26T12:00', hours: 36, slotMinutes: 15 as const, timeZone: 'Europe/Berlin' },
    grid: { limitKw: 11 },
  };

  it('says which prices it assumed when tomorrow is not yet published', () => {
    const known = parsePriceCsv(fixture('awattar-de-2022-03-26_28.csv')).filter(
      (p) => p.startMs < Date.parse('2022-03-27T12:00:00+02:00'),
    );
    const plan = createPlan(
      request({
        ...base,
        tariff: { type: 'dynamic', prices: known },
        vehicles: [
          {
            id: 'a',
            socPercent: 20,
            capacityKwh: 60,
            targetSocPercent: 80,
            departure: '2022-03-27T23:00',
            maxPowerKw: 11,
          },
        ],
      }),
    );
    expect(plan.assumptions.length).toBeGreaterThan(0);
    expect(plan.assumptions[0]!.method).toBe('same time previous day');
    expect(plan.assumptions[0]!.from).toBe('2022-03-27T12:00:00+02:00');
    expect(plan.slots.filter((s) => s.priceAssumed).length).toBe(
      plan.assumptions.reduce((n, a) => n + a.slots, 0),
    );
  });

  it('reports each shortfall with its cause: time, power (taper) or grid', () => {
    const plan = createPlan(
      request({
        ...base,
        tariff: { type: 'fixed', pricePerKwh: 0.3 },
        grid: { limitKw: 7 },
        vehicles: [
          {
            id: 'short-stay',
            socPercent: 10,
            capacityKwh: 60,
            targetSocPercent: 90,
            arrival: '2022-03-26T12:00',
            departure: '2022-03-26T13:00',
            maxPowerKw: 11,
          },
          {
            id: 'taper',
            socPercent: 10,
            capacityKwh: 40,
            targetSocPercent: 100,
            departure: '2022-03-26T16:15',
            maxPowerKw: 11,
            efficiency: 1,
            taper: { startSocPercent: 50, endPowerKw: 1 },
          },
          {
            id: 'shared',
            socPercent: 10,
            capacityKwh: 50,
            targetSocPercent: 100,
            arrival: '2022-03-26T13:00',
            departure: '2022-03-26T19:00',
            maxPowerKw: 11,
          },
        ],
      }),
    );
    const causes = Object.fromEntries(plan.vehicles.map((v) => [v.id, v.shortfall?.cause]));
    expect(causes).toEqual({ 'short-stay': 'time', taper: 'power', shared: 'grid' });
    // As much as possible was still delivered: the grid limit is used to the full while anyone needs it.
    expect(plan.slots.slice(0, 4 * 7).every((s) => Math.abs(s.chargingKw - 7) < 1e-9)).toBe(true);
  });

  it('reaches the minimum SoC at once, whatever the price, then waits for cheap slots', () => {
    const prices = Array.from({ length: 8 }, (_, h) => ({
      startMs: Date.parse('2024-06-03T00:00:00Z') + h * 3_600_000,
      endMs: Date.parse('2024-06-03T00:00:00Z') + (h + 1) * 3_600_000,
      pricePerKwh: h < 2 ? 0.9 : 0.1,
    }));
    const plan = createPlan(
      request({
        horizon: { start: '2024-06-03T00:00:00Z', hours: 8, slotMinutes: 60, timeZone: 'UTC' },
        tariff: { type: 'dynamic', prices },
        grid: { limitKw: 100 },
        vehicles: [
          {
            id: 'a',
            socPercent: 10,
            capacityKwh: 50,
            targetSocPercent: 60,
            minSocPercent: 20,
            departure: '2024-06-03T08:00:00Z',
            maxPowerKw: 5,
            efficiency: 1,
          },
        ],
      }),
    );
    expect(plan.vehicles[0]!.powerKw[0]).toBeCloseTo(5, 9);
    expect(plan.vehicles[0]!.powerKw[1]).toBeCloseTo(0, 9);
    expect(plan.vehicles[0]!.finalSocPercent).toBeCloseTo(60, 9);
  });

  it('charges beyond the target only where the price is below the cap', () => {
    const prices = Array.from({ length: 6 }, (_, h) => ({
      startMs: Date.parse('2024-06-03T00:00:00Z') + h * 3_600_000,
      endMs: Date.parse('2024-06-03T00:00:00Z') + (h + 1) * 3_600_000,
      pricePerKwh: [0.3, -0.05, 0.02, 0.3, 0.3, 0.3][h]!,
    }));
    const plan = createPlan(
      request({
        horizon: { start: '2024-06-03T00:00:00Z', hours: 6, slotMinutes: 60, timeZone: 'UTC' },
        tariff: { type: 'dynamic', prices },
        grid: { limitKw: 100 },
        vehicles: [
          {
            id: 'a',
            socPercent: 50,
            capacityKwh: 100,
            targetSocPercent: 55,
            chargeLimitPercent: 80,
            opportunisticPriceCap: 0.05,
            departure: '2024-06-03T06:00:00Z',
            maxPowerKw: 10,
            efficiency: 1,
          },
        ],
      }),
    );
    expect(plan.vehicles[0]!.powerKw.map((p) => Math.round(p * 1e6) / 1e6)).toEqual([0, 10, 10, 0, 0, 0]);
    expect(plan.vehicles[0]!.finalSocPercent).toBeCloseTo(70, 9);
  });

  it('rejects bad requests naming the field', () => {
    expect(() =>
      parsePlanRequest({
        horizon: { start: '2024-01-01', hours: 24, slotMinutes: 20, timeZone: 'Mars/Olympus' },
        tariff: { type: 'fixed', pricePerKwh: 0.3 },
        grid: { limitKw: 10 },
        vehicles: [
          {
            id: 'a',
            socPercent: 120,
            capacityKwh: 50,
            targetSocPercent: 80,
            departure: '2024-01-01T08:00',
            maxPowerKw: 11,
          },
        ],
      }),
    ).toThrow(PlanInputError);
    try {
      parsePlanRequest({
        horizon: { start: '2024-01-01', hours: 24, slotMinutes: 20, timeZone: 'Mars/Olympus' },
        tariff: { type: 'fixed', pricePerKwh: 0.3 },
        grid: { limitKw: 10 },
        vehicles: [
          {
            id: 'a',
            socPercent: 120,
            capacityKwh: 50,
            targetSocPercent: 80,
            departure: '2024-01-01T08:00',
            maxPowerKw: 11,
          },
        ],
      });
    } catch (error) {
      const paths = (error as PlanInputError).issues.map((i) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining(['horizon.slotMinutes', 'horizon.timeZone', 'vehicles.0.socPercent']),
      );
    }
  });
});
