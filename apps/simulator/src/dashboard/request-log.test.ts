import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SimulatorStore } from '../state/store.ts';
import { RequestLog, scopeOf } from './request-log.ts';
import { Ring } from './ring.ts';

const request = (url: string, authorization?: string) =>
  ({ url, method: 'GET', headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

function storeWithToken(token: string): SimulatorStore {
  const store = new SimulatorStore();
  store.addApp({
    clientId: 'app-1',
    clientSecret: 'secret-1',
    managementToken: 'amt-1',
    name: 'One',
    redirectUris: [],
    createdAt: 0,
  });
  store.grants.set('00000000-0000-4000-8000-000000000001', {
    id: '00000000-0000-4000-8000-000000000001',
    clientId: 'app-1',
    userId: '00000000-0000-4000-8000-000000000002',
    mode: 'simulated',
    scopes: ['read_battery'],
    vehicles: [],
  });
  store.accessTokens.set(token, { token, grantId: '00000000-0000-4000-8000-000000000001', expiresAt: 1e15 });
  return store;
}

describe('RequestLog', () => {
  it('keeps the newest entries only, newest first', () => {
    const log = new RequestLog({ store: new SimulatorStore(), managementToken: 'm' }, 3);
    for (let i = 0; i < 5; i++) log.record(request(`/v2.0/user?n=${i}`), 200 + i);
    expect(log.size).toBe(3);
    expect(log.entries().map((entry) => entry.status)).toEqual([204, 203, 202]);
    expect(log.entries()[0]?.path).toBe('/v2.0/user');
  });

  it('names the app of a bearer token, Basic client credentials, an AMT and the management token', () => {
    const log = new RequestLog({ store: storeWithToken('token-1'), managementToken: 'admin-token' });
    const basic = `Basic ${Buffer.from('app-1:secret-1').toString('base64')}`;
    const wrongSecret = `Basic ${Buffer.from('app-1:guess').toString('base64')}`;
    const management = `Basic ${Buffer.from('default:amt-1').toString('base64')}`;
    log.record(request('/v2.0/user', 'Bearer token-1'), 200);
    log.record(request('/oauth/token', basic), 200);
    log.record(request('/oauth/token', wrongSecret), 401);
    log.record(request('/v2.0/management/connections', management), 200);
    log.record(request('/_simulator/apps', 'Bearer admin-token'), 200);
    log.record(request('/oauth/authorize?client_id=app-1&state=x'), 200);
    log.record(request('/v2.0/user', 'Bearer nobody'), 401);
    expect(log.entries().map((e) => [e.caller, e.clientId])).toEqual([
      [null, null],
      ['app', 'app-1'],
      ['simulator', null],
      ['app', 'app-1'],
      [null, null],
      ['app', 'app-1'],
      ['app', 'app-1'],
    ]);
  });

  it('does not credit a revoked token’s 401 to the app it used to belong to', () => {
    const store = storeWithToken('token-1');
    const log = new RequestLog({ store, managementToken: 'm' });
    log.record(request('/v2.0/user', 'Bearer token-1'), 200);
    store.revokeGrant('00000000-0000-4000-8000-000000000001');
    log.record(request('/v2.0/user', 'Bearer token-1'), 401);
    expect(log.entries().map((e) => e.clientId)).toEqual([null, 'app-1']);
  });

  it('leaves out the dashboard and the demo receiver', () => {
    const log = new RequestLog({ store: new SimulatorStore(), managementToken: 'm' });
    log.record(request('/_simulator/dashboard/requests'), 200);
    log.record(request('/_simulator/demo-receiver/app-1'), 204);
    log.record(request('/_simulator/health'), 200);
    expect(log.entries().map((e) => e.path)).toEqual(['/_simulator/health']);
  });
});

describe('scopeOf', () => {
  it('names the permission of v2 and v3 vehicle endpoints', () => {
    expect(scopeOf('GET', '/v2.0/vehicles/v1/battery')).toBe('read_battery');
    expect(scopeOf('POST', '/v2.0/vehicles/v1/charge')).toBe('control_charge');
    expect(scopeOf('POST', '/v2.0/vehicles/v1/batch')).toBe('per batch item');
    expect(scopeOf('GET', '/v2.0/vehicles/v1/nothing-here')).toBeNull();
    expect(scopeOf('GET', '/v3/vehicles/v1')).toBe('read_vehicle_info');
    expect(scopeOf('GET', '/v3/vehicles/v1/signals')).toBe('per signal');
    expect(scopeOf('GET', '/v3/vehicles/v1/signals/tractionbattery-stateofcharge')).toBe('read_battery');
    expect(scopeOf('POST', '/v3/vehicles/v1/commands/charge/start')).toBe('control_charge');
    expect(scopeOf('GET', '/v2.0/user')).toBeNull();
  });
});

describe('Ring', () => {
  it('refuses a capacity below 1', () => {
    expect(() => new Ring(0)).toThrow(/capacity/);
  });
});
