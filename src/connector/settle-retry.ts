// Claims to a peer that failed in the background (the payee refused or did not answer, the chain could not top up
// the channel, its status did not add up) are tried again, later and later, while the peer is connected and
// something is still owed. Without this, what the node owes waits for the peer's next payment or reconnect,
// which may never come: a provider's earnings would sit unclaimed.

export interface SettleRetryOptions {
  /** Delay before the first retry, ms (default 1000). */
  initialMs?: number;
  /** Longest delay between retries, ms (default 60 000). */
  maxMs?: number;
}

export interface SettleRetryHooks {
  /** Whether the retry is worth trying now: the peer is connected and we owe it something. */
  due(peerId: string): boolean;
  /** One attempt (resync or settle); a rejection schedules the next one. */
  attempt(peerId: string): Promise<unknown>;
  onError(error: unknown, peerId: string): void;
}

export class SettleRetry {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Delay of each peer's next retry: doubles with each failure, back to initialMs after a success. */
  private readonly delays = new Map<string, number>();
  private readonly initialMs: number;
  private readonly maxMs: number;
  private stopped = false;

  constructor(
    private readonly hooks: SettleRetryHooks,
    options: SettleRetryOptions = {},
  ) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = options.maxMs ?? 60_000;
  }

  /** A claim to the peer failed: reports it and tries again later (once; later failures push it further). */
  failed(peerId: string, error: unknown): void {
    this.hooks.onError(error, peerId);
    if (this.stopped || this.timers.has(peerId)) return;
    const delay = this.delays.get(peerId) ?? this.initialMs;
    this.delays.set(peerId, Math.min(delay * 2, this.maxMs));
    const timer = setTimeout(() => {
      this.timers.delete(peerId);
      if (this.stopped || !this.hooks.due(peerId)) return;
      this.hooks.attempt(peerId).then(
        () => this.succeeded(peerId),
        (err: unknown) => this.failed(peerId, err),
      );
    }, delay);
    timer.unref();
    this.timers.set(peerId, timer);
  }

  /** A claim to the peer went through: the next failure starts from the shortest delay again. */
  succeeded(peerId: string): void {
    this.delays.delete(peerId);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
