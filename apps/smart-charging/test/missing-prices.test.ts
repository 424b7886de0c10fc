import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardData } from '../src/service/http/dashboard-data.ts';
import { DEFAULT_PREFERENCES } from '../src/store/preferences.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { migrate } from '../src/store/migrations.ts';
import { api, enrollOverHttp, everyDayAt, startService, type RunningService } from './harness.ts';

const START = new Date('2026-11-21T21:00:00Z'); // Saturday 22:00 in Berlin

interface LogLine {
  level: number;
  msg: string;
  source?: string;
  missing?: { start: string; end: string }[];
}
interface PricesView {
  source: string;
  slots: unknown[];
  missing: { start: string; end: string }[];
  fetchError: string | null;
  problem: string | null;
}

/** A service whose price source has nothing: an empty file, or a file that is not there. */
describe.each([
  {
    name: 'an empty price file',
    file: (dir: string) => (writeFileSync(join(dir, 'empty.csv'), ''), join(dir, 'empty.csv')),
  },
  { name: 'a missing price file', file: (dir: string) => join(dir, 'not-there.csv') },
])('with $name', ({ file }) => {
  let sim: Simulator;
  let db: SqlClient;
  let running: RunningService;
  let source: string;
  const logs: LogLine[] = [];

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    db = await openSqlClient({});
    await migrate(db);
    source = `file:${file(mkdtempSync(join(tmpdir(), 'voltkit-prices-')))}`;
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
    );
    running = await startService(db, sim, { priceSource: source, logger });
  });
  afterAll(async () => {
    await running.close();
    await sim.close();
    await db.close();
  });

  it('logs an error naming the source and the missing window', async () => {
    const car = await enrollOverHttp(running, sim, {
      name: 'Ada',
      email: 'ada@example.com',
      brand: 'TESLA',
    });
    sim.setSoc(car, 0.3);
    sim.plugIn(car, { stationKw: 11 });
    await running.service.monitorVehicles();
    const put = await api(running.admin, 'PUT', `api/vehicles/${car}/preferences`, {
      ...DEFAULT_PREFERENCES,
      departures: everyDayAt('07:00'),
      targetSoc: 0.9,
    });
    expect(put.status).toBe(200);
    const errors = logs.filter((line) => line.level >= 50);
    expect(errors.map((line) => line.msg).join('\n')).toContain(`No prices from ${source} for `);
    const missing = errors.find((line) => line.missing)?.missing ?? [];
    expect(missing.length).toBeGreaterThan(0);
  });

  it('says so in /api/prices: the source, the missing window, no slots', async () => {
    const from = '2026-11-21T21:00:00.000Z';
    const to = '2026-11-22T06:00:00.000Z';
    const prices = (await api<PricesView>(running.admin, 'GET', `api/prices?from=${from}&to=${to}`)).body;
    expect(prices.source).toBe(source);
    expect(prices.slots).toEqual([]);
    expect(prices.missing).toEqual([{ start: from, end: to }]);
    expect(prices.problem).toContain(`No prices from ${source} for ${from} – ${to}`);
  });

  it('shows a banner in the dashboard data and costs as unknown, never 0', async () => {
    const cars = (await api<{ items: { id: string }[] }>(running.admin, 'GET', 'api/vehicles')).body.items;
    const ids = cars.map((car) => car.id).join(',');
    const data = (await api<DashboardData>(running.admin, 'GET', `api/dashboard?vehicleIds=${ids}`)).body;
    expect(data.prices.problem).toMatch(/^No prices from /);
    expect(data.fleet.slots.length).toBeGreaterThan(0);
    expect(data.fleet.slots.every((slot) => slot.priceAssumed)).toBe(true);
    expect(data.fleet.costPlanned).toBeNull();
    expect(data.fleet.costOnArrival).toBeNull();
    expect(data.fleet.savings).toBeNull();
    expect(data.vehicles.map((vehicle) => vehicle.costPlanned)).toEqual([null]);
    const page = await (await fetch(running.base)).text();
    expect(page).toContain('id="price-banner"');
  });
});
