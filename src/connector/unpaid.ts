// Fulfilled packets not yet covered by a claim, keyed by their executionCondition (hex). The same condition
// can be fulfilled twice (same data), so each key holds a list of amounts.
import { ConnectorError } from './errors.js';

export class UnpaidPackets {
  private readonly byCondition = new Map<string, bigint[]>();
  private sum = 0n;

  get total(): bigint {
    return this.sum;
  }

  get size(): number {
    return this.byCondition.size;
  }

  add(condition: string, amount: bigint): void {
    const list = this.byCondition.get(condition);
    if (list) list.push(amount);
    else this.byCondition.set(condition, [amount]);
    this.sum += amount;
  }

  /** Sum of the listed packets, or throws CLAIM_UNKNOWN_PACKET; changes nothing. */
  sumOf(pays: readonly string[]): bigint {
    const used = new Map<string, number>();
    let total = 0n;
    for (const c of pays) {
      const n = used.get(c) ?? 0;
      const amount = this.byCondition.get(c)?.[n];
      if (amount === undefined) {
        throw new ConnectorError(
          'CLAIM_UNKNOWN_PACKET',
          `claim pays for packet ${c} which was not fulfilled for this peer or is already paid`,
        );
      }
      used.set(c, n + 1);
      total += amount;
    }
    return total;
  }

  /** Removes the listed packets (throws, changing nothing, if one is unknown) and returns their sum. */
  take(pays: readonly string[]): bigint {
    return this.takeEach(pays).reduce((a, b) => a + b, 0n);
  }

  /** Like take, but returns each packet's amount in the order listed. */
  takeEach(pays: readonly string[]): bigint[] {
    this.sumOf(pays);
    const out: bigint[] = [];
    for (const c of pays) {
      const list = this.byCondition.get(c)!;
      const amount = list.shift()!;
      if (list.length === 0) this.byCondition.delete(c);
      this.sum -= amount;
      out.push(amount);
    }
    return out;
  }

  /** Every unpaid packet, oldest first per condition: what a claim covering everything lists. */
  conditions(): string[] {
    const out: string[] = [];
    for (const [c, list] of this.byCondition) for (let i = 0; i < list.length; i++) out.push(c);
    return out;
  }
}
