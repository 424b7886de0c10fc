import { createSimulator, type Simulator } from '@voltkit/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/store/migrations.ts';
import { DEFAULT_PREFERENCES } from '../src/store/preferences.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { api, enrollOverHttp, everyDayAt, listAll, startService, type RunningService } from './harness.ts';

const START = new Date('2026-11-21T21:00:00Z'); // Saturday 22:00 in Berlin

interface PlanView {
  plan: {
    vehicles: {
      id: string;
      targetSocPercent: number;
      finalSocPercent: number;
      chargeCompleteAt: string | null;
    }[];
  };
  skipped: { vehicleId: string; reason: string }[];
}

describe('a departure with a trip instead of a target', () => {
  let sim: Simulator;
  let db: SqlClient;
  let running: RunningService;

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    db = await openSqlClient({});
    await migrate(db);
    running = await startService(db, sim);
  });
  afterAll(async () => {
    await running.close();
    await sim.close();
    await db.close();
  });

  it('charges to what the trip needs by the car’s own range, plus the reserve, and says when it is done', async () => {
    const car = await enrollOverHttp(running, sim, { name: 'Ada', email: 'ada@example.com', brand: 'TESLA' });
    sim.setSoc(car, 0.3);
    sim.plugIn(car, { stationKw: 11 });
    sim.updateVehicle(car, { chargeLimit: 0.9 });
    const put = await api(running.admin, 'PUT', `api/vehicles/${car}/preferences`, {
      ...DEFAULT_PREFERENCES,
      departures: everyDayAt('07:00'),
      targetSoc: 0.8,
      trip: { distanceKm: 150, reservePercent: 15 },
    });
    expect(put.status).toBe(200);

    const battery = sim.vehicle(car).state;
    const rangeKmPerPercent = (await readRange(running, car)) / (battery.soc! * 100);
    const plan = (await api<PlanView>(running.admin, 'GET', 'api/plan')).body;
    const planned = plan.plan.vehicles.find((vehicle) => vehicle.id === car)!;
    expect(planned.targetSocPercent).toBeCloseTo(150 / rangeKmPerPercent + 15, 6);
    expect(planned.targetSocPercent).not.toBeCloseTo(80, 0); // not the fixed target
    expect(planned.finalSocPercent).toBeGreaterThanOrEqual(planned.targetSocPercent - 1e-6);
    expect(planned.chargeCompleteAt).not.toBeNull();
    expect(Date.parse(planned.chargeCompleteAt!)).toBeLessThanOrEqual(Date.parse('2026-11-22T06:00:00Z'));
  });

  it('caps a long trip at the car’s charge limit', async () => {
    const car = (await listAll<{ id: string }>(running.admin, 'api/vehicles'))[0]!.id;
    await api(running.admin, 'PUT', `api/vehicles/${car}/preferences`, {
      ...DEFAULT_PREFERENCES,
      departures: everyDayAt('07:00'),
      trip: { distanceKm: 1_500, reservePercent: 10 },
    });
    const plan = (await api<PlanView>(running.admin, 'GET', 'api/plan')).body;
    expect(plan.plan.vehicles.find((vehicle) => vehicle.id === car)?.targetSocPercent).toBeCloseTo(90, 6);
  });

  it('refuses a trip without a distance, naming the field', async () => {
    const car = (await listAll<{ id: string }>(running.admin, 'api/vehicles'))[0]!.id;
    const bad = await api<{ error: { message: string } }>(
      running.admin,
      'PUT',
      `api/vehicles/${car}/preferences`,
      {
        ...DEFAULT_PREFERENCES,
        trip: { reservePercent: 10 },
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('trip.distanceKm');
  });
});

/** The car's range as the service read it (what the plan used). */
async function readRange(running: RunningService, vehicleId: string): Promise<number> {
  const state = await running.service.gateway.readChargingState(
    (await listAll<{ id: string; grantId: string }>(running.admin, 'api/vehicles')).find(
      (vehicle) => vehicle.id === vehicleId,
    )!.grantId,
    vehicleId,
  );
  expect(state.rangeKm).toBeGreaterThan(0);
  return state.rangeKm!;
}
