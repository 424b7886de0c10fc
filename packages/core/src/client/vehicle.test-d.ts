/* eslint-disable @typescript-eslint/no-unsafe-call -- the flagged calls are the deliberate compile errors under test */
import { describe, expectTypeOf, it } from 'vitest';
import { type AnyVoltkitError, type Grant, type Returned, type VehicleHandle } from '@voltkit/core/client';
import type { Battery, Charge, CommandResponse, ResponseMeta, ServiceHistory } from '@voltkit/core/types';

declare const grant: Grant;

describe('scope-typed vehicle handle', () => {
  it('exposes exactly the methods the scopes allow', () => {
    const car = grant.vehicle('v1', { scopes: ['read_battery', 'control_charge'] });
    expectTypeOf(car).toEqualTypeOf<VehicleHandle<'read_battery' | 'control_charge'>>();
    expectTypeOf(car.battery).returns.resolves.toEqualTypeOf<Battery & { readonly meta: ResponseMeta }>();
    expectTypeOf(car.startCharge).returns.resolves.toEqualTypeOf<
      CommandResponse & { readonly meta: ResponseMeta }
    >();
    expectTypeOf(car).toHaveProperty('setChargeLimit');
    expectTypeOf(car).toHaveProperty('batteryCapacity');
    // scope-free endpoints are always there
    expectTypeOf(car).toHaveProperty('permissions');
    expectTypeOf(car).toHaveProperty('disconnect');
    expectTypeOf(car).toHaveProperty('request');
    expectTypeOf(car).not.toHaveProperty('charge');
    expectTypeOf(car).not.toHaveProperty('lock');
    expectTypeOf(car).not.toHaveProperty('location');

    // @ts-expect-error read_charge was not granted
    void car.charge();
    // @ts-expect-error control_security was not granted
    void car.lock();
    // @ts-expect-error read_location was not granted
    void car.location();
  });

  it('makes battery() a compile error without read_battery, also with `as const` scopes', () => {
    const scopes = ['read_charge'] as const;
    const car = grant.vehicle('v1', { scopes });
    expectTypeOf(car.charge).returns.resolves.toEqualTypeOf<Charge & { readonly meta: ResponseMeta }>();
    // @ts-expect-error read_battery was not granted
    void car.battery();
    const none = grant.vehicle('v1', { scopes: [] });
    // @ts-expect-error no scopes at all
    void none.odometer();
    // @ts-expect-error not a scope of the catalog
    grant.vehicle('v1', { scopes: ['read_everything'] });
  });

  it('narrows a handle built from the actual permissions with can()', async () => {
    const live = await grant.vehicleFromPermissions('v1');
    // @ts-expect-error unknown until checked
    void live.battery();
    if (live.can('read_battery', 'read_service_history')) {
      expectTypeOf(live.battery).returns.resolves.toEqualTypeOf<Battery & { readonly meta: ResponseMeta }>();
      expectTypeOf(live.serviceHistory).returns.resolves.toEqualTypeOf<
        { data: ServiceHistory } & { readonly meta: ResponseMeta }
      >();
    }
  });

  it('types batch results per path and only accepts paths the scopes allow', async () => {
    const car = grant.vehicle('v1', { scopes: ['read_battery', 'read_charge'] });
    const batch = await car.batch(['/battery', '/charge']);
    const battery = batch.results['/battery'];
    if (battery.ok) expectTypeOf(battery.value).toEqualTypeOf<Returned<Battery>>();
    else expectTypeOf(battery.error).toEqualTypeOf<AnyVoltkitError>();
    expectTypeOf(batch.get('/charge').state).toEqualTypeOf<'CHARGING' | 'FULLY_CHARGED' | 'NOT_CHARGING'>();
    // @ts-expect-error '/odometer' was not in the batch
    void batch.results['/odometer'];
    // @ts-expect-error read_odometer was not granted
    void car.batch(['/odometer']);
  });
});
