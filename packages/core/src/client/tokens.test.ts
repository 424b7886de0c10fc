import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Access,
  createClient,
  fileTokenStore,
  isVoltkitError,
  memoryTokenStore,
  type TokenStore,
} from '@voltkit/core/client';
import { setup, type Harness } from '../__tests__/setup.ts';
import { startTestServer, type TestServer } from '../__tests__/test-server.ts';

let harness: Harness | undefined;
let server: TestServer | undefined;
let directory: string | undefined;
afterEach(async () => {
  await harness?.server.close();
  await server?.close();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  harness = undefined;
  server = undefined;
  directory = undefined;
});

/** A store that logs every call in order, around a real memory store. */
function loggingStore(log: string[], inner: TokenStore = memoryTokenStore()): TokenStore {
  return {
    get: (grantId) => inner.get(grantId),
    async set(grantId, access) {
      log.push(`store.set ${access.accessToken}`);
      await inner.set(grantId, access);
    },
    delete: (grantId) => inner.delete(grantId),
  };
}

async function expiringGrant(target: TestServer, store: TokenStore, now: number): Promise<Access> {
  const tokens = target.issueTokens();
  const access: Access = {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiration: new Date(now + 60_000), // inside the 5-minute refresh margin
    refreshExpiration: new Date(now + 86_400_000),
  };
  await store.set('g', access);
  return access;
}

describe('automatic refresh', () => {
  it('refreshes before expiry, once for many concurrent calls, and stores the new tokens before using them', async () => {
    server = await startTestServer();
    const log: string[] = [];
    const store = loggingStore(log);
    const old = await expiringGrant(server, store, Date.now());
    log.length = 0;
    const target = server;
    target.override('GET', '/v2.0/vehicles/*/battery', (request) => {
      log.push(`api ${request.headers.authorization?.slice(7)}`);
      return target.validAccessTokens.has(request.headers.authorization?.slice(7) ?? '')
        ? { json: { percentRemaining: 0.5, range: 100 } }
        : { status: 401, json: { type: 'AUTHENTICATION', code: null, description: 'no', statusCode: 401 } };
    });
    target.override('POST', '/oauth/token', () => {
      log.push('refresh');
      return { json: target.issueTokens(), delayMs: 50 };
    });
    const client = createClient({
      clientId: 'c',
      clientSecret: 's',
      origin: server.origin,
      tokenStore: store,
    });
    const car = client.grant('g').vehicle('v1', { scopes: ['read_battery'] });
    const results = await Promise.all(Array.from({ length: 8 }, () => car.battery()));

    expect(results.every((r) => r.percentRemaining === 0.5)).toBe(true);
    expect(log.filter((entry) => entry === 'refresh')).toHaveLength(1);
    const fresh = (await store.get('g'))!;
    expect(fresh.accessToken).not.toBe(old.accessToken);
    // Order: refresh → store.set(new) → every API call with the new token.
    expect(log.slice(0, 2)).toEqual(['refresh', `store.set ${fresh.accessToken}`]);
    expect(log.slice(2)).toEqual(Array.from({ length: 8 }, () => `api ${fresh.accessToken}`));
  });

  it('never uses tokens the store failed to save, keeps them and saves them on the next call', async () => {
    server = await startTestServer();
    let failures = 1;
    const inner = memoryTokenStore();
    const flaky: TokenStore = {
      get: (grantId) => inner.get(grantId),
      async set(grantId, access) {
        if (failures > 0 && access.accessToken !== initial.accessToken) {
          failures--;
          throw new Error('disk full');
        }
        await inner.set(grantId, access);
      },
      delete: (grantId) => inner.delete(grantId),
    };
    const initial = await expiringGrant(server, inner, Date.now());
    const client = createClient({
      clientId: server.clientId,
      clientSecret: server.clientSecret,
      origin: server.origin,
      tokenStore: flaky,
    });
    const car = client.grant('g').vehicle('v1', { scopes: ['read_battery'] });

    const first = await car.battery().catch((e: unknown) => e);
    expect(isVoltkitError(first)).toBe(true);
    expect(String(first)).toMatch(/token store/);
    expect((first as Error).cause).toBeInstanceOf(Error);
    const apiCallsWithNewToken = server.requests.filter((r) => r.path.endsWith('/battery'));
    expect(apiCallsWithNewToken).toHaveLength(0);

    const second = await car.battery();
    expect(second.percentRemaining).toBe(0.3);
    expect(server.requests.filter((r) => r.path === '/oauth/token')).toHaveLength(1); // no second refresh needed
    expect((await inner.get('g'))!.accessToken).not.toBe(initial.accessToken);
  });

  it('refreshes once and retries when the API rejects the token with 401', async () => {
    harness = await setup();
    const { server: target, client, grantId } = harness;
    const current = await client.grant(grantId).accessToken();
    target.validAccessTokens.delete(current); // revoked server-side, still valid locally
    const car = client.grant(grantId).vehicle('v1', { scopes: ['control_charge'] });
    const result = await car.startCharge();
    expect(result.status).toBe('success');
    expect(target.requests.filter((r) => r.path === '/oauth/token')).toHaveLength(1);
    expect(target.requests.filter((r) => r.path.endsWith('/charge'))).toHaveLength(2);
  });

  it('uses short-lived tokens for half their life instead of refreshing on every call', async () => {
    harness = await setup();
    const { server: target, client, grantId } = harness;
    target.override('POST', '/oauth/token', () => ({ json: target.issueTokens(60) }));
    await client.refreshGrant(grantId); // now holds a 60 s token, far inside the default 5 min margin
    const car = client.grant(grantId).vehicle('v1', { scopes: ['read_odometer'] });
    for (let i = 0; i < 3; i++) await car.odometer();
    expect(target.requests.filter((r) => r.path === '/oauth/token')).toHaveLength(1);
  });

  it('forgets a grant', async () => {
    harness = await setup();
    const grant = harness.client.grant(harness.grantId);
    await grant.forget();
    const error = await grant.accessToken().catch((e: unknown) => e);
    expect(isVoltkitError(error, 'AUTHENTICATION') && error.code).toBe('GRANT_NOT_FOUND');
  });

  it('reports a missing grant and an expired refresh token as AUTHENTICATION errors', async () => {
    server = await startTestServer();
    const store = memoryTokenStore();
    const client = createClient({
      clientId: 'c',
      clientSecret: 's',
      origin: server.origin,
      tokenStore: store,
    });
    const missing = await client
      .grant('nobody')
      .accessToken()
      .catch((e: unknown) => e);
    expect(isVoltkitError(missing, 'AUTHENTICATION') && missing.code).toBe('GRANT_NOT_FOUND');
    await store.set('old', {
      accessToken: 'a-old-token',
      refreshToken: 'r-old-token',
      expiration: new Date(Date.now() - 1000),
      refreshExpiration: new Date(Date.now() - 1000),
    });
    const expired = await client
      .grant('old')
      .accessToken()
      .catch((e: unknown) => e);
    expect(isVoltkitError(expired, 'AUTHENTICATION') && expired.code).toBe('REFRESH_TOKEN_EXPIRED');
    expect(String(expired)).not.toContain('r-old-token');
    expect(server.requests).toHaveLength(0);
  });
});

