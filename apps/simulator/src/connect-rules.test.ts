import { describe, expect, it } from 'vitest';
import { errorFromEmail, parseScopeParam } from './connect-rules.ts';

describe('test-mode error emails', () => {
  it('parse <TYPE>.<CODE>@smartcar.com, in any case', () => {
    expect(errorFromEmail('VEHICLE_STATE.ASLEEP@smartcar.com')).toEqual({
      type: 'VEHICLE_STATE',
      code: 'ASLEEP',
    });
    expect(errorFromEmail('compatibility.vehicle_not_capable@SMARTCAR.com')).toEqual({
      type: 'COMPATIBILITY',
      code: 'VEHICLE_NOT_CAPABLE',
    });
    expect(errorFromEmail('PERMISSION@smartcar.com')).toEqual({ type: 'PERMISSION', code: null });
  });

  it('ignore other addresses and unknown types', () => {
    expect(errorFromEmail('driver@example.com')).toBeNull();
    expect(errorFromEmail('NOT_A_TYPE.ASLEEP@smartcar.com')).toBeNull();
    expect(errorFromEmail('VEHICLE_STATE.ASLEEP@smartcar.com.evil.example')).toBeNull();
  });
});

describe('Connect scope parameter', () => {
  it('splits on spaces or +, keeps order, marks required scopes and drops duplicates', () => {
    expect(parseScopeParam('required:read_battery read_vin+read_battery')).toEqual({
      scopes: ['read_battery', 'read_vin'],
      required: ['read_battery'],
    });
  });

  it('reports unknown scopes, and treats an absent parameter as every scope', () => {
    expect(parseScopeParam('read_battery read_minds')).toEqual({ unknown: ['read_minds'] });
    const all = parseScopeParam(undefined);
    expect('scopes' in all && all.scopes.length).toBeGreaterThan(20);
    expect(parseScopeParam('undefined')).toEqual(all);
  });
});
