import type { SqlQueryable } from './sql-client.ts';

export interface ConnectStateRecord {
  readonly browserBindingHash: string;
  readonly purpose: 'enroll' | 'reconnect';
  /** reconnect: the grant whose Smartcar user must be the one who signs in. */
  readonly grantId: string | null;
  readonly ownerName: string | null;
  readonly makeBypass: string | null;
}

export async function insertConnectState(
  tx: SqlQueryable,
  input: ConnectStateRecord & { readonly stateHash: string; readonly expiresAt: Date },
): Promise<void> {
  await tx.query(
    `insert into connect_states (state_hash, browser_binding_hash, purpose, grant_id, owner_name, make_bypass, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [
      input.stateHash,
      input.browserBindingHash,
      input.purpose,
      input.grantId,
      input.ownerName,
      input.makeBypass,
      input.expiresAt,
    ],
  );
}

/**
 * Uses a state once, from the browser that started it: marks it used and returns it if it was live. A
 * replayed, expired, unknown or other browser's state returns nothing (the update is atomic, so a replay
 * cannot race the first use).
 */
export async function consumeConnectState(
  tx: SqlQueryable,
  stateHash: string,
  browserBindingHash: string,
  now: Date,
): Promise<ConnectStateRecord | undefined> {
  const rows = await tx.query<{
    browser_binding_hash: string;
    purpose: 'enroll' | 'reconnect';
    grant_id: string | null;
    owner_name: string | null;
    make_bypass: string | null;
  }>(
    `update connect_states set used_at = $2 where state_hash = $1 and browser_binding_hash = $3 and used_at is null and expires_at > $2
     returning browser_binding_hash, purpose, grant_id, owner_name, make_bypass`,
    [stateHash, now, browserBindingHash],
  );
  const row = rows[0];
  return (
    row && {
      browserBindingHash: row.browser_binding_hash,
      purpose: row.purpose,
      grantId: row.grant_id,
      ownerName: row.owner_name,
      makeBypass: row.make_bypass,
    }
  );
}
