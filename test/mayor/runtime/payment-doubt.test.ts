// Provider payments in doubt (issue 15) under both payment modes (issue 19), on a real earnings.jsonl in a
// temporary directory, reopened as a restarted provider would. A clear payment's condition comes from the SPSP
// secret, new in every run, so a requester's re-payment after a provider crash carries a new condition; an atomic
// payment's condition is SHA-256(K) of the sealed result, durable, so the re-payment carries the SAME condition
// as the doubtful record it replaces. Voiding "the doubtful records of the job" must not void the new one too.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BtpClient } from '../../../src/connector/btp-client.js';
import { BtpServer } from '../../../src/connector/btp-server.js';
import type { BtpSessionHandlers } from '../../../src/connector/btp-session.js';
import { ConnectorError } from '../../../src/connector/errors.js';
import type { OwedStatus } from '../../../src/connector/owed-message.js';
import { UnpaidPackets } from '../../../src/connector/unpaid.js';
import { conditionOf, deriveFulfillment } from '../../../src/ilp/fulfillment.js';
import { IlpPacketType } from '../../../src/ilp/types.js';
import { EarningsLedger } from '../../../src/mayor/runtime/earnings-ledger.js';
import { paymentDoubts } from '../../../src/mayor/runtime/payment-doubt.js';
import { owedQueryTimeout } from '../../../src/mayor/runtime/provider-mode.js';
import { createProviderSpsp, paymentData } from '../../../src/mayor/runtime/provider-spsp.js';
import { generateSecretKey, getPublicKey } from '../../../src/nostr/keys.js';
import { buildSpspRequest, parseSpspResponse } from '../../../src/nostr/spsp.js';
import { UNDIALLED_SPSP } from '../provider/helpers.js';

const PRICE = 2n * 10n ** 15n;
const ALPHA = 'a'.repeat(64);
const JOB = 'b'.repeat(64);
const SEALED = 'c1'.repeat(32);
const open: EarningsLedger[] = [];

const stops: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const l of open.splice(0)) l.close();
  for (const s of stops.splice(0).reverse()) await s().catch(() => {});
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

/** What the node answers: the packets it holds as owed to us among those asked (issue 13). */
const nodeHolding =
  (held: string[]) =>
  async (asked: string[]): Promise<OwedStatus> => {
    const left = [...held];
    const owed = [];
    for (const c of asked) {
      const i = left.indexOf(c);
      if (i >= 0) owed.push({ condition: left.splice(i, 1)[0]!, amount: PRICE });
    }
    return { owed };
  };

describe('payments in doubt: asking the node (issue 13)', () => {
  it('the node holds the doubtful packet: paid, the record is confirmed and kept', async () => {
    const home = mkdtempSync(join(tmpdir(), 'crosstown-doubt-'));
    start(home).pay(SEALED);
    const run2 = start(home);
    expect(run2.doubts.inDoubt(ALPHA, JOB)).toBe(true);
    const asked: string[][] = [];
    const ask = async (c: string[]) => {
      asked.push(c);
      return nodeHolding([SEALED])(c);
    };
    expect(await run2.doubts.askNode(ALPHA, JOB, ask)).toBe('paid');
    expect(asked).toEqual([[SEALED]]);
    expect(run2.doubts.inDoubt(ALPHA, JOB)).toBe(false);
    expect(run2.ledger.summary()).toMatchObject({ earned: PRICE, unclaimed: PRICE });
    expect(run2.unpaid.entries()).toEqual([{ condition: SEALED, amount: PRICE }]);
  });

  it('two records under one condition, the node holds one: paid, and the one it never had is voided', async () => {
    const home = mkdtempSync(join(tmpdir(), 'crosstown-doubt-'));
    const run1 = start(home);
    run1.ledger.owe(SEALED, PRICE, JOB, ALPHA);
    run1.ledger.owe(SEALED, PRICE, JOB, ALPHA);
    run1.ledger.close();
    const run2 = start(home);
    expect(await run2.doubts.askNode(ALPHA, JOB, nodeHolding([SEALED]))).toBe('paid');
    expect(run2.ledger.summary()).toMatchObject({ earned: PRICE, unclaimed: PRICE });
    expect(run2.unpaid.total).toBe(PRICE);
    expect(books(home).jobs).toHaveLength(1);
  });

  it('the node holds none: take (supersede then voids the record), nothing voided by the question', async () => {
    const home = mkdtempSync(join(tmpdir(), 'crosstown-doubt-'));
    start(home).pay('d1'.repeat(32));
    const run2 = start(home);
    expect(await run2.doubts.askNode(ALPHA, JOB, nodeHolding([]))).toBe('take');
    expect(run2.ledger.summary().earned).toBe(PRICE);
    expect(run2.pay('d2'.repeat(32))).toBe(PRICE);
    expect(run2.ledger.summary().jobs.map((j) => j.condition)).toEqual(['d2'.repeat(32)]);
  });

  it('the node cannot answer: the question throws and nothing changes', async () => {
    const home = mkdtempSync(join(tmpdir(), 'crosstown-doubt-'));
    start(home).pay(SEALED);
    const run2 = start(home);
    const down = () => Promise.reject(new ConnectorError('BTP_TIMEOUT', 'no BTP response within 5000 ms'));
    await expect(run2.doubts.askNode(ALPHA, JOB, down)).rejects.toThrow(/no BTP response/);
    expect(run2.doubts.inDoubt(ALPHA, JOB)).toBe(true);
    expect(run2.ledger.summary()).toMatchObject({ earned: PRICE, unclaimed: PRICE });
    expect(run2.unpaid.total).toBe(PRICE);
  });
});

