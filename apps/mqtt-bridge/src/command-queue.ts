/**
 * A car's commands, one at a time. Bounded so a flood of commands cannot drain the car's daily request
 * budget: a command of a kind that is already waiting replaces it (latest wins), and once `limit`
 * different commands wait, further ones are refused.
 */
export type EnqueueOutcome<T> =
  { readonly accepted: true; readonly replaced?: T } | { readonly accepted: false; readonly reason: 'full' };

export class CommandQueue<T> {
  readonly limit: number;
  readonly #run: (item: T) => Promise<void>;
  #waiting: Array<{ key: string; item: T }> = [];
  #running: Promise<void> | undefined;
  #idleWaiters: Array<() => void> = [];

  constructor(limit: number, run: (item: T) => Promise<void>) {
    this.limit = limit;
    this.#run = run;
  }

  /** Queues `item` under `key` (the command's kind). Never runs it synchronously. */
  enqueue(key: string, item: T): EnqueueOutcome<T> {
    const index = this.#waiting.findIndex((entry) => entry.key === key);
    if (index >= 0) {
      const replaced = this.#waiting[index]!.item;
      this.#waiting[index] = { key, item };
      return { accepted: true, replaced };
    }
    if (this.#waiting.length >= this.limit) return { accepted: false, reason: 'full' };
    this.#waiting.push({ key, item });
    queueMicrotask(() => this.#pump());
    return { accepted: true };
  }

  /** Commands waiting behind the one that runs. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves once nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (!this.#running && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    if (this.#running) return;
    const next = this.#waiting.shift();
    if (!next) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
      return;
    }
    this.#running = this.#run(next.item)
      .catch(() => undefined)
      .finally(() => {
        this.#running = undefined;
        this.#pump();
      });
  }
}
