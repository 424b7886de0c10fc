import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import smartcar from 'smartcar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { connectOverHttp, CookieJar, formFields, pointSdkAt, sdkError } from './helpers.ts';

/**
 * The attacks of issue 12 on the simulator's authorization server, each through a real socket: what an
 * attacker tries, and that it is refused with nothing changed.
 */

const REDIRECT = 'https://example.com/auth';
let sim: Simulator;

beforeAll(async () => {
  sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2025-09-01T08:00:00Z') } });
  pointSdkAt(sim.url);
});
afterAll(async () => {
  await sim.close();
});

function authorizeUrl(params: Record<string, string>, base = sim.url): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: sim.demoApp.clientId,
    redirect_uri: REDIRECT,
    mode: 'simulated',
    ...params,
  });
  return `${base}/oauth/authorize?${query.toString()}`;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function token(form: Record<string, string>, credentials = sim.demoApp) {
  const response = await fetch(`${sim.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: basic(credentials.clientId, credentials.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

async function apiStatus(accessToken: string): Promise<number> {
  const response = await fetch(`${sim.url}/v2.0/vehicles`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  await response.arrayBuffer();
  return response.status;
}

function action(html: string): string {
  const match = /<form method="post" action="([^"]+)"/.exec(html);
  if (match?.[1] === undefined) throw new Error('no form on the page');
  return new URL(match[1], sim.url).toString();
}

/** The victim's browser up to the consent page: preamble, sign-in (make= skips the brand picker). */
async function victimAtConsent(email: string, params: Record<string, string> = {}) {
  const jar = new CookieJar();
  const preamble = await jar.get(authorizeUrl({ make: 'TESLA', scope: 'read_vin read_battery', ...params }));
  expect(preamble.status).toBe(200);
  const sid = /\/connect\/([0-9a-f-]{36})\//.exec(preamble.text)?.[1] ?? '';
  const login = await jar.get(`${sim.url}/connect/${sid}/login`);
  const afterLogin = await jar.post(action(login.text), [
    ...formFields(login.text),
    ['username', email],
    ['password', 'pw'],
  ]);
  expect(afterLogin.status).toBe(303);
  const consent = await jar.get(`${sim.url}/connect/${sid}/approve`);
  expect(consent.status).toBe(200);
  return { jar, sid, consent: consent.text };
}

describe('redirect_uri: exact match, an error page and never a redirect otherwise', () => {
  it('refuses the userinfo trick and every near miss of a registered URI with an HTML page, no Location', async () => {
    for (const redirect of [
      'http://localhost:@evil.example/steal',
      'http://localhost:8000@evil.example/callback',
      'http://localhost.evil.example/callback',
      'http://127.0.0.1:8080/callback/../steal',
      'http://localhost:8000/callbackx',
      'https://example.com/auth/',
      'https://example.com/auth?next=https://evil.example',
      'https://example.com.evil.example/auth',
      'HTTPS://example.com/auth',
    ]) {
      const response = await fetch(authorizeUrl({ redirect_uri: redirect }), { redirect: 'manual' });
      expect(response.status, redirect).toBe(400);
      expect(response.headers.get('location'), redirect).toBeNull();
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(await response.text()).toContain('Invalid redirect URI');
    }
  });

  it('shows the error page, not a redirect, for malformed parameters when the redirect URI is not valid', async () => {
    for (const params of [
      { redirect_uri: 'https://evil.example/steal', response_type: 'token' },
      { redirect_uri: 'http://localhost:@evil.example/steal', mode: 'sandbox', scope: 'read_minds' },
    ]) {
      const response = await fetch(authorizeUrl(params), { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
    }
    // A repeated client_id or redirect_uri is malformed: which copy would count is not guessed.
    const twice = `${authorizeUrl({})}&redirect_uri=${encodeURIComponent('https://evil.example/')}`;
    const doubled = await fetch(twice, { redirect: 'manual' });
    expect([doubled.status, doubled.headers.get('location')]).toEqual([400, null]);
    const twoClients = `${authorizeUrl({})}&client_id=other`;
    expect((await fetch(twoClients, { redirect: 'manual' })).status).toBe(400);
  });

  it('lets only the port vary on loopback (RFC 8252 §7.3), and the token exchange repeats the URI exactly', async () => {
    const loopback = 'http://127.0.0.1:49152/callback';
    const redirect = await connectOverHttp(
      authorizeUrl({ redirect_uri: loopback, make: 'TESLA', scope: 'read_vin' }),
      {
        brand: 'TESLA',
        email: 'loopback@example.com',
      },
    );
    expect(`${redirect.origin}${redirect.pathname}`).toBe('http://127.0.0.1:49152/callback');
    const code = redirect.searchParams.get('code') ?? '';
    const otherPort = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1:1/callback',
    });
    expect(otherPort).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await token({ grant_type: 'authorization_code', code, redirect_uri: loopback })).status).toBe(
      200,
    );
  });

  it('refuses to register a wildcard or a URI with user information', async () => {
    expect(() => sim.registerApp({ name: 'Wild', redirectUris: ['http://localhost:*'] })).toThrow(
      /redirect URI/,
    );
    const response = await fetch(`${sim.url}/_simulator/apps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.managementToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Wild', redirectUris: ['https://user@example.com/cb'] }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { type: string }).type).toBe('VALIDATION');
  });
});

