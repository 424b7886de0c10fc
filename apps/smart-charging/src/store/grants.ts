import { randomUUID } from 'node:crypto';
import type { TokenStore } from '@voltkit/core/client';
import type { Scope } from '@voltkit/core/permissions';
import type { SqlQueryable } from './sql-client.ts';
import type { GrantStatus } from './grant-status.ts';
import type { TokenCipher } from './token-cipher.ts';

export { GRANT_STATUSES, type GrantStatus } from './grant-status.ts';

export interface GrantSummary {
  readonly id: string;
  /** Null only between the code exchange and the check of who signed in. */
  readonly ownerId: string | null;
  readonly scopes: readonly string[];
  readonly status: GrantStatus;
  readonly statusReason: string | null;
  readonly refreshExpiresAt: Date | null;
}

interface GrantRow extends Record<string, unknown> {
  id: string;
  owner_id: string | null;
  scopes: string[];
  status: GrantStatus;
  status_reason: string | null;
  refresh_expires_at: Date | string | null;
}

export interface OwnerRecord {
  readonly id: string;
  readonly displayName: string;
  /** Who the owner is: the user id the vehicle API reports for their tokens (`GET /user`). */
  readonly smartcarUserId: string | null;
}

export async function findOwner(tx: SqlQueryable, ownerId: string): Promise<OwnerRecord | undefined> {
  const rows = await tx.query<{ id: string; display_name: string; smartcar_user_id: string | null }>(
    'select id, display_name, smartcar_user_id from owners where id = $1',
    [ownerId],
  );
  const row = rows[0];
  return row && { id: row.id, displayName: row.display_name, smartcarUserId: row.smartcar_user_id };
}

/** The owner a Smartcar user is, created on their first Connect. */
export async function ownerForSmartcarUser(
  tx: SqlQueryable,
  smartcarUserId: string,
  displayName: string,
): Promise<OwnerRecord> {
  const rows = await tx.query<{ id: string; display_name: string }>(
    `insert into owners (id, display_name, smartcar_user_id) values ($1, $2, $3)
     on conflict (smartcar_user_id) do update set smartcar_user_id = excluded.smartcar_user_id
     returning id, display_name`,
    [randomUUID(), displayName, smartcarUserId],
  );
  return { id: rows[0]!.id, displayName: rows[0]!.display_name, smartcarUserId };
}

/** A grant for a code about to be exchanged: it has no owner until the vehicle API says who signed in. */
export async function createUnclaimedGrant(tx: SqlQueryable, scopes: readonly Scope[]): Promise<string> {
  const grantId = randomUUID();
  await tx.query(`insert into grants (id, owner_id, scopes, status) values ($1, null, $2, 'pending')`, [
    grantId,
    scopes,
  ]);
  return grantId;
}

export async function assignGrantOwner(tx: SqlQueryable, grantId: string, ownerId: string): Promise<void> {
  await tx.query('update grants set owner_id = $2, updated_at = now() where id = $1', [grantId, ownerId]);
}

export async function deleteGrant(tx: SqlQueryable, grantId: string): Promise<void> {
  await tx.query('delete from grants where id = $1', [grantId]);
}

export async function findGrant(tx: SqlQueryable, grantId: string): Promise<GrantSummary | undefined> {
  const rows = await tx.query<GrantRow>(
    'select id, owner_id, scopes, status, status_reason, refresh_expires_at from grants where id = $1',
    [grantId],
  );
  return rows[0] && toSummary(rows[0]);
}

export async function listGrants(tx: SqlQueryable): Promise<GrantSummary[]> {
  const rows = await tx.query<GrantRow>(
    'select id, owner_id, scopes, status, status_reason, refresh_expires_at from grants order by created_at, id',
  );
  return rows.map(toSummary);
}

/** Marks a grant unusable (revoked by the owner, or its refresh token expired): the UI offers to reconnect. */
export async function markGrant(
  tx: SqlQueryable,
  grantId: string,
  status: Exclude<GrantStatus, 'pending' | 'active'>,
  reason: string,
): Promise<void> {
  await tx.query(
    `update grants set status = $2, status_reason = $3, access_token = null, refresh_token = null, updated_at = now()
     where id = $1`,
    [grantId, status, reason],
  );
}

