import { hashChallenge, parseWebhookPayload, verifySignature } from '@voltkit/core/client';
import { parseV3WebhookEvent } from '@voltkit/core/v3';
import type { Logger } from 'pino';
import type { SqlClient } from '../store/sql-client.ts';
import { firstSeenWebhookEvent, mergeWebhookState } from '../store/vehicles.ts';
import type { ChargingState } from './vehicle-gateway.ts';

export interface WebhookReceiverOptions {
  readonly db: SqlClient;
  /** The application management token: the HMAC key of SC-Signature and of the challenge. Never logged. */
  readonly managementToken: string;
  readonly now: () => Date;
  readonly logger: Logger;
  /** A pushed SoC this far (fraction) from the stored one calls for a re-plan. @default 0.05 */
  readonly replanSocDelta?: number;
  /** Hears a pushed change that calls for a re-plan (plug-in, unplug, a big SoC change). */
  readonly onReplanNeeded?: (vehicleId: string, reason: string) => void;
}

/** What to answer the vehicle API. */
export type WebhookAnswer =
  | { readonly status: 200; readonly body: { readonly challenge: string } }
  | { readonly status: 204 }
  | { readonly status: 400 | 401; readonly message: string };

/** What a delivery says about one car: the state fields it carries, and when they were true. */
interface PushedState {
  readonly vehicleId: string;
  readonly fields: Partial<Omit<ChargingState, 'readAt'>>;
  readonly at: Date;
  /** Replays of the same event are dropped by this id. */
  readonly eventId: string;
}

export interface WebhookReceiver {
  /** Checks the signature over the raw body first; nothing is parsed, answered or stored before that. */
  receive(rawBody: string, signature: string | undefined): Promise<WebhookAnswer>;
}

const REQUIRED_FIELDS = ['soc', 'pluggedIn', 'charging'] as const;

