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
import { createOperatorToken } from '../src/service/auth/identity.ts';
import { loadBdewProfile } from '../src/service/start-app.ts';
import { sqlTokenStore } from '../src/store/grants.ts';
import type { SqlClient } from '../src/store/sql-client.ts';
import { testTokenCipher } from '../src/store/test-backends.ts';
import type { TokenCipher } from '../src/store/token-cipher.ts';
import { TestBrowser } from './test-browser.ts';

export { TestBrowser } from './test-browser.ts';

export const PRICE_FILE = awattarDeHourlyCsv;
export const PRICE_SOURCE = `file:${PRICE_FILE}`;
const PROFILE = loadBdewProfile();

export interface RunningService {
  readonly service: SmartChargingService;
  readonly http: SmartChargingHttp;
  /** `http://127.0.0.1:<port>/` */
  readonly base: string;
  readonly redirectUri: string;
  /** Callers with an operator API token (Authorization: Bearer). */
  readonly admin: Caller;
  readonly reader: Caller;
  readonly adminToken: string;
  readonly cipher: TokenCipher;
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
    /** Sign-in and Connect requests per client address and minute. @default 1000 (tests share 127.0.0.1) */
    rateLimitMax?: number;
    cipher?: TokenCipher;
    /** @default the demo app's: the simulator signs webhooks with it */
    webhookManagementToken?: string;
    /** @default 120 at once, 2 a minute */
    requestBudget?: { capacity: number; refillPerMinute: number };
  } = {},
): Promise<RunningService> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/connect/callback`;
  const cipher = options.cipher ?? testTokenCipher();
  const client = createClient({
    clientId: sim.demoApp.clientId,
    clientSecret: sim.demoApp.clientSecret,
    redirectUri,
    origin: sim.url,
    tokenStore: sqlTokenStore(db, cipher),
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
    webhooks: { managementToken: options.webhookManagementToken ?? sim.demoApp.managementToken },
    ...(options.requestBudget ? { requestBudget: options.requestBudget } : {}),
  });
  const http = await createHttpServer(service, {
    now,
    rateLimit: { max: options.rateLimitMax ?? 1000, timeWindowMs: 60_000 },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await http.app.listen({ host: '127.0.0.1', port });
  if (options.start ?? true) await service.start({ schedule: false });
  const base = `http://127.0.0.1:${port}/`;
  const admin = await createOperatorToken(db, { name: 'test admin', role: 'admin' });
  const reader = await createOperatorToken(db, { name: 'test reader', role: 'read' });
  return {
    service,
    http,
    base,
    redirectUri,
    admin: { base, token: admin.token },
    reader: { base, token: reader.token },
    adminToken: admin.token,
    cipher,
    async close() {
      await service.stop();
      await http.app.close();
    },
  };
}

/** Who calls: an API token, a browser with its cookies, or nobody (anonymous). */
export interface Caller {
  readonly base: string;
  readonly token?: string;
  readonly browser?: TestBrowser;
}

export async function api<T = unknown>(
  caller: Caller | string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; headers: Headers }> {
  const who: Caller = typeof caller === 'string' ? { base: caller } : caller;
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (who.token !== undefined) headers['authorization'] = `Bearer ${who.token}`;
  const init: RequestInit = {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
  const url = new URL(path, who.base);
  const response = who.browser ? await who.browser.fetch(url, init) : await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    body: (text && (response.headers.get('content-type') ?? '').includes('json')
      ? JSON.parse(text)
      : text || undefined) as T,
    headers: response.headers,
  };
}

/** Every item of a paged list (`{ items, nextCursor }`), following the cursors; fails on any non-200. */
export async function listAll<T>(caller: Caller | string, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const url = new URL(path, 'http://x/');
    if (cursor !== null) url.searchParams.set('cursor', cursor);
    if (!url.searchParams.has('limit')) url.searchParams.set('limit', '1000');
    const page = await api<{ items: T[]; nextCursor: string | null }>(
      caller,
      'GET',
      `${url.pathname.slice(1)}${url.search}`,
    );
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  return items;
}

/**
 * Enrolls one owner over HTTP in a browser (its cookies kept): the service's Connect link, the owner's
 * consent in the simulator (with the link's own parameters), then the browser's redirect to the service's
 * callback, which signs the owner in. Returns the vehicle id; `browser` holds the owner's session after.
 */
export async function enrollOverHttp(
  running: RunningService,
  sim: Simulator,
  owner: { name: string; email: string; brand: string; model?: string; browser?: TestBrowser },
): Promise<string> {
  const browser = owner.browser ?? new TestBrowser();
  // Idempotent in the simulator: the same owner signing in again keeps their account and car.
  sim.createTestAccount({
    email: owner.email,
    brand: owner.brand,
    ...(owner.model ? { model: owner.model } : {}),
  });
  const callback = await connectCallback(running, sim, browser, {
    ownerName: owner.name,
    email: owner.email,
    make: owner.brand,
  });
  const answer = await browser.fetch(callback, { redirect: 'manual' });
  expect(answer.status).toBe(303);
  expect(answer.headers.get('location')).toMatch(/^\.\.\/\?enrolled=/);
  const vehicles = await listAll<{ id: string }>({ base: running.base, browser }, 'api/vehicles');
  return vehicles.at(-1)!.id;
}

/**
 * The first half of Connect in `browser`: the service's link (POST /api/enrollments, or a reconnect path),
 * the user's consent in the simulator. Returns the callback URL Connect sends the browser to, unopened.
 */
export async function connectCallback(
  running: RunningService,
  sim: Simulator,
  browser: TestBrowser,
  flow: { ownerName?: string; email: string; make?: string; reconnectPath?: string; caller?: Caller },
): Promise<URL> {
  const caller = flow.caller ?? { base: running.base, browser };
  const started = flow.reconnectPath
    ? await api<{ connectUrl: string }>(caller, 'POST', flow.reconnectPath)
    : await api<{ connectUrl: string }>(caller, 'POST', 'api/enrollments', {
        ownerName: flow.ownerName ?? 'Owner',
        ...(flow.make ? { make: flow.make } : {}),
      });
  expect(started.status, JSON.stringify(started.body)).toBe(flow.reconnectPath ? 200 : 201);
  const link = new URL(started.body.connectUrl);
  expect(link.searchParams.get('redirect_uri')).toBe(running.redirectUri);
  const { code } = sim.authorize({
    clientId: link.searchParams.get('client_id')!,
    redirectUri: link.searchParams.get('redirect_uri')!,
    scope: link.searchParams.get('scope')!,
    email: flow.email,
    ...(flow.make || link.searchParams.get('make')
      ? { make: flow.make ?? link.searchParams.get('make')! }
      : {}),
  });
  const callback = new URL(running.redirectUri);
  callback.searchParams.set('code', code);
  callback.searchParams.set('state', link.searchParams.get('state')!);
  return callback;
}

/** Weekly departures all at one time of day. */
export function everyDayAt(time: string): Record<string, string> {
  return Object.fromEntries(
    ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => [day, time]),
  );
}
