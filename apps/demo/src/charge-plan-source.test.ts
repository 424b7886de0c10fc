import { describe, expect, it } from 'vitest';
import { nextChargeWindow } from './charge-plan-source.ts';
import type { DashboardData } from '@voltkit/smart-charging';

function dashboard(
  slots: { start: string; price: number; kw: Record<string, number>; assumed?: boolean }[],
): DashboardData {
  return {
    generatedAt: '2026-11-24T17:00:00.000Z',
    currency: 'EUR',
    timeZone: 'Europe/Berlin',
    planReason: 'test',
    prices: {
      source: 'test',
      from: '2026-11-24T23:00:00.000Z',
      to: '2026-11-25T00:15:00.000Z',
      missing: [],
      fetchError: null,
      problem: null,
    },
    fleet: {
      slots: slots.map((slot) => ({
        start: slot.start,
        pricePerKwh: slot.price,
        priceAssumed: slot.assumed ?? false,
        limitKw: 22,
        baseLoadKw: 1,
        plannedKw: slot.kw,
      })),
      costPlanned: 0,
      costOnArrival: 0,
      savings: 0,
      opportunisticCost: 0,
      peakBeforeKw: 0,
      peakAfterKw: 0,
    },
    vehicles: [],
  };
}

const SLOTS = [
  { start: '2026-11-24T23:00:00.000Z', price: 0.3, kw: { a: 0, b: 7 } },
  { start: '2026-11-24T23:15:00.000Z', price: 0.2, kw: { a: 7.4, b: 7 } },
  { start: '2026-11-24T23:30:00.000Z', price: 0.1, kw: { a: 3.7 } },
  { start: '2026-11-24T23:45:00.000Z', price: 0.1, kw: { a: 0 } },
  { start: '2026-11-25T00:00:00.000Z', price: 0.05, kw: { a: 7.4 } },
];

describe('nextChargeWindow', () => {
  it('is the first run of charging slots from now on, costed at the slot prices', () => {
    const window = nextChargeWindow(dashboard(SLOTS), 'a', 15, new Date('2026-11-24T22:00:00Z'));
    expect(window).toEqual({
      start: new Date('2026-11-24T23:15:00Z'),
      end: new Date('2026-11-24T23:45:00Z'),
      cost: 7.4 * 0.25 * 0.2 + 3.7 * 0.25 * 0.1,
      currency: 'EUR',
    });
  });

  it('skips slots that are over, keeps the one in progress, and says null when nothing is planned', () => {
    expect(nextChargeWindow(dashboard(SLOTS), 'a', 15, new Date('2026-11-24T23:50:00Z'))?.start).toEqual(
      new Date('2026-11-25T00:00:00Z'),
    );
    expect(nextChargeWindow(dashboard(SLOTS), 'b', 15, new Date('2026-11-24T23:20:00Z'))?.start).toEqual(
      new Date('2026-11-24T23:15:00Z'),
    );
    expect(nextChargeWindow(dashboard(SLOTS), 'b', 15, new Date('2026-11-24T23:30:00Z'))).toBeNull();
    expect(nextChargeWindow(dashboard(SLOTS), 'unknown', 15, new Date('2026-11-24T22:00:00Z'))).toBeNull();
  });

  it('says the cost is unknown when a slot of the window has no real price', () => {
    const slots = SLOTS.map((slot, index) => (index === 2 ? { ...slot, assumed: true } : slot));
    const window = nextChargeWindow(dashboard(slots), 'a', 15, new Date('2026-11-24T22:00:00Z'));
    expect(window?.cost).toBeNull();
    expect(window?.end).toEqual(new Date('2026-11-24T23:45:00Z'));
  });
});
