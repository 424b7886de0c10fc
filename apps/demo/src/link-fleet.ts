import type { Simulator } from '@voltkit/simulator';
import { walkConnect } from './connect-walk.ts';
import { STATION_KW, type DemoCar } from './demo-fleet.ts';
import { DEFAULT_PREFERENCES, savePreferences, type SqlClient } from './internals.ts';

export interface LinkedCar {
  readonly car: DemoCar;
  readonly vehicleId: string;
}

/**
 * Links each demo car the way an owner would: the service's Connect link (`/connect` on the dashboard
 * server), sign-in and consent on the simulator's Connect pages, then the callback on the dashboard server.
 * Then sets the owner's preferences (departure 07:00 every day, 80 %) and plugs the car in.
 */
export async function linkDemoFleet(options: {
  readonly sim: Simulator;
  readonly db: SqlClient;
  readonly connectUrl: string;
  readonly fleet: readonly DemoCar[];
  readonly targetSoc?: number;
}): Promise<LinkedCar[]> {
  const linked: LinkedCar[] = [];
  for (const car of options.fleet) {
    const account = options.sim.createTestAccount({ email: car.email, brand: car.brand, model: car.model });
    const vehicleId = account.vehicles[0]?.id;
    if (vehicleId === undefined) throw new Error(`the simulator gave ${car.email} no vehicle`);

    const start = new URL(options.connectUrl);
    start.searchParams.set('owner', car.owner);
    start.searchParams.set('make', car.brand);
    const redirect = await fetch(start, { redirect: 'manual' });
    await redirect.arrayBuffer();
    const connect = redirect.headers.get('location');
    if (redirect.status !== 302 || connect === null) throw new Error(`/connect answered ${redirect.status}`);

    const callback = await walkConnect(connect, { email: car.email });
    const done = await fetch(callback, { redirect: 'manual' });
    await done.arrayBuffer();
    if (done.status !== 200) throw new Error(`the Connect callback for ${car.brand} answered ${done.status}`);

    if (car.arrivalSoc !== undefined) {
      await savePreferences(options.db, vehicleId, {
        ...DEFAULT_PREFERENCES,
        departures: {
          monday: '07:00',
          tuesday: '07:00',
          wednesday: '07:00',
          thursday: '07:00',
          friday: '07:00',
          saturday: '07:00',
          sunday: '07:00',
        },
        targetSoc: options.targetSoc ?? 0.8,
        minimumSoc: 0.1,
        chargerPowerKw: car.chargerKw ?? STATION_KW,
      });
      options.sim.setSoc(vehicleId, car.arrivalSoc);
      options.sim.plugIn(vehicleId, { stationKw: STATION_KW });
    }
    linked.push({ car, vehicleId });
  }
  return linked;
}
