import { z } from 'zod';
import { VoltkitError } from '../errors.ts';
import { isSignalCode, SIGNALS, type SignalBodies, type SignalCode, type SignalGroup } from './signals.ts';

/** `SUCCESS`, or `ERROR` with the error the platform met reading this one signal. */
export type SignalStatus =
  { value: 'SUCCESS' } | { value: 'ERROR'; error: { type: string; code: string | null } };

export const SignalStatusSchema: z.ZodType<SignalStatus> = z.discriminatedUnion('value', [
  z.object({ value: z.literal('SUCCESS') }),
  z.object({
    value: z.literal('ERROR'),
    error: z.object({ type: z.string().min(1), code: z.string().nullable().default(null) }),
  }),
]);

/** Epoch milliseconds: when Smartcar retrieved the value, and when the car recorded it. */
export interface SignalTimes {
  retrievedAt?: number | undefined;
  oemUpdatedAt?: number | undefined;
}

const epochMs = z.number().int().nonnegative();
const SignalTimesSchema: z.ZodType<SignalTimes> = z.object({
  retrievedAt: epochMs.optional(),
  oemUpdatedAt: epochMs.optional(),
});

/** A signal as `GET /v3/vehicles/{id}/signals[/{code}]` sends it (body not yet checked against its code). */
export interface SignalResource {
  id: string;
  type: 'signal';
  attributes: { code: string; name: string; group: string; status: SignalStatus; body?: unknown };
  meta: SignalTimes;
  links?: Record<string, string | null> | undefined;
}

export const SignalResourceSchema: z.ZodType<SignalResource> = z.object({
  id: z.string().min(1),
  type: z.literal('signal'),
  attributes: z.object({
    code: z.string().min(1),
    name: z.string(),
    group: z.string(),
    status: SignalStatusSchema,
    body: z.unknown().optional(),
  }),
  meta: SignalTimesSchema.default({}),
  links: z.record(z.string(), z.string().nullable()).optional(),
});

interface SignalCommon {
  name: string;
  status: SignalStatus;
  /** When Smartcar retrieved the value (`meta.retrievedAt`). */
  retrievedAt: Date | undefined;
  /** When the car recorded it (`meta.oemUpdatedAt`). */
  oemUpdatedAt: Date | undefined;
}

/**
 * A typed signal, discriminated by `code`: `if (s.code === 'tractionbattery-stateofcharge') s.body?.value`.
 * `body` is there exactly when `status.value` is `SUCCESS`.
 */
export type Signal<TCode extends SignalCode = SignalCode> = TCode extends SignalCode
  ? SignalCommon & { code: TCode; group: SignalGroup; body: SignalBodies[TCode] | undefined }
  : never;

/** A signal whose code this version does not type: kept, never dropped. */
export interface UnrecognizedSignal extends SignalCommon {
  code: string;
  group: string;
  body: unknown;
}

const toDate = (ms: number | undefined): Date | undefined => (ms === undefined ? undefined : new Date(ms));

/** The flat shape webhooks carry per signal (and the wire attributes plus meta). */
export interface FlatSignal {
  code: string;
  name: string;
  group: string;
  status: SignalStatus;
  body?: unknown;
  meta?: SignalTimes | undefined;
}

/**
 * Checks a signal's body against the schema of its code. `path` names where it sits in the response
 * for the error (e.g. `data.3.attributes`).
 */
export function typeSignal(raw: FlatSignal, path: readonly (string | number)[]): Signal | UnrecognizedSignal {
  const common: SignalCommon = {
    name: raw.name,
    status: raw.status,
    retrievedAt: toDate(raw.meta?.retrievedAt),
    oemUpdatedAt: toDate(raw.meta?.oemUpdatedAt),
  };
  if (!isSignalCode(raw.code)) return { ...common, code: raw.code, group: raw.group, body: raw.body };
  const definition = SIGNALS[raw.code];
  if (raw.group !== definition.group) {
    throw invalidSignal(
      [...path, 'group'],
      `signal ${raw.code} belongs to group ${definition.group}, not "${raw.group}"`,
    );
  }
  if (raw.status.value === 'ERROR') {
    return { ...common, code: raw.code, group: definition.group, body: undefined };
  }
  if (raw.body === undefined) {
    throw invalidSignal([...path, 'body'], `signal ${raw.code} reports SUCCESS without a body`);
  }
  const parsed = (definition.body as z.ZodType<unknown>).safeParse(raw.body);
  if (!parsed.success) {
    throw new VoltkitError({
      type: 'INVALID_RESPONSE',
      code: 'BODY',
      description: `signal ${raw.code} has a body that does not match its schema`,
      issues: parsed.error.issues.map((issue) => ({ ...issue, path: [...path, 'body', ...issue.path] })),
    });
  }
  return { ...common, code: raw.code, group: definition.group, body: parsed.data };
}

