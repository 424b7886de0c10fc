import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { BatterySchema, LockStatusSchema, ResponseMetaSchema } from '@voltkit/core/types';
import {
  type ApiErrorCode,
  type Battery,
  type LockStatus,
  type ResponseMeta,
  type WebhookPayload,
  WebhookPayloadSchema,
} from '@voltkit/core/types';
import { type PermissionCheck, type Scope, checkScopes } from '@voltkit/core/permissions';

describe('inferred types', () => {
  it('match the documented interfaces', () => {
    expectTypeOf<z.infer<typeof BatterySchema>>().toEqualTypeOf<Battery>();
    expectTypeOf<z.infer<typeof LockStatusSchema>>().toEqualTypeOf<LockStatus>();
    expectTypeOf<z.infer<typeof ResponseMetaSchema>>().toEqualTypeOf<ResponseMeta>();
    expectTypeOf<ResponseMeta['dataAge']>().toEqualTypeOf<Date | undefined>();
    expectTypeOf<ResponseMeta['unitSystem']>().toEqualTypeOf<'metric' | 'imperial' | undefined>();
    expectTypeOf<LockStatus['doors'][number]['status']>().toEqualTypeOf<
      'OPEN' | 'CLOSED' | 'UNKNOWN' | 'LOCKED'
    >();
    expectTypeOf<ApiErrorCode<'RATE_LIMIT'>>().toEqualTypeOf<'SMARTCAR_API' | 'VEHICLE' | null>();
  });

  it('narrows webhook payloads on eventName', () => {
    const payload = WebhookPayloadSchema.parse({});
    expectTypeOf(payload).toEqualTypeOf<WebhookPayload>();
    if (payload.eventName === 'verify') expectTypeOf(payload.payload).toEqualTypeOf<{ challenge: string }>();
    else if (payload.eventName === 'eventBased') {
      expectTypeOf(payload.payload.eventType).toEqualTypeOf<
        'CHARGING_STARTED' | 'CHARGING_STOPPED' | 'CHARGING_COMPLETED'
      >();
    } else expectTypeOf(payload.eventName).toEqualTypeOf<'schedule' | 'scheduled' | 'dynamic'>();
  });

  it('gives the missing scopes only on a denied check', () => {
    const result: PermissionCheck = checkScopes([], 'read_vin');
    if (result.allowed) {
      // @ts-expect-error an allowed check has no missing list
      void result.missing;
    } else expectTypeOf(result.missing).toEqualTypeOf<Scope[]>();
  });
});
