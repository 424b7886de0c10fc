import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { connectOverHttp } from './helpers.ts';

const REDIRECT = 'https://example.com/auth';
let sim: Simulator;

beforeAll(async () => {
  sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2025-08-01T00:00:00Z') } });
});
afterAll(async () => {
  await sim.close();
});

function authorizeUrl(params: Record<string, string>): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: sim.demoApp.clientId,
    redirect_uri: REDIRECT,
    mode: 'test',
    ...params,
  });
  return `${sim.url}/oauth/authorize?${query.toString()}`;
}

async function exchange(code: string, redirectUri: string, credentials = sim.demoApp) {
  const response = await fetch(`${sim.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
    }).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe('GET /oauth/authorize parameters', () => {
  it('shows an error page, never a redirect, for an unknown client or an unregistered redirect URI', async () => {
    for (const url of [
      authorizeUrl({ client_id: 'nobody' }),
      authorizeUrl({ redirect_uri: 'https://evil.example/steal' }),
    ]) {
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toContain('text/html');
    }
  });

  it('redirects configuration errors with the state', async () => {
    for (const params of [
      { response_type: 'token' },
      { mode: 'sandbox' },
      { scope: 'read_battery read_minds' },
      { approval_prompt: 'never' },
    ]) {
      const response = await fetch(authorizeUrl({ ...params, state: 'a b&c' }), { redirect: 'manual' });
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('location') ?? '');
      expect(location.searchParams.get('error')).toBe('configuration_error');
      expect(location.searchParams.get('state')).toBe('a b&c');
    }
  });

  it('skips the brand picker with make=, and escapes what it echoes', async () => {
    const app = sim.registerApp({ name: '<script>alert(1)</script>', redirectUris: [REDIRECT] });
    const response = await fetch(authorizeUrl({ client_id: app.clientId, make: 'TESLA' }));
    const html = await response.text();
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain('<script>alert');
    expect(html).toMatch(/action="\/connect\/[0-9a-f-]+\/login"/);
  });

  it('single_select lets the owner connect one of several vehicles; single_select_vin picks the VIN', async () => {
    const account = sim.createTestAccount({
      email: 'two-cars@example.com',
      brand: 'NISSAN',
      vehicleCount: 2,
    });
    const redirect = await connectOverHttp(authorizeUrl({ single_select: 'true', scope: 'read_vin' }), {
      brand: 'NISSAN',
      email: 'two-cars@example.com',
    });
    const tokens = await exchange(redirect.searchParams.get('code') ?? '', REDIRECT);
    const list = await fetch(`${sim.url}/v2.0/vehicles`, {
      headers: { authorization: `Bearer ${tokens.body['access_token']}` },
    });
    expect(((await list.json()) as { vehicles: string[] }).vehicles).toHaveLength(1);

    const wanted = account.vehicles[1];
    const byVin = await connectOverHttp(
      authorizeUrl({ single_select: 'true', single_select_vin: wanted?.vin ?? '', scope: 'read_vin' }),
      {
        brand: 'NISSAN',
        email: 'two-cars@example.com',
      },
    );
    const vinTokens = await exchange(byVin.searchParams.get('code') ?? '', REDIRECT);
    const vinList = await fetch(`${sim.url}/v2.0/vehicles`, {
      headers: { authorization: `Bearer ${vinTokens.body['access_token']}` },
    });
    expect(((await vinList.json()) as { vehicles: string[] }).vehicles).toContain(wanted?.id);
  });

  it('turns the test-mode Connect error emails into error redirects', async () => {
    const cases: [string, string][] = [
      ['smartcar@invalid-subscription.com', 'invalid_subscription'],
      ['smartcar@vehicle-incompatible.com', 'vehicle_incompatible'],
      ['smartcar@no-vehicles.com', 'no_vehicles'],
    ];
    for (const [email, error] of cases) {
      const redirect = await connectOverHttp(authorizeUrl({ state: 's' }), { brand: 'FORD', email });
      expect(redirect.searchParams.get('error')).toBe(error);
      expect(redirect.searchParams.get('state')).toBe('s');
      if (error === 'vehicle_incompatible') expect(redirect.searchParams.get('make')).toBe('FORD');
    }
  });

  it('live mode signs in only existing accounts with their password', async () => {
    const unknown = await connectOverHttp(authorizeUrl({ mode: 'live' }), {
      brand: 'KIA',
      email: 'stranger@example.com',
    }).catch((e: unknown) => e);
    expect((unknown as Error).message).toBe('sign-in refused');
    sim.createTestAccount({ email: 'owner@example.com', brand: 'KIA', password: 'correct horse' });
    const wrong = await connectOverHttp(authorizeUrl({ mode: 'live' }), {
      brand: 'KIA',
      email: 'owner@example.com',
      password: 'nope',
    }).catch((e: unknown) => e);
    expect((wrong as Error).message).toBe('sign-in refused');
    const right = await connectOverHttp(authorizeUrl({ mode: 'live', state: 'live' }), {
      brand: 'KIA',
      email: 'owner@example.com',
      password: 'correct horse',
    });
    expect(right.searchParams.get('code')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('POST /oauth/token codes', () => {
  it('expire after 10 minutes of simulated time', async () => {
    const { code } = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri: REDIRECT,
      scope: 'read_vin',
      email: 'slow@example.com',
    });
    await sim.clock.advance(10 * 60_000 + 1);
    expect(await exchange(code, REDIRECT)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const fresh = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri: REDIRECT,
      scope: 'read_vin',
      email: 'slow@example.com',
    });
    await sim.clock.advance(9 * 60_000);
    expect((await exchange(fresh.code, REDIRECT)).status).toBe(200);
  });

  it('need the exact redirect URI and the client they were issued to', async () => {
    const mismatch = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri: REDIRECT,
      scope: 'read_vin',
      email: 'exact@example.com',
    });
    expect((await exchange(mismatch.code, `${REDIRECT}/`)).body['error']).toBe('invalid_grant');
    const other = sim.registerApp({ name: 'Other', redirectUris: [REDIRECT] });
    const stolen = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri: REDIRECT,
      scope: 'read_vin',
      email: 'exact@example.com',
    });
    expect((await exchange(stolen.code, REDIRECT, { ...sim.demoApp, ...other })).body['error']).toBe(
      'invalid_grant',
    );
    // The other client's attempt spent nothing: the rightful client still exchanges the code.
    expect((await exchange(stolen.code, REDIRECT)).status).toBe(200);
  });
});
