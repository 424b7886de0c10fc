import type { Highs } from 'highs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createPlan,
  createPlanningContext,
  horizonGrid,
  lpObjective,
  optimise,
  parsePlanRequest,
  type Objective,
  type PlanRequest,
  type PlanRequestInput,
} from './plan.ts';
import { parsePriceCsv } from './price-import.ts';
import { formatPlanReport, planToCsv } from './report.ts';
import { fleetViolations, relativeGap } from './testing/check-plan.ts';
import { fixture, h25Profile, randomVehicles } from './testing/fixtures.ts';
import { loadHighs } from './testing/highs-reference.ts';
import { referencePlan } from './testing/plan-reference.ts';
import { BERLIN_HOME_PV, clearSkyPvKw } from './testing/solar.ts';

let highs: Highs;
beforeAll(async () => {
  highs = await loadHighs();
});

const spring = parsePriceCsv(fixture('awattar-de-2022-03-26_28.csv'));
const summer = parsePriceCsv(fixture('awattar-de-2022-10-29_31.csv'));

/** The request with the PV of `site` on its horizon. */
function withPv(input: PlanRequestInput, peakKw: number): PlanRequest {
  const slots = horizonGrid(parsePlanRequest(input));
  return parsePlanRequest({
    ...input,
    grid: { ...input.grid, pvKw: clearSkyPvKw(slots, { ...BERLIN_HOME_PV, peakKw }) },
  });
}

function compareWithHighs(request: PlanRequest, objective: Objective) {
  const context = createPlanningContext(request, { profile: h25Profile() });
  const result = optimise(context, objective, request.demandFloorKw);
  expect(fleetViolations(context.fleet.problem, result.solution.energyKwh)).toEqual([]);
  const reference = referencePlan(highs, context, objective, request.demandFloorKw);
  expect(reference.status).toBe('Optimal');
  const plan = createPlan(request, { profile: h25Profile() });
  for (const slot of plan.slots) {
    // The limit is on import; PV surplus comes on top.
    expect(slot.gridImportKw).toBeLessThanOrEqual(slot.limitKw + 1e-6);
    expect(slot.solarChargingKw).toBeLessThanOrEqual(slot.chargingKw + 1e-9);
    expect(slot.gridImportKw - slot.gridExportKw).toBeCloseTo(slot.baseKw - slot.pvKw + slot.chargingKw, 9);
  }
  return { context, result, reference, plan, cost: lpObjective(context.fleet.problem, result.solution) };
}

const home = (overrides: Partial<PlanRequestInput> = {}): PlanRequestInput => ({
  horizon: { start: '2022-03-27', end: '2022-03-28', slotMinutes: 15, timeZone: 'Europe/Berlin' },
  tariff: { type: 'dynamic', currency: 'EUR', prices: spring, surchargePerKwh: 0.15, vatRate: 0.19 },
  feedInTariff: { type: 'fixed', currency: 'EUR', pricePerKwh: 0.08 },
  grid: { limitKw: 11, baseLoad: { kind: 'bdew-h25', annualKwh: 4000 } },
  vehicles: [
    {
      id: 'home-car',
      socPercent: 25,
      capacityKwh: 60,
      targetSocPercent: 80,
      arrival: '2022-03-27T09:00',
      departure: '2022-03-27T23:00',
      maxPowerKw: 11,
      minPowerKw: 0,
    },
  ],
  ...overrides,
});

describe('PV surplus: the plan equals the HiGHS optimum', () => {
  it('one car at home on the DST spring day: the surplus goes to the car first, costed at the feed-in price', () => {
    const request = withPv(home(), 8);
    const { reference, cost, plan } = compareWithHighs(request, 'cost');
    expect(plan.slots).toHaveLength(92);
    expect(relativeGap(cost, reference.objective)).toBeLessThan(1e-6);
    expect(plan.summary.solarChargingKwh).toBeGreaterThan(15);
    // Wherever the car charges from the grid at midday, no surplus is exported at the same time.
    for (const slot of plan.slots)
      if (slot.gridImportKw > 1e-6 && slot.chargingKw > 0) expect(slot.gridExportKw).toBe(0);
    // The same car without PV pays more.
    const withoutPv = createPlan(parsePlanRequest(home({ feedInTariff: undefined })), {
      profile: h25Profile(),
    });
    expect(plan.summary.totalCost).toBeLessThan(withoutPv.summary.totalCost - 1);
    expect(plan.warnings).toEqual([]);
  });

  it.each(['cost', 'cost-then-peak', 'peak'] as const)(
    'a fleet of 40 behind a 60 kW limit with 150 kWp on the roof (%s)',
    (objective) => {
      const request = withPv(
        home({
          grid: { limitKw: 60, baseLoad: { kind: 'bdew-h25', annualKwh: 20 * 3500 } },
          vehicles: randomVehicles(17, 40, '2022-03-27', { extras: true }),
          objective,
        }),
        150,
      );
      const { reference, cost, result, plan } = compareWithHighs(request, objective);
      if (objective === 'cost') expect(relativeGap(cost, reference.objective)).toBeLessThan(1e-6);
      else expect(relativeGap(result.level, reference.peakKw)).toBeLessThan(1e-6);
      expect(plan.summary.solarChargingKwh).toBeGreaterThan(50);
    },
  );

  it('feed-in at the spot price in 30-min slots on the autumn DST day (25 h), with a demand charge', () => {
    const request = withPv(
      home({
        horizon: { start: '2022-10-30', end: '2022-10-31', slotMinutes: 30, timeZone: 'Europe/Berlin' },
        tariff: {
          type: 'dynamic',
          currency: 'EUR',
          prices: summer,
          surchargePerKwh: 0.15,
          vatRate: 0.19,
          demandChargePerKw: 0.5,
        },
        feedInTariff: { type: 'dynamic', currency: 'EUR', prices: summer },
        grid: { limitKw: 40, baseLoad: { kind: 'bdew-h25', annualKwh: 10 * 3500 } },
        vehicles: randomVehicles(5, 12, '2022-10-30'),
      }),
      60,
    );
    const { reference, cost, plan, context } = compareWithHighs(request, 'cost');
    expect(context.grid.slotCount).toBe(50);
    const demand = plan.summary.demandCharge;
    expect(relativeGap(cost + demand, reference.objective)).toBeLessThan(1e-6);
  });

  it('where feed-in pays more than import the plan says it cannot price that exactly', () => {
    const request = withPv(
      home({
        tariff: { type: 'fixed', currency: 'EUR', pricePerKwh: 0.05 },
        feedInTariff: { type: 'fixed', currency: 'EUR', pricePerKwh: 0.3 },
      }),
      8,
    );
    const plan = createPlan(request, { profile: h25Profile() });
    expect(plan.warnings[0]).toMatch(/feed-in price exceeds the import price/);
  });

  it('every output carries PV, self-consumption, import and export', () => {
    const plan = createPlan(withPv(home(), 8), { profile: h25Profile() });
    const csv = planToCsv(plan).split('\n');
    expect(csv[0]).toContain('pv_kw,solar_charging_kw,self_consumption_kw,grid_import_kw,grid_export_kw');
    const report = formatPlanReport(plan);
    expect(report).toMatch(/PV: \d+\.\d\d kWh of surplus into the cars/);
  });

  it('PV without a feed-in tariff is refused naming feedInTariff', () => {
    expect(() => withPv(home({ feedInTariff: undefined }), 8)).toThrow(
      /feedInTariff: give the price exported PV earns/,
    );
  });
});
