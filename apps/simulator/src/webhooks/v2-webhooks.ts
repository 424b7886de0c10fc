import { randomUUID } from 'node:crypto';
import { ApiError } from '../api-error.ts';
import type { BatchItem, VehicleAccess } from '../engine.ts';
import type { AppRecord, ConnectMode, VehicleRecord, WebhookRecord } from '../state/records.ts';
import type { SimulatorStore } from '../state/store.ts';
import type { ChargingEvent } from '../vehicle/physics.ts';
import { emitAttempt, type DeliveryAttemptListener } from './delivery-attempt.ts';
import { postSigned, verifyWebhookEndpoint } from './signing.ts';

export interface V2WebhookDeps {
  readonly store: SimulatorStore;
  readonly now: () => number;
  readonly warn: (message: string) => void;
  /** Registers a running delivery so that the engine can wait for it. */
  readonly track: (delivery: Promise<void>) => void;
  /** One batch item (scheduled payloads are batch-shaped). */
  readonly batchItem: (
    access: VehicleAccess,
    vehicle: VehicleRecord,
    path: string,
    requestId: string,
  ) => BatchItem;
}

/**
 * Smartcar v2.0 webhooks: the `verify` challenge, vehicle subscriptions, event-based charging events and
 * scheduled, batch-shaped deliveries. Records live in the store (they survive a restart).
 */
export class V2Webhooks {
  readonly #deps: V2WebhookDeps;
  readonly #listeners: DeliveryAttemptListener[] = [];

  constructor(deps: V2WebhookDeps) {
    this.#deps = deps;
  }

  /** Hears every delivery attempt (verification, events, schedules) after it finished. */
  onAttempt(listener: DeliveryAttemptListener): void {
    this.#listeners.push(listener);
  }

