import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginCode, createOperatorToken } from '../src/service/auth/identity.ts';
import { revokeApiToken } from '../src/store/api-tokens.ts';
import { migrate } from '../src/store/migrations.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import {
  api,
  connectCallback,
  enrollOverHttp,
  startService,
  TestBrowser,
  type Caller,
  type RunningService,
} from './harness.ts';

const START = new Date('2026-11-21T21:00:00Z');

interface Problem {
  error: { code: string; message: string };
}

/** One raw HTTP/1.1 exchange, for requests fetch would refuse to send (bad encodings, huge headers). */
function rawRequest(base: string, head: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head));
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
  });
}

function expectProblem(body: unknown, code: string): void {
  expect(body).toMatchObject({ error: { code, message: expect.any(String) as string } });
}

describe('attacks from issue 12, against the real service and simulator over sockets', () => {
  let sim: Simulator;
  let db: SqlClient;
  let running: RunningService;
  const logLines: string[] = [];
  const victimBrowser = new TestBrowser();
  let victimCar: string;
  let victimGrant: string;
  const grantTokens = async (grantId: string) =>
    db.query<{ access_token: string; refresh_token: string; status: string }>(
      'select access_token, refresh_token, status from grants where id = $1',
      [grantId],
    );

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual', start: START } });
    db = await openSqlClient({});
    await migrate(db);
    const logger = pino(
      { level: 'trace' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    );
    running = await startService(db, sim, { logger });
    victimCar = await enrollOverHttp(running, sim, {
      name: 'Victim',
      email: 'victim@example.com',
      brand: 'TESLA',
      browser: victimBrowser,
    });
    victimGrant = (await api<{ grantId: string }>(running.admin, 'GET', `api/vehicles/${victimCar}`)).body
      .grantId;
    sim.createTestAccount({ email: 'attacker@example.com', brand: 'TESLA' });
  });
  afterAll(async () => {
    await running?.close();
    await sim?.close();
    await db?.close();
  });

  it('grant takeover: a Connect callback with state=<victim grant id> is refused, the victim keeps its tokens', async () => {
    const before = await grantTokens(victimGrant);
    const attacker = new TestBrowser();
    // The attacker signs in with their own car account and comes back with the victim's grant id as state.
    const { code } = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri: running.redirectUri,
      scope: 'required:read_vehicle_info required:read_battery required:read_charge required:control_charge',
      email: 'attacker@example.com',
      make: 'TESLA',
    });
    const callback = new URL(running.redirectUri);
    callback.searchParams.set('code', code);
    callback.searchParams.set('state', victimGrant);
    const answer = await attacker.fetch(callback);
    expect(answer.status).toBe(400);
    expectProblem(await answer.json(), 'VALIDATION');
    expect(await grantTokens(victimGrant)).toEqual(before);
    // The next re-plan does not mark the victim revoked: its grant still works.
    await running.service.tick();
    expect((await grantTokens(victimGrant))[0]?.status).toBe('active');
    expect(attacker.cookie('127.0.0.1', 'vk_session')).toBeUndefined();
  });

  it('a Connect flow started in one browser cannot be completed in another (state bound by cookie), nor twice', async () => {
    const attacker = new TestBrowser();
    // Login CSRF: the attacker starts Connect, signs in as themself, and sends the callback link to the victim.
    const callback = await connectCallback(running, sim, attacker, {
      email: 'attacker@example.com',
      make: 'TESLA',
    });
    const inVictimsBrowser = await victimBrowser.fetch(callback);
    expect(inVictimsBrowser.status).toBe(400);
    // The refused attempt did not use the state up; in its own browser it works once, then never again.
    expect((await attacker.fetch(callback)).status).toBe(303);
    expect((await attacker.fetch(callback)).status).toBe(400);
    // The victim's session is still the victim's.
    const me = await api<{ kind: string; name: string }>(
      { base: running.base, browser: victimBrowser },
      'GET',
      'api/me',
    );
    expect(me.body).toMatchObject({ kind: 'owner', name: 'Victim' });
  });

  it("reconnect signed in as another Smartcar user: refused, the grant's tokens untouched", async () => {
    const before = await grantTokens(victimGrant);
    const adminBrowser = new TestBrowser();
    const callback = await connectCallback(running, sim, adminBrowser, {
      email: 'attacker@example.com',
      make: 'TESLA',
      reconnectPath: `api/grants/${victimGrant}/reconnect`,
      caller: { base: running.base, browser: adminBrowser, token: running.adminToken },
    });
    const answer = await adminBrowser.fetch(callback);
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('../?enrollment_error=USER_MISMATCH');
    expect(await grantTokens(victimGrant)).toEqual(before);
    // An owner cannot even ask for a reconnect link of another owner's grant.
    const other = new TestBrowser();
    await enrollOverHttp(running, sim, {
      name: 'Mallory',
      email: 'attacker@example.com',
      brand: 'TESLA',
      browser: other,
    });
    const asked = await api<Problem>(
      { base: running.base, browser: other },
      'POST',
      `api/grants/${victimGrant}/reconnect`,
    );
    expect(asked.status).toBe(404);
  });

  it('session fixation: signing in through Connect replaces whatever session cookie the browser came with', async () => {
    const browser = new TestBrowser();
    browser.setCookie('127.0.0.1', 'vk_session', 'vks_attacker-chosen-value-000000000000000000');
    await enrollOverHttp(running, sim, {
      name: 'Fix',
      email: 'fix@example.com',
      brand: 'CITROEN',
      model: 'ë-C4',
      browser,
    });
    const cookie = browser.cookie('127.0.0.1', 'vk_session');
    expect(cookie).toMatch(/^vks_/);
    expect(cookie).not.toBe('vks_attacker-chosen-value-000000000000000000');
  });

  it('DNS rebinding: any Host but the allowed names is refused, even with a valid token', async () => {
    for (const host of ['attacker.example', 'attacker.example:80', '127.0.0.1.nip.io']) {
      const answer = await rawRequest(
        running.base,
        `GET /api/grants HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${running.adminToken}\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.status, host).toBe(403);
      expectProblem(JSON.parse(answer.body), 'FORBIDDEN');
    }
  });

  it('CSRF: a cross-site POST /api/plan (no body) with the operator’s session cookie is refused, nothing re-planned', async () => {
    const operator = await createOperatorToken(db, { name: 'csrf victim', role: 'admin' });
    const code = await createLoginCode(db, { apiTokenId: operator.record.id }, { now: new Date() });
    const browser = new TestBrowser();
    expect(
      (await api({ base: running.base, browser }, 'POST', 'api/session', { credential: code })).status,
    ).toBe(200);
    const planBefore = (await api<{ id: string }>(running.admin, 'GET', 'api/plan')).body.id;
    const plan = new URL('api/plan', running.base);
    for (const origin of ['https://evil.example', 'null', null]) {
      const answer = await browser.fetch(plan, { method: 'POST', origin });
      expect(answer.status, String(origin)).toBe(403);
      expectProblem(await answer.json(), 'FORBIDDEN');
    }
    // A form post from another site (Sec-Fetch-Site) is refused too.
    const formPost = await browser.fetch(plan, {
      method: 'POST',
      origin: null,
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(formPost.status).toBe(403);
    expect((await api<{ id: string }>(running.admin, 'GET', 'api/plan')).body.id).toBe(planBefore);
    // The same origin works (what the dashboard does).
    expect((await browser.fetch(plan, { method: 'POST' })).status).toBe(200);
  });

  it('no authentication: anonymous callers read and change nothing', async () => {
    const anonymous: Caller = { base: running.base, browser: new TestBrowser() };
    const grid = (await api(running.admin, 'GET', 'api/grid')).body;
    for (const [method, path, body] of [
      ['GET', 'api/grants', undefined],
      ['GET', 'api/vehicles', undefined],
      ['PUT', 'api/grid', { limitKw: 1, baseLoadKwhPerYear: 1 }],
      ['PUT', `api/vehicles/${victimCar}/charge-now`, { enabled: true }],
      [
        'PUT',
        'api/prices',
        { slots: [{ start: '2026-11-22T00:00:00Z', end: '2026-11-22T01:00:00Z', pricePerKwh: 9 }] },
      ],
    ] as const) {
      const answer = await api<Problem>(anonymous, method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(401);
      expectProblem(answer.body, 'UNAUTHENTICATED');
    }
    expect((await api(running.admin, 'GET', 'api/grid')).body).toEqual(grid);
    expect((await api(running.admin, 'GET', 'api/overrides')).body).toEqual({ chargeNow: [] });
  });

  it('revoked tokens, used login codes and bogus credentials are 401, not anonymous', async () => {
    const operator = await createOperatorToken(db, { name: 'leaving', role: 'read' });
    const caller = { base: running.base, token: operator.token };
    expect((await api(caller, 'GET', 'api/grid')).status).toBe(200);
    await revokeApiToken(db, operator.record.id);
    expect((await api(caller, 'GET', 'api/grid')).status).toBe(401);
    expect((await api({ base: running.base, token: 'vkt_guessed' }, 'GET', 'api/grid')).status).toBe(401);
    const code = await createLoginCode(
      db,
      { apiTokenId: (await createOperatorToken(db, { name: 'x', role: 'read' })).record.id },
      { now: new Date() },
    );
    const browser = new TestBrowser();
    expect(
      (await api({ base: running.base, browser }, 'POST', 'api/session', { credential: code })).status,
    ).toBe(200);
    expect(
      (
        await api({ base: running.base, browser: new TestBrowser() }, 'POST', 'api/session', {
          credential: code,
        })
      ).status,
    ).toBe(401);
  });

  it('router-level errors answer with the documented error body: bad percent-encoding, over-long params, 431, unknown routes', async () => {
    const auth = `Authorization: Bearer ${running.adminToken}\r\n`;
    const cases: [string, number, string][] = [
      [
        `GET /api/vehicles/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Connection: close\r\n\r\n`,
        400,
        'VALIDATION',
      ],
      [
        `GET /api/vehicles/${'a'.repeat(2000)}/preferences HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Connection: close\r\n\r\n`,
        414,
        'VALIDATION',
      ],
      [
        `GET /api/vehicles HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
        431,
        'VALIDATION',
      ],
      [
        `GET /api/nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Connection: close\r\n\r\n`,
        404,
        'NOT_FOUND',
      ],
      [`GET /%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 400, 'VALIDATION'],
    ];
    for (const [head, status, code] of cases) {
      const answer = await rawRequest(running.base, head);
      expect(answer.status, head.slice(0, 60)).toBe(status);
      expectProblem(JSON.parse(answer.body), code);
    }
  });

  it('security headers: CSP with frame-ancestors none, nosniff, no-referrer; pages allow only their own script', async () => {
    const page = await fetch(running.base);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    // The console and the owner's page load their scripts from /assets/ only; nothing inline runs.
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    // The sign-in page carries one inline script, allowed by its hash alone.
    const login = (await fetch(new URL('login', running.base))).headers.get('content-security-policy') ?? '';
    expect(login).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(login).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const json = await fetch(new URL('api/me', running.base));
    expect(json.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('rate limits sign-in: too many attempts from one address get 429 with the error body', async () => {
    const limited = await startService(db, sim, { rateLimitMax: 3 });
    try {
      const browser = new TestBrowser();
      const statuses: number[] = [];
      let last: unknown;
      for (let attempt = 0; attempt < 5; attempt++) {
        const answer = await api({ base: limited.base, browser }, 'POST', 'api/session', {
          credential: `vkt_guess${attempt}`,
        });
        statuses.push(answer.status);
        last = answer.body;
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      expectProblem(last, 'RATE_LIMITED');
    } finally {
      await limited.close();
    }
  });

  it('no token, session or login secret ever appears in the logs', async () => {
    await running.service.tick();
    const rows = await db.query<{ id: string }>(`select id from grants where status = 'active'`);
    const store = (await import('../src/store/grants.ts')).sqlTokenStore(db, running.cipher);
    const secrets: string[] = [running.adminToken];
    for (const row of rows) {
      const access = await store.get(row.id);
      if (access) secrets.push(access.accessToken, access.refreshToken);
    }
    const session = victimBrowser.cookie('127.0.0.1', 'vk_session');
    if (session) secrets.push(session);
    expect(secrets.length).toBeGreaterThan(3);
    const logs = logLines.join('');
    expect(logs.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(logs).not.toContain(secret);
    // Nor the ciphertexts' key material: the stored form is enc:v1:<key id>:…, never plain text.
    const stored = await db.query<{ access_token: string }>(
      `select access_token from grants where status = 'active'`,
    );
    for (const row of stored) expect(row.access_token).toMatch(/^enc:v1:/);
  });
});
