import type { Simulator } from '@voltkit/simulator';
import { ConnectRefusedError, walkConnect } from './connect-walk.ts';
import { STATION_KW, type DemoCar } from './demo-fleet.ts';
import type { ServiceApi } from './service-api.ts';

export interface LinkedCar {
  readonly car: DemoCar;
  readonly vehicleId: string;
  /**
   * Connect's error when it refused the car: a car without a traction battery cannot grant the service's
   * `required:read_battery`, so Connect answers `vehicle_incompatible`, as Smartcar's does.
   */
  readonly refusedByConnect?: string;
}

/**
 * Links each demo car the way an owner would: the service's Connect link (`POST /api/enrollments`), sign-in
 * and consent on the simulator's Connect pages, then the browser's request to the service's callback.
 * Then sets the owner's preferences (departure 07:00 every day, the target) and plugs the car in.
 */
export async function linkDemoFleet(options: {
  readonly sim: Simulator;
  readonly api: ServiceApi;
  readonly fleet: readonly DemoCar[];
  readonly targetSoc?: number;
}): Promise<LinkedCar[]> {
  const { api, sim } = options;
  const linked: LinkedCar[] = [];
  for (const car of options.fleet) {
    const account = sim.createTestAccount({ email: car.email, brand: car.brand, model: car.model });
    const vehicleId = account.vehicles[0]?.id;
    if (vehicleId === undefined) throw new Error(`the simulator gave ${car.email} no vehicle`);

    const { connectUrl, cookie } = await api.startEnrollment(car.owner, car.brand);
    let callback: URL;
    try {
      callback = await walkConnect(connectUrl, { email: car.email });
    } catch (error) {
      const expected =
        error instanceof ConnectRefusedError &&
        error.error === 'vehicle_incompatible' &&
        car.arrivalSoc === undefined;
      if (!expected) throw error;
      // The browser lands on the service's callback with the error; the service keeps nothing of it.
      await (await fetch(error.callback, { redirect: 'manual', headers: { cookie } })).arrayBuffer();
      linked.push({ car, vehicleId, refusedByConnect: error.error });
      continue;
    }
    // The service's callback links the cars and sends the browser on to the dashboard; the cookie proves
    // it is the browser that started this Connect flow.
    const done = await fetch(callback, { redirect: 'manual', headers: { cookie } });
    await done.arrayBuffer();
    const next = done.headers.get('location') ?? '';
    if (done.status !== 303 || !next.includes('enrolled=')) {
      throw new Error(`the Connect callback for ${car.brand} answered ${done.status} ${next}`);
    }

    if (car.arrivalSoc !== undefined) {
      const preferences = await api.preferences(vehicleId);
      await api.setPreferences(vehicleId, {
        ...preferences,
        departures: Object.fromEntries(Object.keys(preferences.departures).map((day) => [day, '07:00'])),
        targetSoc: options.targetSoc ?? 0.8,
        minimumSoc: 0.1,
        chargerPowerKw: car.chargerKw ?? STATION_KW,
      });
      sim.setSoc(vehicleId, car.arrivalSoc);
      sim.plugIn(vehicleId, { stationKw: STATION_KW });
    }
    linked.push({ car, vehicleId });
  }
  return linked;
}
