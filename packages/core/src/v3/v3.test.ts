import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createV3Client,
  isVoltkitError,
  parseV3Webhook,
  parseV3WebhookEvent,
  SIGNAL_CODES,
  SIGNALS,
  typeSignal,
} from '@voltkit/core/v3';
import { startTestServer, type RecordedRequest, type TestServer } from '../__tests__/test-server.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const VEHICLE = 'e0d9c3b4-7f4e-4c1a-9f0e-1c2d3e4f5a6b';
const USER = 'a1b2c3d4-0000-4000-8000-000000000001';

function soc(value: unknown, unit: unknown = 'percent') {
  return {
    id: 'tractionbattery-stateofcharge',
    type: 'signal',
    attributes: {
      code: 'tractionbattery-stateofcharge',
      name: 'StateOfCharge',
      group: 'TractionBattery',
      status: { value: 'SUCCESS' as const },
      body: { value, unit },
    },
    meta: { retrievedAt: 1_752_104_218_549, oemUpdatedAt: 1_752_104_118_549 },
    links: { self: `/vehicles/${VEHICLE}/signals/tractionbattery-stateofcharge` },
  };
}

async function failure(fn: () => Promise<unknown>) {
  try {
    await fn();
  } catch (error) {
    if (isVoltkitError(error)) return error;
    throw error;
  }
  throw new Error('expected a VoltkitError');
}

describe('signal catalogue', () => {
  it('names every code by its group, and each definition agrees with its key', () => {
    expect(SIGNAL_CODES.length).toBeGreaterThanOrEqual(20);
    for (const code of SIGNAL_CODES) {
      expect(SIGNALS[code].code).toBe(code);
      expect(code.startsWith(SIGNALS[code].group.toLowerCase())).toBe(true);
    }
  });

  it('types a body by its code and rejects a unit that does not belong to it, naming the field', () => {
    const typed = typeSignal({ ...soc(72).attributes, meta: soc(72).meta }, ['attributes']);
    expect(typed).toMatchObject({
      code: 'tractionbattery-stateofcharge',
      body: { value: 72, unit: 'percent' },
    });
    expect(typed.retrievedAt).toEqual(new Date(1_752_104_218_549));
    let caught: unknown;
    try {
      typeSignal({ ...soc(72, 'kilometers').attributes }, ['attributes']);
    } catch (error) {
      caught = error;
    }
    expect(isVoltkitError(caught, 'INVALID_RESPONSE')).toBe(true);
    expect((caught as Error).message).toContain('attributes.body.unit');
  });

  it('keeps ERROR signals without a body and unknown codes as unrecognized', () => {
    const failed = typeSignal(
      {
        code: 'location-preciselocation',
        name: 'PreciseLocation',
        group: 'Location',
        status: { value: 'ERROR', error: { type: 'COMPATIBILITY', code: 'VEHICLE_NOT_CAPABLE' } },
      },
      [],
    );
    expect(failed.body).toBeUndefined();
    expect(failed.status).toEqual({
      value: 'ERROR',
      error: { type: 'COMPATIBILITY', code: 'VEHICLE_NOT_CAPABLE' },
    });
    const unknown = typeSignal(
      {
        code: 'hvac-cabintemperature',
        name: 'CabinTemperature',
        group: 'HVAC',
        status: { value: 'SUCCESS' },
        body: { value: 21 },
      },
      [],
    );
    expect(unknown).toMatchObject({ code: 'hvac-cabintemperature', body: { value: 21 } });
  });

  it('refuses a SUCCESS signal without a body rather than reading it as empty', () => {
    expect(() =>
      typeSignal(
        { code: 'charge-ischarging', name: 'IsCharging', group: 'Charge', status: { value: 'SUCCESS' } },
        ['data', 0],
      ),
    ).toThrow(/data\[0\]\.body|SUCCESS without a body/);
  });
});

