import { createServer } from 'node:net';
import { createClient } from '@voltkit/core/client';
import { awattarDeHourlyCsv } from '@voltkit/data';
import type { Simulator } from '@voltkit/simulator';
import pino, { type Logger } from 'pino';
import { expect } from 'vitest';
import { createHttpServer, type SmartChargingHttp } from '../src/service/http/http-server.ts';
import {
  createSmartChargingService,
  type SmartChargingService,
} from '../src/service/smart-charging-service.ts';
import { loadBdewProfile } from '../src/service/start-app.ts';
import { sqlTokenStore } from '../src/store/grants.ts';
import type { SqlClient } from '../src/store/sql-client.ts';

export const PRICE_FILE = awattarDeHourlyCsv;
export const PRICE_SOURCE = `file:${PRICE_FILE}`;
const PROFILE = loadBdewProfile();

export interface RunningService {
  readonly service: SmartChargingService;
  readonly http: SmartChargingHttp;
  /** `http://127.0.0.1:<port>/` */
  readonly base: string;
  readonly redirectUri: string;
  /** Graceful stop; a test simulating a crash simply never calls it for the instance it "kills". */
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** The service as main.ts wires it, on a given database and simulator, on the simulator's clock. */
export async function startService(
  db: SqlClient,
  sim: Simulator,
  options: {
    logger?: Logger;
    start?: boolean;
    /** @default PRICE_SOURCE, the real aWATTar history */
    priceSource?: string;
    /** Sees every request the service makes to the vehicle API (method and URL), e.g. to count commands. */
    onVehicleApiRequest?: (method: string, url: string, body: string | undefined) => void;
  } = {},
): Promise<RunningService> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/connect/callback`;
  const client = createClient({
    clientId: sim.demoApp.clientId,
    clientSecret: sim.demoApp.clientSecret,
    redirectUri,
    origin: sim.url,
    tokenStore: sqlTokenStore(db),
    ...(options.onVehicleApiRequest
      ? {
          fetch: (input: string, init: RequestInit) => {
            options.onVehicleApiRequest?.(
              init.method ?? 'GET',
              input,
              typeof init.body === 'string' ? init.body : undefined,
            );
            return fetch(input, init);
          },
        }
      : {}),
  });
  const now = () => sim.clock.now();
  const service = createSmartChargingService({
    config: {
      timeZone: 'Europe/Berlin',
      slotMinutes: 15,
      priceSource: options.priceSource ?? PRICE_SOURCE,
      priceFetchCron: '0 13 * * *',
    },
    db,
    client,
    connectMode: 'simulated',
    profile: await PROFILE,
    logger,
    now,
  });
  const http = createHttpServer(service, { now });
  await http.app.listen({ host: '127.0.0.1', port });
  if (options.start ?? true) await service.start({ schedule: false });
  return {
    service,
    http,
    base: `http://127.0.0.1:${port}/`,
    redirectUri,
    async close() {
      await service.stop();
      await http.app.close();
    },
  };
}

export async function api<T = unknown>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, base), {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/**
 * Enrolls one owner over HTTP: the service's Connect link, the owner's consent in the simulator (with the
 * link's own parameters), then the browser's redirect to the service's callback. Returns the vehicle id.
 */
export async function enrollOverHttp(
  running: RunningService,
  sim: Simulator,
  owner: { name: string; email: string; brand: string; model?: string },
): Promise<string> {
  sim.createTestAccount({
    email: owner.email,
    brand: owner.brand,
    ...(owner.model ? { model: owner.model } : {}),
  });
  const started = await api<{ connectUrl: string; grantId: string }>(
    running.base,
    'POST',
    'api/enrollments',
    {
      ownerName: owner.name,
      make: owner.brand,
    },
  );
  expect(started.status).toBe(201);
  const link = new URL(started.body.connectUrl);
  expect(link.searchParams.get('redirect_uri')).toBe(running.redirectUri);
  const { code, vehicleIds } = sim.authorize({
    clientId: link.searchParams.get('client_id')!,
    redirectUri: link.searchParams.get('redirect_uri')!,
    scope: link.searchParams.get('scope')!,
    email: owner.email,
    make: link.searchParams.get('make')!,
  });
  const callback = new URL(running.redirectUri);
  callback.searchParams.set('code', code);
  callback.searchParams.set('state', link.searchParams.get('state')!);
  const answer = await fetch(callback, { redirect: 'manual' });
  expect(answer.status).toBe(303);
  expect(answer.headers.get('location')).toBe(`../?enrolled=${started.body.grantId}`);
  expect(vehicleIds).toHaveLength(1);
  return vehicleIds[0]!;
}

/** Weekly departures all at one time of day. */
export function everyDayAt(time: string): Record<string, string> {
  return Object.fromEntries(
    ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => [day, time]),
  );
}
