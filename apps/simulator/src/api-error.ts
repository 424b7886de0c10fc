/** Smartcar v2.0 error vocabulary: types, HTTP statuses, descriptions and the JSON body the SDKs parse. */

export const ERROR_STATUS = {
  AUTHENTICATION: 401,
  PERMISSION: 403,
  VALIDATION: 400,
  RESOURCE_NOT_FOUND: 404,
  CONNECTED_SERVICES_ACCOUNT: 400,
  VEHICLE_STATE: 409,
  RATE_LIMIT: 429,
  BILLING: 430,
  COMPATIBILITY: 501,
  SERVER: 500,
  UPSTREAM: 502,
} as const;

export type ErrorType = keyof typeof ERROR_STATUS;

export function isErrorType(value: string): value is ErrorType {
  return Object.hasOwn(ERROR_STATUS, value);
}

/** The codes each type may carry (`null` = the type is used without a code). */
export const ERROR_CODES: Readonly<Record<ErrorType, readonly (string | null)[]>> = {
  AUTHENTICATION: [null],
  PERMISSION: [null],
  VALIDATION: [null, 'PARAMETER'],
  RESOURCE_NOT_FOUND: ['PATH', 'VERSION'],
  CONNECTED_SERVICES_ACCOUNT: [
    'ACCOUNT_ISSUE',
    'AUTHENTICATION_FAILED',
    'NO_VEHICLES',
    'SUBSCRIPTION',
    'VEHICLE_MISSING',
    'PERMISSION',
    'VIRTUAL_KEY_REQUIRED',
  ],
  VEHICLE_STATE: [
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
  RATE_LIMIT: ['SMARTCAR_API', 'VEHICLE'],
  BILLING: ['INVALID_PLAN', 'VEHICLE_LIMIT', 'VEHICLE_REQUEST_LIMIT', 'ACCOUNT_SUSPENDED'],
  COMPATIBILITY: ['MAKE_NOT_COMPATIBLE', 'SMARTCAR_NOT_CAPABLE', 'VEHICLE_NOT_CAPABLE'],
  SERVER: ['INTERNAL', 'MULTIPLE_RECORDS_FOUND', 'RECORD_NOT_FOUND'],
  UPSTREAM: ['INVALID_DATA', 'KNOWN_ISSUE', 'NO_RESPONSE', 'RATE_LIMIT', 'UNKNOWN_ISSUE'],
};

// Exact strings the official SDK's end-to-end tests compare.
const TYPE_DESCRIPTIONS: Record<ErrorType, string> = {
  AUTHENTICATION:
    'The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
  VALIDATION:
    'Request invalid or malformed. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
  PERMISSION:
    'Your application has insufficient permissions to access the requested resource. Please prompt the user to re-authenticate using Smartcar Connect.',
  RESOURCE_NOT_FOUND: 'The requested resource does not exist. Please check the URL and the API version.',
  CONNECTED_SERVICES_ACCOUNT:
    "There is an issue with the vehicle owner's connected services account. Please ask them to check it in the brand's app.",
  VEHICLE_STATE: 'The vehicle is in a state that does not allow this request.',
  RATE_LIMIT: 'Your application has exceeded its rate limit. Please retry your request in a few minutes.',
  BILLING: 'Your application has reached a limit of its current plan.',
  COMPATIBILITY: 'Vehicle is not capable of performing request.',
  SERVER: 'An internal error occurred in the simulator.',
  UPSTREAM: "The vehicle manufacturer's servers returned an error or did not respond.",
};

const CODE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'RATE_LIMIT:VEHICLE':
    'You have reached the throttling rate limit for this vehicle. Please see the retry-after header (seconds) for when to retry the request.',
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
    this.statusCode = options.statusCode ?? ERROR_STATUS[type];
    this.detail = options.detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function describeError(type: ErrorType, code: string | null): string {
  return CODE_DESCRIPTIONS[`${type}:${code}`] ?? TYPE_DESCRIPTIONS[type];
}

function kebab(value: string): string {
  return value.toLowerCase().replace(/_/g, '-');
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
    docURL: `https://smartcar.com/docs/errors/api-errors/${kebab(error.type)}-errors#${error.code === null ? 'null' : kebab(error.code)}`,
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
    default:
      return 'Something went wrong with this request. Please try again later.';
  }
}
