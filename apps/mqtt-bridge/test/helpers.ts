import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import { startEmbeddedBroker } from '../src/embedded-broker.ts';
import type { EmbeddedBroker } from '../src/embedded-broker.ts';

export const MOSQUITTO_URL = 'mqtt://127.0.0.1:1883';

export interface TestBroker {
  readonly name: 'aedes' | 'mosquitto';
  readonly url: string;
  /** aedes speaks 3.1.1 only; Mosquitto runs the default MQTT 5 path. */
  readonly protocolVersion: 4 | 5;
  /** Only the embedded broker can be restarted in-test; the shared system Mosquitto is not ours to restart. */
  readonly embedded: EmbeddedBroker | undefined;
  close(): Promise<void>;
}

export const BROKER_KINDS = ['aedes', 'mosquitto'] as const;

export async function startTestBroker(kind: (typeof BROKER_KINDS)[number]): Promise<TestBroker> {
  if (kind === 'aedes') {
    const embedded = await startEmbeddedBroker({ port: 0 });
    return { name: 'aedes', url: embedded.url, protocolVersion: 4, embedded, close: () => embedded.close() };
  }
  return {
    name: 'mosquitto',
    url: MOSQUITTO_URL,
    protocolVersion: 5,
    embedded: undefined,
    close: () => Promise.resolve(),
  };
}

/** A base topic no other test run (or parallel run) uses. */
export function uniqueBase(label: string): string {
  return `vktest_${label}_${randomBytes(4).toString('hex')}`;
}

export interface ReceivedMessage {
  topic: string;
  payload: string;
  retain: boolean;
  at: number;
}

/** A plain MQTT client standing in for Home Assistant / a user: records everything it receives. */
export class Probe {
  readonly client: MqttClient;
  readonly messages: ReceivedMessage[] = [];
  #waiters: Array<() => void> = [];

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString(), retain: packet.retain, at: Date.now() });
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async connect(
    broker: Pick<TestBroker, 'url' | 'protocolVersion'>,
    options: mqtt.IClientOptions = {},
  ): Promise<Probe> {
    const client = await mqtt.connectAsync(broker.url, {
      protocolVersion: broker.protocolVersion,
      clientId: `probe_${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 200,
      ...options,
    });
    return new Probe(client);
  }

  async subscribe(filter: string | string[]): Promise<void> {
    await this.client.subscribeAsync(filter, { qos: 1 });
  }

  async publish(topic: string, payload: string, options: IClientPublishOptions = {}): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, ...options });
  }

  /** Position in the message log; pass it as `since` to only look at messages received after it. */
  mark(): number {
    return this.messages.length;
  }

  /** Waits (bounded) for a message matching the predicate, received at or after index `since`. */
  async waitFor(
    predicate: (message: ReceivedMessage) => boolean,
    {
      timeoutMs = 5000,
      since = 0,
      what = 'message',
    }: { timeoutMs?: number; since?: number; what?: string } = {},
  ): Promise<ReceivedMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(since).find((m) => predicate(m));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  last(topic: string): ReceivedMessage | undefined {
    return this.messages.filter((m) => m.topic === topic).at(-1);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Clears every retained topic under the given filters (test hygiene on the shared Mosquitto). */
export async function clearRetained(
  broker: Pick<TestBroker, 'url' | 'protocolVersion'>,
  filters: string[],
): Promise<void> {
  const probe = await Probe.connect(broker);
  await probe.subscribe(filters);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const retained = [
    ...new Set(probe.messages.filter((m) => m.retain && m.payload !== '').map((m) => m.topic)),
  ];
  await Promise.all(retained.map((topic) => probe.publish(topic, '', { retain: true })));
  await probe.close();
}
