/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- tests inspect parsed JSON payloads freely */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@voltkit/core/client';
import { createCoreVehicleSource } from '../src/core-vehicle-source.ts';
import { validateComponentDiscovery, validateDeviceDiscovery } from '../src/ha-discovery-schema.ts';
import { BROKER_KINDS, Probe, startTestBroker } from './helpers.ts';
import type { ReceivedMessage, TestBroker } from './helpers.ts';
import { startStack } from './stack.ts';
import type { Stack } from './stack.ts';

const json = (m: ReceivedMessage): Record<string, any> => JSON.parse(m.payload) as Record<string, any>;

describe.each(BROKER_KINDS)('bridge on %s with the simulator', (kind) => {
  let broker: TestBroker;
  let stack: Stack;
  let t: (key: string) => string;

  beforeAll(async () => {
    broker = await startTestBroker(kind);
    stack = await startStack(broker, `br_${kind}`);
    t = (key) => `${stack.base}/${stack.slug}/${key}`;
  });
  afterAll(async () => {
    await stack?.close();
    await broker?.close();
  });

  it('publishes discovery that passes Home Assistant’s schema, plus bridge and vehicle state', async () => {
    const { probe } = stack;
    const config = await probe.waitFor(
      (m) => m.topic === `${stack.prefix}/device/${stack.base}_${stack.slug}/config` && m.payload !== '',
      {
        what: 'device discovery',
      },
    );
    const payload = json(config);
    expect(validateDeviceDiscovery(payload)).toEqual({ success: true });
    const keys = Object.keys(payload['components']);
    // The simulated Tesla has no tank or oil: those entities are not offered.
    expect(keys).toEqual(
      expect.arrayContaining([
        'soc',
        'charging',
        'charge_limit',
        'lock',
        'location',
        'tire_pressure_front_left',
      ]),
    );
    expect(keys).not.toContain('fuel');
    expect(keys).not.toContain('oil_life');
    expect(payload['device']).toMatchObject({ manufacturer: 'Tesla', serial_number: stack.slug });
    expect(payload['device']).not.toHaveProperty('model_id');

    await probe.waitFor((m) => m.topic === `${stack.base}/bridge/state` && m.payload === 'online');
    await probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online');
    const soc = await probe.waitFor((m) => m.topic === t('soc'));
    const car = stack.sim.vehicle(stack.vehicleId).state;
    expect(Number(soc.payload)).toBeCloseTo(car.soc! * 100, 0);
    await probe.waitFor((m) => m.topic === t('lock') && m.payload === (car.isLocked ? 'LOCKED' : 'UNLOCKED'));
    const state = json(await probe.waitFor((m) => m.topic === t('state') && json(m)['soc'] !== undefined));
    expect(state).toMatchObject({
      soc: Number(soc.payload),
      charge_limit: car.chargeLimit * 100,
      available: true,
    });
    const location = JSON.parse((await probe.waitFor((m) => m.topic === t('location'))).payload) as {
      latitude: number;
      longitude: number;
    };
    expect(location.latitude).toBeCloseTo(car.latitude, 5);
    expect(location.longitude).toBeCloseTo(car.longitude, 5);
  });

  it('sets the charge limit from MQTT: pending, ok, the car changes and the state follows', async () => {
    const { probe } = stack;
    const mark = probe.mark();
    await probe.publish(t('charge_limit/set'), '65');
    const pending = await probe.waitFor(
      (m) => m.topic === t('charge_limit/result') && json(m)['status'] === 'pending',
      { since: mark },
    );
    const ok = await probe.waitFor(
      (m) => m.topic === t('charge_limit/result') && json(m)['status'] !== 'pending',
      { since: mark },
    );
    expect(json(pending)).toMatchObject({ command: 'charge_limit', value: 65 });
    expect(json(ok)).toMatchObject({ status: 'ok', command: 'charge_limit', value: 65 });
    expect(stack.sim.vehicle(stack.vehicleId).state.chargeLimit).toBeCloseTo(0.65);
    await probe.waitFor((m) => m.topic === t('charge_limit') && m.payload === '65', { since: mark });
    const event = await probe.waitFor(
      (m) => m.topic === t('event') && json(m)['event_type'] === 'command_succeeded',
      { since: mark },
    );
    expect(json(event)).toMatchObject({ command: 'charge_limit', value: 65 });
    expect(ok.retain).toBe(false);
  });

  it('unlocks and locks the car', async () => {
    const { probe } = stack;
    const mark = probe.mark();
    await probe.publish(t('lock/set'), 'UNLOCK');
    await probe.waitFor((m) => m.topic === t('lock/result') && json(m)['status'] === 'ok', { since: mark });
    expect(stack.sim.vehicle(stack.vehicleId).state.isLocked).toBe(false);
    await probe.waitFor((m) => m.topic === t('lock') && m.payload === 'UNLOCKED', { since: mark });
    await probe.publish(t('lock/set'), '{"value":"LOCK","transaction":"tx-7"}');
    const ok = await probe.waitFor(
      (m) => m.topic === t('lock/result') && json(m)['transaction'] === 'tx-7' && json(m)['status'] === 'ok',
      { since: mark },
    );
    expect(json(ok)['value']).toBe('LOCK');
    expect(stack.sim.vehicle(stack.vehicleId).state.isLocked).toBe(true);
  });

  it('starts charging when plugged in, and reports why it cannot when unplugged', async () => {
    const { probe, sim, vehicleId } = stack;
    sim.unplug(vehicleId);
    let mark = probe.mark();
    await probe.publish(t('charging/set'), 'ON');
    const failed = await probe.waitFor(
      (m) => m.topic === t('charging/result') && json(m)['status'] === 'error',
      { since: mark },
    );
    expect(json(failed)['error']).toMatch(/PLUG_NOT_CONNECTED/);
    expect(sim.vehicle(vehicleId).state.chargeState).not.toBe('CHARGING');
    await probe.waitFor((m) => m.topic === t('event') && json(m)['event_type'] === 'command_failed', {
      since: mark,
    });

    sim.setSoc(vehicleId, 0.4);
    sim.plugIn(vehicleId);
    // Plugging in may start a charge on its own: stop it over MQTT first, then start it again.
    mark = probe.mark();
    await probe.publish(t('charging/set'), 'OFF');
    await probe.waitFor((m) => m.topic === t('charging/result') && json(m)['status'] === 'ok', {
      since: mark,
    });
    expect(sim.vehicle(vehicleId).state.chargeState).not.toBe('CHARGING');
    // The car was read back before the result was sent, so the switch already shows it.
    await probe.waitFor((m) => m.topic === t('charge_state') && m.payload === 'not_charging');
    expect(probe.last(t('charging'))?.payload).toBe('OFF');
    mark = probe.mark();
    await probe.publish(t('charging/set'), 'ON');
    await probe.waitFor((m) => m.topic === t('charging/result') && json(m)['status'] === 'ok', {
      since: mark,
    });
    expect(sim.vehicle(vehicleId).state.chargeState).toBe('CHARGING');
    await probe.waitFor((m) => m.topic === t('charging') && m.payload === 'ON', { since: mark });
    await probe.waitFor((m) => m.topic === t('charge_state') && m.payload === 'charging', { since: mark });
  });

  it('answers malformed commands with an error and changes nothing', async () => {
    const { probe, sim, vehicleId } = stack;
    const before = sim.vehicle(vehicleId).state;
    const mark = probe.mark();
    await probe.publish(t('charge_limit/set'), '20');
    await probe.publish(t('lock/set'), 'OPEN_SESAME');
    await probe.publish(t('charging/set'), '{"value":');
    const errors = await Promise.all(
      ['charge_limit', 'lock', 'charging'].map((name) =>
        probe.waitFor((m) => m.topic === t(`${name}/result`) && json(m)['status'] === 'error', {
          since: mark,
        }),
      ),
    );
    expect(errors.map((m) => json(m)['error'])).toEqual([
      expect.stringMatching(/20 is out of range; expected a whole number from 50 to 100/),
      expect.stringMatching(/LOCK or UNLOCK/),
      expect.stringMatching(/not valid JSON/),
    ]);
    const after = sim.vehicle(vehicleId).state;
    expect(after.chargeLimit).toBe(before.chargeLimit);
    expect(after.isLocked).toBe(before.isLocked);
    expect(after.chargeEnabled).toBe(before.chargeEnabled);
    // No pending was ever sent for them.
    expect(
      probe.messages
        .slice(mark)
        .filter((m) => m.topic.endsWith('/result') && json(m)['status'] === 'pending'),
    ).toHaveLength(0);
  });

  it('republishes discovery and states when Home Assistant sends its birth message', async () => {
    const { probe } = stack;
    const configTopic = `${stack.prefix}/device/${stack.base}_${stack.slug}/config`;
    const mark = probe.messages.length;
    await probe.publish(`${stack.prefix}/status`, 'online');
    await probe.waitFor((m) => m.topic === configTopic && probe.messages.indexOf(m) >= mark, {
      what: 'discovery after birth',
    });
    await probe.waitFor((m) => m.topic === t('soc') && probe.messages.indexOf(m) >= mark, {
      what: 'state after birth',
    });
    await probe.waitFor((m) => m.topic === `${stack.base}/bridge/state` && probe.messages.indexOf(m) >= mark);
  });

  it('marks the car unavailable while the API cannot reach it, then recovers', async () => {
    const { probe, sim, vehicleId } = stack;
    let mark = probe.mark();
    sim.setUnreachable(vehicleId, true);
    await probe.publish(t('refresh/set'), 'PRESS');
    const failed = await probe.waitFor(
      (m) => m.topic === t('refresh/result') && json(m)['status'] === 'error',
      { since: mark },
    );
    expect(json(failed)['error']).toMatch(/UNREACHABLE/);
    await probe.waitFor((m) => m.topic === t('availability') && m.payload === 'offline', { since: mark });
    mark = probe.mark();
    sim.setUnreachable(vehicleId, false);
    // Backoff polling finds it again without any user action.
    await probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online', {
      since: mark,
      timeoutMs: 8000,
    });
  });

  it('keeps last values for a sleeping car and says so', async () => {
    const { probe, sim, vehicleId } = stack;
    await probe.waitFor((m) => m.topic === t('soc'));
    const mark = probe.mark();
    sim.setAsleep(vehicleId, true);
    await probe.publish(t('refresh/set'), 'PRESS');
    await probe.waitFor((m) => m.topic === t('vehicle_state') && m.payload === 'asleep', { since: mark });
    expect(probe.last(t('availability'))?.payload).toBe('online');
    expect(probe.last(t('soc'))?.payload).toBeTruthy();
    sim.setAsleep(vehicleId, false);
  });
});

