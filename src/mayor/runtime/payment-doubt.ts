// Provider payments in doubt (issue 15). A provider records a requester's payment (earnings.jsonl) before its
// FULFILL goes back over BTP. If the provider dies, or its link to the node drops, before that FULFILL reached the
// node, the record is a payment the node never had: the requester was not charged and will pay again; refusing
// that retry as "already paid" would leave the provider unpaid for a served job while the requester believes it
// paid. So a recorded payment not yet covered by a claim of the node is *in doubt* once the link it was fulfilled
// on is gone (a restart, a BTP disconnect). The node settles the doubt: its claim for the packet (threshold 0, or
// its resync when the link is back) confirms it. When the requester pays the same job again first, the provider
// asks the node (`payment-owed-status`, issue 13) whether it holds the doubtful packets as owed to us: if it does,
// the first payment was real (the requester lost its FULFILL too): the new one is refused as already paid and the
// record is confirmed; if it does not, the record is voided in favour of the new payment; if the node cannot say,
// nothing is voided and the new payment is refused for now (the caller's T00).
// Records are counted per condition, not matched by it: an atomic payment's condition is SHA-256(K) of the sealed
// result (issue 19), the same for every payment of the job, so the requester's re-payment and the doubtful record
// it replaces share one condition (a clear payment's comes from the SPSP secret, new in every run). The node's
// claims and the unpaid packets count them the same way.
import { MAX_OWED_CONDITIONS, type OwedStatus } from '../../connector/owed-message.js';
import type { UnpaidPackets } from '../../connector/unpaid.js';
import type { EarningsLedger, EarningsSummary } from './earnings-ledger.js';

type Recorded = EarningsSummary['jobs'][number];

export interface PaymentDoubts {
  /** Every recorded payment not covered by a claim of the node is in doubt from now (start, link lost). */
  linkLost(): void;
  /** Whether every recorded payment of `from` for `jobId` is in doubt (then a new payment is taken). */
  inDoubt(from: string, jobId: string): boolean;
  /** Whether any recorded payment of `from` for `jobId` is in doubt. */
  anyInDoubt(from: string, jobId: string): boolean;
  /**
   * Asks the node (`ask`) about every doubtful payment of `from` for `jobId`: the ones it holds are confirmed, the
   * others voided. Afterwards the ledger's amount for the job is what the node has (or claimed). Throws, changing
   * nothing, when the node cannot answer; leaves doubt when there are more than one request can ask about.
   */
  settle(from: string, jobId: string, ask: (conditions: string[]) => Promise<OwedStatus>): Promise<void>;
  /**
   * The requester paid `jobId` again, and that payment was just recorded under `condition`: void the earlier
   * doubtful payments (ledger and unpaid packets), never the new one. Returns the sum voided.
   */
  supersede(from: string, jobId: string, condition: string): bigint;
  /**
   * Asks the node (`ask`: a `payment-owed-status` request) about the doubtful payments of `from` for `jobId`:
   * 'paid' when it holds one as owed to us (those are confirmed, the doubtful ones it does not hold are voided),
   * 'take' when it holds none (the new payment is taken; `supersede` then voids them). Throws, changing nothing,
   * when the node cannot answer.
   */
  askNode(
    from: string,
    jobId: string,
    ask: (conditions: string[]) => Promise<OwedStatus>,
  ): Promise<'paid' | 'take'>;
}

