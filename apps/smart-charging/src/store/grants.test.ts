import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUnclaimedGrant, findGrant, markGrant, reencryptTokens, sqlTokenStore } from './grants.ts';
import type { SqlClient } from './sql-client.ts';
import { TEST_BACKENDS, testTokenCipher } from './test-backends.ts';
import { createTokenCipher } from './token-cipher.ts';

const cipher = testTokenCipher();

const access = (suffix: string) => ({
  accessToken: `access-${suffix}`,
  refreshToken: `refresh-${suffix}`,
  expiration: new Date('2026-11-21T20:00:00Z'),
  refreshExpiration: new Date('2027-01-20T18:00:00Z'),
});

describe.each(TEST_BACKENDS)('grants and token store on $name storage', (backend) => {
  let client: SqlClient;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ client, dispose } = await backend.open()));
  afterEach(async () => dispose());

  it('holds no tokens while pending, then the latest rotated pair', async () => {
    const grantId = await createUnclaimedGrant(client, ['read_battery', 'control_charge']);
    const store = sqlTokenStore(client, cipher);
    expect(await store.get(grantId)).toBeUndefined();
    expect((await findGrant(client, grantId))?.status).toBe('pending');

    await store.set(grantId, access('1'));
    await store.set(grantId, access('2'));
    expect(await store.get(grantId)).toEqual(access('2'));
    expect(await findGrant(client, grantId)).toMatchObject({
      status: 'active',
      scopes: ['read_battery', 'control_charge'],
    });
  });

  it('a revoked grant keeps no tokens and says why', async () => {
    const grantId = await createUnclaimedGrant(client, ['read_battery']);
    const store = sqlTokenStore(client, cipher);
    await store.set(grantId, access('1'));
    await markGrant(client, grantId, 'revoked', 'AUTHENTICATION: owner disconnected the app');
    expect(await store.get(grantId)).toBeUndefined();
    expect(await findGrant(client, grantId)).toMatchObject({
      status: 'revoked',
      statusReason: 'AUTHENTICATION: owner disconnected the app',
    });
  });

  it('refuses to store tokens for an unknown grant', async () => {
    await expect(sqlTokenStore(client, cipher).set('nope', access('1'))).rejects.toThrow(/no grant nope/);
  });

  it('stores tokens encrypted (AES-256-GCM, bound to grant and column), never in plain text', async () => {
    const grantId = await createUnclaimedGrant(client, ['read_battery']);
    const other = await createUnclaimedGrant(client, ['read_battery']);
    const store = sqlTokenStore(client, cipher);
    await store.set(grantId, access('secret-1'));
    const [row] = await client.query<{ access_token: string; refresh_token: string }>(
      'select access_token, refresh_token from grants where id = $1',
      [grantId],
    );
    expect(row!.access_token).toMatch(/^enc:v1:test:/);
    expect(JSON.stringify(row)).not.toContain('secret-1');
    // A ciphertext copied onto another grant does not decrypt there.
    await store.set(other, access('other'));
    await client.query('update grants set access_token = $2 where id = $1', [other, row!.access_token]);
    await expect(store.get(other)).rejects.toThrow(/does not decrypt for grant/);
    // Another key cannot read it either, and says so without the value.
    const error = await sqlTokenStore(client, testTokenCipher())
      .get(grantId)
      .then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
    expect(error?.message).toMatch(/does not decrypt/);
    expect(error?.message).not.toContain('secret-1');
  });

  it('encrypts rows stored in plain text and moves rows to a new key (rotation), keeping them readable', async () => {
    const legacy = await createUnclaimedGrant(client, ['read_battery']);
    await client.query(
      `update grants set access_token = 'plain-access', refresh_token = 'plain-refresh', status = 'active',
         access_expires_at = $2, refresh_expires_at = $3 where id = $1`,
      [legacy, access('x').expiration, access('x').refreshExpiration],
    );
    const oldKey = { id: 'k1', key: randomBytes(32) };
    const old = createTokenCipher([oldKey]);
    expect(await reencryptTokens(client, old)).toBe(1);
    expect(await sqlTokenStore(client, old).get(legacy)).toMatchObject({
      accessToken: 'plain-access',
      refreshToken: 'plain-refresh',
    });
    expect(await reencryptTokens(client, old)).toBe(0);

    // Rotation: the new key first, the old one still known; afterwards the old key can go.
    const newKey = { id: 'k2', key: Buffer.alloc(32, 7) };
    const rotating = createTokenCipher([newKey, oldKey]);
    expect(await reencryptTokens(client, rotating)).toBe(1);
    const [row] = await client.query<{ access_token: string }>(
      'select access_token from grants where id = $1',
      [legacy],
    );
    expect(row!.access_token).toMatch(/^enc:v1:k2:/);
    expect((await sqlTokenStore(client, createTokenCipher([newKey])).get(legacy))?.refreshToken).toBe(
      'plain-refresh',
    );
  });

  it.runIf(backend.name === 'postgres')(
    'a start with every token under the current key locks no grant (instances start together)',
    async () => {
      const store = sqlTokenStore(client, cipher);
      const ids = await Promise.all(
        Array.from({ length: 3 }, () => createUnclaimedGrant(client, ['read_battery'])),
      );
      for (const [k, id] of ids.entries()) await store.set(id, access(String(k)));
      // Another instance holds a grant's row (a token refresh under way) while this one starts.
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked = () => {};
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holder = client.transaction(async (tx) => {
        await tx.query('select 1 from grants where id = $1 for update', [ids[1]]);
        locked();
        await held;
      });
      await isLocked;
      const outcome = await Promise.race([
        reencryptTokens(client, cipher),
        new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 3_000)),
      ]);
      release();
      await holder;
      expect(outcome).toBe(0);
    },
  );
});
