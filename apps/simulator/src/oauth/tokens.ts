import { randomUUID } from 'node:crypto';
import { ApiError } from '../api-error.ts';
import type { SimulatorClock } from '../clock.ts';
import { bearer, decodeBasic, safeEqual } from '../credentials.ts';
import type { AppRecord, GrantRecord, TokenRecord } from '../state/records.ts';
import type { SimulatorStore } from '../state/store.ts';

export const AUTH_CODE_TTL_MS = 10 * 60_000;
export const ACCESS_TOKEN_TTL_MS = 2 * 3_600_000;
export const REFRESH_TOKEN_TTL_MS = 60 * 86_400_000;

/** An OAuth-style error of the token endpoint: `{error, error_description}`. */
export class OAuthError extends Error {
  override name = 'OAuthError';
  readonly error: 'invalid_client' | 'invalid_grant' | 'invalid_request' | 'unsupported_grant_type';
  readonly statusCode: number;
  constructor(statusCode: number, error: OAuthError['error'], description: string) {
    super(description);
    this.error = error;
    this.statusCode = statusCode;
  }
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

export interface VehicleAccess {
  readonly app: AppRecord;
  readonly grant: GrantRecord;
  readonly scopes: ReadonlySet<string>;
}

/** The tokens of one code exchange and every refresh after it (RFC 9700 §4.14.2 revokes them together). */
function familyOf(record: { familyId?: string | undefined; grantId: string }): string {
  return record.familyId ?? record.grantId;
}

/**
 * Client authentication, authorization codes, access and refresh tokens. Codes are bound to their client
 * and redirect URI, which are checked before a code is spent; a spent code presented again revokes what it
 * issued. Refresh tokens rotate on every use, and a rotated one presented again revokes its whole family.
 */
export class TokenService {
  readonly #store: SimulatorStore;
  readonly #clock: SimulatorClock;
  #lastPruneAt = 0;
  // Scope sets per grant, rebuilt only when the grant's scope list is replaced (hot path: every request).
  readonly #scopeSets = new WeakMap<GrantRecord, { source: string[]; set: ReadonlySet<string> }>();

  constructor(store: SimulatorStore, clock: SimulatorClock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Checks `Authorization: Basic base64(client_id:client_secret)`. */
  authenticateClient(header: string | undefined): AppRecord | undefined {
    const credentials = decodeBasic(header);
    if (credentials === undefined) return undefined;
    const app = this.#store.apps.get(credentials.user);
    if (app === undefined || !safeEqual(app.clientSecret, credentials.password)) return undefined;
    return app;
  }

  /** A single-use code for a grant, bound to the client and the redirect URI given to Connect. */
  issueCode(input: { clientId: string; redirectUri: string; grantId: string }): string {
    const code = randomUUID();
    this.#store.codes.set(code, {
      code,
      clientId: input.clientId,
      redirectUri: input.redirectUri,
      grantId: input.grantId,
      expiresAt: this.#clock.now() + AUTH_CODE_TTL_MS,
      usedAt: null,
    });
    this.#store.changed();
    return code;
  }

