import { z } from 'zod';
import { VoltkitError } from '../errors.ts';
import { assertSignature } from '../webhooks/webhooks.ts';
import {
  type FlatSignal,
  isTypedSignal,
  type Signal,
  SignalStatusSchema,
  typeSignal,
  type UnrecognizedSignal,
} from './schemas.ts';

/** Delivery metadata; `deliveredAt` is ISO text on VERIFY and epoch ms on data events. */
export interface V3WebhookMeta {
  version: string;
  webhookId: string;
  webhookName?: string | undefined;
  deliveryId: string;
  deliveredAt: string | number;
  signalCount?: number | undefined;
  mode?: string | undefined;
}

export interface V3WebhookVehicle {
  id: string;
  make: string;
  model: string;
  year: number;
  vin?: string | undefined;
}

/** Why a VEHICLE_STATE event was sent. */
export type V3Trigger =
  | {
      type: 'SIGNAL_UPDATED';
      signal: { code: string; name?: string | undefined; group?: string | undefined };
    }
  | { type: 'FIRST_DELIVERY' };

/** One error of a VEHICLE_ERROR event; `RESOLVED` is sent once the condition clears. */
export interface V3VehicleError {
  type: string;
  code: string | null;
  state: 'ERROR' | 'RESOLVED';
  description?: string | undefined;
  /** The signals the error keeps from being read. */
  signals: { code: string; name?: string | undefined; group?: string | undefined }[];
}

export interface V3VerifyEvent {
  eventId: string;
  eventType: 'VERIFY';
  data: { challenge: string };
  meta: V3WebhookMeta;
}

export interface V3VehicleStateEvent {
  eventId: string;
  eventType: 'VEHICLE_STATE';
  data: {
    user: { id: string };
    vehicle: V3WebhookVehicle;
    /** Typed by code: `if (s.code === 'charge-ischarging') s.body?.value`. */
    signals: Signal[];
    /** Signals whose code this version does not type, kept apart so that `signals` narrows. */
    unrecognizedSignals: UnrecognizedSignal[];
  };
  triggers: V3Trigger[];
  meta: V3WebhookMeta;
}

export interface V3VehicleErrorEvent {
  eventId: string;
  eventType: 'VEHICLE_ERROR';
  data: { user: { id: string }; vehicle: V3WebhookVehicle; errors: V3VehicleError[] };
  meta: V3WebhookMeta;
}

/** A v3 webhook delivery, discriminated on `eventType`, with each signal typed by its code. */
export type V3WebhookEvent = V3VerifyEvent | V3VehicleStateEvent | V3VehicleErrorEvent;

const MetaSchema = z.object({
  version: z.string(),
  webhookId: z.string().min(1),
  webhookName: z.string().optional(),
  deliveryId: z.string().min(1),
  deliveredAt: z.union([z.string(), z.number()]),
  signalCount: z.number().int().nonnegative().optional(),
  mode: z.string().optional(),
});
const VehicleSchema = z.object({
  id: z.string().min(1),
  make: z.string(),
  model: z.string(),
  year: z.number().int(),
  vin: z.string().optional(),
});
const SignalRefSchema = z.object({
  code: z.string().min(1),
  name: z.string().optional(),
  group: z.string().optional(),
});
const FlatSignalSchema: z.ZodType<FlatSignal> = z.object({
  code: z.string().min(1),
  name: z.string(),
  group: z.string(),
  status: SignalStatusSchema,
  body: z.unknown().optional(),
  meta: z
    .object({ retrievedAt: z.number().int().optional(), oemUpdatedAt: z.number().int().optional() })
    .optional(),
});

interface WireEvent {
  eventId: string;
  eventType: 'VERIFY' | 'VEHICLE_STATE' | 'VEHICLE_ERROR';
  data: unknown;
  triggers?: unknown;
  meta: V3WebhookMeta;
}

const WireEventSchema: z.ZodType<WireEvent> = z.object({
  eventId: z.string().min(1),
  eventType: z.enum(['VERIFY', 'VEHICLE_STATE', 'VEHICLE_ERROR']),
  data: z.unknown(),
  triggers: z.unknown().optional(),
  meta: MetaSchema,
});

const VerifyDataSchema = z.object({ challenge: z.string().min(1) });
const StateDataSchema = z.object({
  user: z.object({ id: z.string().min(1) }),
  vehicle: VehicleSchema,
  signals: z.array(FlatSignalSchema),
});
const TriggersSchema: z.ZodType<V3Trigger[]> = z.array(
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('SIGNAL_UPDATED'), signal: SignalRefSchema }),
    z.object({ type: z.literal('FIRST_DELIVERY') }),
  ]),
);
const ErrorDataSchema = z.object({
  user: z.object({ id: z.string().min(1) }),
  vehicle: VehicleSchema,
  errors: z.array(
    z.object({
      type: z.string().min(1),
      code: z.string().nullable().default(null),
      state: z.enum(['ERROR', 'RESOLVED']),
      description: z.string().optional(),
      signals: z.array(SignalRefSchema).default([]),
    }),
  ),
});

function check<T>(schema: z.ZodType<T>, value: unknown, at: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new VoltkitError({
    type: 'INVALID_RESPONSE',
    code: 'BODY',
    description: 'The webhook body does not match the v3 event schema.',
    issues: parsed.error.issues.map((issue) => ({ ...issue, path: [at, ...issue.path] })),
  });
}

/** Validates a (parsed or raw JSON) v3 webhook body; a wrong field is an `INVALID_RESPONSE` naming it. */
export function parseV3WebhookEvent(body: unknown): V3WebhookEvent {
  let json = body;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    try {
      json = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
    } catch (cause) {
      throw new VoltkitError({
        type: 'INVALID_RESPONSE',
        code: 'NOT_JSON',
        description: 'The webhook body is not JSON.',
        cause,
      });
    }
  }
  const event = check(WireEventSchema, json, '(root)');
  const base = { eventId: event.eventId, meta: event.meta };
  switch (event.eventType) {
    case 'VERIFY':
      return { ...base, eventType: 'VERIFY', data: check(VerifyDataSchema, event.data, 'data') };
    case 'VEHICLE_STATE': {
      const data = check(StateDataSchema, event.data, 'data');
      const signals: Signal[] = [];
      const unrecognizedSignals: UnrecognizedSignal[] = [];
      data.signals.forEach((raw, index) => {
        const typed = typeSignal(raw, ['data', 'signals', index]);
        if (isTypedSignal(typed)) signals.push(typed);
        else unrecognizedSignals.push(typed);
      });
      return {
        ...base,
        eventType: 'VEHICLE_STATE',
        data: {
          user: data.user,
          vehicle: data.vehicle,
          signals,
          unrecognizedSignals,
        },
        triggers: check(TriggersSchema, event.triggers ?? [], 'triggers'),
      };
    }
    case 'VEHICLE_ERROR':
      return { ...base, eventType: 'VEHICLE_ERROR', data: check(ErrorDataSchema, event.data, 'data') };
  }
}

/**
 * Verifies `SC-Signature` over the raw body (HMAC-SHA256 keyed with the application management token),
 * then parses the v3 event. A bad signature is an `AUTHENTICATION` error (answer 401).
 */
export function parseV3Webhook(
  rawBody: string | Uint8Array,
  signature: string | null | undefined,
  amt: string,
): V3WebhookEvent {
  assertSignature(amt, signature, rawBody);
  return parseV3WebhookEvent(rawBody);
}