describe('commands and restarts', () => {
  it('never replays a retained command after a bridge restart, and removes it', async () => {
    const broker = await startTestBroker('aedes');
    const stack = await startStack(broker, 'replay');
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    await stack.probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online');
    const limitBefore = stack.sim.vehicle(stack.vehicleId).state.chargeLimit;
    await stack.bridge.stop();
    await stack.probe.publish(t('charge_limit/set'), '55', { retain: true });
    await stack.restartBridge();
    await stack.probe.waitFor(
      (m) => m.topic === t('charge_limit/set') && m.payload === '' && m.retain === false,
      { what: 'retained command cleared' },
    );
    await stack.bridge.flush();
    expect(stack.sim.vehicle(stack.vehicleId).state.chargeLimit).toBe(limitBefore);
    const fresh = await Probe.connect(broker);
    await fresh.subscribe(t('charge_limit/set'));
    await new Promise((r) => setTimeout(r, 300));
    expect(fresh.messages.filter((m) => m.retain)).toHaveLength(0);
    await fresh.close();
    await stack.close();
    await broker.close();
  });

  it('removes the entities of a vehicle that is gone', async () => {
    const broker = await startTestBroker('aedes');
    const stack = await startStack(broker, 'gone');
    const configTopic = `${stack.prefix}/device/${stack.base}_${stack.slug}/config`;
    await stack.probe.waitFor((m) => m.topic === configTopic && m.payload !== '');
    // The owner disconnects the car from the app: the grant no longer lists it.
    await stack.client.grant('owner').vehicle(stack.vehicleId, { scopes: [] }).disconnect();
    await stack.bridge.syncVehicles();
    await stack.probe.waitFor((m) => m.topic === configTopic && m.payload === '', {
      what: 'discovery removal',
    });
    await stack.probe.waitFor((m) => m.topic === `${stack.base}/${stack.slug}/soc` && m.payload === '', {
      what: 'state removal',
    });
    expect(stack.bridge.vehicleSlugs()).toEqual([]);
    await stack.close();
    await broker.close();
  });
});

