import { describe, expectTypeOf, it } from 'vitest';
import { type AnyVoltkitError, isVoltkitError, VoltkitError } from '@voltkit/core';

declare const thrown: unknown;

describe('VoltkitError narrowing', () => {
  it('narrows code by type', () => {
    if (!isVoltkitError(thrown)) return;
    expectTypeOf(thrown).toEqualTypeOf<AnyVoltkitError>();
    // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the default branch is the point
    switch (thrown.type) {
      case 'RATE_LIMIT':
        expectTypeOf(thrown.code).toEqualTypeOf<'SMARTCAR_API' | 'VEHICLE' | null>();
        expectTypeOf(thrown.retryAfter).toEqualTypeOf<number | undefined>();
        // @ts-expect-error ASLEEP is a VEHICLE_STATE code, never a RATE_LIMIT one
        if (thrown.code === 'ASLEEP') return;
        break;
      case 'PERMISSION':
        expectTypeOf(thrown.code).toEqualTypeOf<'MISSING_SCOPE' | null>();
        break;
      case 'INVALID_RESPONSE':
        expectTypeOf(thrown.code).toEqualTypeOf<'BODY' | 'HEADER' | 'NOT_JSON'>();
        expectTypeOf(thrown.field).toEqualTypeOf<string | undefined>();
        break;
      default:
        expectTypeOf(thrown.type).toEqualTypeOf<
          Exclude<AnyVoltkitError['type'], 'RATE_LIMIT' | 'PERMISSION' | 'INVALID_RESPONSE'>
        >();
        break;
    }
  });

  it('narrows with a type argument to the guard and with is()', () => {
    if (isVoltkitError(thrown, 'VEHICLE_STATE')) {
      expectTypeOf(thrown.type).toEqualTypeOf<'VEHICLE_STATE'>();
      expectTypeOf<'ASLEEP' | 'CHARGING_PLUG_NOT_CONNECTED' | null>().toExtend<typeof thrown.code>();
      // @ts-expect-error not a VEHICLE_STATE code
      if (thrown.code === 'SMARTCAR_API') return;
    }
    const error = new VoltkitError({ type: 'UPSTREAM', code: 'NO_RESPONSE', description: 'x' });
    expectTypeOf(error.code).toEqualTypeOf<
      'INVALID_DATA' | 'KNOWN_ISSUE' | 'NO_RESPONSE' | 'RATE_LIMIT' | 'UNKNOWN_ISSUE' | null
    >();
    const wide: VoltkitError = error;
    if (wide.is('BILLING'))
      expectTypeOf(wide.code).toEqualTypeOf<
        'INVALID_PLAN' | 'VEHICLE_LIMIT' | 'VEHICLE_REQUEST_LIMIT' | 'ACCOUNT_SUSPENDED' | null
      >();
  });

  it('rejects a code that does not belong to the type', () => {
    // @ts-expect-error ASLEEP is not a BILLING code
    new VoltkitError({ type: 'BILLING', code: 'ASLEEP', description: 'x' });
  });
});
