import { describe, expect, it } from 'vitest';
import { silentLogger } from './logger.ts';
import type { MqttConnection, PublishOptions } from './mqtt-adapter.ts';
import { MAX_IN_FLIGHT, RetainedPublisher } from './publisher.ts';

/** A connection whose publishes complete only when the test acknowledges them, like a slow broker. */
function heldConnection() {
  const sent: Array<{ topic: string; payload: string; options: PublishOptions; ack: () => void }> = [];
  const connection = {
    publish(topic: string, payload: string | Buffer, options: PublishOptions = {}) {
      return new Promise<boolean>((resolve) => {
        sent.push({ topic, payload: payload.toString(), options, ack: () => resolve(true) });
      });
    },
  } as unknown as MqttConnection;
  return { connection, sent };
}

describe('RetainedPublisher', () => {
  it('keeps at most MAX_IN_FLIGHT publishes open and sends a waiting topic once, as its latest value', async () => {
    const { connection, sent } = heldConnection();
    const publisher = new RetainedPublisher(connection, silentLogger());
    for (let i = 0; i < MAX_IN_FLIGHT + 50; i += 1) publisher.set(`t/${i}`, 'a');
    expect(sent).toHaveLength(MAX_IN_FLIGHT);
    // t/last waits; two changes while it waits go out as one publish of the newest payload.
    const last = `t/${MAX_IN_FLIGHT + 49}`;
    publisher.set(last, 'b');
    publisher.set(last, 'c');
    // A result jumps the queue of waiting retained topics.
    publisher.send('t/result', '{"status":"ok"}');
    let idle = false;
    const idlePromise = publisher.idle().then(() => (idle = true));
    for (let acked = 0; acked < sent.length; acked += 1) {
      sent[acked]!.ack();
      await new Promise((resolve) => setImmediate(resolve));
      expect(sent.length - (acked + 1)).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    }
    await idlePromise;
    expect(idle).toBe(true);
    expect(sent[MAX_IN_FLIGHT]!.topic).toBe('t/result');
    expect(sent.filter((m) => m.topic === last).map((m) => m.payload)).toEqual(['c']);
    expect(sent).toHaveLength(MAX_IN_FLIGHT + 51);
  });

  it('a clear while the value still waits sends the removal, not the value', async () => {
    const { connection, sent } = heldConnection();
    const publisher = new RetainedPublisher(connection, silentLogger());
    for (let i = 0; i < MAX_IN_FLIGHT; i += 1) publisher.set(`t/${i}`, 'a');
    publisher.set('gone', 'value');
    publisher.clear('gone');
    while (sent.some((m) => !('done' in m))) {
      const open = sent.filter((m) => !('done' in m));
      for (const m of open) {
        Object.assign(m, { done: true });
        m.ack();
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await publisher.idle();
    expect(sent.filter((m) => m.topic === 'gone').map((m) => [m.payload, m.options.retain])).toEqual([
      ['', true],
    ]);
  });
});