describe('per-component discovery mode', () => {
  it('publishes one valid config per entity', async () => {
    const broker = await startTestBroker('aedes');
    const stack = await startStack(broker, 'percomp', { homeAssistant: { discoveryMode: 'component' } });
    const topic = `${stack.prefix}/sensor/${stack.base}_${stack.slug}/soc/config`;
    await stack.probe.waitFor((m) => m.topic === topic);
    await stack.bridge.flush();
    await new Promise((r) => setTimeout(r, 200));
    const configs = stack.probe.messages.filter(
      (m) => m.topic.endsWith('/config') && m.payload !== '' && !m.topic.includes('/device/'),
    );
    expect(configs.length).toBeGreaterThan(15);
    for (const message of configs) {
      const platform = message.topic.slice(stack.prefix.length + 1).split('/')[0]!;
      expect(validateComponentDiscovery(platform, JSON.parse(message.payload)), message.topic).toEqual({
        success: true,
      });
    }
    await stack.close();
    await broker.close();
  });
});

describe('webhooks as a push source', () => {
  it('publishes a charging event pushed by the platform without waiting for a poll', async () => {
    const broker = await startTestBroker('aedes');
    // Parked polling every 10 minutes: only a push can make this fast.
    const stack = await startStack(broker, 'hook', {}, { webhook: true });
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    await stack.probe.waitFor((m) => m.topic === t('charge_state'));
    const mark = stack.probe.mark();
    stack.sim.setSoc(stack.vehicleId, 0.3);
    stack.sim.plugIn(stack.vehicleId);
    await stack.sim.flushWebhooks();
    await stack.probe.waitFor((m) => m.topic === t('charge_state') && m.payload === 'charging', {
      since: mark,
    });
    await stack.probe.waitFor((m) => m.topic === t('charging') && m.payload === 'ON', { since: mark });
    await stack.close();
    await broker.close();
  });

  it('refuses deliveries with a bad signature', () => {
    const source = createCoreVehicleSource({
      client: createClient({ clientId: 'x', clientSecret: 'y' }),
      grantIds: () => Promise.resolve([]),
      webhook: { amt: 'amt' },
    });
    const body = Buffer.from(
      JSON.stringify({ version: '2.0', webhookId: 'w', eventName: 'verify', payload: { challenge: 'c' } }),
    );
    expect(source.handleWebhook(body, 'deadbeef').status).toBe(400);
    expect(source.handleWebhook(body, undefined).status).toBe(400);
  });
});

