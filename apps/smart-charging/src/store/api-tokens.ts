import { randomUUID } from 'node:crypto';
import type { SqlQueryable } from './sql-client.ts';

export type OperatorRole = 'admin' | 'read';

export interface ApiTokenRecord {
  readonly id: string;
  readonly name: string;
  readonly role: OperatorRole;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

interface ApiTokenRow extends Record<string, unknown> {
  id: string;
  name: string;
  role: OperatorRole;
  created_at: Date | string;
  last_used_at: Date | string | null;
  revoked_at: Date | string | null;
}

const date = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));
const toRecord = (row: ApiTokenRow): ApiTokenRecord => ({
  id: row.id,
  name: row.name,
  role: row.role,
  createdAt: new Date(row.created_at),
  lastUsedAt: date(row.last_used_at),
  revokedAt: date(row.revoked_at),
});

export async function insertApiToken(
  tx: SqlQueryable,
  input: { readonly name: string; readonly role: OperatorRole; readonly tokenHash: string },
): Promise<ApiTokenRecord> {
  const rows = await tx.query<ApiTokenRow>(
    `insert into api_tokens (id, name, role, token_hash) values ($1, $2, $3, $4)
     returning id, name, role, created_at, last_used_at, revoked_at`,
    [randomUUID(), input.name, input.role, input.tokenHash],
  );
  return toRecord(rows[0]!);
}

/**
 * The unrevoked token with this hash; marks it used, to the minute. Writing on every request would make
 * each read a commit, and concurrent requests with one token queue on its row lock.
 */
export async function useApiToken(tx: SqlQueryable, tokenHash: string): Promise<ApiTokenRecord | undefined> {
  const rows = await tx.query<ApiTokenRow>(
    `select id, name, role, created_at, last_used_at, revoked_at from api_tokens
     where token_hash = $1 and revoked_at is null`,
    [tokenHash],
  );
  const row = rows[0];
  if (!row) return undefined;
  const lastUsed = row.last_used_at === null ? null : new Date(row.last_used_at).getTime();
  if (lastUsed !== null && Date.now() - lastUsed < 60_000) return toRecord(row);
  const touched = await tx.query<ApiTokenRow>(
    `update api_tokens set last_used_at = now() where id = $1 and revoked_at is null
     returning id, name, role, created_at, last_used_at, revoked_at`,
    [row.id],
  );
  return touched[0] && toRecord(touched[0]);
}

export async function findActiveApiToken(tx: SqlQueryable, id: string): Promise<ApiTokenRecord | undefined> {
  const rows = await tx.query<ApiTokenRow>(
    `select id, name, role, created_at, last_used_at, revoked_at from api_tokens where id = $1 and revoked_at is null`,
    [id],
  );
  return rows[0] && toRecord(rows[0]);
}

export async function listApiTokens(tx: SqlQueryable): Promise<ApiTokenRecord[]> {
  const rows = await tx.query<ApiTokenRow>(
    'select id, name, role, created_at, last_used_at, revoked_at from api_tokens order by created_at, id',
  );
  return rows.map(toRecord);
}

/** Revokes a token and ends every session and login link made from it; false if there was none to revoke. */
export async function revokeApiToken(tx: SqlQueryable, id: string): Promise<boolean> {
  const rows = await tx.query(
    'update api_tokens set revoked_at = now() where id = $1 and revoked_at is null returning id',
    [id],
  );
  await tx.query('delete from sessions where api_token_id = $1', [id]);
  await tx.query('delete from login_codes where api_token_id = $1', [id]);
  return rows.length === 1;
}

export async function countActiveApiTokens(tx: SqlQueryable): Promise<number> {
  const rows = await tx.query<{ count: string | number }>(
    'select count(*) as count from api_tokens where revoked_at is null',
  );
  return Number(rows[0]?.count ?? 0);
}
