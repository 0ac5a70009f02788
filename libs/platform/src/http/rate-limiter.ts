const MINUTE_MS = 60_000;
/** A flood from many addresses evicts the oldest clients instead of growing without bound. */
const DEFAULT_MAX_CLIENTS = 100_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** `blocked`: the indexes of the keys that had no token left. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number; blocked: number[] };

/**
 * A token bucket per client key: a client may burst `perMinute` requests, then gets one more every
 * 60/perMinute seconds. A request is counted only when every key it is charged to has a token.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly tokensPerMs: number;

  constructor(
    readonly perMinute: number,
    private readonly maxClients = DEFAULT_MAX_CLIENTS,
  ) {
    this.tokensPerMs = perMinute / MINUTE_MS;
  }

  take(keys: readonly string[], now: number): RateDecision {
    const buckets = keys.map((key) => this.refilled(key, now));
    const blocked = buckets.flatMap((bucket, index) => (bucket.tokens < 1 ? [index] : []));
    if (blocked.length > 0) {
      const lowest = Math.min(...buckets.map((bucket) => bucket.tokens));
      return { allowed: false, retryAfterMs: Math.ceil((1 - lowest) / this.tokensPerMs), blocked };
    }
    for (const bucket of buckets) bucket.tokens -= 1;
    return { allowed: true };
  }

  /** Forgets clients whose bucket has refilled: they would start full anyway. */
  sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.tokensPerMs >= this.perMinute) {
        this.buckets.delete(key);
      }
    }
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxClients) this.evictOldest();
      bucket = { tokens: this.perMinute, updatedAt: now };
      this.buckets.set(key, bucket);
      return bucket;
    }
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + elapsed * this.tokensPerMs);
    bucket.updatedAt = now;
    return bucket;
  }

  private evictOldest(): void {
    const oldest = this.buckets.keys().next();
    if (oldest.done !== true) this.buckets.delete(oldest.value);
  }
}
