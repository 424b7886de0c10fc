import { VoltkitError } from '../errors.ts';
import {
  SCOPE_CATALOG,
  type Scope,
  scopeForRequest,
  VEHICLE_ENDPOINTS,
  type VehicleEndpointName,
} from './catalog.ts';

/** Outcome of a permission check: a value, not an exception. */
export type PermissionCheck =
  { readonly allowed: true } | { readonly allowed: false; readonly missing: Scope[] };

/** The `required:` prefix that marks a scope as mandatory in the Connect `scope` parameter. */
export const REQUIRED_PREFIX = 'required:' as const;

/** A scope name as written in a Connect `scope` parameter, with or without `required:`. */
export interface ParsedScope {
  scope: Scope;
  required: boolean;
}

/** Whether `value` is a scope of the catalog. */
export function isScope(value: string): value is Scope {
  return Object.hasOwn(SCOPE_CATALOG, value);
}

/** `"required:read_battery"` → `{ scope: 'read_battery', required: true }`; unknown names → `undefined`. */
export function parseScope(value: string): ParsedScope | undefined {
  const required = value.startsWith(REQUIRED_PREFIX);
  const name = required ? value.slice(REQUIRED_PREFIX.length) : value;
  return isScope(name) ? { scope: name, required } : undefined;
}

/**
 * Parses a Connect `scope` parameter (space separated, or a list) into known scopes; unknown names are
 * returned separately so a caller can reject or ignore them. `required:` wins over a plain mention.
 */
export function parseScopeList(value: string | readonly string[]): {
  scopes: ParsedScope[];
  unknown: string[];
} {
  const parts = typeof value === 'string' ? value.split(/[\s+]+/) : value;
  const byScope = new Map<Scope, boolean>();
  const unknown: string[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const parsed = parseScope(part);
    if (parsed === undefined) unknown.push(part);
    else byScope.set(parsed.scope, (byScope.get(parsed.scope) ?? false) || parsed.required);
  }
  return { scopes: [...byScope].map(([scope, required]) => ({ scope, required })), unknown };
}

/** Formats scopes for the Connect `scope` parameter (`required:` on the mandatory ones), space separated. */
export function formatScopeParam(required: readonly Scope[], optional: readonly Scope[] = []): string {
  const requiredSet = new Set(required);
  const parts = [...requiredSet].map((scope) => `${REQUIRED_PREFIX}${scope}`);
  for (const scope of new Set(optional)) if (!requiredSet.has(scope)) parts.push(scope);
  return parts.join(' ');
}

/** The scopes of `wanted` that `granted` lacks (`required:` prefixes in `granted` are ignored), in order. */
export function missingScopes(granted: Iterable<string>, wanted: Iterable<Scope>): Scope[] {
  const have = new Set<string>();
  for (const name of granted)
    have.add(name.startsWith(REQUIRED_PREFIX) ? name.slice(REQUIRED_PREFIX.length) : name);
  const missing: Scope[] = [];
  for (const scope of wanted) if (!have.has(scope) && !missing.includes(scope)) missing.push(scope);
  return missing;
}

/** Whether `granted` holds every scope of `wanted`. */
export function checkScopes(granted: Iterable<string>, wanted: Scope | Iterable<Scope>): PermissionCheck {
  const missing = missingScopes(granted, typeof wanted === 'string' ? [wanted] : wanted);
  return missing.length === 0 ? { allowed: true } : { allowed: false, missing };
}

/** Whether `granted` allows calling the vehicle endpoint `endpoint` (a client method name). */
export function checkEndpoint(granted: Iterable<string>, endpoint: VehicleEndpointName): PermissionCheck {
  const scope: Scope | null = VEHICLE_ENDPOINTS[endpoint].scope;
  return scope === null ? { allowed: true } : checkScopes(granted, scope);
}

/**
 * Whether `granted` allows a request by method and path below `/vehicles/{id}`. Unknown paths (make-specific
 * endpoints) are allowed: the server decides.
 */
export function checkRequest(granted: Iterable<string>, method: string, path: string): PermissionCheck {
  const scope = scopeForRequest(method, path);
  return scope === null || scope === undefined ? { allowed: true } : checkScopes(granted, scope);
}

/** Throws a `PERMISSION` / `MISSING_SCOPE` {@link VoltkitError} naming the missing scopes if the check failed. */
export function assertAllowed(result: PermissionCheck, action?: string): void {
  if (result.allowed) return;
  throw missingScopeError(result.missing, action);
}

/** Throws naming every scope of `wanted` that `granted` lacks. */
export function assertScopes(
  granted: Iterable<string>,
  wanted: Scope | Iterable<Scope>,
  action?: string,
): void {
  assertAllowed(checkScopes(granted, wanted), action);
}

/** Throws if `granted` does not allow the endpoint; the error names the scope. */
export function assertEndpoint(granted: Iterable<string>, endpoint: VehicleEndpointName): void {
  assertAllowed(checkEndpoint(granted, endpoint), `${endpoint}()`);
}

/** The error the client raises before sending a request the grant does not allow. */
export function missingScopeError(missing: readonly Scope[], action?: string): VoltkitError<'PERMISSION'> {
  const list = missing.join(', ');
  return new VoltkitError({
    type: 'PERMISSION',
    code: 'MISSING_SCOPE',
    description: `${action === undefined ? 'This request' : action} needs the scope${missing.length === 1 ? '' : 's'} ${list}, which the grant does not include. Ask the owner to connect again with ${list}.`,
    missingScopes: missing,
    resolution: { type: 'REAUTHENTICATE' },
  });
}