describe('quota protection', () => {
  it('keeps to the daily request budget and shows what is left', async () => {
    const broker = await startTestBroker('aedes');
    const stack = await startStack(broker, 'budget', { polling: { dailyRequestBudget: 12 } });
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    // The first full read costs one request per supported endpoint (8 for this car and these scopes).
    await stack.probe.waitFor((m) => m.topic === t('requests_remaining') && m.payload === '4');
    const mark = stack.probe.mark();
    await stack.probe.publish(t('refresh/set'), 'PRESS');
    const result = await stack.probe.waitFor(
      (m) => m.topic === t('refresh/result') && json(m)['status'] === 'error',
      { since: mark },
    );
    expect(json(result)['error']).toMatch(/budget/);
    await stack.close();
    await broker.close();
  });

  it('reports the platform’s rate limit and keeps the car available', async () => {
    const broker = await startTestBroker('aedes');
    const stack = await startStack(broker, 'ratelimit');
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    await stack.probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online');
    stack.sim.setRateLimits({ vehicle: { capacity: 1, refillPerMinute: 0.01 } });
    const mark = stack.probe.mark();
    // The first refresh uses the one request the bucket holds; the second one hits the limit.
    await stack.probe.publish(t('refresh/set'), 'PRESS');
    await stack.probe.publish(t('refresh/set'), 'PRESS');
    const result = await stack.probe.waitFor(
      (m) => m.topic === t('refresh/result') && json(m)['status'] === 'error',
      { since: mark },
    );
    expect(json(result)['error']).toMatch(/RATE_LIMIT/);
    expect(stack.probe.last(t('availability'))?.payload).toBe('online');
    stack.sim.setRateLimits({ vehicle: null });
    await stack.close();
    await broker.close();
  });
});

