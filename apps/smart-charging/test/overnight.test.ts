import { readFileSync } from 'node:fs';
import { createClient } from '@voltkit/core/client';
import { awattarDeHourlyCsv, bdewH25Csv } from '@voltkit/data';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBdewProfileCsv } from '../src/planner/load-profile.ts';
import { listCommands } from '../src/store/command-log.ts';
import { loadCurrentPlan } from '../src/store/plans.ts';
import { sqlTokenStore } from '../src/store/grants.ts';
import { saveGridSettings } from '../src/store/grid.ts';
import { migrate } from '../src/store/migrations.ts';
import { newBrowserBinding } from '../src/service/enrollment.ts';
import { testTokenCipher } from '../src/store/test-backends.ts';
import { DEFAULT_PREFERENCES, savePreferences } from '../src/store/preferences.ts';
import { loadPrices } from '../src/store/prices.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import {
  createSmartChargingService,
  type SmartChargingService,
  type StoredPlanBody,
} from '../src/service/smart-charging-service.ts';

const PRICES = awattarDeHourlyCsv;
const PROFILE = parseBdewProfileCsv(readFileSync(bdewH25Csv, 'utf8'));
const START = new Date('2026-11-21T17:00:00Z'); // 18:00 in Berlin
const DEPARTURE = new Date('2026-11-22T06:00:00Z'); // 07:00 in Berlin
const REDIRECT_URI = 'http://localhost:8740/connect/callback';
const CARS = [
  { brand: 'DS', model: 'DS 3 Crossback E-Tense', soc: 0.3, capacityKwh: 46 },
  { brand: 'CITROEN', model: 'ë-C4', soc: 0.25, capacityKwh: 46 },
  { brand: 'TESLA', model: 'Model 3', soc: 0.4, capacityKwh: 75 },
];
const STATION_KW = 7.4;
const GRID_LIMIT_KW = 14;
const SLOT_MS = 15 * 60_000;
const EFFICIENCY = 0.9; // the simulator's charger efficiency

