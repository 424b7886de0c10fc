import { z } from 'zod';

/** How simulated time relates to wall-clock time. */
export const ClockOptionsSchema = z.union([
  z.object({ mode: z.literal('real') }),
  z.object({ mode: z.literal('accelerated'), speed: z.number().positive().max(1_000_000) }),
  z.object({ mode: z.literal('manual'), start: z.date().optional() }),
]);
export type ClockOptions = z.infer<typeof ClockOptionsSchema>;

export type ClockMode = ClockOptions['mode'];

/**
 * Simulated time. In `real` and `accelerated` mode it runs on its own (wall clock × speed); in
 * `manual` mode it only moves when a test calls `advance()`, which makes physics deterministic.
 */
export class SimulatorClock {
  readonly mode: ClockMode;
  #speed: number;
  #anchorSimMs: number;
  #anchorWallMs: number;

  constructor(options: ClockOptions, startMs?: number) {
    this.mode = options.mode;
    this.#speed = options.mode === 'accelerated' ? options.speed : options.mode === 'real' ? 1 : 0;
    const manualStart = options.mode === 'manual' ? options.start?.getTime() : undefined;
    this.#anchorSimMs = manualStart ?? startMs ?? Date.now();
    this.#anchorWallMs = Date.now();
  }

  /** Current simulated time in epoch milliseconds. */
  now(): number {
    if (this.#speed === 0) return this.#anchorSimMs;
    return this.#anchorSimMs + (Date.now() - this.#anchorWallMs) * this.#speed;
  }

  /** Simulated milliseconds per wall-clock millisecond (0 in manual mode). */
  get speed(): number {
    return this.#speed;
  }

  /** Change the speed of an accelerated (or real) clock without a jump in simulated time. */
  setSpeed(speed: number): void {
    if (this.mode === 'manual') throw new Error('a manual clock has no speed; use advance(ms)');
    if (!Number.isFinite(speed) || speed <= 0) throw new Error('speed must be a positive number');
    this.#rebase();
    this.#speed = speed;
  }

  /** Move a manual clock forward. Simulator.clock.advance wraps this and also runs physics. */
  moveForward(ms: number): void {
    if (this.mode !== 'manual') throw new Error('only a manual clock can be advanced by hand');
    if (!Number.isFinite(ms) || ms < 0) throw new Error('advance needs a non-negative number of ms');
    this.#anchorSimMs += ms;
  }

  #rebase(): void {
    const now = this.now();
    this.#anchorSimMs = now;
    this.#anchorWallMs = Date.now();
  }
}
