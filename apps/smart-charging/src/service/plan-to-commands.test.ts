import { describe, expect, it } from 'vitest';
import { planToCommands } from './plan-to-commands.ts';

const slotMs = 15 * 60_000;
const slots = Array.from({ length: 8 }, (_, i) => new Date(Date.UTC(2026, 10, 21, 22, 0) + i * slotMs));
const hhmm = (date: Date) => date.toISOString().slice(11, 16);

describe('plan to on/off commands', () => {
  it('merges adjacent full slots and ends a partial slot early', () => {
    // 11 kW car: 2.75 kWh is a full 15-min slot; 1.375 kWh is half of one.
    const commands = planToCommands(
      {
        vehicleId: 'v',
        chargingPowerKw: 11,
        energyPerSlotKwh: [0, 2.75, 2.75, 1.375, 0, 0, 2.75, 0],
        chargeLimit: 0.8,
      },
      slots,
      slotMs,
    );
    expect(
      commands.map((c) => `${hhmm(c.dueAt)} ${c.action}${c.value === undefined ? '' : ` ${c.value}`}`),
    ).toEqual([
      '22:15 set_charge_limit 0.8',
      '22:15 start_charge',
      '22:52 stop_charge',
      '23:30 start_charge',
      '23:45 stop_charge',
    ]);
  });

  it('plans nothing for an empty schedule and skips slivers under a minute', () => {
    expect(
      planToCommands({ vehicleId: 'v', chargingPowerKw: 11, energyPerSlotKwh: [0, 0.1, 0] }, slots, slotMs),
    ).toEqual([]);
  });
});