describe('file token store', () => {
  const access: Access = {
    accessToken: 'acc',
    refreshToken: 'ref',
    expiration: new Date('2030-01-01T00:00:00.000Z'),
    refreshExpiration: new Date('2030-02-01T00:00:00.000Z'),
  };

  it('round-trips grants, writes atomically with mode 0600 and leaves no temporary files', async () => {
    directory = await mkdtemp(join(tmpdir(), 'voltkit-tokens-'));
    const path = join(directory, 'nested', 'tokens.json');
    const store = fileTokenStore(path);
    expect(await store.get('a')).toBeUndefined();
    await Promise.all([store.set('a', access), store.set('b', { ...access, accessToken: 'acc-b' })]);
    const reopened = fileTokenStore(path);
    expect(await reopened.get('a')).toEqual(access);
    expect((await reopened.get('b'))?.accessToken).toBe('acc-b');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(directory, 'nested'))).toEqual(['tokens.json']);
    await reopened.delete('a');
    expect(await fileTokenStore(path).get('a')).toBeUndefined();
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({
      version: 1,
      grants: { b: { accessToken: 'acc-b' } },
    });
  });

  it('refuses a corrupted file instead of overwriting it', async () => {
    directory = await mkdtemp(join(tmpdir(), 'voltkit-tokens-'));
    const path = join(directory, 'tokens.json');
    await writeFile(path, '{"version":1,"grants":{"a":{"accessToken":""}}}');
    const error = await fileTokenStore(path)
      .set('b', access)
      .catch((e: unknown) => e);
    expect(isVoltkitError(error, 'INVALID_INPUT')).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('{"version":1,"grants":{"a":{"accessToken":""}}}');
  });
});
