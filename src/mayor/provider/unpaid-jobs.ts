// Results a requester asked this provider for (its job named us) whose price it has not paid yet. Each cost the
// provider paid writes (`processing`, the result) before any payment, so a requester that does not pay is bounded by
// ProviderPolicy.maxUnpaidJobs (the jobs running meanwhile are bounded by the pool). A public job is not counted: the
// requester pays the result it takes, and the others that raced for it are their providers' own risk. A result older
// than `maxAgeMs` no longer counts (a requester whose job timed out before it came never pays it). In memory: a
// restart forgets them (not the requester's debt, only this bound).

interface Due {
  requester: string;
  /** What is left to pay of its price. */
  left: bigint;
  at: number;
}

export class UnpaidJobs {
  private readonly jobs = new Map<string, Due>();
  private readonly byRequester = new Map<string, Set<string>>();

  constructor(
    private readonly maxAgeMs = 3_600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** How many results of `requester` are not paid for (and not older than maxAgeMs). */
  of(requester: string): number {
    const ids = this.byRequester.get(requester);
    if (!ids) return 0;
    const oldest = this.now() - this.maxAgeMs;
    for (const id of ids) if (this.jobs.get(id)!.at < oldest) this.drop(id);
    return this.byRequester.get(requester)?.size ?? 0;
  }

  /** A charged result of `price` goes out: it counts until payments of the job cover its price. */
  add(jobId: string, requester: string, price: bigint): void {
    if (this.jobs.has(jobId) || price <= 0n) return;
    this.jobs.set(jobId, { requester, left: price, at: this.now() });
    const ids = this.byRequester.get(requester) ?? new Set<string>();
    ids.add(jobId);
    this.byRequester.set(requester, ids);
  }

  /** A payment of `amount` for the job came (from anyone). */
  paid(jobId: string, amount: bigint): void {
    const due = this.jobs.get(jobId);
    if (!due) return;
    due.left -= amount;
    if (due.left <= 0n) this.drop(jobId);
  }

  /** Its result never went out: nothing to pay. */
  drop(jobId: string): void {
    const due = this.jobs.get(jobId);
    if (!due) return;
    this.jobs.delete(jobId);
    const ids = this.byRequester.get(due.requester)!;
    ids.delete(jobId);
    if (ids.size === 0) this.byRequester.delete(due.requester);
  }
}
