import { describe, expect, it } from 'vitest';
import { SimulatorClock } from '../clock.ts';
import { SimulatorEngine } from '../engine.ts';
import { SimulatorStore } from './store.ts';

const engineOn = (store: SimulatorStore) =>
  new SimulatorEngine({
    store,
    clock: new SimulatorClock({ mode: 'manual', start: new Date('2026-12-03T18:00:00Z') }),
  });

describe('the simulator store’s lookups', () => {
  it('finds an account’s cars and a car by VIN without scanning the fleet, also after a restore', () => {
    const store = new SimulatorStore();
    const engine = engineOn(store);
    const ada = engine.createTestAccount({ email: 'ada@example.com', brand: 'TESLA', vehicleCount: 3 });
    const bo = engine.createTestAccount({ email: 'bo@example.com', brand: 'DS', vehicleCount: 2 });
    const more = engine.createTestAccount({ email: 'ada@example.com', brand: 'DS', vehicleCount: 1 });
    const idsOf = (store: SimulatorStore, userId: string) =>
      store.vehiclesOfAccount(userId).map((vehicle) => vehicle.id);
    // In creation order, the account's cars of every brand, and no one else's.
    const adaCars = more.vehicles.map((vehicle) => vehicle.id);
    expect(more.userId).toBe(ada.userId);
    expect(adaCars).toHaveLength(4);
    expect(adaCars.slice(0, 3)).toEqual(ada.vehicles.map((vehicle) => vehicle.id));
    expect(idsOf(store, ada.userId)).toEqual(adaCars);
    expect(idsOf(store, bo.userId)).toEqual(bo.vehicles.map((vehicle) => vehicle.id));
    expect(store.vehiclesOfAccount('no-such-account')).toEqual([]);
    // A copy: a caller changing the list changes no lookup.
    store.vehiclesOfAccount(ada.userId).pop();
    expect(idsOf(store, ada.userId)).toEqual(adaCars);

    const restored = SimulatorStore.fromSnapshot(store.toSnapshot(0));
    expect(idsOf(restored, ada.userId)).toEqual(adaCars);
    for (const vehicle of store.vehicles.values()) {
      expect(restored.findVehicleByVin(vehicle.vin)?.id).toBe(vehicle.id);
      expect(store.findVehicleByVin(vehicle.vin.toLowerCase())?.id).toBe(vehicle.id);
    }
    expect(store.findVehicleByVin('NOSUCHVIN00000000')).toBeUndefined();
  });
});
