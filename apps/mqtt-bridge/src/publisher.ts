import type { Logger } from './logger.ts';
import type { MqttConnection, PublishOptions } from './mqtt-adapter.ts';

/**
 * Owns every retained topic the bridge publishes. Publishes on change only, remembers the last payload of
 * each topic and can republish all of them (after a reconnect, a broker restart that lost its retained
 * messages, or Home Assistant's birth message).
 */
export class RetainedPublisher {
  readonly #connection: MqttConnection;
  readonly #logger: Logger;
  readonly #cache = new Map<string, string>();
  /** Topics published at QoS 0 (informational, republished from the cache on every reconnect anyway). */
  readonly #qos0 = new Set<string>();
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(connection: MqttConnection, logger: Logger) {
    this.#connection = connection;
    this.#logger = logger;
  }

  /**
   * Publishes `payload` retained unless it is already the topic's current value. Never throws. QoS 0 for
   * informational topics keeps a fleet's burst of them out of the in-flight store.
   */
  set(topic: string, payload: string, options: { qos?: 0 | 1 } = {}): void {
    if (this.#cache.get(topic) === payload) return;
    this.#cache.set(topic, payload);
    if (options.qos === 0) this.#qos0.add(topic);
    this.#send(topic, payload, { qos: options.qos ?? 1, retain: true });
  }

  /** Removes a retained topic from the broker (empty retained payload) and forgets it. */
  clear(topic: string): void {
    this.#cache.delete(topic);
    this.#qos0.delete(topic);
    this.#send(topic, '', { qos: 1, retain: true });
  }

  get(topic: string): string | undefined {
    return this.#cache.get(topic);
  }

  has(topic: string): boolean {
    return this.#cache.has(topic);
  }

  /** Sends a non-retained message (results, events). Never throws. */
  send(topic: string, payload: string, options: PublishOptions = {}): void {
    this.#send(topic, payload, { qos: 1, retain: false, ...options });
  }

  /** Republishes every retained topic, in insertion order (bridge state first, then discovery, then states). */
  republishAll(order?: (topics: string[]) => string[]): number {
    const topics = order ? order([...this.#cache.keys()]) : [...this.#cache.keys()];
    for (const topic of topics) {
      const payload = this.#cache.get(topic);
      if (payload !== undefined)
        this.#send(topic, payload, { qos: this.#qos0.has(topic) ? 0 : 1, retain: true });
    }
    return topics.length;
  }

  /** Resolves once every publish issued so far has completed (acknowledged or dropped). */
  async idle(): Promise<void> {
    if (this.#inFlight === 0) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  get size(): number {
    return this.#cache.size;
  }

  #send(topic: string, payload: string, options: PublishOptions): void {
    this.#inFlight += 1;
    this.#connection
      .publish(topic, payload, options)
      .catch((error: unknown) => this.#logger.warn({ topic, err: error }, 'publish failed'))
      .finally(() => {
        this.#inFlight -= 1;
        if (this.#inFlight === 0) {
          const waiters = this.#idleWaiters;
          this.#idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      });
  }
}
