import { describe, expect, it } from 'vitest';
import { parseTouTariffJson, priceSlots, TariffSchema } from './tariff.ts';
import { createDayGrid, createSlotGrid } from './time-grid.ts';
import { fixture } from './testing/fixtures.ts';

describe('tariffs to slot prices', () => {
  it('applies SCE TOU-EV-8 (June 2019): summer weekday bands with a 16–21 h peak', () => {
    const tariff = TariffSchema.parse(parseTouTariffJson(fixture('sce_tou_ev_8_june_2019.json')));
    const weekday = priceSlots(tariff, createDayGrid('2019-07-02', 'America/Los_Angeles', 60));
    expect(weekday.pricePerKwh[15]).toBe(0.12597);
    expect(weekday.pricePerKwh[16]).toBe(0.49619);
    expect(weekday.pricePerKwh[21]).toBe(0.12597);
    const weekend = priceSlots(tariff, createDayGrid('2019-07-06', 'America/Los_Angeles', 60));
    expect(weekend.pricePerKwh[17]).toBe(0.25563);
    const winter = priceSlots(tariff, createDayGrid('2019-12-03', 'America/Los_Angeles', 60));
    expect(winter.pricePerKwh[9]).toBe(0.07724);
  });

  it('averages a band boundary inside a slot and takes the demand charge (PG&E A-10, 08:30 boundary)', () => {
    const tariff = parseTouTariffJson(fixture('pge_a10_tou_aug_2019.json'));
    const prices = priceSlots(tariff, createDayGrid('2019-08-06', 'America/Los_Angeles', 60));
    expect(prices.pricePerKwh[8]).toBeCloseTo((0.14903 + 0.1771) / 2, 12);
    expect(prices.demandChargePerKw).toBe(19.99);
    // Winter wraps around the new year (11-01 … 4-30).
    expect(priceSlots(tariff, createDayGrid('2020-01-07', 'America/Los_Angeles', 60)).demandChargePerKw).toBe(
      11.66,
    );
  });

  it('fills a gap by the policy and says so', () => {
    const grid = createSlotGrid({
      startMs: Date.parse('2024-01-01T00:00:00Z'),
      endMs: Date.parse('2024-01-03T00:00:00Z'),
      slotMinutes: 60,
      timeZone: 'UTC',
    });
    const day1 = Array.from({ length: 24 }, (_, h) => ({
      startMs: grid.startMs + h * 3_600_000,
      endMs: grid.startMs + (h + 1) * 3_600_000,
      pricePerKwh: h / 100,
    }));
    const previousDay = priceSlots(TariffSchema.parse({ type: 'dynamic', prices: day1, vatRate: 0.2 }), grid);
    expect(previousDay.pricePerKwh[30]).toBeCloseTo(0.06 * 1.2, 12);
    expect(previousDay.assumptions).toEqual([
      {
        from: '2024-01-02T00:00:00+00:00',
        to: '2024-01-03T00:00:00+00:00',
        slots: 24,
        method: 'same time previous day',
        meanPricePerKwh: expect.closeTo(0.115 * 1.2, 9),
      },
    ]);
    const fixed = priceSlots(
      TariffSchema.parse({ type: 'dynamic', prices: day1, gapPolicy: { fixedPricePerKwh: 0.5 } }),
      grid,
    );
    expect(fixed.pricePerKwh[47]).toBe(0.5);
    expect(fixed.assumed.reduce((a, b) => a + b, 0)).toBe(24);
  });

  it('rejects a TOU file whose bands and prices do not match, naming the field', () => {
    expect(() =>
      parseTouTariffJson(
        '{"schedule":[{"id":"x","effective_start":"01-01","effective_end":"12-31","dow_mask":"ALL","times":[0,8],"tariffs":[0.1]}]}',
      ),
    ).toThrow(/tariffs/);
  });
});
