import { z } from 'zod';

/**
 * Every v2.0 error type with its HTTP status and known codes (reference §4.2). Any type may also carry
 * `code: null`; AUTHENTICATION and PERMISSION only ever do.
 */
export const ERROR_TYPES = {
  AUTHENTICATION: { status: 401, codes: [] },
  PERMISSION: { status: 403, codes: [] },
  VALIDATION: { status: 400, codes: ['PARAMETER', 'INVALID_INPUT_FORMAT'] },
  RESOURCE_NOT_FOUND: { status: 404, codes: ['PATH', 'VERSION'] },
  CONNECTED_SERVICES_ACCOUNT: {
    status: 400,
    codes: [
      'ACCOUNT_ISSUE',
      'AUTHENTICATION_FAILED',
      'NO_VEHICLES',
      'SUBSCRIPTION',
      'VEHICLE_MISSING',
      'PERMISSION',
      'VIRTUAL_KEY_REQUIRED',
    ],
  },
  VEHICLE_STATE: {
    status: 409,
    codes: [
      'ASLEEP',
      'CHARGING_IN_PROGRESS',
      'CHARGING_PLUG_CONNECTED',
      'CHARGING_PLUG_NOT_CONNECTED',
      'CHARGE_FAULT',
      'DOOR_OPEN',
      'FULLY_CHARGED',
      'NOT_CHARGING',
      'HOOD_OPEN',
      'IGNITION_ON',
      'IN_MOTION',
      'REMOTE_ACCESS_DISABLED',
      'TRUNK_OPEN',
      'UNKNOWN',
      'UNREACHABLE',
      'VEHICLE_OFFLINE_FOR_SERVICE',
    ],
  },
  RATE_LIMIT: { status: 429, codes: ['SMARTCAR_API', 'VEHICLE'] },
  BILLING: {
    status: 430,
    codes: ['INVALID_PLAN', 'VEHICLE_LIMIT', 'VEHICLE_REQUEST_LIMIT', 'ACCOUNT_SUSPENDED'],
  },
  COMPATIBILITY: {
    status: 501,
    codes: ['MAKE_NOT_COMPATIBLE', 'SMARTCAR_NOT_CAPABLE', 'VEHICLE_NOT_CAPABLE', 'PLATFORM_NOT_CAPABLE'],
  },
  SERVER: { status: 500, codes: ['INTERNAL', 'MULTIPLE_RECORDS_FOUND', 'RECORD_NOT_FOUND'] },
  UPSTREAM: {
    status: 502,
    codes: ['INVALID_DATA', 'KNOWN_ISSUE', 'NO_RESPONSE', 'RATE_LIMIT', 'UNKNOWN_ISSUE'],
  },
} as const;

/** An error type the v2.0 API sends. */
export type ApiErrorType = keyof typeof ERROR_TYPES;

/** The known codes of an API error type (never `null`; see {@link ApiErrorCode}). */
export type KnownApiErrorCode<TType extends ApiErrorType> = (typeof ERROR_TYPES)[TType]['codes'][number];

/** The `code` an API error of type `TType` can carry. */
export type ApiErrorCode<TType extends ApiErrorType> = KnownApiErrorCode<TType> | null;

export const API_ERROR_TYPES: readonly ApiErrorType[] = Object.keys(ERROR_TYPES) as ApiErrorType[];

/** Exact standard descriptions the API (and the SDK e2e tests) use, keyed `TYPE` or `TYPE:CODE`. */
export const ERROR_DESCRIPTIONS = {
  AUTHENTICATION:
    'The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
  VALIDATION:
    'Request invalid or malformed. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
  PERMISSION:
    'Your application has insufficient permissions to access the requested resource. Please prompt the user to re-authenticate using Smartcar Connect.',
  'RATE_LIMIT:VEHICLE':
    'You have reached the throttling rate limit for this vehicle. Please see the retry-after header (seconds) for when to retry the request.',
  'RATE_LIMIT:SMARTCAR_API':
    'Your application has exceeded its rate limit. Please retry your request in a few minutes.',
  'COMPATIBILITY:VEHICLE_NOT_CAPABLE': 'Vehicle is not capable of performing request.',
} as const;

export type ResolutionType = 'RETRY_LATER' | 'REAUTHENTICATE' | 'CONTACT_SUPPORT';

export interface Resolution {
  type: ResolutionType | null;
  url?: string | undefined;
}

/** `https://smartcar.com/docs/errors/api-errors/<type-kebab>-errors#<code-kebab>` (`#null` without a code). */
export function errorDocUrl(type: string, code: string | null): string {
  const kebab = (value: string): string => value.toLowerCase().replaceAll('_', '-');
  return `https://smartcar.com/docs/errors/api-errors/${kebab(type)}-errors#${code === null ? 'null' : kebab(code)}`;
}

/** One entry of `detail` on validation errors. */
export interface ApiErrorDetail {
  field?: (string | number)[] | undefined;
  message?: string | undefined;
}

/**
 * A v2.0 error body. Parsed leniently on purpose: an error must always become a typed error, so unknown
 * types/codes are kept as strings here and classified by the client.
 */
export interface ApiErrorBody {
  type: string;
  code: string | null;
  description: string;
  docURL?: string | null | undefined;
  statusCode?: number | undefined;
  requestId?: string | undefined;
  /** Older bodies send a bare string; it is normalised to `{ type }`. */
  resolution?: Resolution | null | undefined;
  suggestedUserMessage?: string | undefined;
  detail?: ApiErrorDetail[] | undefined;
}

const resolutionType = z.enum(['RETRY_LATER', 'REAUTHENTICATE', 'CONTACT_SUPPORT']).nullable().catch(null);

export const ApiErrorBodySchema: z.ZodType<ApiErrorBody, unknown> = z.object({
  type: z.string(),
  code: z.string().nullable().default(null),
  description: z.string().default('Unknown error'),
  docURL: z.string().nullable().optional(),
  statusCode: z.number().int().optional(),
  requestId: z.string().optional(),
  resolution: z
    .union([
      z.object({ type: resolutionType, url: z.string().optional() }),
      z.string().transform((type) => ({ type: resolutionType.parse(type) })),
    ])
    .nullable()
    .optional(),
  suggestedUserMessage: z.string().optional(),
  detail: z
    .array(
      z.object({
        field: z.array(z.union([z.string(), z.number()])).optional(),
        message: z.string().optional(),
      }),
    )
    .optional()
    .catch(undefined),
});

/** Legacy v1.0 error body that SDK fixtures still contain. */
export interface LegacyErrorBody {
  error: string;
  message: string;
  code?: string | undefined;
}
export const LegacyErrorBodySchema: z.ZodType<LegacyErrorBody> = z.object({
  error: z.string(),
  message: z.string(),
  code: z.string().optional(),
});