describe('v3 webhooks', () => {
  const amt = 'amt-secret-for-webhooks';
  const sign = (body: string) => createHmac('sha256', amt).update(body).digest('hex');

  it('verifies the signature and parses VERIFY, VEHICLE_STATE and VEHICLE_ERROR', () => {
    const meta = {
      version: '4.0',
      webhookId: 'wh-1',
      webhookName: 'test',
      deliveryId: 'd-1',
      deliveredAt: 1_761_896_351_529,
      mode: 'TEST',
    };
    const vehicle = { id: VEHICLE, make: 'TESLA', model: 'Model 3', year: 2022 };
    const verify = JSON.stringify({ eventId: 'e-0', eventType: 'VERIFY', data: { challenge: 'abc' }, meta });
    expect(parseV3Webhook(verify, sign(verify), amt)).toMatchObject({
      eventType: 'VERIFY',
      data: { challenge: 'abc' },
    });

    const state = JSON.stringify({
      eventId: 'e-1',
      eventType: 'VEHICLE_STATE',
      data: {
        user: { id: USER },
        vehicle,
        signals: [{ ...soc(55).attributes, meta: soc(55).meta }],
      },
      triggers: [{ type: 'SIGNAL_UPDATED', signal: { code: 'tractionbattery-stateofcharge' } }],
      meta: { ...meta, signalCount: 1 },
    });
    const event = parseV3Webhook(state, sign(state), amt);
    if (event.eventType !== 'VEHICLE_STATE') throw new Error('wrong event type');
    const first = event.data.signals[0];
    expect(first?.code === 'tractionbattery-stateofcharge' && first.body).toEqual({
      value: 55,
      unit: 'percent',
    });

    const error = parseV3WebhookEvent({
      eventId: 'e-2',
      eventType: 'VEHICLE_ERROR',
      data: {
        user: { id: USER },
        vehicle,
        errors: [
          { type: 'VEHICLE_STATE', code: 'ASLEEP', state: 'ERROR', signals: [{ code: 'charge-ischarging' }] },
        ],
      },
      meta,
    });
    expect(error).toMatchObject({
      eventType: 'VEHICLE_ERROR',
      data: { errors: [{ code: 'ASLEEP', state: 'ERROR' }] },
    });
  });

  it('refuses a wrong signature and names the bad field of a malformed event', () => {
    const body = JSON.stringify({ eventId: 'e', eventType: 'VERIFY', data: {}, meta: {} });
    expect(() => parseV3Webhook(body, sign(body + ' '), amt)).toThrow(/SC-Signature/);
    expect(() => parseV3Webhook(body, sign(body), amt)).toThrow(/meta/);
  });
});

