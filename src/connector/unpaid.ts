// Fulfilled packets not yet covered by a claim, keyed by their executionCondition (hex). The same condition
// can be fulfilled twice (same data), so each key holds a list of amounts; its fulfillment (one per condition) is kept
// beside them while any is unpaid, when it was given: the proof a payer that lost the packet's answer asks for.
import { ConnectorError } from './errors.js';
import type { UnpaidPacket } from './store.js';

export class UnpaidPackets {
  private readonly byCondition = new Map<string, bigint[]>();
  private readonly fulfillments = new Map<string, string>();
  private sum = 0n;

  /**
   * @param onAdd runs before a packet is added (e.g. a durable write); if it throws, or the promise it returns
   *   rejects, nothing is added. A returned promise delays the add until it resolves (group-committed stores).
   * @param initial packets to start with (restored from a store), not passed to onAdd.
   */
  constructor(
    private readonly onAdd?: (
      condition: string,
      amount: bigint,
      fulfillment?: string,
    ) => void | Promise<void>,
    initial: readonly UnpaidPacket[] = [],
  ) {
    for (const p of initial) this.push(p.condition, p.amount, p.fulfillment);
  }

  get total(): bigint {
    return this.sum;
  }

  get size(): number {
    return this.byCondition.size;
  }

  /**
   * Records then adds the packet. Returns a promise when the record is asynchronous: the packet counts (and a claim
   * may pay it) only once that resolves, so await it before acting on the packet (e.g. sending its FULFILL).
   */
  add(condition: string, amount: bigint, fulfillment?: string): Promise<void> | undefined {
    const recording = this.onAdd?.(condition, amount, fulfillment);
    if (recording) return recording.then(() => this.push(condition, amount, fulfillment));
    this.push(condition, amount, fulfillment);
    return undefined;
  }

  /** Puts back a packet taken from this ledger (e.g. its claim failed): it was recorded already, so no onAdd. */
  putBack(condition: string, amount: bigint, fulfillment?: string): void {
    this.push(condition, amount, fulfillment);
  }

  /** The fulfillment kept for an unpaid packet of this condition, if one was given. */
  fulfillmentOf(condition: string): string | undefined {
    return this.fulfillments.get(condition);
  }

  /** Every unpaid packet with its amount (and fulfillment when kept), oldest first per condition. */
  entries(): UnpaidPacket[] {
    const out: UnpaidPacket[] = [];
    for (const [condition, list] of this.byCondition) {
      const fulfillment = this.fulfillments.get(condition);
      for (const amount of list)
        out.push({ condition, amount, ...(fulfillment !== undefined && { fulfillment }) });
    }
    return out;
  }

  /**
   * Adds the packets of `others` this ledger lacks: per condition, the ones beyond the count already held.
   * Used when the payee tells a payer that lost its memory what it still owes. Returns the amount added.
   */
  async merge(others: readonly UnpaidPacket[]): Promise<bigint> {
    let added = 0n;
    for (const p of this.missing(others)) {
      await this.add(p.condition, p.amount, p.fulfillment);
      added += p.amount;
    }
    return added;
  }

  /** The packets of `others` this ledger lacks: per condition, the ones beyond the count already held. */
  missing(others: readonly UnpaidPacket[]): UnpaidPacket[] {
    const seen = new Map<string, number>();
    const out: UnpaidPacket[] = [];
    for (const p of others) {
      const n = (seen.get(p.condition) ?? 0) + 1;
      seen.set(p.condition, n);
      if (n > (this.byCondition.get(p.condition)?.length ?? 0)) out.push(p);
    }
    return out;
  }

  private push(condition: string, amount: bigint, fulfillment?: string): void {
    const list = this.byCondition.get(condition);
    if (list) list.push(amount);
    else this.byCondition.set(condition, [amount]);
    if (fulfillment !== undefined) this.fulfillments.set(condition, fulfillment);
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
      if (list.length === 0) {
        this.byCondition.delete(c);
        this.fulfillments.delete(c);
      }
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

/** The packets of `packets` left once each packet of `minus` cancels one equal packet (condition and amount). */
export function packetsWithout<P extends UnpaidPacket>(
  packets: readonly P[],
  minus: readonly UnpaidPacket[] = [],
): P[] {
  const key = (p: UnpaidPacket) => `${p.condition}:${p.amount}`;
  const left = new Map<string, number>();
  for (const p of minus) left.set(key(p), (left.get(key(p)) ?? 0) + 1);
  return packets.filter((p) => {
    const n = left.get(key(p)) ?? 0;
    if (n > 0) left.set(key(p), n - 1);
    return n === 0;
  });
}
