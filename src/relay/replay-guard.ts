// Conditions of PREPAREs already served, remembered until the PREPARE expires (after that the gate refuses it
// as expired anyway). Bounded: entries past their expiry are dropped as new ones come in.
export class ReplayGuard {
  private readonly until = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  has(condition: Uint8Array, nowMs: number): boolean {
    const key = Buffer.from(condition).toString('hex');
    const expiry = this.until.get(key);
    return expiry !== undefined && expiry > nowMs;
  }

  add(condition: Uint8Array, expiresAtMs: number, nowMs: number): void {
    this.prune(nowMs);
    this.until.set(Buffer.from(condition).toString('hex'), expiresAtMs);
  }

  delete(condition: Uint8Array): void {
    this.until.delete(Buffer.from(condition).toString('hex'));
  }

  private prune(nowMs: number): void {
    for (const [key, expiry] of this.until) {
      // Oldest first (insertion order); stop at the first live entry unless over the bound.
      if (expiry > nowMs && this.until.size < this.maxEntries) return;
      this.until.delete(key);
    }
  }
}
