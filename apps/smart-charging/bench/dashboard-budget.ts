/**
 * Front-end budgets: JavaScript shipped (gzip) ≤ 150 KB, and first render of the operator console with
 * 100,000 cars ≤ 1 s in headless Chromium, against the same page with 2 cars as the peer.
 *
 * The pages and scripts are the built ones (dist/web, run `pnpm build` first) served by the service's own
 * static/page routes; the API answers come from a generated fleet that the API's zod schemas validate
 * (enrolling 100,000 cars through Connect would measure the simulator, not the page), shaped as the API
 * answers the console: a page of 25 cars, the fleet's load per work unit.
 *
 * Run: node --conditions=@voltkit/source --import tsx bench/dashboard-budget.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { chromium } from 'playwright-core';
import { VehicleViewSchema, type VehicleView } from '../src/service/http/api-routes.ts';
import { DashboardDataSchema, type DashboardData } from '../src/service/http/dashboard-data.ts';
import { findWebAssets, registerWebAssets } from '../src/service/http/web-pages.ts';
import { ANONYMOUS } from '../src/service/auth/identity.ts';
import { registerApiRoutes, defineRoute } from '../src/service/http/api-route.ts';

const JS_BUDGET_KB = 150;
const RENDER_BUDGET_MS = 1000;
const START = Date.parse('2026-11-21T21:00:00Z');
const SLOTS = 40; // 10 h of 15-min slots
/** Cars per page of the console's table (what it asks /api/vehicles for). */
const TABLE_PAGE = 25;
/** The fleet measured against 2 cars: a utility's, which the console pages and sums on the server. */
const FLEET_CARS = 100_000;

function fleet(cars: number): { dashboard: DashboardData; vehicles: VehicleView[]; more: boolean } {
  const ids = Array.from({ length: cars }, (_, index) => `car-${String(index).padStart(4, '0')}`);
  const slots = Array.from({ length: SLOTS }, (_, slot) => ({
    start: new Date(START + slot * 900_000).toISOString(),
    pricePerKwh: 0.1 + 0.05 * Math.sin(slot / 6),
    priceAssumed: slot >= SLOTS - 4,
    limitKw: cars * 4,
    baseLoadKw: cars * 0.4,
    // The fleet view: one series per work unit, here the one substation.
    plannedKw: {
      'node:substation': ids.reduce((sum, _, index) => sum + ((slot + index) % 5 === 0 ? 7.4 : 0), 0),
    },
  }));
  // As the API answers the console: its table's page of cars in full, the rest only in the totals.
  const page = ids.slice(0, TABLE_PAGE);
  const dashboard = DashboardDataSchema.parse({
    generatedAt: new Date(START).toISOString(),
    currency: 'EUR',
    timeZone: 'Europe/Berlin',
    planReason: 'budget',
    prices: {
      source: 'bench',
      from: slots[0]!.start,
      to: slots.at(-1)!.start,
      missing: [],
      fetchError: null,
      problem: null,
    },
    fleet: {
      slots,
      costPlanned: 12.3,
      costOnArrival: 15.6,
      savings: 3.3,
      opportunisticCost: 0,
      peakBeforeKw: cars * 7,
      peakAfterKw: cars * 3,
    },
    vehicles: page.map((id, index) => ({
      id,
      name: `Car ${index}`,
      grantStatus: 'active',
      reconnectPath: null,
      soc: 0.3,
      pluggedIn: true,
      chargingState: 'CHARGING',
      targetSoc: 0.8,
      departure: new Date(START + 10 * 3_600_000).toISOString(),
      plannedKw: slots.map((_, slot) => ((slot + index) % 5 === 0 ? 7.4 : 0)),
      socTrajectory: slots.map((_, slot) => 0.3 + slot * 0.01),
      shortfall: null,
      costPlanned: 1.2,
      costOnArrival: 1.5,
    })),
  });
  const vehicles = page.map((id, index) =>
    VehicleViewSchema.parse({
      id,
      make: 'Car',
      model: String(index),
      year: 2024,
      batteryCapacityKwh: 60,
      grantId: `grant-${index}`,
      grantStatus: 'active',
      grantStatusReason: null,
      reconnectPath: null,
      state: {
        soc: 0.3,
        pluggedIn: true,
        charging: 'CHARGING',
        chargeLimit: 0.8,
        readAt: new Date(START - 60_000).toISOString(),
        source: 'poll',
      },
      nextDeparture: new Date(START + 10 * 3_600_000).toISOString(),
      chargeNow: false,
      mode: 'smart',
      gridNodeId: null,
    }),
  );
  return { dashboard, vehicles, more: cars > TABLE_PAGE };
}

