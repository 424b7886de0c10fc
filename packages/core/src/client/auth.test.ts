import { afterEach, describe, expect, it } from 'vitest';
import { createClient, isVoltkitError, parseCallback } from '@voltkit/core/client';
import { setup, type Harness } from '../__tests__/setup.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.server.close();
  harness = undefined;
});

const client = createClient({
  clientId: 'cid',
  clientSecret: 'secret',
  redirectUri: 'https://example.com/cb',
});

describe('Connect URL', () => {
  it('builds every parameter in the SDK order', () => {
    const url = client.getAuthUrl({
      scope: { required: ['read_odometer'], optional: ['read_vin'] },
      state: 'st ate',
      forcePrompt: true,
      mode: 'simulated',
      makeBypass: 'TESLA',
      singleSelect: { vin: '5YJ3E1EA1KF123456' },
      flags: { country: 'DE', flag: true },
      user: 'owner-42',
    });
    expect(url).toBe(
      'https://connect.smartcar.com/oauth/authorize?response_type=code&client_id=cid&approval_prompt=force' +
        '&redirect_uri=https%3A%2F%2Fexample.com%2Fcb&scope=required%3Aread_odometer%20read_vin&state=st%20ate' +
        '&single_select=true&single_select_vin=5YJ3E1EA1KF123456&make=TESLA&flags=country%3ADE%20flag%3Atrue' +
        '&user=owner-42&mode=simulated',
    );
  });

  it('has sane defaults and decodes back to the same values', () => {
    const url = new URL(
      client.getAuthUrl({ scope: ['required:read_battery', 'control_charge'], singleSelect: false }),
    );
    expect(url.origin + url.pathname).toBe('https://connect.smartcar.com/oauth/authorize');
    expect(url.searchParams.get('approval_prompt')).toBe('auto');
    expect(url.searchParams.get('mode')).toBe('live');
    expect(url.searchParams.get('scope')).toBe('required:read_battery control_charge');
    expect(url.searchParams.get('single_select')).toBe('false');
    expect(url.searchParams.has('single_select_vin')).toBe(false);
    expect(url.searchParams.has('state')).toBe(false);
  });

  it('uses the configured connect origin', () => {
    const local = createClient({ clientId: 'cid', clientSecret: 's', origin: 'http://127.0.0.1:9/' });
    expect(local.getAuthUrl()).toMatch(
      /^http:\/\/127\.0\.0\.1:9\/oauth\/authorize\?response_type=code&client_id=cid&approval_prompt=auto&mode=live$/,
    );
    const split = createClient({
      clientId: 'cid',
      clientSecret: 's',
      origin: 'http://a',
      origins: { connect: 'http://c' },
    });
    expect(split.origins).toEqual({
      api: 'http://a',
      connect: 'http://c',
      auth: 'http://a',
      management: 'http://a',
    });
  });

  it('rejects unknown scopes and modes before building anything', () => {
    expect(() => client.getAuthUrl({ scope: 'read_batery' })).toThrowError(/read_batery/);
    expect(() => client.getAuthUrl({ mode: 'prod' as never })).toThrowError(/mode/);
  });
});

describe('Connect callback', () => {
  it('returns the code and state', () => {
    expect(parseCallback('https://example.com/cb?code=abc&state=xyz')).toEqual({ code: 'abc', state: 'xyz' });
  });

  it('throws a typed OAUTH error for ?error=', () => {
    let caught: unknown;
    try {
      parseCallback('https://example.com/cb?error=access_denied&error_description=User+denied&state=s');
    } catch (error) {
      caught = error;
    }
    expect(isVoltkitError(caught, 'OAUTH')).toBe(true);
    expect(isVoltkitError(caught, 'OAUTH') && caught.code).toBe('access_denied');
    expect(String(caught)).toContain('User denied');
  });
});

describe('token endpoint', () => {
  it('exchanges a code with Basic client auth and a form body, and stores the tokens', async () => {
    harness = await setup();
    const { server, client: real } = harness;
    const before = Date.now();
    const access = await real.exchangeCode('test-code', { grantId: 'owner-2', flags: { pizza: 'pasta' } });
    const request = server.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/oauth/token');
    expect(request.query.get('flags')).toBe('pizza:pasta');
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from(`${server.clientId}:${server.clientSecret}`).toString('base64')}`,
    );
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      code: 'test-code',
      grant_type: 'authorization_code',
      redirect_uri: 'https://example.com/callback',
    });
    expect(server.validAccessTokens.has(access.accessToken)).toBe(true);
    expect(access.expiration.getTime()).toBeGreaterThanOrEqual(before + 7200_000);
    expect(access.expiration.getTime()).toBeLessThanOrEqual(Date.now() + 7200_000);
    expect(access.refreshExpiration.getTime()).toBeGreaterThanOrEqual(before + 60 * 86_400_000);
    expect(await real.grant('owner-2').accessToken()).toBe(access.accessToken);
  });

  it('maps an OAuth error body without leaking the code or secret', async () => {
    harness = await setup();
    const error = await harness.client
      .exchangeCode('wrong-code-123', { grantId: 'x' })
      .catch((e: unknown) => e);
    expect(isVoltkitError(error, 'OAUTH')).toBe(true);
    if (!isVoltkitError(error, 'OAUTH')) return;
    expect(error.code).toBe('invalid_grant');
    expect(error.status).toBe(400);
    expect(error.message).toBe('OAUTH:invalid_grant - Invalid or expired code.');
    expect(error.message).not.toContain(harness.server.clientSecret);
  });

  it('refreshes a grant with the refresh token form', async () => {
    harness = await setup();
    const { server, client: real, grantId } = harness;
    const access = await real.refreshGrant(grantId);
    const request = server.requests.at(-1)!;
    const form = Object.fromEntries(new URLSearchParams(request.body));
    expect(form['grant_type']).toBe('refresh_token');
    expect(server.validRefreshTokens.has(form['refresh_token']!)).toBe(false);
    expect(server.validRefreshTokens.has(access.refreshToken)).toBe(true);
  });
});
