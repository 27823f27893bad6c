// Provider payments in doubt (issue 15) under both payment modes (issue 19), on a real earnings.jsonl in a
// temporary directory, reopened as a restarted provider would. A clear payment's condition comes from the SPSP
// secret, new in every run, so a requester's re-payment after a provider crash carries a new condition; an atomic
// payment's condition is SHA-256(K) of the sealed result, durable, so the re-payment carries the SAME condition
// as the doubtful record it replaces. Voiding "the doubtful records of the job" must not void the new one too.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UnpaidPackets } from '../../../src/connector/unpaid.js';
import { EarningsLedger } from '../../../src/mayor/runtime/earnings-ledger.js';
import { paymentDoubts } from '../../../src/mayor/runtime/payment-doubt.js';

const PRICE = 2n * 10n ** 15n;
const ALPHA = 'a'.repeat(64);
const JOB = 'b'.repeat(64);
const SEALED = 'c1'.repeat(32);
const open: EarningsLedger[] = [];

afterEach(() => {
  for (const l of open.splice(0)) l.close();
});

/** A provider process: the ledger replayed, unpaid packets restored, doubts from the start (as provider-mode does). */
const start = (home: string) => {
  const ledger = EarningsLedger.open(home);
  open.push(ledger);
  const unpaid = new UnpaidPackets(undefined, ledger.unpaid());
  const doubts = paymentDoubts(ledger, unpaid);
  /** provider-mode's onPayment: durable record first, then the earlier doubtful records voided. */
  const pay = (condition: string) => {
    ledger.owe(condition, PRICE, JOB, ALPHA);
    unpaid.add(condition, PRICE);
    return doubts.supersede(ALPHA, JOB, condition);
  };
  return { ledger, unpaid, doubts, pay };
};
const books = (home: string) => {
  const l = EarningsLedger.open(home);
  try {
    return l.summary();
  } finally {
    l.close();
  }
};

describe('payments in doubt', () => {
  for (const [mode, first, second] of [
    ['atomic (same condition)', SEALED, SEALED],
    ['after-result (new condition)', 'd1'.repeat(32), 'd2'.repeat(32)],
  ] as const) {
    it(`${mode}: a re-payment after a crash voids the earlier record and keeps itself`, () => {
      const home = mkdtempSync(join(tmpdir(), 'crosstown-doubt-'));
      // Run 1 records the payment, then dies before its FULFILL reached the node.
      const run1 = start(home);
      expect(run1.doubts.inDoubt(ALPHA, JOB)).toBe(false);
      run1.pay(first);
      run1.ledger.close();
      // Run 2: the record is in doubt; the requester pays again.
      const run2 = start(home);
      expect(run2.doubts.inDoubt(ALPHA, JOB)).toBe(true);
      expect(run2.pay(second)).toBe(PRICE);
      const now = run2.ledger.summary();
      expect(now.earned).toBe(PRICE);
      expect(now.unclaimed).toBe(PRICE);
      expect(now.jobs.map((j) => [j.jobId, j.amount, j.condition])).toEqual([[JOB, PRICE, second]]);
      expect(run2.unpaid.entries()).toEqual([{ condition: second, amount: PRICE }]);
      // The new payment's FULFILL went back on a live link: it is not in doubt, a third payment is refused.
      expect(run2.doubts.inDoubt(ALPHA, JOB)).toBe(false);
      run2.ledger.close();
      // What the next start reads agrees.
      const after = books(home);
      expect(after.earned).toBe(PRICE);
      expect(after.jobs).toHaveLength(1);
    });
  }

  it('atomic: a crash between the new record and the void leaves both in doubt; the next payment keeps one', () => {
    const home = mkdtempSync(join(tmpdir(), 'crosstown-doubt-'));
    const run1 = start(home);
    run1.pay(SEALED);
    run1.ledger.close();
    // Run 2 records the re-payment and dies before it voids the first record (and before the FULFILL).
    const run2 = start(home);
    run2.ledger.owe(SEALED, PRICE, JOB, ALPHA);
    run2.ledger.close();
    const run3 = start(home);
    expect(run3.doubts.inDoubt(ALPHA, JOB)).toBe(true);
    expect(run3.pay(SEALED)).toBe(2n * PRICE);
    const now = run3.ledger.summary();
    expect(now.earned).toBe(PRICE);
    expect(now.jobs).toHaveLength(1);
    expect(run3.unpaid.total).toBe(PRICE);
  });

  it('a BTP disconnect in one run: the re-payment under the same condition (same SPSP secret) keeps one record', () => {
    const home = mkdtempSync(join(tmpdir(), 'crosstown-doubt-'));
    const run = start(home);
    const condition = 'd3'.repeat(32);
    run.pay(condition);
    // Fulfilled on a live link: a second payment is a duplicate, not a doubt.
    expect(run.doubts.inDoubt(ALPHA, JOB)).toBe(false);
    run.doubts.linkLost();
    expect(run.doubts.inDoubt(ALPHA, JOB)).toBe(true);
    expect(run.pay(condition)).toBe(PRICE);
    expect(run.ledger.summary().earned).toBe(PRICE);
    expect(run.unpaid.total).toBe(PRICE);
    expect(run.doubts.inDoubt(ALPHA, JOB)).toBe(false);
  });

  it('a payment the node claimed is not in doubt after a restart, in either mode', () => {
    const home = mkdtempSync(join(tmpdir(), 'crosstown-doubt-'));
    const run1 = start(home);
    run1.pay(SEALED);
    run1.ledger.accepted(
      { channelId: `0x${'e'.repeat(64)}`, cumulativeAmount: PRICE, signature: `0x${'f'.repeat(130)}` },
      [SEALED],
    );
    run1.ledger.close();
    const run2 = start(home);
    expect(run2.doubts.inDoubt(ALPHA, JOB)).toBe(false);
  });

  it('atomic: the node claimed the first of two records of one condition: not every record is in doubt', () => {
    // Two records under the sealed condition (a crash between the re-payment's record and its void), and the
    // node's claim covering one of them: one payment of the job is confirmed, so a new payment is not taken.
    const home = mkdtempSync(join(tmpdir(), 'crosstown-doubt-'));
    const run1 = start(home);
    run1.ledger.owe(SEALED, PRICE, JOB, ALPHA);
    run1.ledger.owe(SEALED, PRICE, JOB, ALPHA);
    run1.ledger.accepted(
      { channelId: `0x${'e'.repeat(64)}`, cumulativeAmount: PRICE, signature: `0x${'f'.repeat(130)}` },
      [SEALED],
    );
    run1.ledger.close();
    const run2 = start(home);
    expect(run2.doubts.inDoubt(ALPHA, JOB)).toBe(false);
  });
});
