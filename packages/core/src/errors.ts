import type { z } from 'zod';
import type { Scope } from './permissions/catalog.ts';
import {
  API_ERROR_TYPES,
  type ApiErrorDetail,
  type ApiErrorType,
  ERROR_TYPES,
  type KnownApiErrorCode,
  type Resolution,
} from './types/api-error.ts';

/**
 * Error types raised by the client itself (nothing, or nothing usable, came back from the API).
 * - `INVALID_RESPONSE`: the server answered, but the body or a header does not match the schema.
 * - `INVALID_INPUT`: an argument given to the client is invalid; nothing was sent.
 * - `OAUTH`: the token endpoint or the Connect callback reported an OAuth error.
 * - `TIMEOUT`: no answer within the timeout (or the caller's signal aborted).
 * - `NETWORK`: the request could not be sent or the connection broke.
 * - `UNKNOWN`: an error body with a type this version does not know, or a non-JSON error body.
 */
export const CLIENT_ERROR_TYPES = {
  INVALID_RESPONSE: { codes: ['BODY', 'HEADER', 'NOT_JSON'] },
  INVALID_INPUT: { codes: ['ARGUMENT'] },
  OAUTH: {
    codes: [
      'invalid_grant',
      'invalid_client',
      'invalid_request',
      'unauthorized_client',
      'unsupported_grant_type',
      'invalid_scope',
      'access_denied',
      'invalid_subscription',
      'configuration_error',
      'no_vehicles',
      'vehicle_incompatible',
      'server_error',
      'UNKNOWN',
    ],
  },
  TIMEOUT: { codes: ['TIMEOUT', 'ABORTED'] },
  NETWORK: { codes: ['CONNECTION'] },
  UNKNOWN: { codes: ['UNKNOWN'] },
} as const;

export type ClientErrorType = keyof typeof CLIENT_ERROR_TYPES;

/** Every `type` a {@link VoltkitError} can have. */
export type VoltkitErrorType = ApiErrorType | ClientErrorType;

/** Codes the client adds to API types: raised locally, before or instead of a request. */
interface LocalApiCodes {
  /** A scope the grant lacks; no request was sent. */
  PERMISSION: 'MISSING_SCOPE';
  /** No tokens stored for the grant, or its refresh token has expired: the user must connect again. */
  AUTHENTICATION: 'GRANT_NOT_FOUND' | 'REFRESH_TOKEN_EXPIRED';
}

/** The `code` an error of type `TType` can carry. */
export type VoltkitErrorCode<TType extends VoltkitErrorType> = TType extends ApiErrorType
  ? KnownApiErrorCode<TType> | (TType extends keyof LocalApiCodes ? LocalApiCodes[TType] : never) | null
  : TType extends ClientErrorType
    ? (typeof CLIENT_ERROR_TYPES)[TType]['codes'][number]
    : never;

const BRAND: unique symbol = Symbol.for('@voltkit/core/error');

export interface VoltkitErrorInit<TType extends VoltkitErrorType> {
  type: TType;
  code: VoltkitErrorCode<TType>;
  description: string;
  /** HTTP status of the response (or of the batch item); `null` when no response was received. */
  status?: number | null | undefined;
  requestId?: string | undefined;
  retryAfter?: number | undefined;
  resolution?: Resolution | null | undefined;
  suggestedUserMessage?: string | undefined;
  docURL?: string | undefined;
  detail?: readonly ApiErrorDetail[] | undefined;
  issues?: readonly z.core.$ZodIssue[] | undefined;
  missingScopes?: readonly Scope[] | undefined;
  rawType?: string | undefined;
  rawCode?: string | null | undefined;
  cause?: unknown;
}

/**
 * The one error class of `@voltkit/core`. Narrow it with {@link isVoltkitError} and a check of `type`
 * (then `code`): `if (isVoltkitError(e) && e.type === 'RATE_LIMIT') e.retryAfter`.
 */
