/**
 * The overnight feeder of the demo, as a plan request: five homes (17,500 kWh a year, BDEW H25) and four
 * 11 kW cars behind a 24 kW feeder limit, 18:00 → 07:00 in Berlin, real aWATTar prices of a November Tuesday.
 */
import { readFileSync } from 'node:fs';
import { awattarDeHourlyCsv } from '@voltkit/data';
import type { PlanRequestInput } from '../plan.ts';
import { parsePriceCsv } from '../price-import.ts';

export function overnightRequest(limitMode: 'average' | 'hard', cars = 4): PlanRequestInput {
  const from = Date.parse('2022-11-22T00:00:00+01:00');
  const to = Date.parse('2022-11-24T00:00:00+01:00');
  const prices = parsePriceCsv(readFileSync(awattarDeHourlyCsv, 'utf8')).filter(
    (p) => p.startMs >= from && p.endMs <= to,
  );
  const powers = [11, 11, 11, 11];
  return {
    horizon: {
      start: '2022-11-22T18:00',
      end: '2022-11-23T07:00',
      slotMinutes: 15,
      timeZone: 'Europe/Berlin',
    },
    tariff: { type: 'dynamic', currency: 'EUR', prices, surchargePerKwh: 0.16, vatRate: 0.19 },
    grid: { limitKw: 24, limitMode, baseLoad: { kind: 'bdew-h25', annualKwh: 17_500 } },
    vehicles: Array.from({ length: cars }, (_, k) => ({
      id: `car-${k + 1}`,
      socPercent: 15 + ((k * 7) % 20),
      capacityKwh: [77, 58, 40, 64][k % 4]!,
      targetSocPercent: 80,
      departure: '2022-11-23T07:00',
      maxPowerKw: powers[k % powers.length]!,
    })),
    objective: 'cost',
  };
}
