import { VoltkitError, type VoltkitErrorCode, CLIENT_ERROR_TYPES } from '../errors.ts';
import type { Scope } from '../permissions/catalog.ts';
import { formatScopeParam, parseScope } from '../permissions/check.ts';
import type { ConnectMode } from '../types/app.ts';
import type { Access, TokenResponse } from '../types/auth.ts';

/** Feature flags: sent as `key:value key:value`. */
export type Flags = Readonly<Record<string, string | number | boolean>>;

/** Scopes for Connect: a list (items may carry `required:`), a space-separated string, or required/optional sets. */
export type ScopeRequest =
  | string
  | readonly string[]
  | { readonly required?: readonly Scope[] | undefined; readonly optional?: readonly Scope[] | undefined };

export interface AuthUrlOptions {
  /** Omit to use the dashboard's "Vehicle Access" configuration. */
  scope?: ScopeRequest | undefined;
  /** Echoed back to the redirect URI (use it against CSRF). */
  state?: string | undefined;
  /** `approval_prompt=force`: show the consent screen even when already granted. @default false */
  forcePrompt?: boolean | undefined;
  /** @default 'live' */
  mode?: ConnectMode | undefined;
  /** Skip the brand selector (`make=TESLA`). */
  makeBypass?: string | undefined;
  /** Let the owner pick only one vehicle (`true`), or only this VIN (`{ vin }`, wins over `makeBypass`). */
  singleSelect?: boolean | { readonly vin: string } | undefined;
  flags?: Flags | undefined;
  /** Your own identifier of the user, for Connect analytics. */
  user?: string | undefined;
  /** Overrides the client's redirect URI. */
  redirectUri?: string | undefined;
}

const MODES: readonly ConnectMode[] = ['live', 'simulated', 'test'];

/** `country:DE flag:true`. */
export function formatFlags(flags: Flags): string {
  return Object.entries(flags)
    .map(([key, value]) => `${key}:${String(value)}`)
    .join(' ');
}

function invalidInput(description: string): VoltkitError<'INVALID_INPUT'> {
  return new VoltkitError({ type: 'INVALID_INPUT', code: 'ARGUMENT', description });
}

/** Normalises a {@link ScopeRequest} into the Connect `scope` parameter; unknown scope names are rejected. */
export function scopeParam(scope: ScopeRequest): string {
  if (typeof scope === 'string' || Array.isArray(scope)) {
    const names =
      typeof scope === 'string'
        ? scope.split(' ').filter((part) => part !== '')
        : (scope as readonly string[]);
    for (const name of names) {
      if (parseScope(name) === undefined)
        throw invalidInput(`Unknown scope "${name}" in the Connect scope list.`);
    }
    return names.join(' ');
  }
  const sets = scope as { required?: readonly Scope[] | undefined; optional?: readonly Scope[] | undefined };
  for (const name of [...(sets.required ?? []), ...(sets.optional ?? [])]) {
    if (parseScope(name) === undefined)
      throw invalidInput(`Unknown scope "${name}" in the Connect scope list.`);
  }
  return formatScopeParam(sets.required ?? [], sets.optional ?? []);
}

/** Builds the Connect authorize URL (parameters in the order the official SDK uses). */
export function buildAuthUrl(
  connectOrigin: string,
  clientId: string,
  defaultRedirectUri: string | undefined,
  options: AuthUrlOptions = {},
): string {
  const mode = options.mode ?? 'live';
  if (!MODES.includes(mode)) throw invalidInput(`mode must be one of ${MODES.join(', ')}.`);
  const params: [string, string][] = [
    ['response_type', 'code'],
    ['client_id', clientId],
    ['approval_prompt', options.forcePrompt === true ? 'force' : 'auto'],
  ];
  const redirectUri = options.redirectUri ?? defaultRedirectUri;
  if (redirectUri !== undefined) params.push(['redirect_uri', redirectUri]);
  if (options.scope !== undefined) params.push(['scope', scopeParam(options.scope)]);
  if (options.state !== undefined) params.push(['state', options.state]);
  const single = options.singleSelect;
  if (single !== undefined) {
    if (typeof single === 'boolean') params.push(['single_select', String(single)]);
    else {
      params.push(['single_select', 'true']);
      params.push(['single_select_vin', single.vin]);
    }
  }
  if (options.makeBypass !== undefined) params.push(['make', options.makeBypass]);
  if (options.flags !== undefined && Object.keys(options.flags).length > 0)
    params.push(['flags', formatFlags(options.flags)]);
  if (options.user !== undefined) params.push(['user', options.user]);
  params.push(['mode', mode]);
  const query = params.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&');
  return `${connectOrigin.replace(/\/+$/, '')}/oauth/authorize?${query}`;
}

export interface CallbackResult {
  code: string;
  state: string | undefined;
}

/**
 * Reads the redirect Connect sends the owner back with: `?code=…&state=…`, or an OAuth error
 * (`?error=access_denied&error_description=…`) which is thrown as an `OAUTH` {@link VoltkitError}.
 */
export function parseCallback(url: string | URL): CallbackResult {
  const params = (typeof url === 'string' ? new URL(url, 'http://callback.invalid') : url).searchParams;
  const error = params.get('error');
  const state = params.get('state') ?? undefined;
  if (error !== null) {
    const known = (CLIENT_ERROR_TYPES.OAUTH.codes as readonly string[]).includes(error);
    throw new VoltkitError({
      type: 'OAUTH',
      code: known ? (error as VoltkitErrorCode<'OAUTH'>) : 'UNKNOWN',
      description: params.get('error_description') ?? `Connect returned the error ${error}.`,
      rawType: error,
    });
  }
  const code = params.get('code');
  if (code === null || code === '') throw invalidInput('The callback URL has neither a code nor an error.');
  return { code, state };
}

const REFRESH_LIFETIME_MS = 60 * 24 * 60 * 60 * 1000;

/** Token response → stored access, with absolute expiries (refresh tokens live 60 days, as the SDKs assume). */
export function toAccess(body: TokenResponse, now: number): Access {
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    expiration: new Date(now + body.expires_in * 1000),
    refreshExpiration: new Date(now + REFRESH_LIFETIME_MS),
  };
}
