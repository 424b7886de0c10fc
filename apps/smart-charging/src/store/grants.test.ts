import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPendingGrant, findGrant, markGrant, sqlTokenStore } from './grants.ts';
import type { SqlClient } from './sql-client.ts';
import { TEST_BACKENDS } from './test-backends.ts';

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
    const { grantId } = await createPendingGrant(client, {
      ownerName: 'Ada',
      scopes: ['read_battery', 'control_charge'],
    });
    const store = sqlTokenStore(client);
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
    const { grantId } = await createPendingGrant(client, { ownerName: 'Ada', scopes: ['read_battery'] });
    const store = sqlTokenStore(client);
    await store.set(grantId, access('1'));
    await markGrant(client, grantId, 'revoked', 'AUTHENTICATION: owner disconnected the app');
    expect(await store.get(grantId)).toBeUndefined();
    expect(await findGrant(client, grantId)).toMatchObject({
      status: 'revoked',
      statusReason: 'AUTHENTICATION: owner disconnected the app',
    });
  });

  it('refuses to store tokens for an unknown grant', async () => {
    await expect(sqlTokenStore(client).set('nope', access('1'))).rejects.toThrow(/no grant nope/);
  });
});
