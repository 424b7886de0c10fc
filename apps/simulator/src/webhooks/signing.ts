import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';

/** Lower-case hex HMAC-SHA256 of `message` keyed with the application management token. */
export function signPayload(managementToken: string, message: string): string {
  return createHmac('sha256', managementToken).update(message).digest('hex');
}

export interface DeliveryResult {
  readonly ok: boolean;
  readonly status: number | null;
  readonly body: unknown;
}

const DELIVERY_TIMEOUT_MS = 5_000;

/**
 * POSTs a webhook payload: compact JSON, `SC-Signature` over exactly those bytes (the SDK's
 * `verifyPayload` re-serializes with JSON.stringify, so compact form is what verifies).
 */
export async function postSigned(
  url: string,
  managementToken: string,
  payload: unknown,
): Promise<DeliveryResult> {
  const body = JSON.stringify(payload);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'sc-signature': signPayload(managementToken, body),
        'user-agent': 'voltkit-simulator-webhooks',
      },
      body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Non-JSON answers are kept as text; only the verification challenge needs JSON.
    }
    return { ok: response.ok, status: response.status, body: parsed };
  } catch {
    return { ok: false, status: null, body: null };
  }
}

const ChallengeAnswerSchema = z.object({ challenge: z.string() });

/**
 * Sends the `verify` event and checks the receiver answered `{challenge: HMAC(amt, challenge)}`; the
 * receiver's answer comes back too, for the delivery log.
 */
export async function verifyWebhookEndpoint(
  url: string,
  webhookId: string,
  managementToken: string,
): Promise<{ verified: boolean; result: DeliveryResult }> {
  const challenge = randomBytes(16).toString('hex');
  const result = await postSigned(url, managementToken, {
    version: '2.0',
    webhookId,
    eventName: 'verify',
    payload: { challenge },
  });
  if (!result.ok) return { verified: false, result };
  const answer = ChallengeAnswerSchema.safeParse(result.body);
  return {
    verified: answer.success && answer.data.challenge === signPayload(managementToken, challenge),
    result,
  };
}
