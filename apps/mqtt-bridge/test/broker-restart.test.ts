/* eslint-disable @typescript-eslint/no-explicit-any -- tests inspect parsed JSON payloads freely */
import { describe, expect, it } from 'vitest';
import { validateDeviceDiscovery } from '../src/ha-discovery-schema.ts';
import { Probe, startTestBroker } from './helpers.ts';
import type { TestBroker } from './helpers.ts';
import { startPrivateMosquitto, startStack } from './stack.ts';
import type { Stack } from './stack.ts';

const json = (payload: string): Record<string, any> => JSON.parse(payload) as Record<string, any>;

/** After a restart that lost every retained message: a newcomer (HA starting) must find everything again. */
async function expectEverythingRepublished(
  broker: TestBroker,
  stack: Stack,
  startedAt: number,
): Promise<number> {
  const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
  const fresh = await Probe.connect(broker, { connectTimeout: 5000 });
  await fresh.subscribe([`${stack.base}/#`, `${stack.prefix}/#`]);
  const configTopic = `${stack.prefix}/device/${stack.base}_${stack.slug}/config`;
  const config = await fresh.waitFor((m) => m.topic === configTopic && m.payload !== '', {
    what: 'discovery after restart',
    timeoutMs: 8000,
  });
  const backAfterMs = Date.now() - startedAt;
  expect(validateDeviceDiscovery(json(config.payload))).toEqual({ success: true });
  await fresh.waitFor((m) => m.topic === `${stack.base}/bridge/state` && m.payload === 'online');
  await fresh.waitFor((m) => m.topic === t('availability') && m.payload === 'online');
  await fresh.waitFor((m) => m.topic === t('soc') && m.payload !== '');
  await fresh.waitFor((m) => m.topic === t('lock'));
  await fresh.close();
  return backAfterMs;
}

async function setLimitOverMqtt(stack: Stack, percent: number): Promise<void> {
  const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
  const mark = stack.probe.mark();
  await stack.probe.publish(t('charge_limit/set'), String(percent));
  await stack.probe.waitFor(
    (m) => m.topic === t('charge_limit/result') && json(m.payload)['status'] === 'ok',
    { since: mark, timeoutMs: 8000 },
  );
  expect(stack.sim.vehicle(stack.vehicleId).state.chargeLimit).toBeCloseTo(percent / 100);
}

describe('broker restarted mid-run', () => {
  it('embedded aedes without persistence: back within seconds with everything republished', async () => {
    const broker = await startTestBroker('aedes');
    const stack = await startStack(broker, 'rs_aedes');
    await stack.probe.waitFor((m) => m.topic === `${stack.base}/${stack.slug}/soc`);
    const startedAt = Date.now();
    await broker.embedded!.restart({ keepState: false, downMs: 300 });
    const backAfterMs = await expectEverythingRepublished(broker, stack, startedAt);
    expect(backAfterMs).toBeLessThan(5000);
    await setLimitOverMqtt(stack, 72);
    await stack.close();
    await broker.close();
  });

  it('embedded aedes with persistence: a QoS 1 command sent during the outage is not lost', async () => {
    const broker = await startTestBroker('aedes');
    // The bridge comes back slower than "Home Assistant", so HA's queued command reaches the broker first:
    // only the bridge's persistent session can hold it.
    const stack = await startStack(broker, 'rs_keep', {
      mqtt: { reconnectMs: 1000, commandQueueSeconds: 300 },
    });
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    await stack.probe.waitFor((m) => m.topic === t('soc'));
    const restarting = broker.embedded!.restart({ keepState: true, downMs: 500 });
    // The broker is down now; "Home Assistant" sends the command anyway (its client queues QoS 1).
    const mark = stack.probe.mark();
    const sending = stack.probe.publish(t('charge_limit/set'), '63');
    await restarting;
    await sending;
    await stack.probe.waitFor(
      (m) => m.topic === t('charge_limit/result') && json(m.payload)['status'] === 'ok',
      { since: mark, timeoutMs: 8000 },
    );
    expect(stack.sim.vehicle(stack.vehicleId).state.chargeLimit).toBeCloseTo(0.63);
    await stack.close();
    await broker.close();
  });

  it('Mosquitto (a private instance, no persistence): back within seconds with everything republished', async () => {
    const broker = await startPrivateMosquitto();
    const stack = await startStack(broker, 'rs_mosq');
    await stack.probe.waitFor((m) => m.topic === `${stack.base}/${stack.slug}/soc`);
    const startedAt = Date.now();
    await broker.restart(300);
    const backAfterMs = await expectEverythingRepublished(broker, stack, startedAt);
    expect(backAfterMs).toBeLessThan(5000);
    await setLimitOverMqtt(stack, 74);
    await stack.close();
    await broker.close();
  });
});
