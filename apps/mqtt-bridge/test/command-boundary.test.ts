/* eslint-disable @typescript-eslint/no-explicit-any -- tests inspect parsed JSON payloads freely */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VehicleCommand, VehicleSource } from '../src/vehicle-source.ts';
import { BROKER_KINDS, Probe, startTestBroker } from './helpers.ts';
import type { ReceivedMessage, TestBroker } from './helpers.ts';
import { SCOPES, startStack } from './stack.ts';
import type { Stack } from './stack.ts';

const json = (m: ReceivedMessage): Record<string, any> => JSON.parse(m.payload) as Record<string, any>;

/** The real source, with every command the bridge sends to the API recorded, and optionally held. */
function recordingSource() {
  const commands: VehicleCommand[] = [];
  let gate: Promise<void> | undefined;
  let release: () => void = () => undefined;
  return {
    commands,
    hold() {
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
    },
    release() {
      gate = undefined;
      release();
    },
    wrap(inner: VehicleSource): VehicleSource {
      return {
        ...inner,
        async command(vehicleId, command) {
          commands.push(command);
          if (gate) await gate;
          return inner.command(vehicleId, command);
        },
      };
    },
  };
}

/** A topic level a client can publish to: no wildcards, separators or NUL. */
const publishableSegment = (s: string): boolean => !/[+#/]/.test(s) && !s.includes(String.fromCharCode(0));

/** Lets the bridge handle everything sent so far: a JSON command with a transaction is answered in order. */
async function barrier(stack: Stack, t: (key: string) => string, id: string): Promise<void> {
  const mark = stack.probe.mark();
  await stack.probe.publish(t('charge_limit/set'), JSON.stringify({ value: 'x', transaction: id }));
  await stack.probe.waitFor((m) => m.topic === t('charge_limit/result') && json(m)['transaction'] === id, {
    since: mark,
    what: `barrier ${id}`,
  });
}

describe.each(BROKER_KINDS)('the MQTT command boundary on %s (issue 12)', (kind) => {
  let broker: TestBroker;
  let stack: Stack;
  let t: (key: string) => string;
  const recorder = recordingSource();
  const batches: string[] = [];

  beforeAll(async () => {
    broker = await startTestBroker(kind);
    stack = await startStack(
      broker,
      `cb_${kind}`,
      {},
      {
        wrapSource: (inner) => recorder.wrap(inner),
        onSimulatorRequest: (route) => batches.push(route),
      },
    );
    t = (key) => `${stack.base}/${stack.slug}/${key}`;
    await stack.probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online');
    await stack.probe.waitFor((m) => m.topic === t('charge_limit'));
  });
  afterAll(async () => {
    recorder.release();
    await stack?.close();
    await broker?.close();
  });

  it('refuses numbers that are not plain decimal, names what is allowed, and calls no API', async () => {
    const before = stack.sim.vehicle(stack.vehicleId).state.chargeLimit;
    const calls = recorder.commands.length;
    const requests = batches.length;
    for (const payload of ['0x50', '1e2', ' 80', '80abc', '80 ', '+80', '0b1010000', '{"value":"0x50"}']) {
      const mark = stack.probe.mark();
      await stack.probe.publish(t('charge_limit/set'), payload);
      const result = await stack.probe.waitFor((m) => m.topic === t('charge_limit/result'), {
        since: mark,
        what: `result for ${payload}`,
      });
      expect(json(result), payload).toMatchObject({ status: 'error', command: 'charge_limit' });
      expect(json(result)['error'], payload).toMatch(
        /expected a whole number from 50 to 100 in decimal digits, e\.g\. 80/,
      );
    }
    expect(recorder.commands.length).toBe(calls);
    expect(batches.length).toBe(requests);
    expect(stack.sim.vehicle(stack.vehicleId).state.chargeLimit).toBe(before);
  });

  it('answers a command for an unknown VIN without publishing anything under that name', async () => {
    const fake = 'NOTACAR0000000000';
    const mark = stack.probe.mark();
    await stack.probe.publish(`${stack.base}/${fake}/lock/set`, 'UNLOCK');
    await stack.probe.publish(`${stack.base}/${fake}/charge_limit/set`, '80');
    await barrier(stack, t, 'unknown-vin');
    const underFake = stack.probe.messages
      .slice(mark)
      .filter((m) => m.topic.startsWith(`${stack.base}/${fake}/`) && !m.topic.endsWith('/set'));
    expect(underFake).toEqual([]);
  });

  it('coalesces a flood of commands (latest wins), refuses when the queue is full, and keeps the budget', async () => {
    const before = Number(stack.probe.last(t('requests_remaining'))?.payload);
    const calls = recorder.commands.length;
    recorder.hold();
    let mark = stack.probe.mark();
    // The first command runs (held at the API call); everything after it waits in the queue.
    await stack.probe.publish(t('charge_limit/set'), '{"value":60,"transaction":"first"}');
    await stack.probe.waitFor(() => recorder.commands.length === calls + 1, {
      since: mark,
      what: 'first call',
    });
    mark = stack.probe.mark();
    const values = Array.from({ length: 200 }, (_, i) => 50 + (i % 51));
    values[values.length - 1] = 77;
    await Promise.all(values.map((v) => stack.probe.publish(t('charge_limit/set'), String(v))));
    await stack.probe.publish(t('lock/set'), 'LOCK');
    await stack.probe.publish(t('charging/set'), 'OFF');
    // charge_limit, lock and charging wait (the default limit is 3): a fourth kind is refused.
    await stack.probe.publish(t('refresh/set'), 'PRESS');
    const full = await stack.probe.waitFor(
      (m) => m.topic === t('refresh/result') && json(m)['status'] === 'error',
      { since: mark, what: 'queue full' },
    );
    expect(json(full)['error']).toMatch(/command queue is full \(3 commands wait\)/);
    await barrier(stack, t, 'flood');
    const limitResults = stack.probe.messages
      .slice(mark)
      .filter((m) => m.topic === t('charge_limit/result') && json(m)['transaction'] === undefined);
    expect(limitResults.filter((m) => json(m)['status'] === 'superseded')).toHaveLength(199);
    expect(limitResults.filter((m) => json(m)['status'] === 'pending')).toHaveLength(200);
    recorder.release();
    await stack.probe.waitFor(
      (m) => m.topic === t('charge_limit/result') && json(m)['status'] === 'ok' && json(m)['value'] === 77,
      { since: mark, what: 'latest charge limit ran', timeoutMs: 10_000 },
    );
    await stack.probe.waitFor((m) => m.topic === t('charging/result') && json(m)['status'] !== 'pending', {
      since: mark,
      timeoutMs: 10_000,
    });
    // 60, then only the latest 77, then lock and charging: four API calls for 203 commands.
    expect(recorder.commands.slice(calls).map((c) => c.kind)).toEqual([
      'setChargeLimit',
      'setChargeLimit',
      'lock',
      'stopCharge',
    ]);
    expect(stack.sim.vehicle(stack.vehicleId).state.chargeLimit).toBeCloseTo(0.77);
    await stack.bridge.flush();
    const after = Number(stack.probe.last(t('requests_remaining'))?.payload);
    // Four commands and their read-backs, not 200.
    expect(before - after).toBeLessThan(60);
  });

  it('never runs a retained command, and leaves none on the broker', async () => {
    recorder.release();
    const before = stack.sim.vehicle(stack.vehicleId).state.chargeLimit;
    await stack.bridge.stop();
    await stack.probe.publish(t('charge_limit/set'), before === 0.55 ? '56' : '55', { retain: true });
    const mark = stack.probe.mark();
    const calls = recorder.commands.length;
    await stack.restartBridge();
    // The bridge subscribes before it knows its cars: the stale command is cleared, not answered.
    await stack.probe.waitFor((m) => m.topic === t('charge_limit/set') && m.payload === '', {
      since: mark,
      what: 'retained command cleared',
    });
    await stack.probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online', {
      since: mark,
    });
    await stack.bridge.flush();
    expect(recorder.commands.length).toBe(calls);
    expect(stack.sim.vehicle(stack.vehicleId).state.chargeLimit).toBe(before);
    const fresh = await Probe.connect(broker);
    await fresh.subscribe(`${stack.base}/+/+/set`);
    await new Promise((r) => setTimeout(r, 300));
    expect(fresh.messages.filter((m) => m.retain && m.payload !== '')).toEqual([]);
    await fresh.close();
  });

  it.runIf(kind === 'mosquitto')(
    'refuses and clears a retained command published while it runs (MQTT 5 retain-as-published)',
    async () => {
      await stack.probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online');
      const before = stack.sim.vehicle(stack.vehicleId).state.isLocked;
      const calls = recorder.commands.length;
      const mark = stack.probe.mark();
      await stack.probe.publish(t('lock/set'), before ? 'UNLOCK' : 'LOCK', { retain: true });
      await stack.probe.waitFor(
        (m) => m.topic === t('lock/result') && /retained commands/.test(String(json(m)['error'])),
        { since: mark },
      );
      await stack.bridge.flush();
      expect(recorder.commands.length).toBe(calls);
      expect(stack.sim.vehicle(stack.vehicleId).state.isLocked).toBe(before);
      const fresh = await Probe.connect(broker);
      await fresh.subscribe(t('lock/set'));
      await new Promise((r) => setTimeout(r, 300));
      expect(fresh.messages.filter((m) => m.retain && m.payload !== '')).toEqual([]);
      await fresh.close();
    },
  );

  it.runIf(kind === 'mosquitto')(
    'never answers on a response topic inside its own topics (MQTT 5), so HA’s availability cannot be spoofed',
    async () => {
      const mark = stack.probe.mark();
      for (const responseTopic of [
        `${stack.base}/bridge/state`,
        t('availability'),
        `${stack.prefix}/status`,
      ]) {
        await stack.probe.client.publishAsync(t('charge_limit/set'), '0x50', {
          qos: 1,
          properties: { responseTopic, correlationData: Buffer.from('spoof') },
        });
      }
      await barrier(stack, t, 'spoof');
      const spoofed = stack.probe.messages
        .slice(mark)
        .filter((m) =>
          [`${stack.base}/bridge/state`, t('availability'), `${stack.prefix}/status`].includes(m.topic),
        );
      expect(spoofed).toEqual([]);
      // The result still goes to the car's result topic.
      const results = stack.probe.messages
        .slice(mark)
        .filter((m) => m.topic === t('charge_limit/result') && json(m)['transaction'] === undefined);
      expect(results).toHaveLength(3);
    },
  );

  it('property: any topic and payload under the command topics → no crash, a documented result, no API call when invalid', async () => {
    await stack.probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online');
    const segment = fc.oneof(
      fc.constantFrom(stack.slug, 'bridge', 'NOTACAR0000000000', '', '+', '#'),
      fc.string({ minLength: 1, maxLength: 12 }).filter(publishableSegment),
    );
    const command = fc.oneof(
      fc.constantFrom('charging', 'charge_limit', 'lock', 'refresh'),
      fc.string({ minLength: 1, maxLength: 12 }).filter(publishableSegment),
    );
    const payload = fc.oneof(
      fc.constantFrom('ON', 'OFF', '80', '0x50', '1e2', ' 80', 'LOCK', 'PRESS', '{"value":80}', '{', ''),
      fc.string({ maxLength: 64 }),
      fc.json({ maxDepth: 2 }),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    const documented = ['pending', 'ok', 'error', 'superseded'];
    let round = 0;
    await fc.assert(
      fc.asyncProperty(segment, command, payload, fc.boolean(), async (slug, name, body, deep) => {
        round += 1;
        const topic = `${stack.base}/${slug}/${name}${deep ? '/x' : ''}/set`;
        if (topic.includes('+') || topic.includes('#')) return; // not publishable
        const calls = recorder.commands.length;
        const mark = stack.probe.mark();
        await stack.probe.publish(topic, body);
        await barrier(stack, t, `fuzz-${round}`);
        const resultTopic = topic.replace(/\/set$/, '/result');
        const results = stack.probe.messages
          .slice(mark)
          .filter((m) => m.topic === resultTopic && json(m)['transaction'] !== `fuzz-${round}`);
        const known =
          slug === stack.slug && !deep && ['charging', 'charge_limit', 'lock', 'refresh'].includes(name);
        if (!known) {
          expect(results, topic).toEqual([]);
          expect(recorder.commands.length).toBe(calls);
          return;
        }
        if (body === '') {
          expect(results).toEqual([]); // an empty payload is a clear, never a command
          return;
        }
        expect(results.length, `${topic} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(1);
        const first = json(results[0]!);
        expect(documented).toContain(first['status']);
        expect(first['command']).toBe(name);
        if (first['status'] === 'error') {
          expect(typeof first['error']).toBe('string');
          expect(recorder.commands.length).toBe(calls);
        }
      }),
      { numRuns: 150, interruptAfterTimeLimit: 90_000 },
    );
    // Still healthy afterwards.
    await barrier(stack, t, 'after-fuzz');
  }, 120_000);
});

describe.each(BROKER_KINDS)('a car without a lock on %s (issue 14)', (kind) => {
  it('refuses a lock command without calling the API or publishing LOCKING', async () => {
    const broker = await startTestBroker(kind);
    const recorder = recordingSource();
    const stack = await startStack(
      broker,
      `nolock_${kind}`,
      {},
      {
        scopes: SCOPES.filter((s) => s !== 'read_security' && s !== 'control_security'),
        wrapSource: (inner) => recorder.wrap(inner),
      },
    );
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    await stack.probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online');
    const mark = stack.probe.mark();
    await stack.probe.publish(t('lock/set'), 'LOCK');
    const result = await stack.probe.waitFor((m) => m.topic === t('lock/result'), { since: mark });
    expect(json(result)).toMatchObject({ status: 'error', command: 'lock' });
    expect(json(result)['error']).toMatch(/no lock control/);
    await stack.bridge.flush();
    expect(recorder.commands).toEqual([]);
    expect(stack.probe.messages.slice(mark).filter((m) => m.topic === t('lock'))).toEqual([]);
    await stack.close();
    await broker.close();
  });
});
