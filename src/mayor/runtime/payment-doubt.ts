// Provider payments in doubt (issue 15). A provider records a requester's payment (earnings.jsonl) before its
// FULFILL goes back over BTP. If the provider dies, or its link to the node drops, before that FULFILL reached the
// node, the record is a payment the node never had: the requester was not charged and will pay again; refusing
// that retry as "already paid" would leave the provider unpaid for a served job while the requester believes it
// paid. So a recorded payment not yet covered by a claim of the node is *in doubt* once the link it was fulfilled
// on is gone (a restart, a BTP disconnect). The node settles the doubt: its claim for the packet (threshold 0, or
// its resync when the link is back) confirms it; a new payment by the requester for the same job proves the node
// never had it, and the doubtful record is voided in favour of the new one.
import type { UnpaidPackets } from '../../connector/unpaid.js';
import type { EarningsLedger } from './earnings-ledger.js';

export interface PaymentDoubts {
  /** Every recorded payment not covered by a claim of the node is in doubt from now (start, link lost). */
  linkLost(): void;
  /** Whether every recorded payment of `from` for `jobId` is in doubt (then a new payment is taken). */
  inDoubt(from: string, jobId: string): boolean;
  /** The requester paid `jobId` again: void its doubtful payments (ledger and unpaid packets). Returns the sum. */
  supersede(from: string, jobId: string): bigint;
}

export function paymentDoubts(ledger: EarningsLedger, unpaid: UnpaidPackets): PaymentDoubts {
  const doubtful = new Set<string>();
  const unclaimed = () => new Set(unpaid.entries().map((p) => p.condition));
  const recorded = (from: string, jobId: string) =>
    ledger.summary().jobs.filter((j) => j.requester === from && j.jobId === jobId);
  const linkLost = () => {
    for (const p of unpaid.entries()) doubtful.add(p.condition);
  };
  linkLost();
  const doubtfulOf = (from: string, jobId: string) => {
    const open = unclaimed();
    return recorded(from, jobId).filter((j) => doubtful.has(j.condition) && open.has(j.condition));
  };
  return {
    linkLost,
    inDoubt(from, jobId) {
      const all = recorded(from, jobId);
      return all.length > 0 && doubtfulOf(from, jobId).length === all.length;
    },
    supersede(from, jobId) {
      let voided = 0n;
      for (const j of doubtfulOf(from, jobId)) {
        unpaid.take([j.condition]);
        ledger.void(j.condition, j.amount, jobId, from);
        doubtful.delete(j.condition);
        voided += j.amount;
      }
      return voided;
    },
  };
}
