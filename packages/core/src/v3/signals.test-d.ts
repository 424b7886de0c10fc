import { describe, expectTypeOf, it } from 'vitest';
import type {
  DistanceUnit,
  Signal,
  SignalCode,
  UnrecognizedSignal,
  V3VehicleHandle,
  V3WebhookEvent,
} from '@voltkit/core/v3';

declare const car: V3VehicleHandle;
declare const signals: Signal[];
declare const event: V3WebhookEvent;

describe('v3 signals are discriminated by code', () => {
  it('narrows the body type by checking code', () => {
    for (const signal of signals) {
      if (signal.code === 'tractionbattery-stateofcharge') {
        expectTypeOf(signal.body).toEqualTypeOf<{ value: number; unit: 'percent' } | undefined>();
      } else if (signal.code === 'charge-ischarging') {
        expectTypeOf(signal.body).toEqualTypeOf<{ value: boolean } | undefined>();
      } else if (signal.code === 'odometer-traveleddistance') {
        expectTypeOf(signal.body).toEqualTypeOf<{ value: number; unit: DistanceUnit } | undefined>();
      } else if (signal.code === 'location-preciselocation') {
        expectTypeOf(signal.body).exclude<undefined>().toHaveProperty('latitude').toEqualTypeOf<number>();
        // @ts-expect-error a location has no `value`
        void signal.body?.value;
      }
    }
  });

  it('types getSignal by the code asked for', () => {
    expectTypeOf(car.signal('wheel-tires')).resolves.toHaveProperty('code').toEqualTypeOf<'wheel-tires'>();
    expectTypeOf(car.signal('internalcombustionengine-amountremaining'))
      .resolves.toHaveProperty('body')
      .toEqualTypeOf<{ value: number; unit: 'liters' | 'gallons' } | undefined>();
    // @ts-expect-error not a signal code
    void car.signal('battery-percent');
  });

  it('keeps unknown codes out of the typed union', () => {
    expectTypeOf<Signal['code']>().toEqualTypeOf<SignalCode>();
    expectTypeOf<UnrecognizedSignal['body']>().toBeUnknown();
  });

  it('narrows webhook events by eventType', () => {
    if (event.eventType === 'VEHICLE_STATE') {
      expectTypeOf(event.data.signals).toEqualTypeOf<Signal[]>();
      expectTypeOf(event.data.unrecognizedSignals).toEqualTypeOf<UnrecognizedSignal[]>();
      const first = event.data.signals[0];
      if (first?.code === 'charge-ischarging')
        expectTypeOf(first.body).toEqualTypeOf<{ value: boolean } | undefined>();
      expectTypeOf(event.triggers[0]!.type).toEqualTypeOf<'SIGNAL_UPDATED' | 'FIRST_DELIVERY'>();
    }
    if (event.eventType === 'VERIFY') expectTypeOf(event.data.challenge).toBeString();
  });
});