/**
 * The client's token store, backed by the grants table, tokens encrypted with `cipher` (bound to grant and
 * column). `set` resolves only after the row is committed, which is what the client relies on: a rotated
 * refresh token is durable before it is ever used.
 */
export function sqlTokenStore(tx: SqlQueryable, cipher: TokenCipher): TokenStore {
  return {
    async get(grantId) {
      const rows = await tx.query<{
        access_token: string | null;
        refresh_token: string | null;
        access_expires_at: Date | string | null;
        refresh_expires_at: Date | string | null;
      }>(
        `select access_token, refresh_token, access_expires_at, refresh_expires_at from grants
         where id = $1 and status = 'active'`,
        [grantId],
      );
      const row = rows[0];
      if (!row?.access_token || !row.refresh_token || !row.access_expires_at || !row.refresh_expires_at)
        return undefined;
      return {
        accessToken: cipher.decrypt(row.access_token, tokenContext(grantId, 'access')),
        refreshToken: cipher.decrypt(row.refresh_token, tokenContext(grantId, 'refresh')),
        expiration: new Date(row.access_expires_at),
        refreshExpiration: new Date(row.refresh_expires_at),
      };
    },
    async set(grantId, access) {
      const rows = await tx.query(
        `update grants set access_token = $2, refresh_token = $3, access_expires_at = $4, refresh_expires_at = $5,
           status = 'active', status_reason = null, updated_at = now()
         where id = $1 returning id`,
        [
          grantId,
          cipher.encrypt(access.accessToken, tokenContext(grantId, 'access')),
          cipher.encrypt(access.refreshToken, tokenContext(grantId, 'refresh')),
          access.expiration,
          access.refreshExpiration,
        ],
      );
      // Never let tokens vanish silently: an unknown grant is a programming error worth failing on.
      if (rows.length !== 1) throw new Error(`cannot store tokens: no grant ${grantId}`);
    },
    async delete(grantId) {
      await markGrant(tx, grantId, 'revoked', 'tokens deleted');
    },
  };
}

const tokenContext = (grantId: string, column: 'access' | 'refresh') => `grant ${grantId} ${column} token`;

/**
 * Encrypts tokens stored in plain text (rows from before encryption) and re-encrypts those under an older
 * key with the current one. Runs at every start; returns how many rows it rewrote.
 */
export async function reencryptTokens(
  db: { transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> },
  cipher: TokenCipher,
): Promise<number> {
  return db.transaction(async (tx) => {
    // Only rows not yet under the current key, locked in id order: instances starting together at fleet
    // scale locked every grant in no set order and deadlocked; once rewritten, a start locks nothing.
    const rows = await tx.query<{ id: string; access_token: string | null; refresh_token: string | null }>(
      `select id, access_token, refresh_token from grants
       where not starts_with(coalesce(access_token, $1), $1) or not starts_with(coalesce(refresh_token, $1), $1)
       order by id
       for update`,
      [cipher.currentPrefix],
    );
    let rewritten = 0;
    for (const row of rows) {
      const upgrade = (value: string | null, column: 'access' | 'refresh') => {
        if (value === null) return null;
        const keyId = cipher.keyIdOf(value);
        if (keyId === cipher.currentKeyId) return value;
        const context = tokenContext(row.id, column);
        const plaintext = keyId === undefined ? value : cipher.decrypt(value, context);
        return cipher.encrypt(plaintext, context);
      };
      const access = upgrade(row.access_token, 'access');
      const refresh = upgrade(row.refresh_token, 'refresh');
      if (access === row.access_token && refresh === row.refresh_token) continue;
      await tx.query('update grants set access_token = $2, refresh_token = $3 where id = $1', [
        row.id,
        access,
        refresh,
      ]);
      rewritten++;
    }
    return rewritten;
  });
}

function toSummary(row: GrantRow): GrantSummary {
  return {
    id: row.id,
    ownerId: row.owner_id,
    scopes: row.scopes,
    status: row.status,
    statusReason: row.status_reason,
    refreshExpiresAt: row.refresh_expires_at === null ? null : new Date(row.refresh_expires_at),
  };
}

/** The scopes the owner actually granted (Connect lets them untick optional ones). */
export async function updateGrantScopes(
  tx: SqlQueryable,
  grantId: string,
  scopes: readonly string[],
): Promise<void> {
  await tx.query('update grants set scopes = $2, updated_at = now() where id = $1', [grantId, scopes]);
}
