import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, signPayload, type Simulator } from '@voltkit/simulator';
import { connectedToken } from './helpers.ts';

const REDIRECT = 'http://localhost/callback';

let sim: Simulator;

beforeAll(async () => {
  sim = await createSimulator({ clock: { mode: 'manual' }, webhookRetryBaseMs: 10, requestLogSize: 50 });
});
afterAll(async () => {
  await sim.close();
});

const dashboard = (path = '') => `${sim.url}/_simulator/dashboard${path === '' ? '/' : path}`;

/** A signed-in dashboard browser: its session cookie and the CSRF token of its forms. */
async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(dashboard('/login'), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: sim.url },
    body: new URLSearchParams({ token: sim.managementToken }),
  });
  expect(response.status).toBe(303);
  const setCookie = response.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(/HttpOnly/);
  expect(setCookie).toMatch(/SameSite=Strict/);
  expect(setCookie).not.toContain(sim.managementToken);
  const cookie = setCookie.split(';')[0] ?? '';
  const page = await (await fetch(dashboard(), { headers: { cookie } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  expect(csrf.length).toBeGreaterThan(20);
  return { cookie, csrf };
}

function post(
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(dashboard(path), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: sim.url, ...headers },
    body: new URLSearchParams(fields),
  });
}

async function pageText(cookie: string, path = ''): Promise<string> {
  const response = await fetch(dashboard(path), { headers: { cookie } });
  expect(response.status).toBe(200);
  return response.text();
}

describe('dashboard: who is asking', () => {
  it('sends a browser without a session to the sign-in page and refuses its actions with 401', async () => {
    for (const path of ['', '/accounts', '/connections', '/requests', '/deliveries']) {
      const response = await fetch(dashboard(path), { redirect: 'manual' });
      expect(response.status, path).toBe(303);
      expect(response.headers.get('location')).toBe('/_simulator/dashboard/login');
    }
    const apps = sim.registerApp({ name: 'before', redirectUris: [REDIRECT] });
    const forged = await post(`/apps/${apps.clientId}/reveal`, {});
    expect(forged.status).toBe(401);
    expect(await forged.text()).not.toContain(apps.clientSecret);
    // A made-up cookie is no session either.
    const fake = await post('/apps', { name: 'x', csrf: 'x' }, { cookie: 'sim_dashboard=guess' });
    expect(fake.status).toBe(401);
  });

  it('refuses a wrong management token', async () => {
    const response = await post('/login', { token: 'not-the-token' });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.text()).toContain('not the management token');
  });

  it('refuses cross-origin and token-less form posts even with a valid session cookie', async () => {
    const { cookie, csrf } = await signIn();
    const before = sim.vehicle(sim.createTestAccount({ email: 'csrf@example.com' }).vehicles[0]!.id);
    const target = `/vehicles/${before.id}`;
    // A page on another site submitting a form to the dashboard (the browser adds the cookie and Origin).
    const crossSite = await post(
      target,
      { action: 'sleep', csrf },
      { cookie, origin: 'http://evil.example' },
    );
    expect(crossSite.status).toBe(403);
    // No Origin, but the browser says it is cross-site.
    const noOrigin = await fetch(dashboard(target), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie,
        'sec-fetch-site': 'cross-site',
      },
      body: new URLSearchParams({ action: 'sleep', csrf }),
    });
    expect(noOrigin.status).toBe(403);
    // Same origin, but without (or with a wrong) CSRF token.
    expect((await post(target, { action: 'sleep' }, { cookie })).status).toBe(403);
    expect((await post(target, { action: 'sleep', csrf: `${csrf}x` }, { cookie })).status).toBe(403);
    // Sign-in from another site (login CSRF) is refused as well.
    expect(
      (await post('/login', { token: sim.managementToken }, { origin: 'http://evil.example' })).status,
    ).toBe(403);
    expect(sim.vehicle(before.id).state.asleep).toBe(false);
    // The same request from the dashboard itself works.
    const ok = await post(target, { action: 'sleep', csrf }, { cookie });
    expect(ok.status).toBe(303);
    expect(sim.vehicle(before.id).state.asleep).toBe(true);
  });

  it('sends a strict CSP, refuses framing and caching', async () => {
    const { cookie } = await signIn();
    const response = await fetch(dashboard(), { headers: { cookie } });
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const script = await fetch(dashboard('/dashboard.js'));
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('signs out: the old cookie no longer opens the dashboard', async () => {
    const { cookie, csrf } = await signIn();
    expect((await post('/logout', { csrf }, { cookie })).status).toBe(303);
    const after = await fetch(dashboard(), { headers: { cookie }, redirect: 'manual' });
    expect(after.status).toBe(303);
  });
});