  exchangeCode(app: AppRecord, code: string | undefined, redirectUri: string | undefined): TokenResponse {
    if (code === undefined || code === '')
      throw new OAuthError(400, 'invalid_request', 'Missing required parameter: code.');
    const record = this.#store.codes.get(code);
    // Another client, or the wrong redirect URI, learns nothing and spends nothing (RFC 6749 §4.1.3).
    if (record === undefined || record.clientId !== app.clientId)
      throw new OAuthError(400, 'invalid_grant', 'Invalid or expired authorization code.');
    const given = redirectUri === undefined || redirectUri === 'undefined' ? '' : redirectUri;
    if (given !== record.redirectUri) {
      throw new OAuthError(400, 'invalid_grant', 'The redirect_uri does not match the one used in Connect.');
    }
    const now = this.#clock.now();
    if (record.usedAt !== null) {
      // A second use means the code leaked: whatever it issued is withdrawn (RFC 6749 §4.1.2).
      if (record.familyId !== undefined) this.revokeFamily(record.familyId);
      this.#store.codes.delete(code);
      this.#store.changed();
      throw new OAuthError(
        400,
        'invalid_grant',
        'The authorization code was already used; the tokens issued from it are revoked.',
      );
    }
    if (record.expiresAt <= now) {
      this.#store.codes.delete(code);
      this.#store.changed();
      throw new OAuthError(400, 'invalid_grant', 'Invalid or expired authorization code.');
    }
    if (!this.#store.grants.has(record.grantId))
      throw new OAuthError(400, 'invalid_grant', 'The grant was revoked.');
    record.usedAt = now;
    record.familyId = randomUUID();
    this.#store.changed();
    return this.#issueTokens(record.grantId, record.familyId);
  }

  refresh(app: AppRecord, refreshToken: string | undefined): TokenResponse {
    if (refreshToken === undefined || refreshToken === '') {
      throw new OAuthError(400, 'invalid_request', 'Missing required parameter: refresh_token.');
    }
    const now = this.#clock.now();
    const record = this.#store.refreshTokens.get(refreshToken);
    if (record === undefined) {
      const spent = this.#store.spentRefreshTokens.get(refreshToken);
      const spentGrant = spent === undefined ? undefined : this.#store.grants.get(spent.grantId);
      if (spent !== undefined && spentGrant?.clientId === app.clientId) {
        // Reuse of a rotated token: the legitimate client or a thief holds a copy. Both lose the family.
        this.revokeFamily(familyOf(spent));
        this.#store.changed();
        throw new OAuthError(
          400,
          'invalid_grant',
          'The refresh token was already used; every token of this authorization is revoked.',
        );
      }
      throw new OAuthError(400, 'invalid_grant', 'Invalid or expired refresh token.');
    }
    const grant = this.#store.grants.get(record.grantId);
    if (grant === undefined || grant.clientId !== app.clientId)
      throw new OAuthError(400, 'invalid_grant', 'Invalid or expired refresh token.');
    if (record.expiresAt <= now) {
      this.#store.refreshTokens.delete(refreshToken);
      this.#store.changed();
      throw new OAuthError(400, 'invalid_grant', 'Invalid or expired refresh token.');
    }
    // Rotation: the used refresh token stops working at once and is remembered to detect its reuse;
    // access tokens already issued live until they expire, as Smartcar's do.
    this.#store.refreshTokens.delete(refreshToken);
    this.#store.spentRefreshTokens.set(refreshToken, record);
    this.#store.changed();
    return this.#issueTokens(record.grantId, familyOf(record));
  }

  /** Drops every live access and refresh token of one family. */
  revokeFamily(familyId: string): void {
    for (const [token, record] of this.#store.accessTokens)
      if (familyOf(record) === familyId) this.#store.accessTokens.delete(token);
    for (const [token, record] of this.#store.refreshTokens)
      if (familyOf(record) === familyId) this.#store.refreshTokens.delete(token);
  }

  #issueTokens(grantId: string, familyId: string): TokenResponse {
    const now = this.#clock.now();
    const access: TokenRecord = {
      token: randomUUID(),
      grantId,
      familyId,
      expiresAt: now + ACCESS_TOKEN_TTL_MS,
    };
    const refresh: TokenRecord = {
      token: randomUUID(),
      grantId,
      familyId,
      expiresAt: now + REFRESH_TOKEN_TTL_MS,
    };
    this.#store.accessTokens.set(access.token, access);
    this.#store.refreshTokens.set(refresh.token, refresh);
    this.#maybePrune(now);
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_TTL_MS / 1000,
      refresh_token: refresh.token,
    };
  }

  #maybePrune(now: number): void {
    if (now - this.#lastPruneAt < 60_000) return;
    this.#lastPruneAt = now;
    this.#store.pruneExpired(now);
  }

  /** The grant behind `Authorization: Bearer <access token>`, or a 401. */
  accessFor(header: string | undefined): VehicleAccess {
    const token = bearer(header);
    const record = token === undefined ? undefined : this.#store.accessTokens.get(token);
    if (record === undefined || record.expiresAt <= this.#clock.now())
      throw new ApiError('AUTHENTICATION', null);
    const grant = this.#store.grants.get(record.grantId);
    const app = grant === undefined ? undefined : this.#store.apps.get(grant.clientId);
    if (grant === undefined || app === undefined) throw new ApiError('AUTHENTICATION', null);
    return { app, grant, scopes: this.#scopeSet(grant) };
  }

  #scopeSet(grant: GrantRecord): ReadonlySet<string> {
    const cached = this.#scopeSets.get(grant);
    if (cached !== undefined && cached.source === grant.scopes) return cached.set;
    const set = new Set(grant.scopes);
    this.#scopeSets.set(grant, { source: grant.scopes, set });
    return set;
  }
}
