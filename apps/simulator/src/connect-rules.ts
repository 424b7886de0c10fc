import { ALL_SCOPES, SCOPE_CATALOG, type Scope } from '@voltkit/core/permissions';
import { isErrorType } from './api-error.ts';
import type { ForcedError } from './state/records.ts';

/** Conventions of Connect: the `scope` parameter and Smartcar's test-mode trigger emails. */

/** Parsed `<TYPE>.<CODE>@smartcar.com` test-mode email (Smartcar's error-trigger convention). */
export function errorFromEmail(email: string): ForcedError | null {
  const match = /^([A-Z_]+)(?:\.([A-Z_]+))?@smartcar\.com$/i.exec(email.trim());
  if (match === null) return null;
  const type = (match[1] ?? '').toUpperCase();
  if (!isErrorType(type)) return null;
  const code = match[2]?.toUpperCase() ?? null;
  return { type, code: code === 'NULL' ? null : code };
}

/** Emails that make Connect itself fail, as in Smartcar's test mode. */
export const CONNECT_ERROR_EMAILS: Readonly<Record<string, string>> = {
  'smartcar@invalid-subscription.com': 'invalid_subscription',
  'smartcar@vehicle-incompatible.com': 'vehicle_incompatible',
  'smartcar@no-vehicles.com': 'no_vehicles',
};

export interface ScopeRequest {
  readonly scopes: Scope[];
  readonly required: Scope[];
}

/** Parses a Connect `scope` parameter (`required:` prefixes allowed); unknown scopes are reported. */
export function parseScopeParam(raw: string | undefined): ScopeRequest | { unknown: string[] } {
  if (raw === undefined || raw.trim() === '' || raw === 'undefined')
    return { scopes: [...ALL_SCOPES], required: [] };
  const scopes: Scope[] = [];
  const required: Scope[] = [];
  const unknown: string[] = [];
  for (const token of raw.split(/[\s+]+/).filter(Boolean)) {
    const isRequired = token.startsWith('required:');
    const name = isRequired ? token.slice('required:'.length) : token;
    if (!Object.hasOwn(SCOPE_CATALOG, name)) {
      unknown.push(name);
      continue;
    }
    const scope = name as Scope;
    if (!scopes.includes(scope)) scopes.push(scope);
    if (isRequired && !required.includes(scope)) required.push(scope);
  }
  return unknown.length > 0 ? { unknown } : { scopes, required };
}
