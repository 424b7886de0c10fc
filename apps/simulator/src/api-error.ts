import { ERROR_DESCRIPTIONS, ERROR_TYPES, errorDocUrl, type ApiErrorType } from '@voltkit/core/types';

/**
 * Smartcar v2.0 errors as the simulator answers them. Types, statuses, the exact standard descriptions and
 * doc URLs come from `@voltkit/core/types`; this file only adds wording for the codes core leaves open.
 */

export type ErrorType = ApiErrorType;

export function isErrorType(value: string): value is ErrorType {
  return Object.hasOwn(ERROR_TYPES, value);
}

// Fallbacks for types and codes without a standard description in core.
const TYPE_DESCRIPTIONS: Record<ErrorType, string> = {
  AUTHENTICATION: ERROR_DESCRIPTIONS.AUTHENTICATION,
  VALIDATION: ERROR_DESCRIPTIONS.VALIDATION,
  PERMISSION: ERROR_DESCRIPTIONS.PERMISSION,
  RESOURCE_NOT_FOUND: 'The requested resource does not exist. Please check the URL and the API version.',
  CONNECTED_SERVICES_ACCOUNT:
    "There is an issue with the vehicle owner's connected services account. Please ask them to check it in the brand's app.",
  VEHICLE_STATE: 'The vehicle is in a state that does not allow this request.',
  RATE_LIMIT: ERROR_DESCRIPTIONS['RATE_LIMIT:SMARTCAR_API'],
  BILLING: 'Your application has reached a limit of its current plan.',
  COMPATIBILITY: ERROR_DESCRIPTIONS['COMPATIBILITY:VEHICLE_NOT_CAPABLE'],
  SERVER: 'An internal error occurred in the simulator.',
  UPSTREAM: "The vehicle manufacturer's servers returned an error or did not respond.",
};

const CODE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  ...ERROR_DESCRIPTIONS,
  'VEHICLE_STATE:ASLEEP': 'The vehicle is in a sleep state and temporarily unable to perform your request.',
  'VEHICLE_STATE:UNREACHABLE': 'The vehicle is temporarily unreachable because it has no network connection.',
  'VEHICLE_STATE:CHARGING_PLUG_NOT_CONNECTED': 'The charging plug is not connected to the vehicle.',
  'VEHICLE_STATE:CHARGING_IN_PROGRESS': 'The vehicle is already charging.',
  'VEHICLE_STATE:FULLY_CHARGED': 'The vehicle is already charged to its charge limit.',
  'VEHICLE_STATE:NOT_CHARGING': 'The vehicle is not charging.',
  'VEHICLE_STATE:DOOR_OPEN': 'A door is open, so the vehicle cannot be locked.',
  'VEHICLE_STATE:TRUNK_OPEN': 'The trunk is open, so the vehicle cannot be locked.',
  'VEHICLE_STATE:HOOD_OPEN': 'The hood is open, so the vehicle cannot be locked.',
  'VEHICLE_STATE:IN_MOTION': 'The vehicle is in motion and cannot perform this request.',
  'COMPATIBILITY:MAKE_NOT_COMPATIBLE': "The vehicle's make is not compatible with this request.",
  'COMPATIBILITY:SMARTCAR_NOT_CAPABLE': 'The platform does not support this request for this vehicle yet.',
  'RESOURCE_NOT_FOUND:PATH': 'The requested path does not exist. Please check the URL.',
  'UPSTREAM:NO_RESPONSE': "The vehicle manufacturer's servers did not respond.",
};

const RESOLUTIONS: Partial<Record<ErrorType, string>> = {
  AUTHENTICATION: 'REAUTHENTICATE',
  PERMISSION: 'REAUTHENTICATE',
  RATE_LIMIT: 'RETRY_LATER',
  VEHICLE_STATE: 'RETRY_LATER',
  UPSTREAM: 'RETRY_LATER',
  SERVER: 'RETRY_LATER',
  BILLING: 'CONTACT_SUPPORT',
};

export interface ValidationDetail {
  readonly field: readonly (string | number)[];
  readonly message: string;
}

/** An error answered in Smartcar's v2.0 shape. Thrown inside handlers, rendered by the HTTP layer. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly type: ErrorType;
  readonly code: string | null;
  readonly statusCode: number;
  readonly detail: readonly ValidationDetail[] | undefined;
  /** Seconds, sent as `Retry-After`. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    type: ErrorType,
    code: string | null,
    options: {
      description?: string;
      detail?: readonly ValidationDetail[];
      retryAfterSeconds?: number;
      /** Only for HTTP-level failures the v2.0 vocabulary has no status for (413 body too large). */
      statusCode?: number;
    } = {},
  ) {
    super(options.description ?? describeError(type, code));
    this.type = type;
    this.code = code;
    this.statusCode = options.statusCode ?? ERROR_TYPES[type].status;
    this.detail = options.detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function describeError(type: ErrorType, code: string | null): string {
  return CODE_DESCRIPTIONS[`${type}:${code}`] ?? TYPE_DESCRIPTIONS[type];
}

export interface ErrorBody {
  type: ErrorType;
  code: string | null;
  description: string;
  docURL: string;
  statusCode: number;
  requestId: string;
  resolution: { type: string | null };
  suggestedUserMessage: string;
  detail?: readonly ValidationDetail[];
}

export function errorBody(error: ApiError, requestId: string): ErrorBody {
  const body: ErrorBody = {
    type: error.type,
    code: error.code,
    description: error.message,
    docURL: errorDocUrl(error.type, error.code),
    statusCode: error.statusCode,
    requestId,
    resolution: { type: RESOLUTIONS[error.type] ?? null },
    suggestedUserMessage: suggestedMessage(error.type),
  };
  if (error.detail !== undefined) body.detail = error.detail;
  return body;
}

function suggestedMessage(type: ErrorType): string {
  switch (type) {
    case 'VEHICLE_STATE':
      return 'Your car could not be reached right now. Please make sure it is in an area with good cell reception and try again.';
    case 'RATE_LIMIT':
      return 'Your car is receiving too many requests right now. Please try again later.';
    case 'PERMISSION':
    case 'AUTHENTICATION':
      return 'Please reconnect your car to this app.';
    case 'COMPATIBILITY':
      return 'Your car does not support this feature.';
    case 'CONNECTED_SERVICES_ACCOUNT':
      return "Please check your car's connected-services account in the brand's app.";
    case 'BILLING':
    case 'RESOURCE_NOT_FOUND':
    case 'SERVER':
    case 'UPSTREAM':
    case 'VALIDATION':
      return 'Something went wrong with this request. Please try again later.';
  }
}
