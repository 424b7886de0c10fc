import { describe, expect, it } from 'vitest';
import {
  ApiErrorBodySchema,
  AttributesSchema,
  BatchResponseSchema,
  BatterySchema,
  ChargeSchema,
  CompatibilityMatrixSchema,
  CompatibilitySchema,
  ConnectionsSchema,
  ERROR_TYPES,
  errorDocUrl,
  LockStatusSchema,
  NominalCapacitySchema,
  ResponseMetaSchema,
  ServiceHistorySchema,
  SetChargeLimitRequestSchema,
  TokenResponseSchema,
  WebhookPayloadSchema,
} from '@voltkit/core/types';
import {
  COMPATIBILITY_BODY,
  CONNECTIONS_BODY,
  DATA_BODIES,
  errorBody,
  MATRIX_BODY,
  TOKEN_BODY,
  VEHICLE_ID,
} from '../__tests__/fixtures.ts';

describe('response schemas', () => {
  it('accept the reference bodies', () => {
    expect(BatterySchema.parse(DATA_BODIES.battery)).toEqual(DATA_BODIES.battery);
    expect(ChargeSchema.parse(DATA_BODIES.charge)).toEqual(DATA_BODIES.charge);
    expect(LockStatusSchema.parse(DATA_BODIES.lockStatus)).toEqual(DATA_BODIES.lockStatus);
    expect(NominalCapacitySchema.parse(DATA_BODIES.nominalCapacity)).toEqual(DATA_BODIES.nominalCapacity);
    expect(ServiceHistorySchema.parse(DATA_BODIES.serviceHistory)).toEqual(DATA_BODIES.serviceHistory);
    expect(CompatibilitySchema.parse(COMPATIBILITY_BODY)).toEqual(COMPATIBILITY_BODY);
    expect(CompatibilityMatrixSchema.parse(MATRIX_BODY)).toEqual(MATRIX_BODY);
    expect(ConnectionsSchema.parse(CONNECTIONS_BODY)).toEqual(CONNECTIONS_BODY);
    expect(TokenResponseSchema.parse(TOKEN_BODY)).toEqual(TOKEN_BODY);
  });

  it('reject a wrong value and name the field', () => {
    const result = BatterySchema.safeParse({ percentRemaining: 30, range: 40 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['percentRemaining']);
    const state = ChargeSchema.safeParse({ isPluggedIn: true, state: 'SLEEPING' });
    expect(state.error?.issues[0]?.path).toEqual(['state']);
  });

  it('accepts the year as the docs example string and returns a number', () => {
    expect(AttributesSchema.parse({ id: VEHICLE_ID, make: 'TESLA', model: '3', year: '2019' }).year).toBe(
      2019,
    );
  });

  it('accepts the Node SDK string charge limit and enforces the 0.5..1 range', () => {
    expect(SetChargeLimitRequestSchema.parse({ limit: '0.8' })).toEqual({ limit: 0.8 });
    expect(SetChargeLimitRequestSchema.safeParse({ limit: 0.2 }).success).toBe(false);
  });

  it('fills in missing headers on batch error items', () => {
    const parsed = BatchResponseSchema.parse({
      responses: [
        { path: '/engine/oil', code: 501, body: errorBody('COMPATIBILITY', 'VEHICLE_NOT_CAPABLE', 501) },
      ],
    });
    expect(parsed.responses[0]?.headers).toEqual({});
    const mixed = BatchResponseSchema.parse({
      responses: [
        {
          path: '/odometer',
          code: 200,
          body: { distance: 1 },
          headers: { 'SC-Unit-System': 'metric', 'x-count': 3 },
        },
      ],
    });
    expect(mixed.responses[0]?.headers).toEqual({ 'sc-unit-system': 'metric', 'x-count': '3' });
  });
});

describe('response metadata', () => {
  it('maps the SC headers to typed values', () => {
    const meta = ResponseMetaSchema.parse({
      'sc-request-id': 'abc',
      'sc-data-age': '2018-05-04T07:20:50.844Z',
      'sc-unit-system': 'imperial',
    });
    expect(meta.dataAge?.getTime()).toBe(1525418450844);
    expect(meta.unitSystem).toBe('imperial');
    expect(meta.requestId).toBe('abc');
    expect(meta).not.toHaveProperty('fetchedAt');
  });

  it('rejects a malformed date header naming it', () => {
    const result = ResponseMetaSchema.safeParse({ 'sc-data-age': 'yesterday' });
    expect(result.error?.issues[0]?.path).toEqual(['sc-data-age']);
  });
});

describe('error vocabulary', () => {
  it('has the status of every type', () => {
    expect(ERROR_TYPES.BILLING.status).toBe(430);
    expect(ERROR_TYPES.RATE_LIMIT.codes).toEqual(['SMARTCAR_API', 'VEHICLE']);
  });

  it('builds doc URLs like the API', () => {
    expect(errorDocUrl('AUTHENTICATION', null)).toBe(
      'https://smartcar.com/docs/errors/api-errors/authentication-errors#null',
    );
    expect(errorDocUrl('RATE_LIMIT', 'VEHICLE')).toBe(
      'https://smartcar.com/docs/errors/api-errors/rate-limit-errors#vehicle',
    );
  });

  it('normalises legacy string resolutions and missing codes', () => {
    const parsed = ApiErrorBodySchema.parse({
      type: 'PERMISSION',
      description: 'no',
      resolution: 'REAUTHENTICATE',
    });
    expect(parsed.code).toBeNull();
    expect(parsed.resolution).toEqual({ type: 'REAUTHENTICATE' });
  });
});

describe('webhook payloads', () => {
  it('discriminates on eventName', () => {
    const verify = WebhookPayloadSchema.parse({
      version: '2.0',
      webhookId: 'w',
      eventName: 'verify',
      payload: { challenge: 'abc' },
    });
    expect(verify.eventName === 'verify' && verify.payload.challenge).toBe('abc');
    const schedule = WebhookPayloadSchema.parse({
      version: '2.0',
      webhookId: 'w',
      eventName: 'schedule',
      mode: 'live',
      payload: {
        vehicles: [
          {
            vehicleId: VEHICLE_ID,
            requestId: 'r',
            data: [
              {
                path: '/odometer',
                code: 200,
                body: { distance: 1 },
                headers: { 'sc-unit-system': 'metric' },
              },
            ],
          },
        ],
      },
    });
    expect(schedule.eventName).toBe('schedule');
    const bad = WebhookPayloadSchema.safeParse({
      version: '2.0',
      webhookId: 'w',
      eventName: 'eventBased',
      payload: { eventId: 'e', vehicleId: 'v', eventType: 'EXPLODED', eventTime: 'now' },
    });
    expect(bad.error?.issues[0]?.path).toEqual(['payload', 'eventType']);
  });
});
