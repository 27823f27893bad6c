// Jobs whose charged result went out and is not paid for yet, per requester. Each cost the provider paid writes
// (`processing`, the result) before any payment, so a requester that never pays is bounded by
// ProviderPolicy.maxUnpaidJobs (the jobs running meanwhile are bounded by the pool). In memory: a restart forgets
// them (not the requester's debt, only this bound).

export class UnpaidJobs {
  private readonly requesterOf = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  /** How many results of `requester` are not paid for. */
  of(requester: string): number {
    return this.counts.get(requester) ?? 0;
  }

  /** A charged result goes out: it counts until it is paid for. */
  add(jobId: string, requester: string): void {
    if (this.requesterOf.has(jobId)) return;
    this.requesterOf.set(jobId, requester);
    this.counts.set(requester, this.of(requester) + 1);
  }

  /** The job was paid for, or its result never went out: it no longer counts. */
  settle(jobId: string): void {
    const requester = this.requesterOf.get(jobId);
    if (requester === undefined) return;
    this.requesterOf.delete(jobId);
    const n = this.of(requester) - 1;
    if (n > 0) this.counts.set(requester, n);
    else this.counts.delete(requester);
  }
}
