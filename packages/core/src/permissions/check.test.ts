import { describe, expect, it } from 'vitest';
import { isVoltkitError } from '@voltkit/core';
import {
  assertEndpoint,
  assertScopes,
  checkEndpoint,
  checkRequest,
  checkScopes,
  formatScopeParam,
  missingScopes,
  parseScope,
  parseScopeList,
  scopesForFeatures,
} from '@voltkit/core/permissions';

describe('permission checks', () => {
  it('returns a result naming what is missing', () => {
    expect(checkScopes(['read_battery'], 'read_battery')).toEqual({ allowed: true });
    expect(checkScopes(['read_battery'], ['read_battery', 'control_charge', 'read_charge'])).toEqual({
      allowed: false,
      missing: ['control_charge', 'read_charge'],
    });
    expect(checkEndpoint(['read_charge'], 'startCharge')).toEqual({
      allowed: false,
      missing: ['control_charge'],
    });
    expect(checkEndpoint([], 'disconnect')).toEqual({ allowed: true });
    expect(checkRequest(['read_tires'], 'GET', '/tires/pressure/')).toEqual({ allowed: true });
    expect(checkRequest([], 'GET', '/tesla/speedometer')).toEqual({ allowed: true });
  });

  it('ignores required: prefixes in a grant', () => {
    expect(
      missingScopes(['required:read_battery', 'read_charge'], ['read_battery', 'read_charge', 'read_vin']),
    ).toEqual(['read_vin']);
  });

  it('asserts with a typed PERMISSION error that names the scope', () => {
    let caught: unknown;
    try {
      assertEndpoint(['read_charge'], 'battery');
    } catch (error) {
      caught = error;
    }
    expect(isVoltkitError(caught, 'PERMISSION')).toBe(true);
    if (!isVoltkitError(caught, 'PERMISSION')) return;
    expect(caught.code).toBe('MISSING_SCOPE');
    expect(caught.missingScopes).toEqual(['read_battery']);
    expect(caught.message).toContain('read_battery');
    expect(caught.message).toContain('battery()');
    expect(() => assertScopes(['control_charge'], ['control_charge'])).not.toThrow();
  });
});

describe('scope parsing', () => {
  it('understands required: prefixes and drops unknown names', () => {
    expect(parseScope('required:read_odometer')).toEqual({ scope: 'read_odometer', required: true });
    expect(parseScope('read_odometer')).toEqual({ scope: 'read_odometer', required: false });
    expect(parseScope('read_everything')).toBeUndefined();
    expect(parseScopeList('read_vin required:read_vin  read_nope+read_fuel')).toEqual({
      scopes: [
        { scope: 'read_vin', required: true },
        { scope: 'read_fuel', required: false },
      ],
      unknown: ['read_nope'],
    });
  });

  it('formats the Connect scope parameter', () => {
    expect(formatScopeParam(['read_battery'], ['read_battery', 'read_vin'])).toBe(
      'required:read_battery read_vin',
    );
  });
});

describe('consent flow', () => {
  it('computes required and optional scopes for features', () => {
    const consent = scopesForFeatures(['charging-control', 'battery'], ['location']);
    expect(consent.required).toEqual(['control_charge', 'read_charge', 'read_battery']);
    expect(consent.optional).toEqual(['read_location']);
    expect(consent.scopeParam).toBe(
      'required:control_charge required:read_charge required:read_battery read_location',
    );
  });

  it('tells which scopes to ask for again', () => {
    const consent = scopesForFeatures(['charging-control']);
    expect(missingScopes(['read_charge'], consent.required)).toEqual(['control_charge']);
  });
});