describe('Connect is bound to the browser that opened it', () => {
  it('sets an HttpOnly, SameSite=Strict cookie scoped to the session', async () => {
    const response = await fetch(authorizeUrl({ make: 'TESLA' }), { redirect: 'manual' });
    const html = await response.text();
    const sid = /\/connect\/([0-9a-f-]{36})\//.exec(html)?.[1];
    const cookie = response.headers.getSetCookie()[0] ?? '';
    expect(cookie).toMatch(/^vk_connect=[\w-]{40,};/);
    expect(cookie).toContain(`Path=/connect/${sid}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
  });

  it('an attacker who knows the session URL cannot see the consent page or approve it from another client', async () => {
    const { sid, consent } = await victimAtConsent('victim@example.com');
    const victimAccount = sim.createTestAccount({ email: 'victim@example.com', brand: 'TESLA' });
    const victimVehicle = victimAccount.vehicles[0]?.id ?? '';
    const attacker = new CookieJar();
    const peek = await attacker.get(`${sim.url}/connect/${sid}/approve`);
    expect(peek.status).toBe(403);
    expect(peek.text).not.toContain(victimVehicle);
    // Even with the victim's CSRF token (say, leaked), no cookie means no approval.
    const approve = await attacker.post(`${sim.url}/connect/${sid}/approve`, [
      ...formFields(consent),
      ['action', 'approve'],
    ]);
    expect(approve.status).toBe(403);
    expect(approve.headers.get('location')).toBeNull();
    // And with the attacker's own Connect cookie (another session) it is still someone else's session.
    await attacker.get(authorizeUrl({ make: 'TESLA' }));
    const withOwnCookie = await fetch(`${sim.url}/connect/${sid}/approve`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: attacker.header(`${sim.url}/connect/${sid}/approve`) || 'vk_connect=guess',
      },
      body: new URLSearchParams([...formFields(consent), ['action', 'approve']]).toString(),
    });
    expect(withOwnCookie.status).toBe(403);
    const connections = await fetch(
      `${sim.url}/v2.0/management/connections?user_id=${victimAccount.userId}`,
      {
        headers: { authorization: basic('default', sim.demoApp.managementToken) },
      },
    );
    expect(((await connections.json()) as { connections: unknown[] }).connections).toEqual([]);
  });

  it('form posts without the session CSRF token are refused, for brand, sign-in, approve and deny', async () => {
    const { jar, sid, consent } = await victimAtConsent('csrf@example.com');
    const noToken = formFields(consent).filter(([name]) => name !== 'csrf_token');
    for (const form of [
      [...noToken, ['action', 'approve']],
      [...noToken, ['action', 'deny']],
      [...noToken, ['csrf_token', 'forged'], ['action', 'approve']],
    ] as [string, string][][]) {
      const response = await jar.post(`${sim.url}/connect/${sid}/approve`, form);
      expect(response.status).toBe(403);
      expect(response.headers.get('location')).toBeNull();
    }
    const login = await jar.post(`${sim.url}/connect/${sid}/login`, [
      ['username', 'attacker@example.com'],
      ['password', 'x'],
    ]);
    expect(login.status).toBe(403);
    const brand = await jar.post(`${sim.url}/connect/${sid}/brand`, [['brand', 'KIA']]);
    expect(brand.status).toBe(403);
    // The session is intact: the owner's own post still works.
    const approve = await jar.post(`${sim.url}/connect/${sid}/approve`, [
      ...formFields(consent),
      ['action', 'approve'],
    ]);
    expect(approve.status).toBe(303);
    expect(new URL(approve.headers.get('location') ?? '').searchParams.get('code')).toMatch(
      /^[0-9a-f-]{36}$/,
    );
  });

  it('names the requesting app on every page, escaped', async () => {
    const app = sim.registerApp({ name: 'Fleet <b>Charger</b>', redirectUris: [REDIRECT] });
    const jar = new CookieJar();
    const preamble = await jar.get(authorizeUrl({ client_id: app.clientId, scope: 'read_vin' }));
    const sid = /\/connect\/([0-9a-f-]{36})\//.exec(preamble.text)?.[1] ?? '';
    const brands = await jar.get(`${sim.url}/connect/${sid}/brands`);
    await jar.post(action(brands.text), [...formFields(brands.text), ['brand', 'TESLA']]);
    const login = await jar.get(`${sim.url}/connect/${sid}/login`);
    const failed = await jar.post(action(login.text), [
      ...formFields(login.text),
      ['username', ' '],
      ['password', ''],
    ]);
    const failedText = await failed.text();
    await jar.post(action(login.text), [
      ...formFields(login.text),
      ['username', 'named@example.com'],
      ['password', 'x'],
    ]);
    const consent = await jar.get(`${sim.url}/connect/${sid}/approve`);
    for (const page of [preamble.text, brands.text, login.text, failedText, consent.text]) {
      expect(page).toContain(
        '<p class="app" id="requesting-app">Requested by Fleet &lt;b&gt;Charger&lt;/b&gt;</p>',
      );
    }
  });

  it('Connect pages cannot be framed, sniffed or cached', async () => {
    const jar = new CookieJar();
    const response = await fetch(authorizeUrl({ make: 'TESLA' }), { redirect: 'manual' });
    await response.text();
    const errorResponse = await jar.get(`${sim.url}/connect/00000000-0000-4000-8000-000000000000/login`);
    expect(errorResponse.status).toBe(400);
    for (const headers of [response.headers]) {
      expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('cache-control')).toBe('no-store');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
    }
  });
});

describe('codes and refresh tokens (RFC 6749 §4.1.2, RFC 9700 §4.14.2)', () => {
  const issue = (email: string) =>
    sim.authorize({ clientId: sim.demoApp.clientId, redirectUri: REDIRECT, scope: 'read_vin', email }).code;

  it('another client presenting a stolen code, or the wrong redirect_uri, spends nothing', async () => {
    const code = issue('burn@example.com');
    const other = sim.registerApp({ name: 'Thief', redirectUris: [REDIRECT] });
    const stolen = await token(
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT },
      { ...sim.demoApp, ...other },
    );
    expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const wrongUri = await token({ grant_type: 'authorization_code', code, redirect_uri: `${REDIRECT}/x` });
    expect(wrongUri).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT })).status).toBe(
      200,
    );
  });

  it('a reused code is refused and revokes the tokens it issued', async () => {
    const code = issue('replay@example.com');
    const first = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expect(await apiStatus(first.body['access_token'] ?? '')).toBe(200);
    const replay = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await apiStatus(first.body['access_token'] ?? '')).toBe(401);
    const refresh = await token({
      grant_type: 'refresh_token',
      refresh_token: first.body['refresh_token'] ?? '',
    });
    expect(refresh).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('a rotated refresh token presented again revokes the whole family, through the official SDK too', async () => {
    const client = new smartcar.AuthClient({
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
      redirectUri: REDIRECT,
      mode: 'simulated',
    });
    const first = await client.exchangeCode(issue('rotate@example.com'));
    const second = await client.exchangeRefreshToken(first.refreshToken);
    const third = await client.exchangeRefreshToken(second.refreshToken);
    expect(await apiStatus(third.accessToken)).toBe(200);
    // A thief replays the first refresh token: refused, and every live token of the family goes.
    const reused = await sdkError(() => client.exchangeRefreshToken(first.refreshToken));
    expect([reused.statusCode, reused.type]).toEqual([400, 'invalid_grant']);
    expect(await apiStatus(third.accessToken)).toBe(401);
    expect(await apiStatus(second.accessToken)).toBe(401);
    const next = await sdkError(() => client.exchangeRefreshToken(third.refreshToken));
    expect(next.type).toBe('invalid_grant');
  });

  it('revokes one family only, and another client replaying a spent token revokes nothing', async () => {
    const a = await token({
      grant_type: 'authorization_code',
      code: issue('family@example.com'),
      redirect_uri: REDIRECT,
    });
    const b = await token({
      grant_type: 'authorization_code',
      code: issue('family@example.com'),
      redirect_uri: REDIRECT,
    });
    const aNext = await token({ grant_type: 'refresh_token', refresh_token: a.body['refresh_token'] ?? '' });
    const other = sim.registerApp({ name: 'Other', redirectUris: [REDIRECT] });
    const foreign = await token(
      { grant_type: 'refresh_token', refresh_token: a.body['refresh_token'] ?? '' },
      { ...sim.demoApp, ...other },
    );
    expect(foreign.body['error']).toBe('invalid_grant');
    expect(await apiStatus(aNext.body['access_token'] ?? '')).toBe(200);
    await token({ grant_type: 'refresh_token', refresh_token: a.body['refresh_token'] ?? '' });
    expect(await apiStatus(aNext.body['access_token'] ?? '')).toBe(401);
    expect(await apiStatus(b.body['access_token'] ?? '')).toBe(200);
  });
});

describe('required and optional permissions', () => {
  it('an ICE car cannot connect with required:read_battery: vehicle_incompatible, and no grant', async () => {
    for (const mode of ['simulated', 'live']) {
      const email = `ice-${mode}@example.com`;
      const account = sim.createTestAccount({ email, brand: 'BMW', model: 'X3' });
      const redirect = await connectOverHttp(
        authorizeUrl({ make: 'BMW', mode, scope: 'required:read_battery read_vin', state: 'st' }),
        { brand: 'BMW', email },
      );
      expect(redirect.searchParams.get('error')).toBe('vehicle_incompatible');
      expect(redirect.searchParams.get('state')).toBe('st');
      expect(redirect.searchParams.get('code')).toBeNull();
      expect(redirect.searchParams.get('make')).toBe('BMW');
      expect(redirect.searchParams.get('model')).toBe('X3');
      expect(redirect.searchParams.get('vin')).toBe(account.vehicles[0]?.vin);
    }
    expect(() =>
      sim.authorize({
        clientId: sim.demoApp.clientId,
        scope: 'required:read_battery',
        email: 'ice-live@example.com',
        make: 'BMW',
      }),
    ).toThrow(/vehicle_incompatible/);
  });

  it('offers only the cars that serve the required scopes; a posted incompatible car is ignored', async () => {
    const email = 'mixed@example.com';
    const account = sim.createTestAccount({ email, brand: 'CHEVROLET', model: 'Bolt EV' });
    const ice = sim
      .createTestAccount({ email, brand: 'CHEVROLET', model: 'Equinox', vehicleCount: 2 })
      .vehicles.find((v) => v.model === 'Equinox');
    const jar = new CookieJar();
    const preamble = await jar.get(authorizeUrl({ make: 'CHEVROLET', scope: 'required:read_battery' }));
    const sid = /\/connect\/([0-9a-f-]{36})\//.exec(preamble.text)?.[1] ?? '';
    const login = await jar.get(`${sim.url}/connect/${sid}/login`);
    await jar.post(action(login.text), [...formFields(login.text), ['username', email], ['password', 'x']]);
    const consent = await jar.get(`${sim.url}/connect/${sid}/approve`);
    expect(consent.text).toContain('not compatible');
    expect(consent.text).not.toContain(`value="${ice?.id}"`);
    const approve = await jar.post(action(consent.text), [
      ...formFields(consent.text),
      ['vehicle', ice?.id ?? ''],
      ['action', 'approve'],
    ]);
    const code = new URL(approve.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    const list = await fetch(`${sim.url}/v2.0/vehicles`, {
      headers: { authorization: `Bearer ${tokens.body['access_token']}` },
    });
    expect(((await list.json()) as { vehicles: string[] }).vehicles).toEqual([account.vehicles[0]?.id]);
  });

  it('the owner can untick an optional permission; required ones cannot be unticked or added to', async () => {
    const redirect = await connectOverHttp(
      authorizeUrl({ make: 'TESLA', scope: 'required:read_battery read_vin read_location' }),
      { brand: 'TESLA', email: 'untick@example.com', untick: ['read_vin'] },
    );
    const tokens = await token({
      grant_type: 'authorization_code',
      code: redirect.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT,
    });
    const access = tokens.body['access_token'] ?? '';
    const { vehicles } = await smartcar.getVehicles(access);
    const vehicle = new smartcar.Vehicle(vehicles[0] ?? '', access);
    const permissions = await vehicle.permissions();
    expect([...permissions.permissions].sort()).toEqual(['read_battery', 'read_location']);
    expect((await sdkError(() => vehicle.vin())).statusCode).toBe(403);

    // A forged form that drops the required scope and adds one never requested changes nothing.
    const jar = new CookieJar();
    const preamble = await jar.get(
      authorizeUrl({ make: 'TESLA', scope: 'required:read_battery read_vin', approval_prompt: 'force' }),
    );
    const sid = /\/connect\/([0-9a-f-]{36})\//.exec(preamble.text)?.[1] ?? '';
    const login = await jar.get(`${sim.url}/connect/${sid}/login`);
    await jar.post(action(login.text), [
      ...formFields(login.text),
      ['username', 'forge@example.com'],
      ['password', 'x'],
    ]);
    const consent = await jar.get(`${sim.url}/connect/${sid}/approve`);
    expect(consent.text).toMatch(/<input type="checkbox" checked disabled> Read the EV battery/);
    const forged = formFields(consent.text).filter(([name]) => name !== 'scope');
    const approve = await jar.post(action(consent.text), [
      ...forged,
      ['scope', 'control_security'],
      ['action', 'approve'],
    ]);
    const code = new URL(approve.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const forgedTokens = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    const forgedVehicles = await smartcar.getVehicles(forgedTokens.body['access_token'] ?? '');
    const granted = await new smartcar.Vehicle(
      forgedVehicles.vehicles[0] ?? '',
      forgedTokens.body['access_token'] ?? '',
    ).permissions();
    expect(granted.permissions).toEqual(['read_battery']);
  });
});

describe('approval_prompt and restarts', () => {
  it('approval_prompt=auto skips consent for an owner who already granted it; force and new scopes ask again', async () => {
    const email = 'again@example.com';
    await connectOverHttp(authorizeUrl({ make: 'TESLA', scope: 'read_vin read_odometer' }), {
      brand: 'TESLA',
      email,
    });
    const walk = async (params: Record<string, string>) => {
      const jar = new CookieJar();
      const preamble = await jar.get(authorizeUrl({ make: 'TESLA', ...params }));
      const sid = /\/connect\/([0-9a-f-]{36})\//.exec(preamble.text)?.[1] ?? '';
      const login = await jar.get(`${sim.url}/connect/${sid}/login`);
      const after = await jar.post(action(login.text), [
        ...formFields(login.text),
        ['username', email],
        ['password', 'x'],
      ]);
      return after.headers.get('location') ?? '';
    };
    const skipped = new URL(await walk({ scope: 'read_vin', approval_prompt: 'auto', state: 'again' }));
    expect(skipped.origin + skipped.pathname).toBe(REDIRECT);
    expect(skipped.searchParams.get('state')).toBe('again');
    expect(
      (
        await token({
          grant_type: 'authorization_code',
          code: skipped.searchParams.get('code') ?? '',
          redirect_uri: REDIRECT,
        })
      ).status,
    ).toBe(200);
    expect(await walk({ scope: 'read_vin', approval_prompt: 'force' })).toMatch(/^\/connect\/.+\/approve$/);
    expect(await walk({ scope: 'read_vin read_location' })).toMatch(/^\/connect\/.+\/approve$/);
  });

  it('a half-finished Connect session survives a restart, still bound to its browser', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'voltkit-connect-restart-'));
    try {
      const first = await createSimulator({ dataDir, clock: { mode: 'manual' } });
      const jar = new CookieJar();
      const preamble = await jar.get(
        authorizeUrl({ make: 'TESLA', scope: 'read_vin', state: 'across' }, first.url),
      );
      const sid = /\/connect\/([0-9a-f-]{36})\//.exec(preamble.text)?.[1] ?? '';
      const login = await jar.get(`${first.url}/connect/${sid}/login`);
      await jar.post(`${first.url}/connect/${sid}/login`, [
        ...formFields(login.text),
        ['username', 'restart@example.com'],
        ['password', 'x'],
      ]);
      const consent = await jar.get(`${first.url}/connect/${sid}/approve`);
      await first.close();

      const second = await createSimulator({ dataDir, clock: { mode: 'manual' } });
      try {
        const stranger = await fetch(`${second.url}/connect/${sid}/approve`, { redirect: 'manual' });
        expect(stranger.status).toBe(403);
        const approve = await jar.post(`${second.url}/connect/${sid}/approve`, [
          ...formFields(consent.text),
          ['action', 'approve'],
        ]);
        const redirect = new URL(approve.headers.get('location') ?? '');
        expect(redirect.searchParams.get('state')).toBe('across');
        const exchanged = await fetch(`${second.url}/oauth/token`, {
          method: 'POST',
          headers: {
            authorization: basic(second.demoApp.clientId, second.demoApp.clientSecret),
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: redirect.searchParams.get('code') ?? '',
            redirect_uri: REDIRECT,
          }).toString(),
        });
        expect(exchanged.status).toBe(200);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a snapshot of an older simulator with wildcard redirect URIs matches nothing by prefix, and never crashes', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'voltkit-old-snapshot-'));
    try {
      const first = await createSimulator({ dataDir, clock: { mode: 'manual' } });
      await first.close();
      const file = join(dataDir, 'simulator-state.json');
      const snapshot = JSON.parse(await readFile(file, 'utf8')) as {
        apps: { clientId: string; redirectUris: string[] }[];
      };
      const old = ['https://example.com/auth', 'http://localhost:*', 'http://127.0.0.1:*'];
      for (const app of snapshot.apps) app.redirectUris = old;
      snapshot.apps.push({
        ...snapshot.apps[0]!,
        clientId: 'legacy-app',
        redirectUris: ['http://localhost:*'],
      });
      await writeFile(file, JSON.stringify(snapshot));

      const second = await createSimulator({ dataDir, clock: { mode: 'manual' } });
      try {
        // The demo app is registered afresh with today's exact URIs.
        const redirect = await connectOverHttp(
          authorizeUrl(
            { redirect_uri: 'http://localhost:5173/callback', make: 'TESLA', scope: 'read_vin' },
            second.url,
          ),
          { brand: 'TESLA', email: 'old-snapshot@example.com' },
        );
        expect(redirect.searchParams.get('code')).toMatch(/^[0-9a-f-]{36}$/);
        for (const params of [
          { client_id: 'legacy-app', redirect_uri: 'http://localhost:*' },
          { client_id: 'legacy-app', redirect_uri: 'http://localhost:8080/steal' },
          { client_id: 'legacy-app' },
        ]) {
          const response = await fetch(authorizeUrl(params, second.url), { redirect: 'manual' });
          expect([response.status, response.headers.get('location')]).toEqual([400, null]);
        }
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
