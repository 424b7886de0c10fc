/** A fixed-size ring of the most recent entries: pushing is O(1) and the oldest entry falls out. */
export class Ring<T> {
  readonly #slots: (T | undefined)[];
  #next = 0;
  #size = 0;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('a ring needs a capacity of at least 1');
    this.#slots = new Array<T | undefined>(capacity).fill(undefined);
  }

  push(entry: T): void {
    this.#slots[this.#next] = entry;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  get size(): number {
    return this.#size;
  }

  /** Newest first. */
  newestFirst(): T[] {
    const result: T[] = [];
    for (let i = 1; i <= this.#size; i++) {
      const entry = this.#slots[(this.#next - i + this.capacity) % this.capacity];
      if (entry !== undefined) result.push(entry);
    }
    return result;
  }
}
