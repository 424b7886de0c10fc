import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@voltkit/simulator';

const REDIRECT = 'https://example.com/auth';
let sim: Simulator;
let logText = '';
let token: string;
let refreshToken: string;
let vehicleId: string;

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function call(
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json: json as Record<string, unknown> };
}

const json = { 'content-type': 'application/json' };

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logText += chunk.toString('utf8');
      done();
    },
  });
  sim = await createSimulator({ clock: { mode: 'manual' }, logger: pino({ level: 'info' }, sink) });
  const { code, vehicleIds } = sim.authorize({
    clientId: sim.demoApp.clientId,
    redirectUri: REDIRECT,
    scope:
      'read_battery read_charge control_charge control_security read_security read_service_history read_odometer',
    email: 'robust@example.com',
    make: 'CHEVROLET',
  });
  vehicleId = vehicleIds[0] ?? '';
  const response = await fetch(`${sim.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: basic(sim.demoApp.clientId, sim.demoApp.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }).toString(),
  });
  const tokens = (await response.json()) as {
    access_token: string;
    refresh_token: string;
    expires_in: number;
    token_type: string;
  };
  expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 7200 });
  token = tokens.access_token;
  refreshToken = tokens.refresh_token;
});

afterAll(async () => {
  await sim.close();
});

describe('robustness checklist', () => {
  it('tolerates trailing slashes and empty JSON bodies on GET', async () => {
    for (const path of [
      '/v2.0/vehicles/',
      '/v2.0/user/',
      `/v2.0/vehicles/${vehicleId}/battery/`,
      `/v2.0/vehicles/${vehicleId}/charge`,
    ]) {
      const response = await call('GET', path, { headers: json });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('sc-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const battery = await call('GET', `/v2.0/vehicles/${vehicleId}/battery`, { headers: json });
    expect(Date.parse(battery.headers.get('sc-data-age') ?? '')).not.toBeNaN();
    expect(Date.parse(battery.headers.get('sc-fetched-at') ?? '')).not.toBeNaN();
    expect(battery.headers.get('sc-unit-system')).toBe('metric');
  });

  it('treats literal "undefined" query values as absent', async () => {
    const list = await call('GET', '/v2.0/vehicles?limit=undefined&offset=undefined');
    expect(list.json).toMatchObject({ paging: { count: 1, offset: 0 }, vehicles: [vehicleId] });
    const history = await call(
      'GET',
      `/v2.0/vehicles/${vehicleId}/service/history?start_date=undefined&end_date=undefined`,
    );
    expect(history.status).toBe(200);
    expect(Array.isArray(history.json)).toBe(true);
    const badDate = await call('GET', `/v2.0/vehicles/${vehicleId}/service/history?start_date=yesterday`);
    expect(badDate.status).toBe(400);
    expect(badDate.json).toMatchObject({ type: 'VALIDATION', code: 'PARAMETER' });
  });

  it('accepts the charge limit as a string or a number, and rejects anything else naming the field', async () => {
    const path = `/v2.0/vehicles/${vehicleId}/charge/limit`;
    expect((await call('POST', path, { body: '{"limit":"0.85"}', headers: json })).status).toBe(200);
    expect(sim.vehicle(vehicleId).state.chargeLimit).toBe(0.85);
    expect((await call('POST', path, { body: '{"limit":0.7}', headers: json })).status).toBe(200);
    for (const body of ['{"limit":"abc"}', '{"limit":2}', '{"limit":true}', '{}']) {
      const response = await call('POST', path, { body, headers: json });
      expect(response.status, body).toBe(400);
      expect(response.json).toMatchObject({ type: 'VALIDATION', statusCode: 400 });
      expect(JSON.stringify(response.json['detail'])).toContain('limit');
    }
    expect(sim.vehicle(vehicleId).state.chargeLimit).toBe(0.7);
  });

  it('answers malformed JSON, wrong types, unknown paths and oversized bodies with JSON 4xx', async () => {
    const security = `/v2.0/vehicles/${vehicleId}/security`;
    const malformed = await call('POST', security, { body: '{"action": LOCK', headers: json });
    expect([malformed.status, malformed.json['type']]).toEqual([400, 'VALIDATION']);
    const wrongType = await call('POST', security, { body: '{"action": 5}', headers: json });
    expect([wrongType.status, wrongType.json['type']]).toEqual([400, 'VALIDATION']);
    const plainText = await call('POST', security, {
      body: 'LOCK',
      headers: { 'content-type': 'text/plain' },
    });
    expect(plainText.status).toBe(400);
    const unknown = await call('GET', `/v2.0/vehicles/${vehicleId}/teleport`);
    expect(unknown.json).toMatchObject({ type: 'RESOURCE_NOT_FOUND', code: 'PATH', statusCode: 404 });
    const makeSpecific = await call('GET', `/v2.0/vehicles/${vehicleId}/chevrolet/charge/voltmeter`);
    expect(makeSpecific.json).toMatchObject({
      type: 'COMPATIBILITY',
      code: 'SMARTCAR_NOT_CAPABLE',
      statusCode: 501,
    });
    const version = await call('GET', `/v3.5/vehicles/${vehicleId}/battery`);
    expect(version.json).toMatchObject({ type: 'RESOURCE_NOT_FOUND', code: 'VERSION' });
    const oversized = await call('POST', security, {
      body: JSON.stringify({ action: 'LOCK', pad: 'x'.repeat(100_000) }),
      headers: json,
    });
    expect(oversized.status).toBe(413);
    expect(oversized.headers.get('content-type')).toContain('application/json');
    const noAuth = await fetch(`${sim.url}/v2.0/vehicles/${vehicleId}/battery`);
    expect(noAuth.status).toBe(401);
    expect(((await noAuth.json()) as { type: string }).type).toBe('AUTHENTICATION');
  });

  it('accepts {} on DELETE and an empty body on subscribe', async () => {
    const unsubscribe = await call('DELETE', `/v2.0/vehicles/${vehicleId}/webhooks/nope`, {
      body: '{}',
      headers: { ...json, authorization: `Bearer ${sim.demoApp.managementToken}` },
    });
    expect([unsubscribe.status, unsubscribe.json['type']]).toEqual([400, 'VALIDATION']);
    const subscribe = await call('POST', `/v2.0/vehicles/${vehicleId}/webhooks/nope`, { headers: json });
    expect([subscribe.status, subscribe.json['type']]).toEqual([400, 'VALIDATION']);
  });

  it('puts headers on batch error items and echoes paths with a leading slash', async () => {
    const batch = await call('POST', `/v2.0/vehicles/${vehicleId}/batch`, {
      body: JSON.stringify({ requests: [{ path: 'battery' }, { path: '/fuel' }, { path: '/nope' }] }),
      headers: json,
    });
    const responses = batch.json['responses'] as {
      path: string;
      code: number;
      headers: Record<string, string>;
      body: { type?: string };
    }[];
    expect(responses.map((r) => [r.path, r.code])).toEqual([
      ['/battery', 200],
      ['/fuel', 403],
      ['/nope', 404],
    ]);
    for (const r of responses) expect(typeof r.headers).toBe('object');
    expect(responses[1]?.body.type).toBe('PERMISSION');
    const empty = await call('POST', `/v2.0/vehicles/${vehicleId}/batch`, {
      body: '{"requests":[]}',
      headers: json,
    });
    expect(empty.status).toBe(400);
  });

  it('form-decodes + in compatibility scopes', async () => {
    const vin = sim.vehicle(vehicleId).vin;
    const response = await call(
      'GET',
      `/v2.0/compatibility?mode=live&scope=read_odometer+read_location&country=US&vin=${vin}`,
      {
        headers: { authorization: basic(sim.demoApp.clientId, sim.demoApp.clientSecret) },
      },
    );
    expect(response.status).toBe(200);
    expect((response.json['capabilities'] as unknown[]).length).toBe(2);
    const noAuth = await call('GET', `/v2.0/compatibility?scope=read_odometer&vin=${vin}`, {
      headers: { authorization: 'Basic Zm9vOmJhcg==' },
    });
    expect(noAuth.status).toBe(401);
  });

  it('compatibility matrix: an unknown make matches nothing', async () => {
    const response = await call('GET', '/v2.0/compatibility/matrix?region=US&make=DELOREAN', {
      headers: { authorization: basic(sim.demoApp.clientId, sim.demoApp.clientSecret) },
    });
    expect([response.status, response.json]).toEqual([200, {}]);
  });

  it('token endpoint errors are OAuth-shaped JSON', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${sim.url}/oauth/token`, { method: 'POST', headers, body }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, string>,
      }));
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const auth = { authorization: basic(sim.demoApp.clientId, sim.demoApp.clientSecret) };
    expect(await post(form, 'grant_type=refresh_token&refresh_token=x')).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    expect(await post({ ...form, ...auth }, 'grant_type=password')).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type' },
    });
    expect(await post({ ...form, ...auth }, 'grant_type=authorization_code')).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
    expect(await post({ ...json, ...auth }, '{"grant_type":')).toMatchObject({ status: 400 });
    const refreshed = await post(
      { ...form, ...auth },
      `grant_type=refresh_token&refresh_token=${refreshToken}`,
    );
    expect(refreshed.status).toBe(200);
    refreshToken = refreshed.body['refresh_token'] ?? '';
  });

  it('never answers 5xx to a bounded barrage of odd requests', async () => {
    const methods = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'];
    const paths = [
      '/',
      '/v2.0',
      '/v2.0/vehicles/%',
      `/v2.0/vehicles/${vehicleId}/%E0%A4%A`,
      `/v2.0/vehicles/${vehicleId}/batch`,
      `/v2.0/vehicles/${vehicleId}/charge`,
      `/v2.0/vehicles/${vehicleId}/webhooks/%ZZ`,
      '/oauth/token',
      '/oauth/authorize?client_id=%',
      '/v2.0/management/connections?limit=-1',
      '/v2.0/compatibility/matrix?region=MARS',
      '/_simulator/vehicles',
      '/connect/x/login',
    ];
    const bodies = [
      undefined,
      '',
      'null',
      '[]',
      '{"requests":"x"}',
      '{"requests":[{"path":5}]}',
      '{"action":null}',
      '\u0000',
      '{"a":{"b":{"c":[1,2,{}]}}}',
    ];
    let count = 0;
    for (const method of methods) {
      for (const path of paths) {
        for (const body of method === 'GET' ? [undefined] : bodies) {
          const response = await fetch(`${sim.url}${path}`, {
            method,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            ...(body === undefined ? {} : { body }),
          });
          await response.arrayBuffer();
          expect(response.status, `${method} ${path} ${body ?? ''}`).toBeLessThan(500);
          count++;
        }
      }
    }
    expect(count).toBeGreaterThan(200);
    // Several hundred sequential requests: allow for a loaded 2-core CI machine.
  }, 90_000);

  it('keeps tokens and secrets out of the logs', () => {
    expect(logText).toContain('"route"');
    for (const secret of [token, refreshToken, sim.demoApp.clientSecret, sim.demoApp.managementToken]) {
      expect(logText).not.toContain(secret);
    }
  });
});