describe('an overnight of smart charging against the simulator', () => {
  let smart: Simulator;
  let uncontrolled: Simulator;
  let db: SqlClient;
  let service: SmartChargingService;
  const smartIds: string[] = [];
  const uncontrolledIds: string[] = [];

  beforeAll(async () => {
    smart = await createSimulator({ clock: { mode: 'manual', start: START } });
    uncontrolled = await createSimulator({ clock: { mode: 'manual', start: START } });
    db = await openSqlClient({});
    await migrate(db);
    await saveGridSettings(db, { limitKw: GRID_LIMIT_KW, baseLoadKwhPerYear: 3500 });
    const client = createClient({
      clientId: smart.demoApp.clientId,
      clientSecret: smart.demoApp.clientSecret,
      redirectUri: REDIRECT_URI,
      origin: smart.url,
      tokenStore: sqlTokenStore(db, testTokenCipher()),
    });
    service = createSmartChargingService({
      config: {
        timeZone: 'Europe/Berlin',
        slotMinutes: 15,
        priceSource: `file:${PRICES}`,
        priceFetchCron: '0 13 * * *',
      },
      db,
      client,
      connectMode: 'simulated',
      profile: PROFILE,
      logger: pino({ level: 'silent' }),
      now: () => smart.clock.now(),
    });

    for (const [index, car] of CARS.entries()) {
      // Enroll through Connect: the service's link, the owner's consent in the simulator, the callback.
      const email = `owner${index}@example.com`;
      smart.createTestAccount({ email, brand: car.brand, model: car.model });
      const browserBinding = newBrowserBinding();
      const { connectUrl } = await service.enrollment.start({
        ownerName: `Owner ${index}`,
        makeBypass: car.brand,
        browserBinding,
      });
      const url = new URL(connectUrl);
      const { code } = smart.authorize({
        clientId: url.searchParams.get('client_id')!,
        redirectUri: REDIRECT_URI,
        scope: url.searchParams.get('scope')!,
        email,
        make: car.brand,
      });
      const { vehicles } = await service.enrollment.complete(
        `${REDIRECT_URI}?code=${code}&state=${url.searchParams.get('state')}`,
        browserBinding,
      );
      const id = vehicles[0]!.id;
      smartIds.push(id);
      await savePreferences(db, id, {
        ...DEFAULT_PREFERENCES,
        departures: Object.fromEntries(
          Object.keys(DEFAULT_PREFERENCES.departures).map((day) => [day, '07:00']),
        ) as typeof DEFAULT_PREFERENCES.departures,
        targetSoc: 0.8,
        minimumSoc: 0.2,
        chargerPowerKw: STATION_KW,
      });
      smart.setSoc(id, car.soc);
      smart.plugIn(id, { stationKw: STATION_KW });

      // The twin: the same car plugged in at the same time with nobody managing it.
      const twin = uncontrolled.createTestAccount({ email, brand: car.brand, model: car.model });
      const twinId = twin.vehicles[0]!.id;
      uncontrolledIds.push(twinId);
      uncontrolled.setSoc(twinId, car.soc);
      uncontrolled.updateVehicle(twinId, { chargeLimit: 0.8 });
      uncontrolled.plugIn(twinId, { stationKw: STATION_KW });
    }
    await service.start({ schedule: false });
  });

  afterAll(async () => {
    await service.stop();
    await smart.close();
    await uncontrolled.close();
    await db.close();
  });

  it('reaches every target by departure, cheaper than charging on arrival, never above the grid limit', async () => {
    const plannedHeadroom = new Map<number, number>();
    const energyBySlot = { smart: new Map<number, number>(), uncontrolled: new Map<number, number>() };
    const soc = (sim: Simulator, ids: string[]) => ids.map((id) => sim.vehicle(id).state.soc ?? 0);
    let smartSoc = soc(smart, smartIds);
    let uncontrolledSoc = soc(uncontrolled, uncontrolledIds);

    // Savings compare like with like: the planner's same-energy baseline, the cheap extra named apart.
    const first = await service.dashboard();
    const current = (await loadCurrentPlan<StoredPlanBody>(db))!.body.plan;
    expect(first.fleet.savings).toBeCloseTo(current.summary.savings, 9);
    expect(first.fleet.savings).toBeGreaterThan(0);
    expect(first.fleet.opportunisticCost).toBeCloseTo(current.summary.opportunisticCost, 9);

    // One simulated minute per step, 13 hours: the service runs due commands every minute.
    for (let t = START.getTime(); t < DEPARTURE.getTime(); t += 60_000) {
      const slot = Math.floor(t / SLOT_MS) * SLOT_MS;
      await service.tick();
      const dashboard = await service.dashboard();
      for (const planned of dashboard.fleet.slots) {
        // A plan made mid-slot sees only the rest of that slot; the slot's full headroom is the widest view.
        const key = Date.parse(planned.start);
        plannedHeadroom.set(
          key,
          Math.max(plannedHeadroom.get(key) ?? 0, (planned.limitKw ?? Infinity) - planned.baseLoadKw),
        );
      }
      await smart.clock.advance(60_000);
      await uncontrolled.clock.advance(60_000);
      const nextSmart = soc(smart, smartIds);
      const nextUncontrolled = soc(uncontrolled, uncontrolledIds);
      const gridKwh = (before: number[], after: number[]) =>
        after.reduce((sum, value, k) => sum + ((value - before[k]!) * CARS[k]!.capacityKwh) / EFFICIENCY, 0);
      energyBySlot.smart.set(slot, (energyBySlot.smart.get(slot) ?? 0) + gridKwh(smartSoc, nextSmart));
      energyBySlot.uncontrolled.set(
        slot,
        (energyBySlot.uncontrolled.get(slot) ?? 0) + gridKwh(uncontrolledSoc, nextUncontrolled),
      );
      smartSoc = nextSmart;
      uncontrolledSoc = nextUncontrolled;
    }

    // Targets: every car at 80 % by 07:00 (within half a percentage point: on/off commands run on whole
    // minutes, rounded down so the grid limit holds).
    expect(smartSoc.map((value) => value >= 0.8 - 0.005 || value)).toEqual(CARS.map(() => true));

    // Cost, with the same real day-ahead prices for both.
    const prices = await loadPrices(db, `file:${PRICES}`, START, DEPARTURE);
    const priceAt = (slot: number) =>
      prices.find((p) => p.start.getTime() <= slot && slot < p.end.getTime())!.pricePerKwh;
    const cost = (energy: Map<number, number>) =>
      [...energy].reduce((sum, [slot, kwh]) => sum + kwh * priceAt(slot), 0);
    const smartCost = cost(energyBySlot.smart);
    const uncontrolledCost = cost(energyBySlot.uncontrolled);
    expect(smartCost).toBeLessThan(uncontrolledCost);

    // Grid: average charging power per 15-min slot within the headroom the plan had for that slot.
    for (const [slot, kwh] of energyBySlot.smart) {
      const averageKw = kwh / (SLOT_MS / 3_600_000);
      expect(averageKw).toBeLessThanOrEqual((plannedHeadroom.get(slot) ?? GRID_LIMIT_KW) + 1e-6);
    }
    const peakUncontrolled = Math.max(...[...energyBySlot.uncontrolled.values()].map((kwh) => kwh / 0.25));
    expect(peakUncontrolled).toBeGreaterThan(GRID_LIMIT_KW); // the limit really binds

    // Every command executed once: none left pending or in flight, none duplicated.
    const log = await listCommands(db);
    expect(log.filter((command) => command.status === 'pending' || command.status === 'sending')).toEqual([]);
    const keys = log.map(
      (command) => `${command.vehicleId} ${command.action} ${command.dueAt.toISOString()}`,
    );
    expect(new Set(keys).size).toBe(keys.length);
    console.info(
      `overnight: smart ${smartCost.toFixed(2)} EUR vs on arrival ${uncontrolledCost.toFixed(2)} EUR; peak ${peakUncontrolled.toFixed(1)} kW uncontrolled; ${log.filter((c) => c.status === 'confirmed').length} commands confirmed`,
    );
  }, 180_000);
});