/**
 * Smartcar webhooks, v2 (`verify`, `schedule`, `eventBased`) and v3 (`VERIFY`, `VEHICLE_STATE`,
 * `VEHICLE_ERROR`): the challenge is answered, pushed states are merged into the stored one with source
 * `webhook`, and plug-in, unplug or a big SoC change asks for a re-plan.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions): WebhookReceiver {
  const { db, managementToken, logger, now } = options;
  const socDelta = options.replanSocDelta ?? 0.05;

  async function store(pushed: PushedState): Promise<void> {
    // A delivery dated in the future (a clock ahead of ours) would look fresh for too long.
    const at = new Date(Math.min(pushed.at.getTime(), now().getTime()));
    const complete = REQUIRED_FIELDS.every((field) => pushed.fields[field] !== undefined);
    const result = await db.transaction(async (tx) => {
      if (!(await firstSeenWebhookEvent(tx, pushed.eventId, now()))) return 'replay' as const;
      const merged = await mergeWebhookState<ChargingState>(
        tx,
        pushed.vehicleId,
        { ...pushed.fields, readAt: at.toISOString() },
        at,
        complete,
      );
      return merged ?? ('not stored' as const);
    });
    if (result === 'replay') {
      logger.info(
        { vehicleId: pushed.vehicleId, eventId: pushed.eventId },
        'webhook event seen before: ignored',
      );
      return;
    }
    if (result === 'not stored') {
      logger.info(
        { vehicleId: pushed.vehicleId, complete },
        'webhook state not stored: unknown car, older than the stored state, or too partial for a first state',
      );
      return;
    }
    const { before, after } = result;
    logger.debug(
      { vehicleId: pushed.vehicleId, fields: Object.keys(pushed.fields), at: at.toISOString() },
      'webhook state stored',
    );
    if (before === null) return;
    if (before.pluggedIn !== after.pluggedIn)
      options.onReplanNeeded?.(
        pushed.vehicleId,
        `${pushed.vehicleId} ${after.pluggedIn ? 'plugged in' : 'unplugged'} (webhook)`,
      );
    else if (Math.abs(after.soc - before.soc) >= socDelta)
      options.onReplanNeeded?.(
        pushed.vehicleId,
        `${pushed.vehicleId} SoC ${(before.soc * 100).toFixed(0)} → ${(after.soc * 100).toFixed(0)} % (webhook)`,
      );
  }

  return {
    async receive(rawBody, signature) {
      if (!verifySignature(managementToken, signature, rawBody))
        return { status: 401, message: 'the SC-Signature header does not sign this body' };
      let json: unknown;
      try {
        json = JSON.parse(rawBody);
      } catch {
        return { status: 400, message: 'the webhook body is not JSON' };
      }
      let pushed: PushedState[];
      try {
        const parsed = interpret(json, now);
        if ('challenge' in parsed)
          return { status: 200, body: { challenge: hashChallenge(managementToken, parsed.challenge) } };
        pushed = parsed.states;
      } catch (error) {
        return {
          status: 400,
          message: `the webhook body is not a Smartcar event: ${describeParseError(error)}`,
        };
      }
      for (const state of pushed) await store(state);
      return { status: 204 };
    },
  };
}

/** The challenge to answer, or the states a delivery carries (none for errors and unknown signals). */
function interpret(json: unknown, now: () => Date): { challenge: string } | { states: PushedState[] } {
  if (typeof json === 'object' && json !== null && 'eventType' in json) {
    const event = parseV3WebhookEvent(json);
    switch (event.eventType) {
      case 'VERIFY':
        return { challenge: event.data.challenge };
      case 'VEHICLE_ERROR':
        return { states: [] };
      case 'VEHICLE_STATE': {
        const fields: Record<string, unknown> = {};
        let retrievedAt = 0;
        for (const signal of event.data.signals as readonly LooseSignal[]) {
          if (signal.status.value !== 'SUCCESS') continue;
          retrievedAt = Math.max(retrievedAt, signal.meta?.retrievedAt ?? 0);
          const value = (signal.body as { value?: unknown } | undefined)?.value;
          switch (signal.code) {
            case 'tractionbattery-stateofcharge':
              if (typeof value === 'number') fields['soc'] = value / 100;
              break;
            case 'charge-ischargingcableconnected':
              if (typeof value === 'boolean') fields['pluggedIn'] = value;
              break;
            case 'charge-detailedchargingstatus':
              if (value === 'CHARGING' || value === 'FULLY_CHARGED' || value === 'NOT_CHARGING')
                fields['charging'] = value;
              break;
            case 'charge-ischarging':
              // The detailed status says more (FULLY_CHARGED); this fills in when it is not subscribed.
              if (typeof value === 'boolean' && fields['charging'] === undefined)
                fields['charging'] = value ? 'CHARGING' : 'NOT_CHARGING';
              break;
            case 'charge-activelimit':
              if (typeof value === 'number') fields['chargeLimit'] = value / 100;
              break;
            case 'tractionbattery-range': {
              const unit = (signal.body as { unit?: unknown }).unit;
              if (typeof value === 'number' && (unit === undefined || unit === 'kilometers' || unit === 'km'))
                fields['rangeKm'] = value;
              break;
            }
          }
        }
        if (Object.keys(fields).length === 0) return { states: [] };
        const delivered = typeof event.meta.deliveredAt === 'number' ? event.meta.deliveredAt : 0;
        return {
          states: [
            {
              vehicleId: event.data.vehicle.id,
              fields,
              at: new Date(retrievedAt || delivered || now().getTime()),
              eventId: `v3:${event.eventId}`,
            },
          ],
        };
      }
    }
  }
  const payload = parseWebhookPayload(json);
  switch (payload.eventName) {
    case 'verify':
      return { challenge: payload.payload.challenge };
    case 'eventBased': {
      const { vehicleId, eventType, eventTime, eventId } = payload.payload;
      const fields: PushedState['fields'] =
        eventType === 'CHARGING_STARTED'
          ? { charging: 'CHARGING', pluggedIn: true }
          : eventType === 'CHARGING_COMPLETED'
            ? { charging: 'FULLY_CHARGED', pluggedIn: true }
            : { charging: 'NOT_CHARGING' };
      const at = Date.parse(eventTime);
      return {
        states: [
          {
            vehicleId,
            fields,
            at: new Date(Number.isFinite(at) ? at : now().getTime()),
            eventId: `v2:${eventId}`,
          },
        ],
      };
    }
    case 'schedule':
    case 'scheduled':
    case 'dynamic':
      return {
        states: payload.payload.vehicles.flatMap((vehicle) => {
          const fields: Record<string, unknown> = {};
          for (const item of vehicle.data) {
            if (item.code !== 200 || typeof item.body !== 'object' || item.body === null) continue;
            const body = item.body as Record<string, unknown>;
            if (item.path === '/battery') {
              if (typeof body['percentRemaining'] === 'number') fields['soc'] = body['percentRemaining'];
              if (typeof body['range'] === 'number') fields['rangeKm'] = body['range'];
            } else if (item.path === '/charge') {
              if (typeof body['isPluggedIn'] === 'boolean') fields['pluggedIn'] = body['isPluggedIn'];
              if (
                body['state'] === 'CHARGING' ||
                body['state'] === 'FULLY_CHARGED' ||
                body['state'] === 'NOT_CHARGING'
              )
                fields['charging'] = body['state'];
            } else if (item.path === '/charge/limit') {
              if (typeof body['limit'] === 'number') fields['chargeLimit'] = body['limit'];
            }
          }
          if (Object.keys(fields).length === 0) return [];
          // A scheduled delivery carries no time of its own: it is as new as its arrival.
          return [{ vehicleId: vehicle.vehicleId, fields, at: now(), eventId: `v2:${vehicle.requestId}` }];
        }),
      };
  }
}

interface LooseSignal {
  readonly code: string;
  readonly status: { readonly value: string };
  readonly body?: unknown;
  readonly meta?: { readonly retrievedAt?: number };
}

/** Names the wrong field of a body (never echoes the body itself). */
function describeParseError(error: unknown): string {
  const issues = (error as { issues?: readonly { path: readonly PropertyKey[]; message: string }[] }).issues;
  if (issues && issues.length > 0)
    return issues
      .slice(0, 5)
      .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
  return error instanceof Error ? error.message : String(error);
}
