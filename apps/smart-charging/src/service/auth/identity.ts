import {
  findActiveApiToken,
  insertApiToken,
  useApiToken,
  type ApiTokenRecord,
  type OperatorRole,
} from '../../store/api-tokens.ts';
import { findOwner } from '../../store/grants.ts';
import {
  consumeLoginCode,
  deleteSession,
  findLiveSession,
  insertLoginCode,
  insertSession,
  type SessionSubject,
} from '../../store/sessions.ts';
import type { SqlQueryable } from '../../store/sql-client.ts';
import { hashSecret, newSecret } from './secrets.ts';

/** Who is asking. Every route decides from this alone (see `access.ts`). */
export type Principal =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'owner'; readonly ownerId: string; readonly name: string }
  | {
      readonly kind: 'operator';
      readonly role: OperatorRole;
      readonly tokenId: string;
      readonly name: string;
    };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** How long a browser session lasts (owners sign in again through Connect, operators with a new link). */
export const SESSION_TTL_MS = 7 * 24 * 3_600_000;
/** How long a one-time login link works. */
export const LOGIN_LINK_TTL_MS = 15 * 60_000;

const TOKEN_PREFIX = 'vkt_';
const SESSION_PREFIX = 'vks_';
const LOGIN_CODE_PREFIX = 'vkl_';

/** A new operator API token: the token is returned once, only its hash is stored. */
export async function createOperatorToken(
  db: SqlQueryable,
  input: { readonly name: string; readonly role: OperatorRole },
): Promise<{ token: string; record: ApiTokenRecord }> {
  const token = newSecret(TOKEN_PREFIX);
  const record = await insertApiToken(db, { ...input, tokenHash: hashSecret(token) });
  return { token, record };
}

/** A one-time login code for a browser (the link carries it in the fragment, which no server logs). */
export async function createLoginCode(
  db: SqlQueryable,
  subject: SessionSubject,
  options: { readonly now: Date; readonly ttlMs?: number },
): Promise<string> {
  const code = newSecret(LOGIN_CODE_PREFIX);
  await insertLoginCode(db, {
    codeHash: hashSecret(code),
    subject,
    expiresAt: new Date(options.now.getTime() + (options.ttlMs ?? LOGIN_LINK_TTL_MS)),
  });
  return code;
}

/** A new session for the subject; the previous session of this browser (if any) ends: no fixation. */
export async function startSession(
  db: SqlQueryable,
  subject: SessionSubject,
  options: { readonly now: Date; readonly previousSecret?: string | undefined },
): Promise<{ secret: string; expiresAt: Date }> {
  if (options.previousSecret) await deleteSession(db, hashSecret(options.previousSecret));
  const secret = newSecret(SESSION_PREFIX);
  const expiresAt = new Date(options.now.getTime() + SESSION_TTL_MS);
  await insertSession(db, { secretHash: hashSecret(secret), subject, expiresAt });
  return { secret, expiresAt };
}

export async function endSession(db: SqlQueryable, secret: string): Promise<void> {
  await deleteSession(db, hashSecret(secret));
}

/** What a browser may exchange for a session: a one-time login code or an operator API token. */
export async function redeemCredential(
  db: SqlQueryable,
  credential: string,
  now: Date,
): Promise<SessionSubject | undefined> {
  if (credential.startsWith(LOGIN_CODE_PREFIX)) return consumeLoginCode(db, hashSecret(credential), now);
  if (credential.startsWith(TOKEN_PREFIX)) {
    const token = await useApiToken(db, hashSecret(credential));
    return token && { apiTokenId: token.id };
  }
  return undefined;
}

/**
 * The principal behind a request: a bearer API token, else a session cookie. A credential that is present
 * but not valid is `undefined` (the caller answers 401), never silently anonymous.
 */
export async function resolvePrincipal(
  db: SqlQueryable,
  credentials: { readonly bearer?: string | undefined; readonly sessionSecret?: string | undefined },
  now: Date,
): Promise<Principal | undefined> {
  if (credentials.bearer !== undefined) {
    if (!credentials.bearer.startsWith(TOKEN_PREFIX)) return undefined;
    const token = await useApiToken(db, hashSecret(credentials.bearer));
    return token && { kind: 'operator', role: token.role, tokenId: token.id, name: token.name };
  }
  if (credentials.sessionSecret !== undefined) {
    const session = await findLiveSession(db, hashSecret(credentials.sessionSecret), now);
    if (!session) return undefined;
    return principalOf(
      db,
      session.ownerId !== null ? { ownerId: session.ownerId } : { apiTokenId: session.apiTokenId! },
    );
  }
  return ANONYMOUS;
}

export async function principalOf(db: SqlQueryable, subject: SessionSubject): Promise<Principal | undefined> {
  if ('ownerId' in subject) {
    const owner = await findOwner(db, subject.ownerId);
    return owner && { kind: 'owner', ownerId: owner.id, name: owner.displayName };
  }
  const token = await findActiveApiToken(db, subject.apiTokenId);
  return token && { kind: 'operator', role: token.role, tokenId: token.id, name: token.name };
}