describe('bridge state and last will', () => {
  it('goes offline through its last will when the connection dies, and comes back with everything', async () => {
    const broker = await startTestBroker('aedes');
    const stack = await startStack(broker, 'will');
    const state = `${stack.base}/bridge/state`;
    await stack.probe.waitFor((m) => m.topic === state && m.payload === 'online');
    await stack.probe.waitFor((m) => m.topic === `${stack.base}/${stack.slug}/soc`);
    const mark = stack.probe.mark();
    expect(broker.embedded!.dropClient(`${stack.base}_bridge`)).toBe(true);
    await stack.probe.waitFor((m) => m.topic === state && m.payload === 'offline', {
      since: mark,
      what: 'last will',
    });
    await stack.probe.waitFor((m) => m.topic === state && m.payload === 'online', {
      since: mark,
      what: 'back online',
    });
    await stack.probe.waitFor((m) => m.topic === `${stack.base}/${stack.slug}/soc`, {
      since: mark,
      what: 'states republished',
    });
    // A clean stop publishes offline itself.
    const stopMark = stack.probe.mark();
    await stack.bridge.stop();
    await stack.probe.waitFor((m) => m.topic === state && m.payload === 'offline', { since: stopMark });
    await stack.close();
    await broker.close();
  });
});

describe('charge plan from the smart-charging service', () => {
  it('publishes the next planned window and its cost, with valid discovery', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vk-plan-'));
    const file = join(dir, 'plans.json');
    const broker = await startTestBroker('aedes');
    const stack = await startStack(
      broker,
      'plan',
      { chargePlanFile: file, currency: 'EUR' },
      { chargePlanFile: file },
    );
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    writeFileSync(
      file,
      JSON.stringify({
        [stack.vehicleId]: {
          start: '2026-11-22T01:00:00Z',
          end: '2026-11-22T04:30:00Z',
          cost: 3.21,
          currency: 'EUR',
        },
      }),
    );
    const mark = stack.probe.mark();
    await stack.probe.publish(t('refresh/set'), 'PRESS');
    await stack.probe.waitFor(
      (m) => m.topic === t('next_charge_start') && m.payload === '2026-11-22T01:00:00.000Z',
      { since: mark },
    );
    await stack.probe.waitFor((m) => m.topic === t('next_charge_cost') && m.payload === '3.21', {
      since: mark,
    });
    const config = stack.probe.last(`${stack.prefix}/device/${stack.base}_${stack.slug}/config`)!;
    const payload = JSON.parse(config.payload) as Record<string, any>;
    expect(validateDeviceDiscovery(payload)).toEqual({ success: true });
    expect(payload['components']['next_charge_cost']).toMatchObject({
      device_class: 'monetary',
      unit_of_measurement: 'EUR',
    });
    await stack.close();
    await broker.close();
  });
});

