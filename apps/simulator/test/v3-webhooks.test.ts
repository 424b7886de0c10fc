import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answerChallenge, parseV3Webhook, type V3WebhookEvent } from '@voltkit/core/v3';
import { createSimulator, type Simulator } from '@voltkit/simulator';

const REDIRECT = 'https://example.com/auth';

interface Receiver {
  url: string;
  events: V3WebhookEvent[];
  /** Status to answer the next data deliveries with (then 200). */
  failNext: number[];
  close(): Promise<void>;
}

/** A real webhook endpoint: checks SC-Signature and parses every delivery with core's v3 parser. */
async function startReceiver(amt: string, options: { answerChallenge?: boolean } = {}): Promise<Receiver> {
  const events: V3WebhookEvent[] = [];
  const failNext: number[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signature = request.headers['sc-signature'];
      const event = parseV3Webhook(raw, Array.isArray(signature) ? signature[0] : signature, amt);
      events.push(event);
      if (event.eventType === 'VERIFY') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify(
            options.answerChallenge === false
              ? { challenge: 'wrong' }
              : answerChallenge(amt, event.data.challenge),
          ),
        );
        return;
      }
      const status = failNext.shift() ?? 200;
      response.writeHead(status);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v3-webhooks`,
    events,
    failNext,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let sim: Simulator;
let receiver: Receiver;
let counter = 0;

beforeAll(async () => {
  sim = await createSimulator({
    clock: { mode: 'manual', start: new Date('2025-06-01T08:00:00Z') },
    webhookRetryBaseMs: 5,
  });
});
afterAll(async () => {
  await sim.close();
});
afterEach(async () => {
  await receiver.close();
});

function connectedBolt() {
  counter += 1;
  const email = `v3-webhook-${counter}@example.com`;
  sim.createTestAccount({ email, brand: 'CHEVROLET', model: 'Bolt EV' });
  const { userId, vehicleIds } = sim.authorize({
    clientId: sim.demoApp.clientId,
    redirectUri: REDIRECT,
    scope: ['read_battery', 'read_charge', 'read_odometer'],
    email,
    make: 'CHEVROLET',
  });
  return { userId, vehicleId: vehicleIds[0] ?? '' };
}

const ofType = <T extends V3WebhookEvent['eventType']>(type: T) =>
  receiver.events.filter(
    (event): event is Extract<V3WebhookEvent, { eventType: T }> => event.eventType === type,
  );

describe('v3 webhooks', () => {
  it('verifies, delivers FIRST_DELIVERY on subscription and SIGNAL_UPDATED when a trigger changes', async () => {
    receiver = await startReceiver(sim.demoApp.managementToken);
    const { userId, vehicleId } = connectedBolt();
    sim.unplug(vehicleId);
    const webhook = await sim.v3.createWebhook({
      clientId: sim.demoApp.clientId,
      url: receiver.url,
      name: 'charging',
      triggers: ['charge-ischarging'],
      signals: ['tractionbattery-stateofcharge', 'location-preciselocation'],
    });
    expect(webhook.verified).toBe(true);
    expect(ofType('VERIFY')).toHaveLength(1);

    sim.v3.subscribe(webhook.id, vehicleId);
    await sim.flushWebhooks();
    const [first] = ofType('VEHICLE_STATE');
    expect(first?.triggers).toEqual([{ type: 'FIRST_DELIVERY' }]);
    expect(first?.data.user.id).toBe(userId);
    expect(first?.data.vehicle).toMatchObject({ id: vehicleId, make: 'CHEVROLET', model: 'Bolt EV' });
    const codes = first?.data.signals.map((s) => [s.code, s.status.value]);
    // read_location was not granted: the signal is there, with a PERMISSION error instead of a body.
    expect(codes).toEqual([
      ['charge-ischarging', 'SUCCESS'],
      ['tractionbattery-stateofcharge', 'SUCCESS'],
      ['location-preciselocation', 'ERROR'],
    ]);
    expect(first?.meta).toMatchObject({ webhookId: webhook.id, webhookName: 'charging', signalCount: 3 });

    sim.plugIn(vehicleId); // starts charging
    await sim.flushWebhooks();
    const updates = ofType('VEHICLE_STATE').slice(1);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.triggers).toEqual([
      { type: 'SIGNAL_UPDATED', signal: { code: 'charge-ischarging', name: 'IsCharging', group: 'Charge' } },
    ]);
    const charging = updates[0]?.data.signals.find((s) => s.code === 'charge-ischarging');
    expect(charging?.code === 'charge-ischarging' && charging.body?.value).toBe(true);

    // SoC moves while charging, but it is not a trigger: ten minutes later still no new event.
    await sim.clock.advance(10 * 60_000);
    expect(ofType('VEHICLE_STATE')).toHaveLength(2);
  });

  it('retries a failed delivery up to 3 times with the same eventId, then gives up', async () => {
    receiver = await startReceiver(sim.demoApp.managementToken);
    const { vehicleId } = connectedBolt();
    const webhook = await sim.v3.createWebhook({
      clientId: sim.demoApp.clientId,
      url: receiver.url,
      triggers: ['charge-ischargingcableconnected'],
    });
    receiver.failNext.push(500, 503);
    sim.v3.subscribe(webhook.id, vehicleId);
    await sim.flushWebhooks();
    const attempts = sim.v3.deliveries(webhook.id).filter((d) => d.eventType === 'VEHICLE_STATE');
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 500],
      [2, 503],
      [3, 200],
    ]);
    expect(new Set(attempts.map((a) => a.eventId)).size).toBe(1);
    expect(new Set(attempts.map((a) => a.deliveryId)).size).toBe(3);
    expect(new Set(ofType('VEHICLE_STATE').map((e) => e.eventId)).size).toBe(1);

    receiver.failNext.push(500, 500, 500, 500, 500);
    sim.plugIn(vehicleId);
    await sim.flushWebhooks();
    const second = sim.v3
      .deliveries(webhook.id)
      .filter((d) => d.eventType === 'VEHICLE_STATE')
      .slice(3);
    expect(second.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    expect(second.every((a) => !a.ok)).toBe(true);
  });

  it('sends VEHICLE_ERROR when the car stops answering, and RESOLVED when it is back', async () => {
    receiver = await startReceiver(sim.demoApp.managementToken);
    const { vehicleId } = connectedBolt();
    const webhook = await sim.v3.createWebhook({
      clientId: sim.demoApp.clientId,
      url: receiver.url,
      triggers: ['tractionbattery-stateofcharge'],
    });
    sim.v3.subscribe(webhook.id, vehicleId);
    sim.setAsleep(vehicleId, true);
    sim.setAsleep(vehicleId, false);
    sim.injectError(vehicleId, { type: 'CONNECTED_SERVICES_ACCOUNT', code: 'SUBSCRIPTION' });
    sim.injectError(vehicleId, null);
    await sim.flushWebhooks();
    const errors = ofType('VEHICLE_ERROR').map((e) => e.data.errors.map((x) => [x.type, x.code, x.state]));
    expect(errors).toEqual([
      [['VEHICLE_STATE', 'ASLEEP', 'ERROR']],
      [['VEHICLE_STATE', 'ASLEEP', 'RESOLVED']],
      [['CONNECTED_SERVICES_ACCOUNT', 'SUBSCRIPTION', 'ERROR']],
      [['CONNECTED_SERVICES_ACCOUNT', 'SUBSCRIPTION', 'RESOLVED']],
    ]);
    expect(ofType('VEHICLE_ERROR')[0]?.data.errors[0]?.signals).toEqual([
      { code: 'tractionbattery-stateofcharge', name: 'StateOfCharge', group: 'TractionBattery' },
    ]);
  });

  it('does not activate a webhook whose endpoint answers the challenge wrongly, nor deliver to it', async () => {
    receiver = await startReceiver(sim.demoApp.managementToken, { answerChallenge: false });
    const { vehicleId } = connectedBolt();
    const webhook = await sim.v3.createWebhook({
      clientId: sim.demoApp.clientId,
      url: receiver.url,
      triggers: ['charge-ischarging'],
    });
    expect(webhook.verified).toBe(false);
    expect(() => sim.v3.subscribe(webhook.id, vehicleId)).toThrow(/verification/);
  });

  it('is managed over HTTP with the management token', async () => {
    receiver = await startReceiver(sim.demoApp.managementToken);
    const { vehicleId } = connectedBolt();
    const post = (path: string, body: unknown, token = sim.managementToken, method = 'POST') =>
      fetch(`${sim.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const denied = await post('/_simulator/v3/webhooks', {}, 'wrong');
    expect(denied.status).toBe(401);
    const invalid = await post('/_simulator/v3/webhooks', {
      clientId: sim.demoApp.clientId,
      url: receiver.url,
      triggers: ['nope'],
    });
    expect(invalid.status).toBe(400);
    const created = await post('/_simulator/v3/webhooks', {
      clientId: sim.demoApp.clientId,
      url: receiver.url,
      triggers: ['odometer-traveleddistance'],
    });
    const webhook = (await created.json()) as { id: string; verified: boolean };
    expect(webhook.verified).toBe(true);
    const subscribed = await post(
      `/_simulator/v3/webhooks/${webhook.id}/vehicles/${vehicleId}`,
      {},
      sim.managementToken,
      'PUT',
    );
    expect(subscribed.status).toBe(200);
    sim.drive(vehicleId, { distanceKm: 5, speedKph: 60 });
    await sim.clock.advance(60_000);
    const odometer = ofType('VEHICLE_STATE').filter((e) => e.triggers[0]?.type === 'SIGNAL_UPDATED');
    expect(odometer.length).toBeGreaterThan(0);
    const log = await fetch(`${sim.url}/_simulator/v3/webhooks/${webhook.id}/deliveries`, {
      headers: { authorization: `Bearer ${sim.managementToken}` },
    });
    expect(((await log.json()) as unknown[]).length).toBeGreaterThanOrEqual(3);
  });
});
