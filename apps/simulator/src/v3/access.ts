import { randomUUID } from 'node:crypto';
import { ApiError } from '../api-error.ts';
import { bearer, decodeBasic, safeEqual } from '../credentials.ts';
import type { SimulatorEngine, VehicleAccess } from '../engine.ts';
import { OAuthError, type TokenResponse } from '../oauth/tokens.ts';
import type { AppRecord } from '../state/records.ts';

/** Smartcar's application tokens live one hour and come without a refresh token. */
export const APPLICATION_TOKEN_TTL_MS = 3_600_000;

export type ApplicationTokenResponse = Omit<TokenResponse, 'refresh_token'>;

/**
 * The application-token model of the v3 API: an app exchanges its client credentials for a short-lived
 * token (`POST /oauth2/token`, `grant_type=client_credentials`) and names the user on each request
 * with `sc-user-id`. Tokens are held in memory only: after a restart an app simply asks again.
 */
export class ApplicationTokens {
  readonly #engine: SimulatorEngine;
  readonly #tokens = new Map<string, { clientId: string; expiresAt: number }>();

  constructor(engine: SimulatorEngine) {
    this.#engine = engine;
  }

  /** Client credentials from the form (as Smartcar documents) or from `Authorization: Basic`. */
  issue(form: Record<string, unknown>, authorization: string | undefined): ApplicationTokenResponse {
    const grantType = typeof form['grant_type'] === 'string' ? form['grant_type'] : undefined;
    if (grantType === undefined || grantType === '')
      throw new OAuthError(400, 'invalid_request', 'Missing required parameter: grant_type.');
    if (grantType !== 'client_credentials') {
      throw new OAuthError(
        400,
        'unsupported_grant_type',
        'This endpoint issues application tokens: grant_type must be client_credentials.',
      );
    }
    const app = this.#authenticate(form, authorization);
    const now = this.#engine.now();
    this.#prune(now);
    const token = randomUUID();
    this.#tokens.set(token, { clientId: app.clientId, expiresAt: now + APPLICATION_TOKEN_TTL_MS });
    return { access_token: token, token_type: 'Bearer', expires_in: APPLICATION_TOKEN_TTL_MS / 1000 };
  }

  #authenticate(form: Record<string, unknown>, authorization: string | undefined): AppRecord {
    const fromBasic = decodeBasic(authorization);
    const clientId = fromBasic?.user ?? (typeof form['client_id'] === 'string' ? form['client_id'] : '');
    const secret =
      fromBasic?.password ?? (typeof form['client_secret'] === 'string' ? form['client_secret'] : '');
    const app = this.#engine.store.apps.get(clientId);
    if (app === undefined || secret === '' || !safeEqual(app.clientSecret, secret))
      throw new OAuthError(401, 'invalid_client', 'Invalid client_id or client_secret.');
    return app;
  }

  /** The app behind a live application token, if `token` is one. */
  appFor(token: string): AppRecord | undefined {
    const record = this.#tokens.get(token);
    if (record === undefined || record.expiresAt <= this.#engine.now()) return undefined;
    return this.#engine.store.apps.get(record.clientId);
  }

  #prune(now: number): void {
    for (const [token, record] of this.#tokens) if (record.expiresAt <= now) this.#tokens.delete(token);
  }
}

/**
 * Who is asking on a v3 request: a user's Connect access token (as the official SDK sends), or an
 * application token plus `sc-user-id` naming one of the app's users.
 */
export function v3AccessFor(
  engine: SimulatorEngine,
  tokens: ApplicationTokens,
  authorization: string | undefined,
  userIdHeader: string | undefined,
): VehicleAccess {
  const token = bearer(authorization);
  if (token === undefined) throw new ApiError('AUTHENTICATION', null);
  const app = tokens.appFor(token);
  if (app === undefined) return engine.accessFor(authorization);
  const userId = userIdHeader?.trim() ?? '';
  if (userId === '') {
    throw new ApiError('VALIDATION', 'PARAMETER', {
      description: 'An application token needs the sc-user-id header naming the user whose vehicle this is.',
      detail: [
        { field: ['headers', 'sc-user-id'], message: '"sc-user-id" is required with an application token' },
      ],
    });
  }
  const grant = [...engine.store.grants.values()].find(
    (candidate) => candidate.clientId === app.clientId && candidate.userId === userId,
  );
  // A user who never connected to this app looks exactly like a wrong token: nothing leaks about users.
  if (grant === undefined) throw new ApiError('AUTHENTICATION', null);
  return { app, grant, scopes: new Set(grant.scopes) };
}
