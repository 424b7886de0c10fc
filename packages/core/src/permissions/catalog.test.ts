import { describe, expect, it } from 'vitest';
import { SCOPE_CATALOG, scopeForRequest, VEHICLE_ENDPOINTS } from './catalog.ts';

describe('scope catalog', () => {
  it('maps every endpoint scope into the catalog', () => {
    for (const endpoint of Object.values(VEHICLE_ENDPOINTS)) {
      if (endpoint.scope !== null) expect(SCOPE_CATALOG).toHaveProperty(endpoint.scope);
    }
  });

  it('finds the scope of a request whatever its trailing slash or query', () => {
    expect(scopeForRequest('GET', '/battery/')).toBe('read_battery');
    expect(scopeForRequest('get', 'tires/pressure?x=1')).toBe('read_tires');
    expect(scopeForRequest('GET', '/')).toBe('read_vehicle_info');
    expect(scopeForRequest('POST', '/charge/limit')).toBe('control_charge');
    expect(scopeForRequest('DELETE', '/webhooks/abc')).toBeNull();
    expect(scopeForRequest('GET', '/teleport')).toBeUndefined();
  });
});