async function serve(cars: number): Promise<{ url: string; close: () => Promise<void> }> {
  const { dashboard, vehicles, more } = fleet(cars);
  const app = Fastify();
  const routes = [
    ...registerWebAssets(app, 'Voltkit smart charging'),
    // The pages ask who is looking first; the bench looks as an operator.
    defineRoute({
      method: 'GET',
      url: '/api/me',
      tag: 'bench',
      summary: '',
      access: 'public',
      handler: () => Promise.resolve({ kind: 'operator', role: 'admin', name: 'bench' }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/dashboard',
      tag: 'bench',
      summary: '',
      access: 'public',
      handler: () => Promise.resolve(dashboard),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/vehicles',
      tag: 'bench',
      summary: '',
      access: 'public',
      handler: () => Promise.resolve({ items: vehicles, nextCursor: more ? 'next-page' : null }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/commands',
      tag: 'bench',
      summary: '',
      access: 'public',
      handler: () => Promise.resolve({ items: [], nextCursor: null }),
    }),
    // One substation with every car below it: the console's tree draws it and asks for its aggregate.
    defineRoute({
      method: 'GET',
      url: '/api/grid/nodes',
      tag: 'bench',
      summary: '',
      access: 'public',
      handler: () =>
        Promise.resolve({
          items: [
            {
              id: 'substation',
              parentId: null,
              kind: 'substation',
              name: 'Substation',
              limitKw: cars * 4,
              baseLoadKwhPerYear: cars * 3500,
              limitMode: 'average',
            },
          ],
          nextCursor: null,
        }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/grid/nodes/:nodeId/aggregate',
      tag: 'bench',
      summary: '',
      access: 'public',
      handler: () =>
        Promise.resolve({
          nodeId: 'substation',
          cars,
          plugged: cars,
          charging: cars,
          baseLoadKwhPerYear: cars * 3500,
          plannedKw: dashboard.fleet.slots.map((slot) => ({
            start: slot.start,
            kw: Object.values(slot.plannedKw).reduce((sum, kw) => sum + kw, 0),
          })),
        }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/grid/events',
      tag: 'bench',
      summary: '',
      access: 'public',
      handler: () => Promise.resolve([]),
    }),
  ];
  registerApiRoutes(app, routes, {
    identify: () => Promise.resolve(ANONYMOUS),
    rateLimit: { max: 1_000_000, timeWindowMs: 60_000 },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `${url}/`, close: () => app.close() };
}

async function main(): Promise<void> {
  const directory = findWebAssets();
  if (directory === null)
    throw new Error('dist/web is missing: run `pnpm build` in apps/smart-charging first');
  const scripts = readdirSync(directory).filter((file) => file.endsWith('.js'));
  const gzipKb =
    scripts.reduce((sum, file) => sum + gzipSync(readFileSync(`${directory}${file}`)).length, 0) / 1024;
  const consoleKb =
    ['console.js', ...scripts.filter((file) => file.startsWith('load-chart-view'))].reduce(
      (sum, file) => sum + gzipSync(readFileSync(`${directory}${file}`)).length,
      0,
    ) / 1024;

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const firstRender = async (cars: number): Promise<number> => {
    const server = await serve(cars);
    const timings: number[] = [];
    try {
      for (let run = 0; run < 3; run++) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
        await page.goto(server.url);
        await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });
        // From navigation start to the first complete render (table, chart, log) on the page's clock.
        timings.push(Number(await page.getAttribute('body', 'data-rendered-ms')));
        const rows = await page.locator('#vehicles tbody tr').count();
        if (rows !== Math.min(cars, 25))
          throw new Error(`expected ${Math.min(cars, 25)} table rows, saw ${rows}`);
        await page.close();
      }
    } finally {
      await server.close();
    }
    return timings.sort((a, b) => a - b)[1]!;
  };
  const peerMs = await firstRender(2);
  const fleetMs = await firstRender(FLEET_CARS);
  await browser.close();

  console.log(
    `JavaScript shipped (gzip): ${gzipKb.toFixed(1)} KB for all pages (${scripts.join(', ')}); console page ${consoleKb.toFixed(1)} KB; budget ${JS_BUDGET_KB} KB → ${gzipKb <= JS_BUDGET_KB ? 'within' : 'OVER'}`,
  );
  console.log(
    `first render, median of 3: 2 cars ${peerMs.toFixed(0)} ms; ${FLEET_CARS.toLocaleString('en')} cars ${fleetMs.toFixed(0)} ms (ratio ${(fleetMs / peerMs).toFixed(2)}×); budget ${RENDER_BUDGET_MS} ms → ${fleetMs <= RENDER_BUDGET_MS ? 'within' : 'OVER'}`,
  );
  if (gzipKb > JS_BUDGET_KB || fleetMs > RENDER_BUDGET_MS) process.exitCode = 1;
}

await main();
