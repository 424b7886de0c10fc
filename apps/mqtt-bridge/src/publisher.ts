import type { Logger } from './logger.ts';
import type { MqttConnection, PublishOptions } from './mqtt-adapter.ts';

/**
 * Publishes in flight at once. A fleet's start-up burst (discovery and ~45 values per car) is otherwise
 * handed to the MQTT client in one go: every packet, its socket write and its QoS 1 store entry live at
 * the same time (1,000 cars: ~47,000), which is what pushed the bench's RSS past 200 MB.
 */
export const MAX_IN_FLIGHT = 64;

interface PendingRetained {
  readonly qos: 0 | 1;
  /** Send an empty retained payload (a removal) rather than the cached value. */
  readonly clear: boolean;
}

/**
 * Owns every retained topic the bridge publishes. Publishes on change only, remembers the last payload of
 * each topic and can republish all of them (after a reconnect, a broker restart that lost its retained
 * messages, or Home Assistant's birth message).
 *
 * At most MAX_IN_FLIGHT publishes run at once. Waiting retained topics are queued by name only and take
 * their payload from the cache when they go out, so a value that changes while it waits is sent once, as
 * its latest value. Non-retained messages (command results, events) go before waiting retained ones.
 */
export class RetainedPublisher {
  readonly #connection: MqttConnection;
  readonly #logger: Logger;
  readonly #cache = new Map<string, string>();
  /** Topics published at QoS 0 (informational, republished from the cache on every reconnect anyway). */
  readonly #qos0 = new Set<string>();
  /** Retained topics waiting for a slot, in publish order (re-setting a waiting topic keeps its place). */
  readonly #pending = new Map<string, PendingRetained>();
  readonly #messages: Array<{ topic: string; payload: string; options: PublishOptions }> = [];
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
    this.#enqueue(topic, { qos: options.qos ?? 1, clear: false });
  }

  /** Removes a retained topic from the broker (empty retained payload) and forgets it. */
  clear(topic: string): void {
    this.#cache.delete(topic);
    this.#qos0.delete(topic);
    this.#enqueue(topic, { qos: 1, clear: true });
  }

  get(topic: string): string | undefined {
    return this.#cache.get(topic);
  }

  has(topic: string): boolean {
    return this.#cache.has(topic);
  }

  /** Sends a non-retained message (results, events). Never throws. */
  send(topic: string, payload: string, options: PublishOptions = {}): void {
    this.#messages.push({ topic, payload, options: { qos: 1, retain: false, ...options } });
    this.#pump();
  }

  /** Republishes every retained topic, in insertion order (bridge state first, then discovery, then states). */
  republishAll(order?: (topics: string[]) => string[]): number {
    const topics = order ? order([...this.#cache.keys()]) : [...this.#cache.keys()];
    for (const topic of topics) {
      if (!this.#cache.has(topic)) continue;
      // A waiting topic goes out once anyway; move it to its place in this order.
      this.#pending.delete(topic);
      this.#pending.set(topic, { qos: this.#qos0.has(topic) ? 0 : 1, clear: false });
    }
    this.#pump();
    return topics.length;
  }

  /** Resolves once every publish issued so far has completed (acknowledged or dropped). */
  async idle(): Promise<void> {
    if (this.#inFlight === 0 && this.#pending.size === 0 && this.#messages.length === 0) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  get size(): number {
    return this.#cache.size;
  }

  #enqueue(topic: string, entry: PendingRetained): void {
    this.#pending.set(topic, entry);
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight < MAX_IN_FLIGHT) {
      const message = this.#messages.shift();
      if (message) {
        this.#publish(message.topic, message.payload, message.options);
        continue;
      }
      const next = this.#pending.entries().next();
      if (next.done) break;
      const [topic, entry] = next.value;
      this.#pending.delete(topic);
      const payload = entry.clear ? '' : this.#cache.get(topic);
      if (payload === undefined) continue; // cleared without a removal to send (never published)
      this.#publish(topic, payload, { qos: entry.qos, retain: true });
    }
    if (this.#inFlight === 0 && this.#pending.size === 0 && this.#messages.length === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  #publish(topic: string, payload: string, options: PublishOptions): void {
    this.#inFlight += 1;
    this.#connection
      .publish(topic, payload, options)
      .catch((error: unknown) => this.#logger.warn({ topic, err: error }, 'publish failed'))
      .finally(() => {
        this.#inFlight -= 1;
        this.#pump();
      });
  }
}
