import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SnapshotSchema, type Snapshot } from './records.ts';

const SNAPSHOT_FILE = 'simulator-state.json';

/** Reads the last snapshot from a data directory; `undefined` when there is none yet. */
export async function loadSnapshot(dataDir: string): Promise<Snapshot | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, SNAPSHOT_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`the simulator snapshot in ${dataDir} is not valid JSON; move it away to start fresh`);
  }
  const parsed = SnapshotSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(
      `invalid simulator snapshot in ${dataDir}: ${first ? `${first.path.join('.')}: ${first.message}` : 'unknown'}`,
    );
  }
  return parsed.data;
}

/**
 * Writes snapshots atomically (temp file + rename, so a crash never leaves half a file) and debounced
 * (a burst of changes costs one write), off the request path.
 */
export class SnapshotWriter {
  readonly #dataDir: string;
  readonly #take: () => Snapshot;
  readonly #delayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #sequence = 0;

  readonly #onError: (error: unknown) => void;

  constructor(dataDir: string, take: () => Snapshot, onError: (error: unknown) => void, delayMs = 250) {
    this.#onError = onError;
    this.#dataDir = dataDir;
    this.#take = take;
    this.#delayMs = delayMs;
  }

  schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch((error: unknown) => this.#onError(error));
    }, this.#delayMs);
    this.#timer.unref();
  }

  /** Writes now (used on close) and waits for any write in flight. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const snapshot = this.#take();
    // A failed earlier write must not block later ones; the caller of that flush saw its error.
    this.#writing = this.#writing.catch(() => undefined).then(() => this.#write(snapshot));
    return this.#writing;
  }

  async #write(snapshot: Snapshot): Promise<void> {
    await mkdir(this.#dataDir, { recursive: true });
    const target = join(this.#dataDir, SNAPSHOT_FILE);
    const temp = `${target}.${process.pid}.${++this.#sequence}.tmp`;
    await writeFile(temp, JSON.stringify(snapshot));
    await rename(temp, target);
  }
}
