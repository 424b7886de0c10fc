import { describe, expect, it } from 'vitest';
import { toChargingProfile, ChargingProfileError } from './ocpp.ts';
import { createPlan, parsePlanRequest } from './plan.ts';

const plan = createPlan(
  parsePlanRequest({
    horizon: { start: '2024-06-03T00:00:00Z', hours: 4, slotMinutes: 60, timeZone: 'UTC' },
    tariff: {
      type: 'dynamic',
      prices: [0.3, 0.1, 0.2, 0.4].map((p, h) => ({
        startMs: Date.parse('2024-06-03T00:00:00Z') + h * 3_600_000,
        endMs: Date.parse('2024-06-03T00:00:00Z') + (h + 1) * 3_600_000,
        pricePerKwh: p,
      })),
    },
    grid: { limitKw: 100 },
    vehicles: [
      {
        id: 'a',
        socPercent: 50,
        capacityKwh: 50,
        targetSocPercent: 75,
        departure: '2024-06-03T04:00:00Z',
        maxPowerKw: 11,
        efficiency: 1,
      },
    ],
  }),
);

describe('OCPP 2.0.1 ChargingProfile export', () => {
  it('writes the plan as an absolute TxDefaultProfile in W, merging equal periods', () => {
    const profile = toChargingProfile(plan, plan.vehicles[0]!, { id: 7 });
    expect(profile).toMatchObject({
      id: 7,
      stackLevel: 0,
      chargingProfilePurpose: 'TxDefaultProfile',
      chargingProfileKind: 'Absolute',
    });
    const [schedule] = profile.chargingSchedule;
    expect(schedule.startSchedule).toBe('2024-06-03T00:00:00.000Z');
    expect(schedule.duration).toBe(4 * 3600);
    // 12.5 kWh: 11 kW in the cheapest hour, 1.5 kW in the next cheapest.
    expect(schedule.chargingSchedulePeriod).toEqual([
      { startPeriod: 0, limit: 0 },
      { startPeriod: 3600, limit: 11000 },
      { startPeriod: 7200, limit: 1500 },
      { startPeriod: 10800, limit: 0 },
    ]);
  });

  it('time-slices a slot below the minimum power, keeping its energy, and converts to amps', () => {
    const profile = toChargingProfile(plan, plan.vehicles[0]!, {
      id: 1,
      unit: 'A',
      minPowerKw: 4.14,
      transactionId: 'tx-1',
    });
    expect(profile.chargingProfilePurpose).toBe('TxProfile');
    expect(profile.transactionId).toBe('tx-1');
    const periods = profile.chargingSchedule[0].chargingSchedulePeriod;
    const sliced = periods.find((p) => p.startPeriod === 7200)!;
    const off = periods.find((p) => p.startPeriod > 7200 && p.startPeriod < 10800)!;
    expect(sliced.limit).toBe(6);
    expect(off.limit).toBe(0);
    // 4.14 kW × on-time = 1.5 kWh.
    expect((4.14 * (off.startPeriod - 7200)) / 3600).toBeCloseTo(1.5, 2);
    expect(periods.every((p) => p.numberPhases === 3)).toBe(true);
  });

  it('refuses a TxProfile without a transaction', () => {
    expect(() => toChargingProfile(plan, plan.vehicles[0]!, { id: 1, purpose: 'TxProfile' })).toThrow(
      ChargingProfileError,
    );
  });
});
