import { describe, expect, it } from 'vitest';
import { chargeEvents, emptyTelemetry, updateTelemetry } from './charging-telemetry.ts';
import type { VehicleReading } from './vehicle-source.ts';

const T0 = Date.parse('2026-11-30T22:00:00Z');
const min = 60_000;

describe('charging telemetry', () => {
  it('derives power, energy added, time to full and the completion time from SoC × capacity', () => {
    const t = emptyTelemetry();
    const parked: VehicleReading = {
      socPercent: 40,
      pluggedIn: false,
      chargeState: 'not_charging',
      batteryCapacityKwh: 75,
      chargeLimitPercent: 80,
    };
    updateTelemetry(t, {}, parked, T0);
    expect(t.powerKw).toBe(0);
    expect(t.energyAddedKwh).toBeUndefined();
    const plugged: VehicleReading = { ...parked, pluggedIn: true, chargeState: 'charging' };
    updateTelemetry(t, parked, plugged, T0 + min);
    expect(t.session).toMatchObject({ startSocPercent: 40, seenFromStart: true });
    expect(t.powerKw).toBeUndefined(); // one sample: no rate yet, not zero
    // 11 kW on 75 kWh for 30 min: +7.33 % SoC.
    const later: VehicleReading = { ...plugged, socPercent: 40 + (11 * 0.5 * 100) / 75 };
    updateTelemetry(t, plugged, later, T0 + 31 * min);
    expect(t.powerKw).toBeCloseTo(11, 5);
    expect(t.energyAddedKwh).toBeCloseTo(5.5, 5);
    // (80 − 47.33) % of 75 kWh at 11 kW = 2.227 h.
    expect(t.minutesToFull).toBe(Math.round(((((80 - later.socPercent!) / 100) * 75) / 11) * 60));
    expect(t.completeAt!.getTime()).toBeGreaterThan(T0 + 31 * min);
    expect(t.basis['derived']).toMatch(/state-of-charge change × battery capacity/);
  });

  it('reports nothing (not zero) without a battery capacity', () => {
    const t = emptyTelemetry();
    updateTelemetry(t, {}, { socPercent: 50, chargeState: 'charging', pluggedIn: true }, T0);
    expect(t.powerKw).toBeUndefined();
    expect(t.energyAddedKwh).toBeUndefined();
  });

  it('names plug and charge transitions, and none on the first reading', () => {
    expect(chargeEvents({}, { pluggedIn: true, chargeState: 'charging' })).toEqual([]);
    expect(
      chargeEvents(
        { pluggedIn: false, chargeState: 'not_charging' },
        { pluggedIn: true, chargeState: 'charging' },
      ),
    ).toEqual(['plugged_in', 'charge_started']);
    expect(
      chargeEvents(
        { pluggedIn: true, chargeState: 'charging' },
        { pluggedIn: true, chargeState: 'fully_charged' },
      ),
    ).toEqual(['charge_completed']);
    expect(
      chargeEvents(
        { pluggedIn: true, chargeState: 'charging' },
        { pluggedIn: false, chargeState: 'not_charging' },
      ),
    ).toEqual(['unplugged', 'charge_stopped']);
  });
});