describe('dashboard: apps and secrets', () => {
  it('masks client secrets and AMTs until they are revealed deliberately, and then once', async () => {
    const { cookie, csrf } = await signIn();
    const app = sim.registerApp({ name: 'Masked app', redirectUris: [REDIRECT] });
    const masked = await pageText(cookie);
    expect(masked).toContain(app.clientId);
    expect(masked).not.toContain(app.clientSecret);
    expect(masked).not.toContain(app.managementToken);
    expect((await post(`/apps/${app.clientId}/reveal`, { csrf }, { cookie })).status).toBe(303);
    const revealed = await pageText(cookie);
    expect(revealed).toContain(app.clientSecret);
    expect(revealed).toContain(app.managementToken);
    expect(await pageText(cookie)).not.toContain(app.clientSecret);
  });

  it('registers an app from the form and names the bad field of a bad one', async () => {
    const { cookie, csrf } = await signIn();
    await post(
      '/apps',
      { csrf, name: 'Form app', redirectUris: 'http://localhost:3000/cb\nhttps://app.example/cb' },
      { cookie },
    );
    const created = await pageText(cookie);
    expect(created).toContain('Registered Form app');
    expect(created).toContain('https://app.example/cb');
    await post('/apps', { csrf, name: 'Bad app', redirectUris: 'http://app.example/*' }, { cookie });
    const refused = await pageText(cookie);
    expect(refused).toMatch(/class="flash error"[^>]*>redirect URI http:\/\/app\.example\/\*/);
    await post('/apps', { csrf, name: '' }, { cookie });
    expect(await pageText(cookie)).toContain('&quot;name&quot; must not be empty');
  });

  it('creates webhooks that work out of the box: the demo receiver answers v2 and v3 challenges', async () => {
    const { cookie, csrf } = await signIn();
    const receiver = `${sim.url}/_simulator/demo-receiver/${sim.demoApp.clientId}`;
    for (const kind of ['v3', 'eventBased']) {
      await post(
        `/apps/${sim.demoApp.clientId}/webhooks`,
        { csrf, kind, url: receiver, subscribe: 'on' },
        { cookie },
      );
      expect(await pageText(cookie)).toMatch(/Created and verified v[23] webhook/);
    }
    expect(sim.v3.webhooks().some((w) => w.url === receiver && w.verified)).toBe(true);
  });

  it('the demo receiver refuses a delivery not signed with the app’s AMT', async () => {
    const url = `${sim.url}/_simulator/demo-receiver/${sim.demoApp.clientId}`;
    const body = JSON.stringify({ version: '2.0', eventName: 'verify', payload: { challenge: 'abc' } });
    const unsigned = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(unsigned.status).toBe(401);
    const wrongKey = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sc-signature': signPayload('other-amt', body) },
      body,
    });
    expect(wrongKey.status).toBe(401);
    const signed = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'sc-signature': signPayload(sim.demoApp.managementToken, body),
      },
      body,
    });
    expect(await signed.json()).toEqual({ challenge: signPayload(sim.demoApp.managementToken, 'abc') });
  });
});

describe('dashboard: request log', () => {
  it('records method, path (no query), status, scope, latency and app; skips the dashboard itself', async () => {
    const { cookie } = await signIn();
    const { token, vehicleIds } = await connectedToken(sim, {
      scope: 'read_battery read_charge',
      email: 'log@example.com',
      redirectUri: REDIRECT,
    });
    const battery = await fetch(`${sim.url}/v2.0/vehicles/${vehicleIds[0]}/battery?secret=hidden`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(battery.status).toBe(200);
    await fetch(`${sim.url}/v2.0/vehicles/${vehicleIds[0]}/battery`, {
      headers: { authorization: 'Bearer wrong' },
    });
    const page = await pageText(cookie, '/requests');
    const rows = [...page.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) =>
      m[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    );
    const ok = rows.find((row) => row.includes(`/v2.0/vehicles/${vehicleIds[0]}/battery 200`));
    expect(ok).toMatch(/GET \/v2\.0\/vehicles\/[-\w]+\/battery 200 read_battery \d+\.\d\d ms Voltkit Demo/);
    expect(rows.find((row) => row.includes('battery 401'))).toMatch(/read_battery \d+\.\d\d ms —$/);
    expect(rows.some((row) => row.includes('POST /oauth/token 200') && row.endsWith('Voltkit Demo'))).toBe(
      true,
    );
    expect(page).not.toContain('secret=hidden');
    expect(page).not.toContain(token);
    expect(rows.some((row) => row.includes('/_simulator/dashboard'))).toBe(false);
  });

  it('keeps only the newest requests (a ring of requestLogSize)', async () => {
    const { cookie } = await signIn();
    for (let i = 0; i < 60; i++) await fetch(`${sim.url}/_simulator/health?n=${i}`);
    const page = await pageText(cookie, '/requests');
    expect(page.match(/<td class="method">/g)).toHaveLength(50);
    expect(page).toContain('(50 kept)');
  });
});
