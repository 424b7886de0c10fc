import type { FastifyInstance } from 'fastify';
import { safeEqual } from '../credentials.ts';
import type { SimulatorStore } from '../state/store.ts';
import { signPayload } from '../webhooks/signing.ts';
import { Ring } from './ring.ts';

/** Path of the receiver the simulator hosts for each app; its URL works as a webhook out of the box. */
export const DEMO_RECEIVER_PREFIX = '/_simulator/demo-receiver';

export interface DemoReceipt {
  /** Wall-clock ms. */
  readonly at: number;
  readonly clientId: string;
  /** `verify`, `eventBased`, `schedule`, `VERIFY`, `VEHICLE_STATE`, `VEHICLE_ERROR`, or `unknown`. */
  readonly eventType: string;
  readonly eventId: string | null;
  readonly webhookId: string | null;
  readonly signatureValid: boolean;
  /** What the receiver answered. */
  readonly answeredStatus: number;
}

/**
 * A webhook endpoint per app, hosted by the simulator itself: it checks the `SC-Signature` with the app's
 * AMT, answers v2 `verify` and v3 `VERIFY` challenges, and records what it received. It can be told to
 * fail the next deliveries (500), so that retries show in the delivery log without running anything.
 */
export class DemoReceiver {
  readonly receipts: Ring<DemoReceipt>;
  readonly #failures = new Map<string, number>();

  constructor(capacity = 200) {
    this.receipts = new Ring(capacity);
  }

  /** The next `count` event deliveries to this app's receiver answer 500 (challenges still answer). */
  failNext(clientId: string, count: number): void {
    if (count <= 0) this.#failures.delete(clientId);
    else this.#failures.set(clientId, count);
  }

  pendingFailures(clientId: string): number {
    return this.#failures.get(clientId) ?? 0;
  }

  url(origin: string, clientId: string): string {
    return `${origin}${DEMO_RECEIVER_PREFIX}/${encodeURIComponent(clientId)}`;
  }

  register(app: FastifyInstance, store: SimulatorStore): void {
    app.register((scoped, _options, done) => {
      // The signature covers the exact bytes: keep the body as text.
      scoped.removeAllContentTypeParsers();
      scoped.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, next) => next(null, body));
      scoped.post<{ Params: { clientId: string } }>(`${DEMO_RECEIVER_PREFIX}/:clientId`, (request, reply) => {
        const owner = store.apps.get(request.params.clientId);
        if (owner === undefined) return reply.code(404).send({ error: 'no app with this client id' });
        const raw = typeof request.body === 'string' ? request.body : '';
        const signature = request.headers['sc-signature'];
        const signatureValid =
          typeof signature === 'string' && safeEqual(signature, signPayload(owner.managementToken, raw));
        const event = parseEvent(raw);
        const receipt = (answeredStatus: number) =>
          this.receipts.push({
            at: Date.now(),
            clientId: owner.clientId,
            eventType: event.eventType,
            eventId: event.eventId,
            webhookId: event.webhookId,
            signatureValid,
            answeredStatus,
          });
        // Who is asking: only the holder of the app's AMT can sign a delivery.
        if (!signatureValid) {
          receipt(401);
          return reply.code(401).send({ error: 'SC-Signature does not match the app’s AMT' });
        }
        if (event.challenge !== null) {
          receipt(200);
          return reply.code(200).send({ challenge: signPayload(owner.managementToken, event.challenge) });
        }
        const failures = this.#failures.get(owner.clientId) ?? 0;
        if (failures > 0) {
          this.failNext(owner.clientId, failures - 1);
          receipt(500);
          return reply.code(500).send({ error: 'failing on purpose (dashboard setting)' });
        }
        receipt(204);
        return reply.code(204).send();
      });
      done();
    });
  }
}

interface ParsedEvent {
  eventType: string;
  eventId: string | null;
  webhookId: string | null;
  challenge: string | null;
}

function parseEvent(raw: string): ParsedEvent {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: recorded as unknown.
  }
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const record = (value: unknown) =>
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  // v2: {version:'2.0', webhookId, eventName, payload}; v3: {eventId, eventType, data, meta:{webhookId}}.
  const v2Name = text(body['eventName']);
  if (v2Name !== null) {
    const payload = record(body['payload']);
    return {
      eventType: v2Name,
      eventId: text(payload['eventId']),
      webhookId: text(body['webhookId']),
      challenge: v2Name === 'verify' ? text(payload['challenge']) : null,
    };
  }
  const v3Type = text(body['eventType']);
  return {
    eventType: v3Type ?? 'unknown',
    eventId: text(body['eventId']),
    webhookId: text(record(body['meta'])['webhookId']),
    challenge: v3Type === 'VERIFY' ? text(record(body['data'])['challenge']) : null,
  };
}
