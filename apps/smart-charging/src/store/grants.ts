import { randomUUID } from 'node:crypto';
import type { TokenStore } from '@voltkit/core/client';
import type { Scope } from '@voltkit/core/permissions';
import type { SqlQueryable } from './sql-client.ts';

export type GrantStatus = 'pending' | 'active' | 'revoked' | 'expired';

export interface GrantSummary {
  readonly id: string;
  readonly ownerId: string;
  readonly scopes: readonly string[];
  readonly status: GrantStatus;
  readonly statusReason: string | null;
  readonly refreshExpiresAt: Date | null;
}

interface GrantRow extends Record<string, unknown> {
  id: string;
  owner_id: string;
  scopes: string[];
  status: GrantStatus;
  status_reason: string | null;
  refresh_expires_at: Date | string | null;
}

/** Starts an enrollment: the grant id travels through Connect as `state` and comes back on the callback. */
export async function createPendingGrant(
  tx: SqlQueryable,
  input: { readonly ownerName: string; readonly scopes: readonly Scope[] },
): Promise<{ ownerId: string; grantId: string }> {
  const ownerId = randomUUID();
  const grantId = randomUUID();
  await tx.query('insert into owners (id, display_name) values ($1, $2)', [ownerId, input.ownerName]);
  await tx.query(`insert into grants (id, owner_id, scopes, status) values ($1, $2, $3, 'pending')`, [
    grantId,
    ownerId,
    input.scopes,
  ]);
  return { ownerId, grantId };
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
 * The client's token store, backed by the grants table. `set` resolves only after the row is committed,
 * which is what the client relies on: a rotated refresh token is durable before it is ever used.
 */
export function sqlTokenStore(tx: SqlQueryable): TokenStore {
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
        accessToken: row.access_token,
        refreshToken: row.refresh_token,
        expiration: new Date(row.access_expires_at),
        refreshExpiration: new Date(row.refresh_expires_at),
      };
    },
    async set(grantId, access) {
      const rows = await tx.query(
        `update grants set access_token = $2, refresh_token = $3, access_expires_at = $4, refresh_expires_at = $5,
           status = 'active', status_reason = null, updated_at = now()
         where id = $1 returning id`,
        [grantId, access.accessToken, access.refreshToken, access.expiration, access.refreshExpiration],
      );
      // Never let tokens vanish silently: an unknown grant is a programming error worth failing on.
      if (rows.length !== 1) throw new Error(`cannot store tokens: no grant ${grantId}`);
    },
    async delete(grantId) {
      await markGrant(tx, grantId, 'revoked', 'tokens deleted');
    },
  };
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