  async #verify(webhook: WebhookRecord, app: AppRecord): Promise<boolean> {
    const started = performance.now();
    const { verified, result } = await verifyWebhookEndpoint(webhook.url, webhook.id, app.managementToken);
    this.#emit(webhook, 'verify', null, null, result.status, verified, started);
    return verified;
  }

  #emit(
    webhook: WebhookRecord,
    eventType: string,
    detail: string | null,
    eventId: string | null,
    status: number | null,
    ok: boolean,
    started: number,
  ): void {
    if (this.#listeners.length === 0) return;
    emitAttempt(
      this.#listeners,
      {
        at: Date.now(),
        version: 'v2',
        webhookId: webhook.id,
        clientId: webhook.clientId,
        url: webhook.url,
        eventType,
        detail,
        eventId,
        attempt: 1,
        maxAttempts: 1,
        status,
        ok,
        durationMs: performance.now() - started,
        willRetry: false,
      },
      this.#deps.warn,
    );
  }

  async create(input: {
    clientId: string;
    url: string;
    type?: 'scheduled' | 'eventBased';
    intervalMs?: number;
    paths?: readonly string[];
  }): Promise<WebhookRecord> {
    const { store, now } = this.#deps;
    const app = store.apps.get(input.clientId);
    if (app === undefined) throw new Error('unknown client id');
    const type = input.type ?? 'eventBased';
    const intervalMs = type === 'scheduled' ? (input.intervalMs ?? 3_600_000) : null;
    const webhook: WebhookRecord = {
      id: randomUUID(),
      clientId: app.clientId,
      url: input.url,
      type,
      intervalMs,
      paths: [...(input.paths ?? (type === 'scheduled' ? ['/battery', '/charge', '/odometer'] : []))],
      verified: false,
      vehicleIds: [],
      nextDueAt: intervalMs === null ? null : now() + intervalMs,
    };
    store.webhooks.set(webhook.id, webhook);
    webhook.verified = await this.#verify(webhook, app);
    store.changed();
    return webhook;
  }

  async verify(webhookId: string): Promise<boolean> {
    const { store } = this.#deps;
    const webhook = store.webhooks.get(webhookId);
    const app = webhook === undefined ? undefined : store.apps.get(webhook.clientId);
    if (webhook === undefined || app === undefined) throw new Error('unknown webhook');
    webhook.verified = await this.#verify(webhook, app);
    store.changed();
    return webhook.verified;
  }

  subscribe(
    access: VehicleAccess,
    vehicle: VehicleRecord,
    webhookId: string,
  ): { webhookId: string; vehicleId: string } {
    const { store } = this.#deps;
    const webhook = store.webhooks.get(webhookId);
    if (webhook === undefined || webhook.clientId !== access.app.clientId || !webhook.verified) {
      throw new ApiError('VALIDATION', null);
    }
    if (!webhook.vehicleIds.includes(vehicle.id)) webhook.vehicleIds.push(vehicle.id);
    store.changed();
    return { webhookId, vehicleId: vehicle.id };
  }

  unsubscribe(app: AppRecord, vehicleId: string, webhookId: string): { status: 'success' } {
    const { store } = this.#deps;
    const webhook = store.webhooks.get(webhookId);
    if (webhook === undefined || webhook.clientId !== app.clientId) throw new ApiError('VALIDATION', null);
    webhook.vehicleIds = webhook.vehicleIds.filter((id) => id !== vehicleId);
    store.changed();
    return { status: 'success' };
  }

  /** A disconnected vehicle leaves every webhook of the app. */
  forgetVehicle(clientId: string, vehicleId: string): void {
    for (const webhook of this.#deps.store.webhooks.values()) {
      if (webhook.clientId === clientId)
        webhook.vehicleIds = webhook.vehicleIds.filter((id) => id !== vehicleId);
    }
  }

  chargingEvents(vehicle: VehicleRecord, events: readonly ChargingEvent[]): void {
    for (const webhook of this.#deps.store.webhooks.values()) {
      if (webhook.type !== 'eventBased' || !webhook.vehicleIds.includes(vehicle.id)) continue;
      for (const event of events) {
        this.#deliver(webhook, event.type, {
          version: '2.0',
          webhookId: webhook.id,
          eventName: 'eventBased',
          mode: this.#modeFor(webhook.clientId, vehicle.id),
          payload: {
            eventId: randomUUID(),
            vehicleId: vehicle.id,
            eventType: event.type,
            eventTime: new Date(event.at).toISOString(),
          },
        });
      }
    }
  }

  runScheduled(now: number): void {
    for (const webhook of this.#deps.store.webhooks.values()) {
      if (webhook.type !== 'scheduled' || webhook.nextDueAt === null || webhook.intervalMs === null) continue;
      if (webhook.nextDueAt > now) continue;
      // One delivery per heartbeat even after a long jump; the schedule then restarts from now.
      webhook.nextDueAt = Math.max(webhook.nextDueAt + webhook.intervalMs, now + 1);
      if (webhook.vehicleIds.length === 0) continue;
      this.#deliver(webhook, null, this.#scheduledPayload(webhook));
    }
  }

  #deliver(webhook: WebhookRecord, detail: string | null, payload: unknown): void {
    const app = this.#deps.store.apps.get(webhook.clientId);
    if (app === undefined || !webhook.verified) return;
    const started = performance.now();
    const eventId =
      detail === null ? null : ((payload as { payload?: { eventId?: string } }).payload?.eventId ?? null);
    this.#deps.track(
      postSigned(webhook.url, app.managementToken, payload).then((result) => {
        this.#emit(
          webhook,
          webhook.type === 'scheduled' ? 'schedule' : 'eventBased',
          detail,
          eventId,
          result.status,
          result.ok,
          started,
        );
        if (!result.ok)
          this.#deps.warn(`webhook ${webhook.id} delivery failed (status ${result.status ?? 'none'})`);
      }),
    );
  }

  #modeFor(clientId: string, vehicleId: string): ConnectMode {
    for (const grant of this.#deps.store.grants.values()) {
      if (grant.clientId === clientId && grant.vehicles.some((v) => v.vehicleId === vehicleId))
        return grant.mode;
    }
    return 'live';
  }

  #scheduledPayload(webhook: WebhookRecord): unknown {
    const { store } = this.#deps;
    const vehicles = webhook.vehicleIds.flatMap((vehicleId) => {
      const vehicle = store.vehicles.get(vehicleId);
      const grant = [...store.grants.values()].find(
        (g) => g.clientId === webhook.clientId && g.vehicles.some((v) => v.vehicleId === vehicleId),
      );
      const app = store.apps.get(webhook.clientId);
      if (vehicle === undefined || grant === undefined || app === undefined) return [];
      const access: VehicleAccess = { app, grant, scopes: new Set(grant.scopes) };
      const requestId = randomUUID();
      return [
        {
          vehicleId,
          requestId,
          data: webhook.paths.map((path) => this.#deps.batchItem(access, vehicle, path, requestId)),
        },
      ];
    });
    return {
      version: '2.0',
      webhookId: webhook.id,
      eventName: 'schedule',
      mode:
        webhook.vehicleIds[0] === undefined ? 'live' : this.#modeFor(webhook.clientId, webhook.vehicleIds[0]),
      payload: { vehicles },
    };
  }
}
