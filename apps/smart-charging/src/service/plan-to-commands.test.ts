import { describe, expect, it } from 'vitest';
import type { PlannedCommand } from '../store/command-log.ts';
import { planToCommands, type VehicleSchedule } from './plan-to-commands.ts';

const slotMs = 15 * 60_000;
const slots = Array.from({ length: 8 }, (_, i) => new Date(Date.UTC(2026, 10, 21, 22, 0) + i * slotMs));
const hhmm = (date: Date) => date.toISOString().slice(11, 16);
const describeCommands = (commands: PlannedCommand[]) =>
  commands.map((c) => `${hhmm(c.dueAt)} ${c.action}${c.value === undefined ? '' : ` ${c.value}`}`);

/** Load (kW) in each minute of the slots, as the commands would switch the cars. */
function minuteLoads(commands: PlannedCommand[], fleet: readonly VehicleSchedule[]): number[] {
  const loads: number[] = [];
  for (let minute = slots[0]!.getTime(); minute < slots[0]!.getTime() + 8 * slotMs; minute += 60_000) {
    let load = 0;
    for (const vehicle of fleet) {
      const own = commands.filter((c) => c.vehicleId === vehicle.vehicleId && c.dueAt.getTime() <= minute);
      const last = own.filter((c) => c.action !== 'set_charge_limit').at(-1);
      if (last?.action === 'start_charge') load += vehicle.chargingPowerKw;
    }
    loads.push(load);
  }
  return loads;
}

describe('plan to on/off commands', () => {
  it('merges adjacent full slots and ends a partial slot early', () => {
    // 11 kW car: 2.75 kWh is a full 15-min slot; 1.375 kWh is half of one.
    const commands = planToCommands(
      [
        {
          vehicleId: 'v',
          chargingPowerKw: 11,
          energyPerSlotKwh: [0, 2.75, 2.75, 1.375, 0, 0, 2.75, 0],
          chargeLimit: 0.8,
        },
      ],
      slots,
      slotMs,
    );
    expect(describeCommands(commands)).toEqual([
      '22:15 set_charge_limit 0.8',
      '22:15 start_charge',
      '22:52 stop_charge',
      '23:30 start_charge',
      '23:45 stop_charge',
    ]);
  });

  it('plans nothing for slivers under a minute', () => {
    expect(
      planToCommands([{ vehicleId: 'v', chargingPowerKw: 11, energyPerSlotKwh: [0, 0.1, 0] }], slots, slotMs),
    ).toEqual([]);
  });

  it('starts no earlier than the moment of planning', () => {
    const commands = planToCommands(
      [{ vehicleId: 'v', chargingPowerKw: 11, energyPerSlotKwh: [1.375] }],
      slots,
      slotMs,
      new Date(Date.UTC(2026, 10, 21, 22, 10)),
    );
    expect(describeCommands(commands)).toEqual(['22:10 start_charge', '22:15 stop_charge']);
  });

  it('staggers part-time cars within a slot: same energy, peak within one car of the average', () => {
    // Four 7.4 kW cars with 8 minutes each in one slot: 29.6 kW if all start together; 3.95 kW·h in total
    // is 15.8 kW on average, so two or three cars at a time.
    const fleet = ['a', 'b', 'c', 'd'].map((vehicleId) => ({
      vehicleId,
      chargingPowerKw: 7.4,
      energyPerSlotKwh: [0, (7.4 * 8) / 60],
    }));
    const commands = planToCommands(fleet, slots, slotMs);
    const loads = minuteLoads(commands, fleet).slice(15, 30);
    expect(loads.reduce((sum, kw) => sum + kw, 0) / 60).toBeCloseTo((4 * 7.4 * 8) / 60, 9); // energy kept
    expect(Math.max(...loads)).toBeLessThanOrEqual(Math.ceil((4 * 8) / 15) * 7.4 + 1e-9); // 3 cars, not 4
    expect(Math.max(...loads)).toBeGreaterThan(0);
    // Each car is on for exactly its 8 minutes and never twice at once.
    for (const car of fleet) {
      const own = commands.filter((c) => c.vehicleId === car.vehicleId);
      const onMinutes = minuteLoads(own, [car]).filter((kw) => kw > 0).length;
      expect(onMinutes).toBe(8);
    }
  });

  it('under a hard limit never has more cars on than lanes, in any minute, mid-slot too', () => {
    // Five 11 kW cars behind 24 kW: two lanes. Each slot asks 2 lanes' worth of energy in mixed shares.
    const shares = [
      [1, 0.4, 0.3, 0.2, 0.1],
      [0.5, 0.5, 0.5, 0.5, 0],
      [1, 1, 0, 0, 0],
      [0.7, 0.6, 0.4, 0.2, 0.1],
    ];
    const fleet: VehicleSchedule[] = Array.from({ length: 5 }, (_, car) => ({
      vehicleId: `car-${car}`,
      chargingPowerKw: 11,
      energyPerSlotKwh: shares.map((slot) => slot[car]! * 2.75).concat([0, 0, 0, 0]),
    }));
    const lanes = [2, 2, 2, 2, 2, 2, 2, 2];
    const peak = Math.max(...minuteLoads(planToCommands(fleet, slots, slotMs, undefined, lanes), fleet));
    expect(peak).toBeLessThanOrEqual(22);
    // The same energies without lanes (average mode) exceed the fuse in some minute: the cap is what holds it.
    const overfull = fleet.map((car) => ({
      ...car,
      energyPerSlotKwh: car.energyPerSlotKwh.map((e) => e * 1.2),
    }));
    const capped = planToCommands(overfull, slots, slotMs, undefined, lanes);
    expect(Math.max(...minuteLoads(capped, overfull))).toBeLessThanOrEqual(22);
    expect(Math.max(...minuteLoads(planToCommands(overfull, slots, slotMs), overfull))).toBeGreaterThan(24);
    // Planned mid-slot (7 minutes left of the first slot): still at most two cars at once.
    const late = planToCommands(fleet, slots, slotMs, new Date(slots[0]!.getTime() + 8 * 60_000), lanes);
    expect(Math.max(...minuteLoads(late, fleet))).toBeLessThanOrEqual(22);
  });
});