describe('v3 client over a real socket', () => {
  function tokenCounter(target: TestServer): RecordedRequest[] {
    const seen: RecordedRequest[] = [];
    let n = 0;
    target.override('POST', '/oauth2/token', (request) => {
      seen.push(request);
      n += 1;
      return { json: { access_token: `app-token-${n}`, token_type: 'Bearer', expires_in: 3600 } };
    });
    return seen;
  }

  it('gets an application token once, sends sc-user-id, and types the signal by its code', async () => {
    server = await startTestServer();
    const tokenRequests = tokenCounter(server);
    server.override('GET', `/v3/vehicles/${VEHICLE}/signals/*`, () => ({
      headers: { 'sc-request-id': '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9' },
      json: soc(81),
    }));
    const v3 = createV3Client({ clientId: 'cid', clientSecret: 'client-secret-abc', origin: server.origin });
    const car = v3.vehicle(VEHICLE, { userId: USER });
    const first = await car.signal('tractionbattery-stateofcharge');
    await car.signal('tractionbattery-stateofcharge');
    expect(first.body?.value).toBe(81);
    expect(first.meta.requestId).toBe('0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9');
    expect(tokenRequests).toHaveLength(1);
    expect(new URLSearchParams(tokenRequests[0]?.body)).toEqual(
      new URLSearchParams('grant_type=client_credentials&client_id=cid&client_secret=client-secret-abc'),
    );
    const reads = server.requests.filter((r) => r.path.startsWith('/v3/'));
    expect(reads.map((r) => [r.headers['authorization'], r.headers['sc-user-id']])).toEqual([
      ['Bearer app-token-1', USER],
      ['Bearer app-token-1', USER],
    ]);
  });

  it('maps a v3 error body to the same VoltkitError as v2, and renews a refused token once', async () => {
    server = await startTestServer();
    tokenCounter(server);
    let calls = 0;
    server.override('GET', `/v3/vehicles/${VEHICLE}/signals/*`, (request) => {
      calls += 1;
      if (request.headers['authorization'] === 'Bearer app-token-1') {
        return {
          status: 401,
          json: {
            errors: [
              { status: '401', type: 'AUTHENTICATION', code: null, title: 'Unauthorized', detail: 'expired' },
            ],
          },
        };
      }
      return {
        status: 409,
        json: {
          errors: [
            {
              status: '409',
              type: 'VEHICLE_STATE',
              code: 'ASLEEP',
              title: 'Conflict',
              detail: 'The vehicle is asleep (client-secret-abc).',
              links: { about: 'https://smartcar.com/docs/errors/api-errors/vehicle-state-errors#asleep' },
              resolution: { type: 'RETRY_LATER' },
              suggestedUserMessage: 'Wake your car.',
            },
          ],
        },
      };
    });
    const v3 = createV3Client({ clientId: 'cid', clientSecret: 'client-secret-abc', origin: server.origin });
    const error = await failure(() => v3.vehicle(VEHICLE, { userId: USER }).signal('charge-ischarging'));
    expect(error.is('VEHICLE_STATE') && error.code).toBe('ASLEEP');
    expect(error.status).toBe(409);
    expect(error.resolution).toEqual({ type: 'RETRY_LATER' });
    expect(error.docURL).toContain('#asleep');
    expect(error.description).not.toContain('client-secret-abc');
    expect(calls).toBe(2);
  });

  it('pages through the signals, keeping unknown codes apart', async () => {
    server = await startTestServer();
    tokenCounter(server);
    const all = [
      soc(40),
      {
        ...soc(0),
        id: 'hvac-cabintemperature',
        attributes: {
          code: 'hvac-cabintemperature',
          name: 'CabinTemperature',
          group: 'HVAC',
          status: { value: 'SUCCESS' },
          body: { value: 20, unit: 'celsius' },
        },
      },
      {
        id: 'charge-ischarging',
        type: 'signal',
        attributes: {
          code: 'charge-ischarging',
          name: 'IsCharging',
          group: 'Charge',
          status: { value: 'SUCCESS' },
          body: { value: true },
        },
        meta: {},
      },
    ];
    server.override('GET', `/v3/vehicles/${VEHICLE}/signals`, (request) => {
      const page = Number(request.query.get('page'));
      const pageSize = 2;
      return {
        json: {
          data: all.slice((page - 1) * pageSize, page * pageSize),
          meta: { page, pageSize, totalCount: all.length },
        },
      };
    });
    const v3 = createV3Client({ clientId: 'cid', clientSecret: 'client-secret-abc', origin: server.origin });
    const result = await v3.vehicle(VEHICLE, { userId: USER }).allSignals();
    expect(result.signals.map((s) => s.code)).toEqual(['tractionbattery-stateofcharge', 'charge-ischarging']);
    expect(result.unrecognized.map((s) => s.code)).toEqual(['hvac-cabintemperature']);
  });

  it('refuses bad arguments before sending anything', async () => {
    server = await startTestServer();
    const v3 = createV3Client({ clientId: 'cid', clientSecret: 's', origin: server.origin });
    expect(() => v3.vehicle(VEHICLE, { userId: '' })).toThrow(/sc-user-id/);
    const car = v3.vehicle(VEHICLE, { userId: USER });
    expect((await failure(() => car.setChargeLimit(30))).type).toBe('INVALID_INPUT');
    expect((await failure(() => car.signal('no-such-code' as 'charge-ischarging'))).type).toBe(
      'INVALID_INPUT',
    );
    expect(server.requests).toHaveLength(0);
  });
});
