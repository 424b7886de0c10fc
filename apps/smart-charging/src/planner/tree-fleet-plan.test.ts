import { describe, expect, it } from 'vitest';
import { createPlan, parsePlanRequest } from './plan.ts';
import { parsePriceCsv } from './price-import.ts';
import { fixture } from './testing/fixtures.ts';
import { planGridTreeFleet } from './tree-fleet-plan.ts';
import { parseGridTreePlanRequest, planGridTree, type GridTreePlanRequestInput } from './tree-plan.ts';

const prices = parsePriceCsv(fixture('awattar-de-2022-03-26_28.csv'));
const horizon = { start: '2022-03-26T18:00', hours: 14, slotMinutes: 15, timeZone: 'Europe/Berlin' } as const;

function car(id: string, socPercent: number) {
  return {
    id,
    socPercent,
    capacityKwh: 60,
    targetSocPercent: 85,
    departure: '2022-03-27T07:00',
    maxPowerKw: 11,
  };
}

/** A feeder with two transformers; the first one too weak for the three cars below it. */
function feederRequest(): GridTreePlanRequestInput {
  return {
    horizon,
    tariff: { type: 'dynamic', currency: 'EUR', prices },
    gridTree: {
      nodes: [
        { id: 'feeder', kind: 'feeder', limitKw: 30, baseLoadKw: 4 },
        { id: 'tr-1', kind: 'transformer', parentId: 'feeder', limitKw: 9 },
        { id: 'tr-2', kind: 'transformer', parentId: 'feeder', limitKw: 25, baseLoadKw: 2 },
      ],
    },
    vehicles: [car('a', 10), car('b', 20), car('c', 30), car('d', 40)],
    vehicleNodes: { a: 'tr-1', b: 'tr-1', c: 'tr-1', d: 'tr-2' },
  };
}

describe('a grid-tree plan in the shape of a site plan', () => {
  it('carries the tree planner’s schedule, every node’s series and a shortfall naming the node that binds', () => {
    const request = parseGridTreePlanRequest(feederRequest());
    const plan = planGridTreeFleet(request);
    const tree = planGridTree(request);
    for (const [i, vehicle] of plan.vehicles.entries()) {
      expect(vehicle.id).toBe(tree.vehicles[i]!.id);
      vehicle.powerKw.forEach((kw, t) => expect(kw).toBeCloseTo(tree.vehicles[i]!.powerKw[t]!, 9));
      expect(vehicle.socPercent).toHaveLength(plan.slots.length + 1);
      expect(vehicle.socPercent.at(-1)).toBeCloseTo(vehicle.finalSocPercent, 9);
    }
    expect(plan.nodes?.map((node) => node.id)).toEqual(['feeder', 'tr-1', 'tr-2']);
    // Three cars on 9 kW for 13 h cannot all reach 85 %: the weak transformer is named.
    const short = plan.vehicles.filter((vehicle) => vehicle.shortfall);
    expect(short.length).toBeGreaterThan(0);
    for (const vehicle of short) {
      expect(vehicle.shortfall?.cause).toBe('grid');
      expect(vehicle.shortfall?.message).toMatch(/grid node "tr-1"/);
    }
    for (const node of plan.nodes ?? [])
      node.chargingKw.forEach((kw, t) =>
        expect(kw + node.baseLoadKw[t]!).toBeLessThanOrEqual(node.limitKw[t]! + 1e-6),
      );
    plan.slots.forEach((slot, t) => {
      expect(slot.limitKw).toBe(30);
      expect(slot.baseKw).toBe(6);
      expect(slot.chargingKw).toBeCloseTo(plan.nodes![0]!.chargingKw[t]!, 9);
    });
    expect(plan.summary.totalCost).toBeCloseTo(tree.summary.cost, 9);
    expect(plan.summary.savings).toBeGreaterThan(0);
    expect(plan.summary.peakAfterKw).toBeLessThanOrEqual(30 + 1e-6);
    expect(plan.summary.peakBeforeKw).toBeGreaterThan(plan.summary.peakAfterKw);
  });

  it('with one node costs what the site planner costs under the same limit', () => {
    const vehicles = [car('a', 10), car('b', 20), car('c', 30)];
    const tree = planGridTreeFleet(
      parseGridTreePlanRequest({
        horizon,
        tariff: { type: 'dynamic', currency: 'EUR', prices },
        gridTree: { nodes: [{ id: 'site', kind: 'connection', limitKw: 14 }] },
        vehicles,
        vehicleNodes: { a: 'site', b: 'site', c: 'site' },
      }),
    );
    const site = createPlan(
      parsePlanRequest({
        horizon,
        tariff: { type: 'dynamic', currency: 'EUR', prices },
        grid: { limitKw: 14 },
        vehicles,
        objective: 'cost',
      }),
    );
    expect(tree.summary.totalCost).toBeCloseTo(site.summary.totalCost, 6);
    expect(tree.summary.immediateCost).toBeCloseTo(site.summary.immediateCost, 6);
    expect(tree.summary.savings).toBeCloseTo(site.summary.savings, 6);
    expect(tree.summary.shortfallKwh).toBeCloseTo(site.summary.shortfallKwh, 6);
  });
});
