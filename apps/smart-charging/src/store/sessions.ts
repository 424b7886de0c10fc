import { randomUUID } from 'node:crypto';
import type { SqlQueryable } from './sql-client.ts';

/** Who a session or a one-time login code stands for: an owner, or an operator through one API token. */
export type SessionSubject = { readonly ownerId: string } | { readonly apiTokenId: string };

export interface SessionRecord {
  readonly id: string;
  readonly ownerId: string | null;
  readonly apiTokenId: string | null;
  readonly expiresAt: Date;
}

const subjectColumns = (subject: SessionSubject): [string | null, string | null] =>
  'ownerId' in subject ? [subject.ownerId, null] : [null, subject.apiTokenId];

export async function insertSession(
  tx: SqlQueryable,
  input: { readonly secretHash: string; readonly subject: SessionSubject; readonly expiresAt: Date },
): Promise<string> {
  const id = randomUUID();
  await tx.query(
    'insert into sessions (id, secret_hash, owner_id, api_token_id, expires_at) values ($1, $2, $3, $4, $5)',
    [id, input.secretHash, ...subjectColumns(input.subject), input.expiresAt],
  );
  return id;
}

export async function findLiveSession(
  tx: SqlQueryable,
  secretHash: string,
  now: Date,
): Promise<SessionRecord | undefined> {
  const rows = await tx.query<{
    id: string;
    owner_id: string | null;
    api_token_id: string | null;
    expires_at: Date | string;
  }>(
    'select id, owner_id, api_token_id, expires_at from sessions where secret_hash = $1 and expires_at > $2',
    [secretHash, now],
  );
  const row = rows[0];
  return (
    row && {
      id: row.id,
      ownerId: row.owner_id,
      apiTokenId: row.api_token_id,
      expiresAt: new Date(row.expires_at),
    }
  );
}

export async function deleteSession(tx: SqlQueryable, secretHash: string): Promise<void> {
  await tx.query('delete from sessions where secret_hash = $1', [secretHash]);
}

export async function insertLoginCode(
  tx: SqlQueryable,
  input: { readonly codeHash: string; readonly subject: SessionSubject; readonly expiresAt: Date },
): Promise<void> {
  await tx.query(
    'insert into login_codes (code_hash, owner_id, api_token_id, expires_at) values ($1, $2, $3, $4)',
    [input.codeHash, ...subjectColumns(input.subject), input.expiresAt],
  );
}

/** Uses a one-time login code: atomically, so a second use (or a racing one) finds nothing. */
export async function consumeLoginCode(
  tx: SqlQueryable,
  codeHash: string,
  now: Date,
): Promise<SessionSubject | undefined> {
  const rows = await tx.query<{ owner_id: string | null; api_token_id: string | null }>(
    `update login_codes set used_at = $2 where code_hash = $1 and used_at is null and expires_at > $2
     returning owner_id, api_token_id`,
    [codeHash, now],
  );
  const row = rows[0];
  if (!row) return undefined;
  return row.owner_id !== null ? { ownerId: row.owner_id } : { apiTokenId: row.api_token_id! };
}

/** Forgets expired sessions, codes and Connect states (they are refused anyway; this keeps the tables small). */
export async function deleteExpiredCredentials(tx: SqlQueryable, now: Date): Promise<void> {
  await tx.query('delete from sessions where expires_at <= $1', [now]);
  await tx.query('delete from login_codes where expires_at <= $1 or used_at is not null', [now]);
  await tx.query('delete from connect_states where expires_at <= $1 or used_at is not null', [now]);
}
