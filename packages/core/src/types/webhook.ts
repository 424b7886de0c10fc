import { z } from 'zod';
import { type BatchResponseItem, BatchResponseItemSchema } from './batch.ts';

/** Sent when a webhook is created or re-verified; answer with {@link VerifyChallengeResponse}. */
export interface WebhookVerifyPayload {
  version: string;
  webhookId: string;
  eventName: 'verify';
  payload: { challenge: string };
}

/** Scheduled (`schedule`, older `scheduled`) and dynamic webhooks: batch-shaped data per vehicle. */
export interface WebhookSchedulePayload {
  version: string;
  webhookId: string;
  eventName: 'schedule' | 'scheduled' | 'dynamic';
  mode?: 'live' | 'test' | 'simulated' | undefined;
  payload: { vehicles: { vehicleId: string; requestId: string; data: BatchResponseItem[] }[] };
}

export type ChargingEventType = 'CHARGING_STARTED' | 'CHARGING_STOPPED' | 'CHARGING_COMPLETED';

/** Event-based (enterprise) webhooks. */
export interface WebhookEventBasedPayload {
  version: string;
  webhookId: string;
  eventName: 'eventBased';
  mode?: 'live' | 'test' | 'simulated' | undefined;
  payload: { eventId: string; vehicleId: string; eventType: ChargingEventType; eventTime: string };
}

/** A v2.0 webhook delivery, discriminated on `eventName`. */
export type WebhookPayload = WebhookVerifyPayload | WebhookSchedulePayload | WebhookEventBasedPayload;

const mode = z.enum(['live', 'test', 'simulated']).optional();

export const WebhookVerifyPayloadSchema: z.ZodType<WebhookVerifyPayload> = z.object({
  version: z.string(),
  webhookId: z.string(),
  eventName: z.literal('verify'),
  payload: z.object({ challenge: z.string().min(1) }),
});

const schedulePayload = z.object({
  version: z.string(),
  webhookId: z.string(),
  eventName: z.enum(['schedule', 'scheduled', 'dynamic']),
  mode,
  payload: z.object({
    vehicles: z.array(
      z.object({ vehicleId: z.string(), requestId: z.string(), data: z.array(BatchResponseItemSchema) }),
    ),
  }),
});
export const WebhookSchedulePayloadSchema: z.ZodType<WebhookSchedulePayload, unknown> = schedulePayload;

const eventBasedPayload = z.object({
  version: z.string(),
  webhookId: z.string(),
  eventName: z.literal('eventBased'),
  mode,
  payload: z.object({
    eventId: z.string(),
    vehicleId: z.string(),
    eventType: z.enum(['CHARGING_STARTED', 'CHARGING_STOPPED', 'CHARGING_COMPLETED']),
    eventTime: z.string(),
  }),
});
export const WebhookEventBasedPayloadSchema: z.ZodType<WebhookEventBasedPayload> = eventBasedPayload;

export const WebhookPayloadSchema: z.ZodType<WebhookPayload, unknown> = z.discriminatedUnion('eventName', [
  z.object({
    version: z.string(),
    webhookId: z.string(),
    eventName: z.literal('verify'),
    payload: z.object({ challenge: z.string().min(1) }),
  }),
  schedulePayload,
  eventBasedPayload,
]);

/** Body to answer a verify delivery with: `{ challenge: hex HMAC-SHA256(AMT, challenge) }`. */
export interface VerifyChallengeResponse {
  challenge: string;
}
export const VerifyChallengeResponseSchema: z.ZodType<VerifyChallengeResponse> = z.object({
  challenge: z.string().regex(/^[0-9a-f]{64}$/),
});
