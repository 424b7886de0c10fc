import { createHmac, timingSafeEqual } from 'node:crypto';
import { VoltkitError } from '../errors.ts';
import { type VerifyChallengeResponse, type WebhookPayload, WebhookPayloadSchema } from '../types/webhook.ts';

/** Lower-case hex HMAC-SHA256 of `message` keyed with the application management token. */
function hmacHex(amt: string, message: string | Uint8Array): string {
  return createHmac('sha256', amt).update(message).digest('hex');
}

/** The answer to a `verify` delivery's challenge: hex HMAC-SHA256(AMT, challenge). */
export function hashChallenge(amt: string, challenge: string): string {
  return hmacHex(amt, challenge);
}

/** The body to answer a `verify` delivery with. */
export function answerChallenge(amt: string, challenge: string): VerifyChallengeResponse {
  return { challenge: hashChallenge(amt, challenge) };
}

/**
 * Whether `signature` (the `SC-Signature` header) is the HMAC of exactly `rawBody`. Compares in constant
 * time; a missing or malformed signature is simply `false`.
 */
export function verifySignature(
  amt: string,
  signature: string | null | undefined,
  rawBody: string | Uint8Array,
): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-fA-F]{64}$/.test(signature.trim())) return false;
  const expected = Buffer.from(hmacHex(amt, rawBody), 'hex');
  const given = Buffer.from(signature.trim().toLowerCase(), 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Like the official SDK's `verifyPayload`: checks the signature against the compact `JSON.stringify` of an
 * already parsed body. Prefer {@link verifySignature} with the raw bytes.
 */
export function verifyPayload(amt: string, signature: string | null | undefined, body: unknown): boolean {
  return verifySignature(amt, signature, JSON.stringify(body));
}

/** Validates a (parsed or raw JSON) webhook body; a wrong field becomes an `INVALID_RESPONSE` error naming it. */
export function parseWebhookPayload(body: unknown): WebhookPayload {
  let json = body;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new VoltkitError({
        type: 'INVALID_RESPONSE',
        code: 'NOT_JSON',
        description: 'The webhook body is not JSON.',
        cause,
      });
    }
  }
  const parsed = WebhookPayloadSchema.safeParse(json);
  if (!parsed.success) {
    throw new VoltkitError({
      type: 'INVALID_RESPONSE',
      code: 'BODY',
      description: 'The webhook body does not match the v2.0 payload schema.',
      issues: parsed.error.issues,
    });
  }
  return parsed.data;
}

/** Throws the `AUTHENTICATION` error (answer 401) unless `SC-Signature` matches the raw body; v2 and v3 alike. */
export function assertSignature(
  amt: string,
  signature: string | null | undefined,
  rawBody: string | Uint8Array,
): void {
  if (!verifySignature(amt, signature, rawBody)) {
    throw new VoltkitError({
      type: 'AUTHENTICATION',
      code: null,
      status: 401,
      description: 'The webhook SC-Signature does not match the body.',
    });
  }
}

/**
 * Verifies `SC-Signature` over the raw body, then parses it. Throws an `AUTHENTICATION` error for a bad
 * signature (answer 401) and an `INVALID_RESPONSE` error for a bad body (answer 400).
 */
export function parseWebhook(
  rawBody: string | Uint8Array,
  signature: string | null | undefined,
  amt: string,
): WebhookPayload {
  assertSignature(amt, signature, rawBody);
  return parseWebhookPayload(rawBody);
}
