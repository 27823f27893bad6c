// Packets per second per peer: a token bucket refilled continuously, burst of two seconds' worth.
import { IlpError, IlpErrorCode } from '../../ilp/errors.js';
import type { Middleware } from '../pipeline.js';

interface Bucket {
  tokens: number;
  at: number;
}

export function rateLimit(opts: {
  perSecondFor: (peerId: string) => number | undefined;
  now: () => number;
}): Middleware {
  const buckets = new Map<string, Bucket>();
  return (ctx, next) => {
    const rate = opts.perSecondFor(ctx.fromPeer);
    if (rate === undefined) return next();
    const now = opts.now();
    const capacity = Math.max(1, rate * 2);
    const b = buckets.get(ctx.fromPeer) ?? { tokens: capacity, at: now };
    b.tokens = Math.min(capacity, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    buckets.set(ctx.fromPeer, b);
    if (b.tokens < 1) {
      throw new IlpError(
        IlpErrorCode.T05_RATE_LIMITED,
        `rate limited: at most ${rate} packets per second from this peer; retry shortly`,
      );
    }
    b.tokens -= 1;
    return next();
  };
}