describe('cleanup after downtime', () => {
  it('removes a car that was disconnected while the bridge was down', async () => {
    const broker = await startTestBroker('aedes');
    const stack = await startStack(broker, 'downtime');
    const configTopic = `${stack.prefix}/device/${stack.base}_${stack.slug}/config`;
    await stack.probe.waitFor((m) => m.topic === configTopic && m.payload !== '');
    await stack.bridge.stop();
    await stack.client.grant('owner').vehicle(stack.vehicleId, { scopes: [] }).disconnect();
    const mark = stack.probe.mark();
    await stack.restartBridge();
    await stack.probe.waitFor((m) => m.topic === configTopic && m.payload === '', {
      since: mark,
      what: 'stale discovery cleared',
    });
    await stack.probe.waitFor(
      (m) => m.topic === `${stack.base}/${stack.slug}/availability` && m.payload === '',
      { since: mark },
    );
    // A newcomer finds nothing of the old car any more.
    const fresh = await Probe.connect(broker);
    await fresh.subscribe([`${stack.base}/${stack.slug}/#`, configTopic]);
    await new Promise((r) => setTimeout(r, 300));
    expect(fresh.messages.filter((m) => m.payload !== '')).toEqual([]);
    await fresh.close();
    await stack.close();
    await broker.close();
  });
});

describe('polling and sleep', () => {
  it('never polls a sleeping car, and reads it again only when refresh is pressed', async () => {
    const broker = await startTestBroker('aedes');
    const requests: string[] = [];
    // Reads are batch POSTs (the simulator logs the route template); this test sends no commands.
    const batches = (): number => requests.filter((r) => r === 'POST /v2.0/vehicles/:id/*').length;
    // Parked cars polled every 0.3 s here (with a budget to match), so any poll of the sleeping car would show at once.
    const stack = await startStack(
      broker,
      'sleep',
      { polling: { parkedSeconds: 0.3, pluggedSeconds: 0.3, dailyRequestBudget: 100_000_000 } },
      { onSimulatorRequest: (r) => requests.push(r) },
    );
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    const deadline = Date.now() + 5000;
    while (batches() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(batches()).toBeGreaterThanOrEqual(3);
    stack.sim.setAsleep(stack.vehicleId, true);
    await stack.probe.waitFor((m) => m.topic === t('vehicle_state') && m.payload === 'asleep');
    const asleepAt = batches();
    await new Promise((r) => setTimeout(r, 1500));
    expect(batches()).toBe(asleepAt);
    const mark = stack.probe.mark();
    await stack.probe.publish(t('refresh/set'), 'PRESS');
    await stack.probe.waitFor((m) => m.topic === t('refresh/result') && json(m)['status'] !== 'pending', {
      since: mark,
    });
    expect(batches()).toBe(asleepAt + 1);
    await stack.close();
    await broker.close();
  });
});

describe('MQTT 5 request/response', () => {
  it('answers on the response topic with the correlation data (Mosquitto)', async () => {
    const broker = await startTestBroker('mosquitto');
    const stack = await startStack(broker, 'reqres');
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    await stack.probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online');
    const replyTopic = `${stack.base}_replies/${Date.now()}`;
    const replies: Array<{ payload: string; correlation: string | undefined }> = [];
    stack.probe.client.on('message', (topic, payload, packet) => {
      if (topic === replyTopic)
        replies.push({
          payload: payload.toString(),
          correlation: packet.properties?.correlationData?.toString(),
        });
    });
    await stack.probe.client.subscribeAsync(replyTopic, { qos: 1 });
    await stack.probe.client.publishAsync(t('charge_limit/set'), '77', {
      qos: 1,
      properties: { responseTopic: replyTopic, correlationData: Buffer.from('corr-42') },
    });
    const deadline = Date.now() + 5000;
    while (!replies.some((r) => JSON.parse(r.payload).status === 'ok') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(replies.map((r) => JSON.parse(r.payload).status)).toEqual(['pending', 'ok']);
    expect(replies.every((r) => r.correlation === 'corr-42')).toBe(true);
    expect(stack.sim.vehicle(stack.vehicleId).state.chargeLimit).toBeCloseTo(0.77);
    await stack.close();
    await broker.close();
  });
});
