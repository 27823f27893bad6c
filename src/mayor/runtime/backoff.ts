// Exponential backoff with jitter: reconnects of many Mayors after a relay restart do not arrive in lockstep.

export interface BackoffOptions {
  /** First delay, ms (default 1000). */
  minMs?: number;
  /** Cap, ms (default 30000). */
  maxMs?: number;
  /** Random source in [0, 1) (tests pin it). */
  random?: () => number;
}

/**
 * Delay before attempt `attempt` (0-based): min·2^attempt capped at max, then "equal jitter": a random
 * point in the upper half, so the delay never collapses to zero yet spreads clients out.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const min = options.minMs ?? 1000;
  const max = options.maxMs ?? 30_000;
  const random = options.random ?? Math.random;
  const base = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + (random() * base) / 2);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
