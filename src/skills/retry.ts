import type { DispatchMetadata } from './types.js';

/** One event waiting for another try. JSON-serializable so the caller can persist it (Mayor state repo). */
export interface RetryEntry {
  /** Stable key: the event id when known, else a hash-free counter key the queue assigns. */
  key: string;
  /** The raw TOON text (TOON is UTF-8 text, so the exact bytes round-trip through JSON). */
  toon: string;
  kind: number;
  skill: string;
  /** Tries so far, including the first. */
  attempts: number;
  /** Milliseconds since the epoch. */
  nextAttemptAt: number;
  lastError: string;
  metadata: DispatchMetadata;
}

/** What to persist, and what `RetryQueue.restore` takes back. */
export interface RetryState {
  version: 1;
  pending: RetryEntry[];
  /** Gave up after maxAttempts; kept for the operator, never retried automatically. */
  dead: RetryEntry[];
}

export interface RetryPolicy {
  /** Total tries including the first (default 5). */
  maxAttempts?: number;
  /** Delay before the 2nd try; doubles each time (default 1 s). */
  baseDelayMs?: number;
  /** Cap on the delay (default 5 min). */
  maxDelayMs?: number;
  /** Keep at most this many dead entries, oldest dropped first (default 1000). */
  maxDead?: number;
}

/**
 * In-memory retry queue with exponential backoff. The queue does not persist itself: the Mayor stores
 * `snapshot()` (e.g. on every `onChange`) and passes it to `restore` at start, so nothing is lost in a crash.
 */
export class RetryQueue {
  readonly #pending = new Map<string, RetryEntry>();
  #dead: RetryEntry[] = [];
  readonly #policy: Required<RetryPolicy>;
  #counter = 0;
  /** Called after every change, with the state to persist. */
  onChange?: (state: RetryState) => void;

  constructor(policy: RetryPolicy = {}, state?: RetryState) {
    this.#policy = {
      maxAttempts: policy.maxAttempts ?? 5,
      baseDelayMs: policy.baseDelayMs ?? 1000,
      maxDelayMs: policy.maxDelayMs ?? 5 * 60_000,
      maxDead: policy.maxDead ?? 1000,
    };
    if (state) {
      if (state.version !== 1)
        throw new Error(`retry state version ${String(state.version)} is not supported (expected 1)`);
      for (const entry of state.pending) this.#pending.set(entry.key, { ...entry });
      this.#dead = state.dead.map((e) => ({ ...e }));
    }
  }

  /**
   * Records a failed try. Returns the entry when it will be retried, or undefined when it just died
   * (attempts reached maxAttempts).
   */
  recordFailure(input: {
    toon: string;
    kind: number;
    skill: string;
    error: string;
    metadata: DispatchMetadata;
    /** The try that failed (1 for the first). */
    attempt: number;
    now?: number;
  }): RetryEntry | undefined {
    const now = input.now ?? Date.now();
    const key = input.metadata.eventId ?? `anon-${++this.#counter}-${now}`;
    const entry: RetryEntry = {
      key,
      toon: input.toon,
      kind: input.kind,
      skill: input.skill,
      attempts: input.attempt,
      nextAttemptAt: now + this.delayFor(input.attempt),
      lastError: input.error,
      metadata: input.metadata,
    };
    this.#pending.delete(key);
    if (entry.attempts >= this.#policy.maxAttempts) {
      this.#dead.push(entry);
      if (this.#dead.length > this.#policy.maxDead)
        this.#dead.splice(0, this.#dead.length - this.#policy.maxDead);
      this.#changed();
      return undefined;
    }
    this.#pending.set(key, entry);
    this.#changed();
    return entry;
  }

  /** Backoff after the `attempt`-th failure: base × 2^(attempt-1), capped. */
  delayFor(attempt: number): number {
    return Math.min(this.#policy.maxDelayMs, this.#policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  }

  /** Entries whose time has come, removed from the queue (a failure re-adds them via recordFailure). */
  takeDue(now = Date.now()): RetryEntry[] {
    const due = [...this.#pending.values()].filter((e) => e.nextAttemptAt <= now);
    for (const e of due) this.#pending.delete(e.key);
    if (due.length > 0) this.#changed();
    return due.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
  }

  /** Forget an entry (handled elsewhere, or the operator dropped it). */
  remove(key: string): boolean {
    const removed = this.#pending.delete(key);
    if (removed) this.#changed();
    return removed;
  }

  get size(): number {
    return this.#pending.size;
  }

  snapshot(): RetryState {
    return {
      version: 1,
      pending: [...this.#pending.values()].map((e) => ({ ...e })),
      dead: this.#dead.map((e) => ({ ...e })),
    };
  }

  #changed(): void {
    this.onChange?.(this.snapshot());
  }
}
