import { afterEach, describe, expect, it } from 'vitest';
import { createClient, isVoltkitError, type VoltkitErrorType } from '@voltkit/core/client';
import { ERROR_DESCRIPTIONS, ERROR_TYPES } from '@voltkit/core/types';
import { errorBody } from '../__tests__/fixtures.ts';
import { setup, type Harness } from '../__tests__/setup.ts';
import { ResponseMetaSchema } from '../types/common.ts';
import { backoffDelay, DEFAULT_RETRY, parseMeta, parseRetryAfter } from './http.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.server.close();
  harness = undefined;
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}

describe('retries', () => {
  it('retries a GET on 429 after the Retry-After seconds, then succeeds', async () => {
    harness = await setup();
    const { server, client, grantId, delays } = harness;
    let calls = 0;
    server.override('GET', '/v2.0/vehicles/*/battery', () =>
      ++calls === 1
        ? {
            status: 429,
            headers: { 'retry-after': '3' },
            json: errorBody('RATE_LIMIT', 'VEHICLE', 429, ERROR_DESCRIPTIONS['RATE_LIMIT:VEHICLE']),
          }
        : { json: { percentRemaining: 0.9, range: 300 } },
    );
    const car = client.grant(grantId).vehicle('v1', { scopes: ['read_battery'] });
    expect((await car.battery()).percentRemaining).toBe(0.9);
    expect(calls).toBe(2);
    // 3 s asked for, plus jitter (random 0.5 × base 500 ms)
    expect(delays).toEqual([3250]);
  });

  it('backs off exponentially with jitter on 502/503 and gives up after the configured retries', async () => {
    harness = await setup();
    const { server, client, grantId, delays } = harness;
    let calls = 0;
    server.override('GET', '/v2.0/vehicles/*/odometer', () => {
      calls++;
      return calls % 2 === 1
        ? { status: 503, raw: 'Service Unavailable', headers: { 'content-type': 'text/plain' } }
        : { status: 502, json: errorBody('UPSTREAM', 'NO_RESPONSE', 502) };
    });
    const car = client.grant(grantId).vehicle('v1', { scopes: ['read_odometer'] });
    const error = await failure(car.odometer());
    expect(calls).toBe(3);
    expect(delays).toEqual([250, 500]); // 0.5 × min(10 s, 500 ms × 2^n)
    expect(isVoltkitError(error, 'UNKNOWN') && error.status).toBe(503);
  });

  it('does not wait for a Retry-After beyond the cap and reports it', async () => {
    harness = await setup();
    const { server, client, grantId, delays } = harness;
    server.override('GET', '/v2.0/vehicles/*/battery', () => ({
      status: 429,
      headers: { 'retry-after': '3600' },
      json: errorBody('RATE_LIMIT', 'SMARTCAR_API', 429, ERROR_DESCRIPTIONS['RATE_LIMIT:SMARTCAR_API']),
    }));
    const error = await failure(
      client
        .grant(grantId)
        .vehicle('v1', { scopes: ['read_battery'] })
        .battery(),
    );
    expect(delays).toEqual([]);
    expect(isVoltkitError(error, 'RATE_LIMIT')).toBe(true);
    if (!isVoltkitError(error, 'RATE_LIMIT')) return;
    expect(error.code).toBe('SMARTCAR_API');
    expect(error.retryAfter).toBe(3600);
    expect(error.description).toBe(ERROR_DESCRIPTIONS['RATE_LIMIT:SMARTCAR_API']);
  });

  it('never retries commands', async () => {
    harness = await setup();
    const { server, client, grantId, delays } = harness;
    let calls = 0;
    server.override('POST', '/v2.0/vehicles/*/security', () => {
      calls++;
      return { status: 503, json: errorBody('UPSTREAM', 'NO_RESPONSE', 503) };
    });
    const error = await failure(
      client
        .grant(grantId)
        .vehicle('v1', { scopes: ['control_security'] })
        .lock(),
    );
    expect(calls).toBe(1);
    expect(delays).toEqual([]);
    expect(isVoltkitError(error, 'UPSTREAM')).toBe(true);
  });

  it('retries a batch (it only reads) on 503', async () => {
    harness = await setup();
    const { server, client, grantId, delays } = harness;
    let calls = 0;
    server.override('POST', '/v2.0/vehicles/*/batch', () =>
      ++calls === 1
        ? { status: 503, json: errorBody('UPSTREAM', 'NO_RESPONSE', 503) }
        : { json: { responses: [{ path: '/odometer', code: 200, body: { distance: 5 }, headers: {} }] } },
    );
    const car = client.grant(grantId).vehicle('v1', { scopes: ['read_odometer'] });
    expect((await car.batch(['/odometer'])).get('/odometer').distance).toBe(5);
    expect(calls).toBe(2);
    expect(delays).toEqual([250]);
  });

  it('computes bounded delays', () => {
    const retry = { ...DEFAULT_RETRY, random: () => 0.999 };
    expect(backoffDelay(retry, 10, undefined)).toBeLessThanOrEqual(retry.maxDelayMs);
    expect(backoffDelay(retry, 1, 120)).toBeUndefined();
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThanOrEqual(9);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('pluggable fetch', () => {
  it('sends through the given fetch, with the same parsing, errors and timeouts', async () => {
    const seen: string[] = [];
    // Generous timeout: a cold fetch on a loaded 2-core CI machine can take more than 100 ms.
    harness = await setup({
      timeoutMs: 1_500,
      retry: false,
      fetch: (input, init) => {
        seen.push(`${init.method ?? 'GET'} ${input}`);
        return fetch(input, init);
      },
    });
    const { server, client, grantId } = harness;
    const car = client.grant(grantId).vehicle('v1', { scopes: ['read_battery', 'read_charge'] });
    expect((await car.battery()).meta.unitSystem).toBe('metric');
    expect(seen).toEqual([`GET ${server.origin}/v2.0/vehicles/v1/battery`]);
    server.override('GET', '/v2.0/vehicles/*/charge', () => ({
      json: { isPluggedIn: true, state: 'CHARGING' },
      delayMs: 4_000,
    }));
    expect(await failure(car.charge())).toMatchObject({ type: 'TIMEOUT', code: 'TIMEOUT' });
  });
});

describe('timeouts and connection failures', () => {
  it('times out an attempt via AbortSignal', async () => {
    harness = await setup({ timeoutMs: 100, retry: false });
    const { server, client, grantId } = harness;
    server.override('GET', '/v2.0/vehicles/*/battery', () => ({
      json: { percentRemaining: 1, range: 1 },
      delayMs: 5_000,
    }));
    const started = Date.now();
    const error = await failure(
      client
        .grant(grantId)
        .vehicle('v1', { scopes: ['read_battery'] })
        .battery(),
    );
    // Well before the server's answer: the attempt was aborted, not waited out (room for a loaded machine).
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(isVoltkitError(error, 'TIMEOUT') && error.code).toBe('TIMEOUT');
  });

  it('stops when the caller aborts', async () => {
    harness = await setup();
    const { server, client, grantId } = harness;
    server.override('GET', '/v2.0/vehicles/*/battery', () => ({
      json: { percentRemaining: 1, range: 1 },
      delayMs: 1_000,
    }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(
      client
        .grant(grantId)
        .vehicle('v1', { scopes: ['read_battery'] })
        .battery({ signal: controller.signal }),
    );
    expect(isVoltkitError(error, 'TIMEOUT') && error.code).toBe('ABORTED');
  });

  it('reports a refused connection as NETWORK after retrying reads', async () => {
    const delays: number[] = [];
    const client = createClient({
      clientId: 'c',
      clientSecret: 's',
      origin: 'http://127.0.0.1:1',
      retry: { retries: 1, random: () => 0, sleep: (ms) => (delays.push(ms), Promise.resolve()) },
    });
    const error = await failure(client.compatibilityMatrix({ region: 'US' }));
    expect(isVoltkitError(error, 'NETWORK')).toBe(true);
    expect(delays).toHaveLength(1);
  });
});

describe('error mapping', () => {
  const cases = Object.entries(ERROR_TYPES).map(([type, { status, codes }]) => ({
    type: type as VoltkitErrorType,
    status,
    code: (codes as readonly string[])[0] ?? null,
  }));

  it.each(cases)('maps $type ($status) with every field', async ({ type, status, code }) => {
    harness = await setup({ retry: false });
    const { server, client, grantId } = harness;
    server.override('GET', '/v2.0/vehicles/*/charge', () => ({
      status,
      headers: status === 429 ? { 'retry-after': '12' } : {},
      json: errorBody(type, code, status),
    }));
    const error = await failure(
      client
        .grant(grantId)
        .vehicle('v1', { scopes: ['read_charge'] })
        .charge(),
    );
    expect(isVoltkitError(error, type)).toBe(true);
    if (!isVoltkitError(error)) return;
    expect(error).toMatchObject({
      type,
      code,
      status,
      description: 'Something went wrong.',
      requestId: '5dea93a1-3f79-4246-90c5-89610a20471b',
      resolution: { type: 'RETRY_LATER' },
      suggestedUserMessage: 'Please try again later.',
    });
    expect(error.docURL).toMatch(/^https:\/\/smartcar\.com\/docs\/errors\/api-errors\//);
    expect(error.message).toBe(`${type}:${code ?? 'null'} - Something went wrong.`);
    if (status === 429) expect(error.retryAfter).toBe(12);
  });

  it('keeps unknown types and codes as raw values', async () => {
    harness = await setup({ retry: false });
    const { server, client, grantId } = harness;
    server.override('GET', '/v2.0/vehicles/*/charge', () => ({
      status: 409,
      json: errorBody('VEHICLE_STATE', 'TELEPORTING', 409),
    }));
    server.override('GET', '/v2.0/vehicles/*/battery', () => ({
      status: 418,
      json: errorBody('TEAPOT', 'SHORT', 418),
    }));
    const car = client.grant(grantId).vehicle('v1', { scopes: ['read_charge', 'read_battery'] });
    const state = await failure(car.charge());
    expect(isVoltkitError(state, 'VEHICLE_STATE') && [state.code, state.rawCode]).toEqual([
      null,
      'TELEPORTING',
    ]);
    const teapot = await failure(car.battery());
    expect(isVoltkitError(teapot, 'UNKNOWN') && [teapot.rawType, teapot.status]).toEqual(['TEAPOT', 418]);
  });

  it('carries validation detail from a 400', async () => {
    harness = await setup({ retry: false });
    const { server, client, grantId } = harness;
    server.override('POST', '/v2.0/vehicles/*/webhooks/*', () => ({
      status: 400,
      json: {
        ...errorBody('VALIDATION', null, 400, ERROR_DESCRIPTIONS.VALIDATION),
        detail: [{ field: ['webhookId'], message: 'invalid' }],
      },
    }));
    const error = await failure(client.grant(grantId).vehicle('v1', { scopes: [] }).subscribe('bogus'));
    expect(isVoltkitError(error, 'VALIDATION')).toBe(true);
    if (!isVoltkitError(error, 'VALIDATION')) return;
    expect(error.code).toBeNull();
    expect(error.detail).toEqual([{ field: ['webhookId'], message: 'invalid' }]);
    expect(error.message).toBe(`VALIDATION:null - ${ERROR_DESCRIPTIONS.VALIDATION}`);
  });

  it('never puts tokens or secrets in error messages, even when the server echoes them', async () => {
    harness = await setup({ retry: false });
    const { server, client, grantId } = harness;
    const token = await client.grant(grantId).accessToken();
    server.override('GET', '/v2.0/vehicles/*/vin', (request) => ({
      status: 500,
      json: {
        ...errorBody(
          'SERVER',
          'INTERNAL',
          500,
          `Failed for ${request.headers.authorization ?? ''} and ${server.clientSecret}`,
        ),
        detail: [{ field: ['authorization'], message: `bad ${request.headers.authorization ?? ''}` }],
      },
    }));
    const error = await failure(
      client
        .grant(grantId)
        .vehicle('v1', { scopes: ['read_vin'] })
        .vin(),
    );
    const text = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack ?? ''}`;
    expect(text).not.toContain(token);
    expect(text).not.toContain(server.clientSecret);
    expect(String(error)).toContain('[redacted]');
    const management = await failure(client.connections('wrong-amt-value'));
    expect(String(management)).not.toContain('wrong-amt-value');
  });
});

describe('response validation', () => {
  it('turns a malformed body into INVALID_RESPONSE naming the field', async () => {
    harness = await setup();
    const { server, client, grantId } = harness;
    server.override('GET', '/v2.0/vehicles/*/battery', () => ({
      json: { percentRemaining: '30%', range: 40 },
    }));
    server.override('GET', '/v2.0/vehicles/*/security', () => ({
      json: {
        isLocked: true,
        doors: [{ type: 'frontLeft', status: 'AJAR' }],
        windows: [],
        sunroof: [],
        storage: [],
        chargingPort: [],
      },
    }));
    const car = client.grant(grantId).vehicle('v1', { scopes: ['read_battery', 'read_security'] });
    const battery = await failure(car.battery());
    expect(isVoltkitError(battery, 'INVALID_RESPONSE')).toBe(true);
    if (!isVoltkitError(battery, 'INVALID_RESPONSE')) return;
    expect(battery.code).toBe('BODY');
    expect(battery.field).toBe('percentRemaining');
    expect(battery.issues[0]?.path).toEqual(['percentRemaining']);
    expect(battery.status).toBe(200);
    expect(battery.message).toContain('percentRemaining');
    const lock = await failure(car.lockStatus());
    expect(isVoltkitError(lock, 'INVALID_RESPONSE') && lock.field).toBe('doors[0].status');
    expect(harness.delays).toEqual([]); // a bad body is not retried
  });

  it('rejects a body that is not JSON, an empty body and a malformed meta header', async () => {
    harness = await setup();
    const { server, client, grantId } = harness;
    server.override('GET', '/v2.0/vehicles/*/vin', () => ({ raw: '<html>oops</html>' }));
    server.override('GET', '/v2.0/vehicles/*/odometer', () => ({ raw: '' }));
    server.override('GET', '/v2.0/vehicles/*/fuel', () => ({
      headers: { 'sc-data-age': 'last tuesday' },
      json: { amountRemaining: null, percentRemaining: null, range: null },
    }));
    const car = client.grant(grantId).vehicle('v1', { scopes: ['read_vin', 'read_odometer', 'read_fuel'] });
    expect(await failure(car.vin())).toMatchObject({ type: 'INVALID_RESPONSE', code: 'NOT_JSON' });
    expect(await failure(car.odometer())).toMatchObject({ type: 'INVALID_RESPONSE', code: 'BODY' });
    expect(await failure(car.fuel())).toMatchObject({
      type: 'INVALID_RESPONSE',
      code: 'HEADER',
      field: 'sc-data-age',
    });
  });
});

describe('response metadata without zod for canonical headers', () => {
  const schemaMeta = (headers: Record<string, string>) => ResponseMetaSchema.safeParse(headers);

  it('reads canonical headers exactly as the schema does', () => {
    const headers = {
      'sc-request-id': '0b8b2c45-5e3c-4c49-9d23-4b8b2c455e3c',
      'sc-data-age': '2024-02-29T23:59:59.999Z',
      'sc-fetched-at': '2018-05-04T07:25:00.000Z',
      'sc-unit-system': 'imperial',
    };
    const fromSchema = schemaMeta(headers);
    expect(fromSchema.success).toBe(true);
    expect(parseMeta(headers, 'GET /x', 200)).toEqual(fromSchema.data);
    // undici's form: repeated headers as arrays, joined like fetch does.
    expect(parseMeta({ 'sc-request-id': ['a', 'b'] }, 'GET /x', 200)).toEqual({ requestId: 'a, b' });
  });

  it('reads every canonical timestamp, digit by digit, as the schema does (and refuses what it refuses)', () => {
    const samples = [
      '0001-01-01T00:00:00.000Z',
      '0099-12-31T23:59:59.999Z',
      '1970-01-01T00:00:00.000Z',
      '2000-02-29T12:00:00.000Z',
      '2100-02-29T12:00:00.000Z',
      '2018-04-31T00:00:00.000Z',
      '2018-05-04T24:00:00.000Z',
      '2018-05-04T07:60:00.000Z',
      '2018-05-04T07:20:60.000Z',
      '2018-00-04T07:20:50.844Z',
      '2018-05-00T07:20:50.844Z',
      '2018-05-32T07:20:50.844Z',
      '2018-0a-04T07:20:50.844Z',
      '2018-05-04T07:20:50.8a4Z',
      '2018-05-04 07:20:50.844Z',
      '2018-05-04T07:20:50.844z',
    ];
    // A spread of real instants, as servers send them.
    for (let i = 0; i < 200; i++) samples.push(new Date(-62e12 + i * 8.1e11 + i * 7919).toISOString());
    for (const dataAge of samples) {
      const expected = schemaMeta({ 'sc-data-age': dataAge });
      if (expected.success) {
        expect(parseMeta({ 'sc-data-age': dataAge }, 'GET /x', 200), dataAge).toEqual(expected.data);
      } else {
        expect(() => parseMeta({ 'sc-data-age': dataAge }, 'GET /x', 200), dataAge).toThrow(
          'malformed header',
        );
      }
    }
  });

  it('leaves other forms to the schema: accepted ones give the same dates, bad ones name the header', () => {
    for (const dataAge of ['2018-05-04T07:20:50Z', '2018-05-04T09:20:50.844+02:00', '2018-05-04']) {
      const expected = schemaMeta({ 'sc-data-age': dataAge });
      expect(expected.success).toBe(true);
      expect(parseMeta({ 'sc-data-age': dataAge }, 'GET /x', 200)).toEqual(expected.data);
    }
    for (const dataAge of [
      '2018-02-30T00:00:00.000Z',
      '2019-02-29T00:00:00.000Z',
      '2018-13-01T00:00:00.000Z',
      'yesterday',
    ]) {
      expect(schemaMeta({ 'sc-data-age': dataAge }).success).toBe(false);
      const error = (() => {
        try {
          parseMeta({ 'sc-data-age': dataAge }, 'GET /x', 200);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(isVoltkitError(error, 'INVALID_RESPONSE') && error.code).toBe('HEADER');
    }
    expect(() => parseMeta({ 'sc-unit-system': 'furlongs' }, 'GET /x', 200)).toThrow('malformed header');
  });
});