function invalidSignal(path: (string | number)[], description: string): VoltkitError<'INVALID_RESPONSE'> {
  return new VoltkitError({
    type: 'INVALID_RESPONSE',
    code: 'BODY',
    description,
    issues: [{ code: 'custom', path, message: description, input: undefined }],
  });
}

/** Whether a typed-or-not signal is one this version types. */
export function isTypedSignal(signal: Signal | UnrecognizedSignal): signal is Signal {
  return isSignalCode(signal.code);
}

/** `GET /v3/vehicles/{id}`. */
export interface V3Vehicle {
  id: string;
  type: 'vehicle';
  attributes: {
    make: string;
    model: string;
    year: number;
    powertrainType?: string | undefined;
    mode?: string | undefined;
  };
  links?: Record<string, string | null> | undefined;
}

export const V3VehicleSchema: z.ZodType<V3Vehicle> = z.object({
  id: z.string().min(1),
  type: z.literal('vehicle'),
  attributes: z.object({
    make: z.string().min(1),
    model: z.string().min(1),
    year: z.number().int(),
    powertrainType: z.string().optional(),
    mode: z.string().optional(),
  }),
  links: z.record(z.string(), z.string().nullable()).optional(),
});

/** Page numbers start at 1. */
export interface SignalsPageMeta {
  page: number;
  pageSize: number;
  totalCount: number;
}

/** `GET /v3/vehicles/{id}/signals?page=&pageSize=`. */
export interface SignalsPageBody {
  data: SignalResource[];
  meta: SignalsPageMeta;
  links?: Record<string, string | null> | undefined;
  included?: { vehicle?: V3Vehicle | undefined } | undefined;
}

export const SignalsPageBodySchema: z.ZodType<SignalsPageBody> = z.object({
  data: z.array(SignalResourceSchema),
  meta: z.object({
    page: z.number().int().positive(),
    pageSize: z.number().int().positive(),
    totalCount: z.number().int().nonnegative(),
  }),
  links: z.record(z.string(), z.string().nullable()).optional(),
  included: z.object({ vehicle: V3VehicleSchema.optional() }).optional(),
});

/** One entry of a v3 error body. `status` is the HTTP status as a string. */
export interface V3ErrorEntry {
  status: string;
  type: string;
  code: string | null;
  title?: string | undefined;
  detail?: string | undefined;
  links?: { about?: string | undefined } | undefined;
  resolution?: { type: string | null; url?: string | undefined } | null | undefined;
  suggestedUserMessage?: string | undefined;
}

/** `{"errors":[…]}` */
export interface V3ErrorBody {
  errors: V3ErrorEntry[];
}

export const V3ErrorBodySchema: z.ZodType<V3ErrorBody> = z.object({
  errors: z
    .array(
      z.object({
        status: z.string(),
        type: z.string().min(1),
        code: z.string().nullable().default(null),
        title: z.string().optional(),
        detail: z.string().optional(),
        links: z.object({ about: z.string().optional() }).optional(),
        resolution: z
          .object({ type: z.string().nullable(), url: z.string().optional() })
          .nullable()
          .optional(),
        suggestedUserMessage: z.string().optional(),
      }),
    )
    .min(1),
});

/** The v3 commands this version sends (`POST /v3/vehicles/{id}/commands/<path>`). */
export type V3CommandType =
  'charge-start' | 'charge-stop' | 'charge-set-limit' | 'security-lock' | 'security-unlock';

/** A command's result: `SUCCESS`, or (HTTP 202) still `PENDING`. */
export interface CommandExecution {
  data: {
    id: string;
    type: 'command-execution';
    attributes: {
      commandType: string;
      status: { value: 'SUCCESS' | 'PENDING' | 'FAILED' };
      executionMode?: 'sync' | 'async' | undefined;
      parameters?: Record<string, unknown> | undefined;
    };
    meta?: { executedAt?: string | undefined; completedAt?: string | undefined } | undefined;
  };
}

export const CommandExecutionSchema: z.ZodType<CommandExecution> = z.object({
  data: z.object({
    id: z.string().min(1),
    type: z.literal('command-execution'),
    attributes: z.object({
      commandType: z.string(),
      status: z.object({ value: z.enum(['SUCCESS', 'PENDING', 'FAILED']) }),
      executionMode: z.enum(['sync', 'async']).optional(),
      parameters: z.record(z.string(), z.unknown()).optional(),
    }),
    meta: z.object({ executedAt: z.string().optional(), completedAt: z.string().optional() }).optional(),
  }),
});

/** `POST /oauth2/token` with `grant_type=client_credentials`: an application token, no refresh token. */
export interface ApplicationTokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
}

export const ApplicationTokenResponseSchema: z.ZodType<ApplicationTokenResponse> = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().positive(),
});