export function paymentDoubts(ledger: EarningsLedger, unpaid: UnpaidPackets): PaymentDoubts {
  const doubtful = new Set<string>();
  /** Unpaid packets per condition. */
  const unclaimed = () => {
    const n = new Map<string, number>();
    for (const p of unpaid.entries()) n.set(p.condition, (n.get(p.condition) ?? 0) + 1);
    return n;
  };
  const recorded = (from: string, jobId: string) =>
    ledger.summary().jobs.filter((j) => j.requester === from && j.jobId === jobId);
  const linkLost = () => {
    for (const p of unpaid.entries()) doubtful.add(p.condition);
  };
  linkLost();
  /**
   * The records in doubt among `records`: a doubtful condition's unclaimed packets, oldest records first (a claim
   * of the node pays a condition's oldest packet, and every record of one condition is alike).
   */
  const doubtfulAmong = (records: Recorded[], open: Map<string, number>) => {
    const left = new Map(open);
    const out: Recorded[] = [];
    for (const j of records.slice().reverse()) {
      const n = left.get(j.condition) ?? 0;
      if (!doubtful.has(j.condition) || n === 0) continue;
      left.set(j.condition, n - 1);
      out.unshift(j);
    }
    return out;
  };
  const inDoubt = (from: string, jobId: string) => {
    const all = recorded(from, jobId);
    return all.length > 0 && doubtfulAmong(all, unclaimed()).length === all.length;
  };
  const voidRecord = (j: Recorded) => {
    unpaid.take([j.condition]);
    ledger.void(j.condition, j.amount, j.jobId, j.requester);
  };
  /**
   * Voids the doubtful records of the job the node does not hold (`owed`: its answer about `all`, of which `asked`
   * were asked) and confirms the ones it holds.
   */
  const apply = (
    from: string,
    jobId: string,
    all: Recorded[],
    asked: Recorded[],
    owed: OwedStatus['owed'],
  ) => {
    const held = new Map<string, number>();
    for (const p of owed) held.set(p.condition, (held.get(p.condition) ?? 0) + 1);
    // Only when every doubtful record was asked about (at most MAX_OWED_CONDITIONS): a count is then exact. Read
    // again after the round trip: a claim of the node may have settled some meanwhile.
    const askedOf = new Set(all.length === asked.length ? asked.map((j) => j.condition) : []);
    for (const j of doubtfulAmong(recorded(from, jobId), unclaimed()).reverse()) {
      if (!askedOf.has(j.condition)) continue;
      const n = held.get(j.condition) ?? 0;
      if (n > 0) held.set(j.condition, n - 1);
      else voidRecord(j); // the node holds fewer packets of this condition than we recorded: never reached it
    }
    for (const p of owed) doubtful.delete(p.condition);
  };
  return {
    linkLost,
    async askNode(from, jobId, ask) {
      const all = doubtfulAmong(recorded(from, jobId), unclaimed());
      const asked = all.slice(-MAX_OWED_CONDITIONS);
      if (asked.length === 0) return 'take';
      const { owed } = await ask(asked.map((j) => j.condition));
      // A claim of the node accepted during the round trip confirms a payment just as well.
      if (owed.length === 0) return inDoubt(from, jobId) ? 'take' : 'paid';
      apply(from, jobId, all, asked, owed);
      return 'paid';
    },
    async settle(from, jobId, ask) {
      const all = doubtfulAmong(recorded(from, jobId), unclaimed());
      const asked = all.slice(-MAX_OWED_CONDITIONS);
      if (asked.length === 0) return;
      const { owed } = await ask(asked.map((j) => j.condition));
      apply(from, jobId, all, asked, owed);
    },
    anyInDoubt: (from, jobId) => doubtfulAmong(recorded(from, jobId), unclaimed()).length > 0,
    inDoubt,
    supersede(from, jobId, condition) {
      const earlier = recorded(from, jobId);
      // The newest record under `condition` is the payment just taken: it and its unpaid packet stay.
      const newest = earlier.map((j) => j.condition).lastIndexOf(condition);
      if (newest >= 0) earlier.splice(newest, 1);
      const open = unclaimed();
      const n = open.get(condition) ?? 0;
      if (n > 0) open.set(condition, n - 1);
      let voided = 0n;
      for (const j of doubtfulAmong(earlier, open)) {
        voidRecord(j);
        voided += j.amount;
      }
      const left = unclaimed();
      for (const c of [...doubtful]) if (!left.has(c)) doubtful.delete(c);
      // Whatever is still unpaid under `condition` is the new payment, fulfilled on a live link: not in doubt.
      doubtful.delete(condition);
      return voided;
    },
  };
}
