import { z } from 'zod';

export const RateLimitSchema = z.object({
  /** Requests a client may burst. */
  capacity: z.number().int().positive(),
  /** Tokens refilled per simulated minute. */
  refillPerMinute: z.number().positive(),
});
export type RateLimit = z.infer<typeof RateLimitSchema>;

export const RateLimitsSchema = z.object({
  /** Per application (`RATE_LIMIT:SMARTCAR_API`); Smartcar's default is 120 burst, 2/minute. */
  app: RateLimitSchema.nullable().optional(),
  /** Per vehicle (`RATE_LIMIT:VEHICLE`). */
  vehicle: RateLimitSchema.nullable().optional(),
});
export type RateLimits = z.infer<typeof RateLimitsSchema>;

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets on simulated time; `take` answers how many seconds to wait when empty. */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  #limit: RateLimit | null;

  constructor(limit: RateLimit | null) {
    this.#limit = limit;
  }

  get limit(): RateLimit | null {
    return this.#limit;
  }

  setLimit(limit: RateLimit | null): void {
    this.#limit = limit;
    this.#buckets.clear();
  }

  /** Whether {@link take} would allow a request for `key` now; changes nothing. */
  wouldAllow(key: string, now: number): boolean {
    const limit = this.#limit;
    if (limit === null) return true;
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return limit.capacity >= 1;
    const perMs = limit.refillPerMinute / 60_000;
    return Math.min(limit.capacity, bucket.tokens + Math.max(0, now - bucket.at) * perMs) >= 1;
  }

  /** Takes one token for `key`; returns 0 when allowed, else the seconds until one is available. */
  take(key: string, now: number): number {
    const limit = this.#limit;
    if (limit === null) return 0;
    const perMs = limit.refillPerMinute / 60_000;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: limit.capacity, at: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(limit.capacity, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
  }
}