export class VoltkitError<TType extends VoltkitErrorType = VoltkitErrorType> extends Error {
  override name: string = 'VoltkitError';
  readonly type: TType;
  /** A known code of `type`, or `null` (also when the server sent a code this version does not know: see `rawCode`). */
  readonly code: VoltkitErrorCode<TType>;
  /** HTTP status (`statusCode` in the v2 body); `null` for errors raised before a response arrived. */
  readonly status: number | null;
  readonly description: string;
  readonly requestId: string | undefined;
  /** Seconds to wait before retrying (from `Retry-After`). */
  readonly retryAfter: number | undefined;
  readonly resolution: Resolution | null;
  readonly suggestedUserMessage: string | undefined;
  readonly docURL: string | undefined;
  /** Per-field details the API sent with a validation error. */
  readonly detail: readonly ApiErrorDetail[];
  /** zod issues (with `path`) for `INVALID_RESPONSE` / `INVALID_INPUT`. */
  readonly issues: readonly z.core.$ZodIssue[];
  /** The first wrong field of a validation error, e.g. `responses[0].body.distance`. */
  readonly field: string | undefined;
  /** The scopes a `PERMISSION`/`MISSING_SCOPE` error is about. */
  readonly missingScopes: readonly Scope[];
  /** `type` and `code` exactly as the server sent them. */
  readonly rawType: string;
  readonly rawCode: string | null;

  constructor(init: VoltkitErrorInit<TType>) {
    const field = init.issues?.[0] === undefined ? undefined : formatIssuePath(init.issues[0].path);
    super(formatMessage(init.type, init.code, init.description, field), { cause: init.cause });
    // A non-enumerable global-symbol brand: `isVoltkitError` then works across duplicate installs.
    Object.defineProperty(this, BRAND, { value: true });
    this.type = init.type;
    this.code = init.code;
    this.status = init.status ?? null;
    this.description = init.description;
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
    this.resolution = init.resolution ?? null;
    this.suggestedUserMessage = init.suggestedUserMessage;
    this.docURL = init.docURL;
    this.detail = init.detail ?? [];
    this.issues = init.issues ?? [];
    this.field = field;
    this.missingScopes = init.missingScopes ?? [];
    this.rawType = init.rawType ?? init.type;
    this.rawCode = init.rawCode === undefined ? init.code : init.rawCode;
  }

  /** Narrows this error to one type: `if (e.is('VEHICLE_STATE')) e.code // 'ASLEEP' | …`. */
  is<T extends VoltkitErrorType>(type: T): this is VoltkitErrorOf<T> {
    return (this.type as string) === type;
  }
}

/** A {@link VoltkitError} as a union over its types, so that checking `type` narrows `code`. */
export type VoltkitErrorOf<TType extends VoltkitErrorType> = TType extends VoltkitErrorType
  ? VoltkitError<TType>
  : never;

/** Any Voltkit error, discriminated on `type`. */
export type AnyVoltkitError = VoltkitErrorOf<VoltkitErrorType>;

/**
 * Whether `value` is a {@link VoltkitError}, optionally of one type. Uses a global symbol brand, so it also
 * recognises errors from a second copy of the package.
 */
export function isVoltkitError(value: unknown): value is AnyVoltkitError;
export function isVoltkitError<T extends VoltkitErrorType>(
  value: unknown,
  type: T,
): value is VoltkitErrorOf<T>;
export function isVoltkitError(value: unknown, type?: VoltkitErrorType): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as Record<symbol, unknown>)[BRAND] !== true) return false;
  return type === undefined || (value as { type?: unknown }).type === type;
}

/** Wraps anything thrown into a {@link VoltkitError} (`UNKNOWN`, with the original as `cause`). */
export function toVoltkitError(value: unknown): AnyVoltkitError {
  if (isVoltkitError(value)) return value;
  return new VoltkitError({
    type: 'UNKNOWN',
    code: 'UNKNOWN',
    description: value instanceof Error ? `${value.name}: unexpected error` : 'Unexpected error',
    cause: value,
  });
}

/** Whether `type` is an error type the v2.0 API sends. */
export function isApiErrorType(type: string): type is ApiErrorType {
  return (API_ERROR_TYPES as readonly string[]).includes(type);
}

/** Whether `code` is a known code of the API error type `type`. */
export function isKnownApiErrorCode<T extends ApiErrorType>(
  type: T,
  code: string,
): code is KnownApiErrorCode<T> {
  return (ERROR_TYPES[type].codes as readonly string[]).includes(code);
}

/** `responses[0].body.distance` from a zod path. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

function formatMessage(
  type: string,
  code: string | null,
  description: string,
  field: string | undefined,
): string {
  const base = `${type}:${code ?? 'null'} - ${description}`;
  return field === undefined || description.includes(field) ? base : `${base} (field: ${field})`;
}