describe('a provider asking a node over BTP before it takes a re-payment (issue 13)', () => {
  const providerSk = generateSecretKey();
  const requesterSk = generateSecretKey();
  const job = 'e5'.repeat(32);

  /** A node endpoint on 127.0.0.1 (real BTP server and client) answering with `handlers`. */
  async function nodeLink(handlers: BtpSessionHandlers) {
    const server = await BtpServer.start({
      port: 0,
      host: '127.0.0.1',
      authenticate: (t) => (t === 'token' ? 'provider' : undefined),
      handlersFor: () => handlers,
    });
    stops.push(() => server.close());
    const client = await BtpClient.connect({ url: server.url, authToken: 'token' });
    stops.push(() => client.close());
    return client;
  }

  /** Provider mode's composition: ledger, doubts, SPSP responder asking the node through `link`. */
  function provider(home: string, link: BtpClient) {
    const { ledger, unpaid, doubts } = start(home);
    const spsp = createProviderSpsp({
      secretKey: providerSk,
      ilpAddress: 'g.node.provider',
      ...UNDIALLED_SPSP,
      paidBefore: (from, jobId) => ledger.paidFor(from, jobId),
      inDoubt: doubts.inDoubt,
      askNode: (from, jobId, prepare) =>
        doubts.askNode(from, jobId, (c) => link.requestOwed(c, owedQueryTimeout(prepare.expiresAt))),
      onPayment: ({ from, amount, prepare }) => {
        const c = Buffer.from(prepare.executionCondition).toString('hex');
        ledger.owe(c, amount, job, from);
        unpaid.add(c, amount);
        doubts.supersede(from, job, c);
      },
    });
    const pay = (expiresInMs = 10_000) => {
      const req = buildSpspRequest(requesterSk, getPublicKey(providerSk), { requestId: `r${Math.random()}` });
      const { response } = parseSpspResponse(spsp.respond(req), requesterSk, req.id);
      const secret = new Uint8Array(Buffer.from(response.sharedSecret, 'base64'));
      return spsp.handlePrepare({
        type: IlpPacketType.Prepare,
        amount: PRICE,
        destination: response.destinationAccount,
        executionCondition: conditionOf(deriveFulfillment(secret, paymentData(job))),
        data: paymentData(job),
        expiresAt: new Date(Date.now() + expiresInMs),
      });
    };
    return { ledger, pay };
  }

  it('an older node that refuses the request: T00, nothing voided; once the node says "not held", taken', async () => {
    const home = mkdtempSync(join(tmpdir(), 'crosstown-doubt-'));
    const old = await nodeLink({});
    const run1 = provider(home, old);
    expect((await run1.pay()).type).toBe(IlpPacketType.Fulfill);
    run1.ledger.close();
    // Restarted: the record is in doubt; the node cannot say whether it has it.
    const run2 = provider(home, old);
    const reply = await run2.pay();
    expect(reply).toMatchObject({ type: IlpPacketType.Reject, code: 'T00' });
    expect(reply.type === IlpPacketType.Reject && reply.message).toMatch(
      /not taken yet: .*could not say .*does not answer payment-owed-status.*retry shortly/,
    );
    expect(run2.ledger.summary()).toMatchObject({ earned: PRICE, unclaimed: PRICE });
    expect(run2.ledger.summary().jobs).toHaveLength(1);
    run2.ledger.close();
    // A node that answers (and does not hold it): the re-payment is taken, the doubtful record voided.
    const run3 = provider(home, await nodeLink({ onOwed: async () => ({ owed: [] }) }));
    expect((await run3.pay()).type).toBe(IlpPacketType.Fulfill);
    expect(run3.ledger.summary()).toMatchObject({ earned: PRICE, unclaimed: PRICE });
    expect(run3.ledger.summary().jobs).toHaveLength(1);
  });

  it('a silent node: T00 once the question times out, nothing voided', async () => {
    const home = mkdtempSync(join(tmpdir(), 'crosstown-doubt-'));
    const silent = await nodeLink({ onOwed: () => new Promise(() => {}) });
    const run1 = provider(home, silent);
    expect((await run1.pay()).type).toBe(IlpPacketType.Fulfill);
    run1.ledger.close();
    const run2 = provider(home, silent);
    // The PREPARE expires in 3 s: the question waits until 2 s before that, so the reject is back in time.
    const started = Date.now();
    const reply = await run2.pay(3_000);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(reply).toMatchObject({ type: IlpPacketType.Reject, code: 'T00' });
    expect(run2.ledger.summary().jobs).toHaveLength(1);
    expect(run2.ledger.summary().earned).toBe(PRICE);
  }, 15_000);
});
