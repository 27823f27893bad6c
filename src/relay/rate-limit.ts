import { isIP } from 'node:net';

/** `capacity` actions at once, refilled at `perSecond`. */
export interface RateLimit {
  capacity: number;
  perSecond: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets keyed by a string (a pubkey, a connection id). Buckets that have refilled completely are
 * forgotten when the map grows, so a flood of distinct keys cannot grow memory without bound.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(
    readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Takes one token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const bucket = this.bucketOf(key);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Whether `key` has anything left: for a cost known only afterwards (the time a query took), then `charge`d. */
  available(key: string): boolean {
    return this.bucketOf(key).tokens > 0;
  }

  /** Takes `cost` from `key`; below zero it is a debt (at most one capacity) that refilling pays back first. */
  charge(key: string, cost: number): void {
    const bucket = this.bucketOf(key);
    bucket.tokens = Math.max(-this.limit.capacity, bucket.tokens - cost);
  }

  private bucketOf(key: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.evictFull(now);
      bucket = { tokens: this.limit.capacity, at: now };
      this.buckets.set(key, bucket);
    }
    this.refill(bucket, now);
    return bucket;
  }

  private refill(bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(this.limit.capacity, bucket.tokens + elapsed * this.limit.perSecond);
    bucket.at = now;
  }

  /** Drops the bucket of a key that is gone (a closed connection). */
  forget(key: string): void {
    this.buckets.delete(key);
  }

  private evictFull(now: number): void {
    for (const [key, bucket] of this.buckets) {
      this.refill(bucket, now);
      if (bucket.tokens >= this.limit.capacity) this.buckets.delete(key);
    }
    // Everyone is mid-burst: drop the oldest entry rather than grow.
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
  }
}

/**
 * The key of a client address in the per-IP budgets. An IPv6 host is normally given a whole /64 (2^64 addresses),
 * so counting single IPv6 addresses would give one client as many budgets as it likes: IPv6 counts by /64.
 * IPv4 (and IPv4-mapped IPv6) counts by address.
 */
export function ipBudgetKey(ip: string): string {
  const address = ip
    .trim()
    .toLowerCase()
    .replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = address.split('%')[0]!.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(head);
  // A dotted IPv4 tail (`64:ff9b::192.0.2.1`) only fills the last 32 bits: the /64 never depends on it.
  const right = groups(tail).flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const all =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}
