import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { SignalCode } from '@voltkit/core/v3';
import { isErrorType } from '../api-error.ts';
import type { SimulatorEngine } from '../engine.ts';
import type { AppRecord, GrantRecord, VehicleRecord } from '../state/records.ts';
import { emitAttempt, type DeliveryAttemptListener } from '../webhooks/delivery-attempt.ts';
import { postSigned, signPayload } from '../webhooks/signing.ts';
import { providesSignal, readSignal, signalMeta } from './signal-values.ts';

export const V3_WEBHOOK_VERSION = '4.0';
/** Smartcar retries a delivery that did not get a 2xx up to 3 times, backing off exponentially. */
export const MAX_DELIVERY_RETRIES = 3;

export interface V3WebhookRecord {
  id: string;
  clientId: string;
  name: string;
  url: string;
  /** A change of any of these sends VEHICLE_STATE. */
  triggers: SignalCode[];
  /** Delivered with every VEHICLE_STATE besides the triggers. */
  signals: SignalCode[];
  verified: boolean;
  vehicleIds: string[];
}

export interface V3DeliveryAttempt {
  webhookId: string;
  eventId: string;
  eventType: 'VERIFY' | 'VEHICLE_STATE' | 'VEHICLE_ERROR';
  deliveryId: string;
  /** 1 for the first try, up to 1 + MAX_DELIVERY_RETRIES. */
  attempt: number;
  status: number | null;
  ok: boolean;
}

interface VehicleErrorState {
  type: string;
  code: string | null;
}

interface SubscriptionState {
  /** Trigger bodies last delivered, as JSON, to see what changed. */
  values: Map<SignalCode, string>;
  /** The error condition last reported (`null`: none). */
  error: VehicleErrorState | null;
}

export interface V3WebhookOptions {
  /** First retry delay in real ms; then 2×, 4×. @default 1000 */
  retryBaseMs?: number;
  warn?: (message: string) => void;
}

const ChallengeAnswerSchema = z.object({ challenge: z.string() });

/**
 * v3 webhooks: VERIFY when created, VEHICLE_STATE with FIRST_DELIVERY on subscription and SIGNAL_UPDATED
 * when a trigger signal changes, VEHICLE_ERROR when a car starts or stops answering with an error. Kept
 * in memory (re-create them after a restart).
 */
export class V3Webhooks {
  readonly #engine: SimulatorEngine;
  readonly #retryBaseMs: number;
  readonly #warn: (message: string) => void;
  readonly #webhooks = new Map<string, V3WebhookRecord>();
  readonly #state = new Map<string, SubscriptionState>();
  readonly #log: V3DeliveryAttempt[] = [];
  readonly #listeners: DeliveryAttemptListener[] = [];

  constructor(engine: SimulatorEngine, options: V3WebhookOptions = {}) {
    this.#engine = engine;
    this.#retryBaseMs = options.retryBaseMs ?? 1000;
    this.#warn = options.warn ?? (() => {});
    engine.onVehiclesChanged((vehicles) => this.vehiclesChanged(vehicles));
  }

  /** Hears every delivery attempt (VERIFY and events, each retry) after it finished. */
  onAttempt(listener: DeliveryAttemptListener): void {
    this.#listeners.push(listener);
  }

  #emit(
    webhook: V3WebhookRecord,
    entry: {
      eventType: string;
      detail: string | null;
      eventId: string;
      attempt: number;
      maxAttempts: number;
    },
    result: { status: number | null; ok: boolean },
    started: number,
  ): void {
    if (this.#listeners.length === 0) return;
    emitAttempt(
      this.#listeners,
      {
        at: Date.now(),
        version: 'v3',
        webhookId: webhook.id,
        clientId: webhook.clientId,
        url: webhook.url,
        ...entry,
        status: result.status,
        ok: result.ok,
        durationMs: performance.now() - started,
        willRetry: !result.ok && entry.attempt < entry.maxAttempts,
      },
      this.#warn,
    );
  }

  list(clientId?: string): V3WebhookRecord[] {
    return [...this.#webhooks.values()]
      .filter((webhook) => clientId === undefined || webhook.clientId === clientId)
      .map((webhook) => structuredClone(webhook));
  }

  /** Every delivery attempt so far (oldest first). */
  deliveries(webhookId?: string): V3DeliveryAttempt[] {
    return this.#log.filter((entry) => webhookId === undefined || entry.webhookId === webhookId);
  }

  async create(input: {
    clientId: string;
    url: string;
    name?: string;
    triggers: readonly SignalCode[];
    signals?: readonly SignalCode[];
  }): Promise<V3WebhookRecord> {
    const app = this.#app(input.clientId);
    if (input.triggers.length === 0) throw new Error('a v3 webhook needs at least one trigger signal');
    const webhook: V3WebhookRecord = {
      id: randomUUID(),
      clientId: app.clientId,
      name: input.name ?? 'Simulator webhook',
      url: input.url,
      triggers: [...new Set(input.triggers)],
      signals: [...new Set(input.signals ?? [])],
      verified: false,
      vehicleIds: [],
    };
    this.#webhooks.set(webhook.id, webhook);
    webhook.verified = await this.#verify(webhook, app);
    return structuredClone(webhook);
  }

  async verify(webhookId: string): Promise<boolean> {
    const webhook = this.#webhook(webhookId);
    webhook.verified = await this.#verify(webhook, this.#app(webhook.clientId));
    return webhook.verified;
  }

  /** Subscribes a connected vehicle; the first delivery carries every subscribed signal. */
  subscribe(webhookId: string, vehicleId: string): void {
    const webhook = this.#webhook(webhookId);
    if (!webhook.verified) throw new Error('the webhook has not passed its verification challenge');
    const vehicle = this.#engine.vehicleById(vehicleId);
    if (this.#grantFor(webhook, vehicle) === undefined)
      throw new Error('the vehicle is not connected to the webhook’s app');
    if (!webhook.vehicleIds.includes(vehicleId)) webhook.vehicleIds.push(vehicleId);
    this.#engine.syncVehicle(vehicle);
    const state: SubscriptionState = { values: new Map(), error: null };
    this.#state.set(`${webhookId}:${vehicleId}`, state);
    this.#remember(webhook, vehicle, state);
    this.#sendState(webhook, vehicle, [{ type: 'FIRST_DELIVERY' }]);
    this.#checkError(webhook, vehicle, state);
  }

  unsubscribe(webhookId: string, vehicleId: string): void {
    const webhook = this.#webhook(webhookId);
    webhook.vehicleIds = webhook.vehicleIds.filter((id) => id !== vehicleId);
    this.#state.delete(`${webhookId}:${vehicleId}`);
  }

  /** Called by the engine after physics, commands and admin changes. */
  vehiclesChanged(vehicles: readonly VehicleRecord[]): void {
    if (this.#webhooks.size === 0) return;
    for (const webhook of this.#webhooks.values()) {
      if (!webhook.verified) continue;
      for (const vehicle of vehicles) {
        if (!webhook.vehicleIds.includes(vehicle.id)) continue;
        const state = this.#state.get(`${webhook.id}:${vehicle.id}`);
        if (state === undefined) continue;
        if (this.#grantFor(webhook, vehicle) === undefined) {
          // Disconnected: the subscription ends with the connection.
          this.unsubscribe(webhook.id, vehicle.id);
          continue;
        }
        if (this.#checkError(webhook, vehicle, state) !== null) continue;
        const changed = this.#remember(webhook, vehicle, state);
        if (changed.length === 0) continue;
        this.#sendState(
          webhook,
          vehicle,
          changed.map((code) => {
            const meta = signalMeta(code);
            return { type: 'SIGNAL_UPDATED', signal: { code, name: meta.name, group: meta.group } };
          }),
        );
      }
    }
  }

  /** Stores the current trigger values; returns the codes whose value differs from the last delivery. */
  #remember(webhook: V3WebhookRecord, vehicle: VehicleRecord, state: SubscriptionState): SignalCode[] {
    const spec = this.#engine.specOf(vehicle);
    const changed: SignalCode[] = [];
    for (const code of webhook.triggers) {
      if (!providesSignal(spec, code)) continue;
      const value = JSON.stringify(readSignal(code, vehicle, spec, 'metric'));
      if (state.values.has(code) && state.values.get(code) !== value) changed.push(code);
      state.values.set(code, value);
    }
    return changed;
  }

  /** Sends VEHICLE_ERROR when the car's error condition starts or clears; returns the current one. */
  #checkError(
    webhook: V3WebhookRecord,
    vehicle: VehicleRecord,
    state: SubscriptionState,
  ): VehicleErrorState | null {
    const current = errorCondition(vehicle);
    const previous = state.error;
    const same =
      previous === current ||
      (previous !== null &&
        current !== null &&
        previous.type === current.type &&
        previous.code === current.code);
    if (same) return current;
    state.error = current;
    if (previous !== null) this.#sendError(webhook, vehicle, previous, 'RESOLVED');
    if (current !== null) this.#sendError(webhook, vehicle, current, 'ERROR');
    return current;
  }

  #sendState(webhook: V3WebhookRecord, vehicle: VehicleRecord, triggers: readonly unknown[]): void {
    const grant = this.#grantFor(webhook, vehicle);
    if (grant === undefined) return;
    const signals = this.#signals(webhook, vehicle, grant);
    this.#deliver(
      webhook,
      'VEHICLE_STATE',
      {
        data: { user: { id: grant.userId }, vehicle: describe(vehicle), signals },
        triggers,
        meta: { signalCount: signals.length, mode: grant.mode.toUpperCase() },
      },
      triggerSummary(triggers),
    );
  }

  #sendError(
    webhook: V3WebhookRecord,
    vehicle: VehicleRecord,
    error: VehicleErrorState,
    state: 'ERROR' | 'RESOLVED',
  ): void {
    const grant = this.#grantFor(webhook, vehicle);
    if (grant === undefined) return;
    const codes = [...new Set([...webhook.triggers, ...webhook.signals])];
    this.#deliver(
      webhook,
      'VEHICLE_ERROR',
      {
        data: {
          user: { id: grant.userId },
          vehicle: describe(vehicle),
          errors: [
            {
              type: error.type,
              code: error.code,
              state,
              signals: codes.map((code) => ({ code, ...pick(signalMeta(code)) })),
            },
          ],
        },
        meta: { mode: grant.mode.toUpperCase() },
      },
      `${error.type}${error.code === null ? '' : `:${error.code}`} ${state}`,
    );
  }

  #signals(webhook: V3WebhookRecord, vehicle: VehicleRecord, grant: GrantRecord): unknown[] {
    const spec = this.#engine.specOf(vehicle);
    const error = errorCondition(vehicle);
    const now = this.#engine.now();
    return [...new Set([...webhook.triggers, ...webhook.signals])].map((code) => {
      const meta = signalMeta(code);
      const head = { code, name: meta.name, group: meta.group };
      const failed = (type: string, errorCode: string | null) => ({
        ...head,
        status: { value: 'ERROR', error: { type, code: errorCode } },
      });
      if (!grant.scopes.includes(meta.scope)) return failed('PERMISSION', null);
      if (!providesSignal(spec, code)) return failed('COMPATIBILITY', 'VEHICLE_NOT_CAPABLE');
      if (error !== null) return failed(error.type, error.code);
      return {
        ...head,
        body: readSignal(code, vehicle, spec, 'metric'),
        status: { value: 'SUCCESS' },
        meta: { retrievedAt: now, oemUpdatedAt: vehicle.state.recordedAt },
      };
    });
  }

  /** One event, delivered with up to MAX_DELIVERY_RETRIES retries; every attempt keeps the eventId. */
  #deliver(
    webhook: V3WebhookRecord,
    eventType: 'VEHICLE_STATE' | 'VEHICLE_ERROR',
    event: { data: unknown; triggers?: readonly unknown[]; meta: Record<string, unknown> },
    detail: string | null,
  ): void {
    const app = this.#engine.store.apps.get(webhook.clientId);
    if (app === undefined) return;
    const eventId = randomUUID();
    const run = async () => {
      for (let attempt = 1; attempt <= 1 + MAX_DELIVERY_RETRIES; attempt++) {
        const deliveryId = randomUUID();
        const payload = {
          eventId,
          eventType,
          data: event.data,
          ...(event.triggers === undefined ? {} : { triggers: event.triggers }),
          meta: {
            version: V3_WEBHOOK_VERSION,
            deliveryId,
            deliveredAt: this.#engine.now(),
            webhookId: webhook.id,
            webhookName: webhook.name,
            ...event.meta,
          },
        };
        const started = performance.now();
        const result = await postSigned(webhook.url, app.managementToken, payload);
        this.#emit(
          webhook,
          { eventType, detail, eventId, attempt, maxAttempts: 1 + MAX_DELIVERY_RETRIES },
          result,
          started,
        );
        this.#log.push({
          webhookId: webhook.id,
          eventId,
          eventType,
          deliveryId,
          attempt,
          status: result.status,
          ok: result.ok,
        });
        if (result.ok) return;
        if (attempt <= MAX_DELIVERY_RETRIES) await sleep(this.#retryBaseMs * 2 ** (attempt - 1));
      }
      this.#warn(
        `v3 webhook ${webhook.id}: event ${eventId} not delivered after ${1 + MAX_DELIVERY_RETRIES} attempts`,
      );
    };
    this.#engine.trackDelivery(run());
  }

  async #verify(webhook: V3WebhookRecord, app: AppRecord): Promise<boolean> {
    const challenge = randomBytes(16).toString('hex');
    const deliveryId = randomUUID();
    const eventId = randomUUID();
    const started = performance.now();
    const result = await postSigned(webhook.url, app.managementToken, {
      eventId,
      eventType: 'VERIFY',
      data: { challenge },
      meta: {
        version: V3_WEBHOOK_VERSION,
        webhookId: webhook.id,
        webhookName: webhook.name,
        deliveryId,
        deliveredAt: new Date(this.#engine.now()).toISOString(),
      },
    });
    this.#log.push({
      webhookId: webhook.id,
      eventId,
      eventType: 'VERIFY',
      deliveryId,
      attempt: 1,
      status: result.status,
      ok: result.ok,
    });
    const answer = ChallengeAnswerSchema.safeParse(result.body);
    const verified =
      result.ok && answer.success && answer.data.challenge === signPayload(app.managementToken, challenge);
    this.#emit(
      webhook,
      {
        eventType: 'VERIFY',
        detail: verified ? 'challenge answered' : 'challenge not answered',
        eventId,
        attempt: 1,
        maxAttempts: 1,
      },
      { status: result.status, ok: verified },
      started,
    );
    return verified;
  }

  #grantFor(webhook: V3WebhookRecord, vehicle: VehicleRecord): GrantRecord | undefined {
    for (const grant of this.#engine.store.grants.values()) {
      if (grant.clientId === webhook.clientId && grant.vehicles.some((v) => v.vehicleId === vehicle.id))
        return grant;
    }
    return undefined;
  }

  #app(clientId: string): AppRecord {
    const app = this.#engine.store.apps.get(clientId);
    if (app === undefined) throw new Error('unknown client id');
    return app;
  }

  #webhook(webhookId: string): V3WebhookRecord {
    const webhook = this.#webhooks.get(webhookId);
    if (webhook === undefined) throw new Error(`unknown v3 webhook: ${webhookId}`);
    return webhook;
  }
}

/** The error a car answers with right now: an injected/test-mode error, or being offline or asleep. */
function errorCondition(vehicle: VehicleRecord): VehicleErrorState | null {
  const forced = vehicle.forcedError;
  if (forced !== null && isErrorType(forced.type)) return { type: forced.type, code: forced.code };
  if (vehicle.state.unreachable) return { type: 'VEHICLE_STATE', code: 'UNREACHABLE' };
  if (vehicle.state.asleep) return { type: 'VEHICLE_STATE', code: 'ASLEEP' };
  return null;
}

function describe(vehicle: VehicleRecord) {
  return { id: vehicle.id, make: vehicle.make, model: vehicle.model, year: vehicle.year, vin: vehicle.vin };
}

/** `FIRST_DELIVERY`, or the codes of the updated signals, for the delivery log. */
function triggerSummary(triggers: readonly unknown[]): string {
  return triggers
    .map((trigger) => {
      const { type, signal } = trigger as { type?: string; signal?: { code?: string } };
      return signal?.code ?? type ?? '';
    })
    .join(', ');
}

function pick(meta: { name: string; group: string }) {
  return { name: meta.name, group: meta.group };
}
