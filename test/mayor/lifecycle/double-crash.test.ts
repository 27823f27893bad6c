// Issue 13, the double-crash window of payments in doubt, on a real anvil, a real node (its BTP server, SQLite
// books, claims) and real BTP links: a provider as provider mode composes it (SPSP responder, earnings.jsonl,
// payment-doubt.ts asking the node with `payment-owed-status`) and a requester that pays it through the node.
// The requester paying a job a second time is what a requester that lost the first FULFILL (killed before it
// recorded it) sends; it is sent directly here rather than by killing a requester Mayor.
//   - The node got the provider's FULFILL and its claim is held back (in flight, the provider restarts): the
//     provider's record is in doubt. Before the fix the requester's second payment was taken and the first record
//     voided: charged twice, and the node's later claim for the first packet refused (owed forever).
//   - The provider died before its FULFILL reached the node: the node holds nothing; the second payment is taken.
//   - A peer asking about another peer's packets learns nothing; bad requests get a clear BTP error; the node
//     budgets the requests per peer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, startDevChain } from '../../../src/chain/index.js';
import { OWED_PROTOCOL } from '../../../src/connector/owed-message.js';
import { BtpContentType } from '../../../src/ilp/btp.js';
import { IlpPacketType } from '../../../src/ilp/index.js';
import type { Attachment } from '../../../src/mayor/runtime/index.js';
import { isAlreadyPaid } from '../../../src/mayor/runtime/provider-spsp.js';
import { createLogger, type RunningNode, startNode } from '../../../src/node/index.js';
import { generateSecretKey } from '../../../src/nostr/index.js';
import { testNodeConfig } from '../../support/node-config.js';
import { providerHarness } from '../provider-earnings-harness.js';

const PRICE = 2n * 10n ** 15n;
let chain: DevChain;
let dir: string;
let node: RunningNode;
let payer: Attachment;
const closers: (() => Promise<unknown>)[] = [];
const payerSk = generateSecretKey();
const harness = providerHarness(() => ({ chain, node }), closers);

beforeAll(async () => {
  chain = await startDevChain({ accounts: 5 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-double-crash-'));
  node = await startNode(testNodeConfig(chain, join(dir, 'node')), {
    logger: createLogger({ write: () => {} }),
  });
  payer = (await harness.attachAs(payerSk, 3)).att;
}, 60_000);

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  await node?.stop();
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, what: string, ms = 15_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const peerOf = (att: Attachment) => att.spsp.ilpAddress.split('.').at(-1)!;
/** What the node charged the requester so far (owed or paid by claims). */
const charged = () => {
  const b = node.connector.balance(peerOf(payer));
  return b.owedByPeer + b.paidByPeer;
};
/** What the node owes or paid a provider. */
const forProvider = (att: Attachment) => {
  const b = node.connector.balance(peerOf(att));
  return { total: b.owedToPeer + b.paidToPeer, owed: b.owedToPeer, paid: b.paidToPeer };
};

describe('payments in doubt after two crashes (issue 13)', () => {
  it('the node holds the first payment: the second is refused as already paid, charged once, claim accepted', async () => {
    const sk = generateSecretKey();
    const home = join(dir, 'provider-held');
    const job = 'a1'.repeat(32);
    const before = charged();
    let provider = await harness.startProvider({ sk, account: 2, home, doubts: true, holdClaims: true });
    const first = await harness.payFor(payer, payerSk, provider.spsp, PRICE, job, sk);
    expect(first.type).toBe(IlpPacketType.Fulfill);
    expect(charged() - before).toBe(PRICE);
    // The node's claim for it is held back; the provider restarts: its record is in doubt.
    await provider.stop();
    provider = await harness.startProvider({ sk, account: 2, home, doubts: true, holdClaims: true });
    expect(provider.earnings.ledger.summary()).toMatchObject({ earned: PRICE, unclaimed: PRICE });
    const x = provider.earnings.ledger.summary().jobs[0]!.condition;

    // Only the peer the packet is owed to learns that the node holds it.
    expect((await provider.att.btp.requestOwed([x])).owed).toEqual([{ condition: x, amount: PRICE }]);
    expect((await payer.btp.requestOwed([x])).owed).toEqual([]);
    expect((await provider.att.btp.requestOwed(['ee'.repeat(32)])).owed).toEqual([]);

    // The requester lost the FULFILL too and pays again.
    const second = await harness.payFor(payer, payerSk, provider.spsp, PRICE, job, sk);
    // Before the fix: taken (charged 2 x PRICE) and the first record voided.
    expect(charged() - before).toBe(PRICE);
    expect(second.type === IlpPacketType.Reject && isAlreadyPaid(second)).toBe(true);

    // The node's claim for the first payment goes through and is accepted.
    provider.link.holdClaims = false;
    await until(() => forProvider(provider.att).paid === PRICE, "the node's claim to be accepted");
    expect(forProvider(provider.att)).toEqual({ total: PRICE, owed: 0n, paid: PRICE });
    expect(provider.earnings.ledger.summary()).toMatchObject({
      earned: PRICE,
      claimed: PRICE,
      unclaimed: 0n,
    });
    expect(provider.earnings.ledger.summary().jobs).toHaveLength(1);
    expect(charged() - before).toBe(PRICE);
    await provider.stop();
  }, 30_000);

  it('the node never had the first payment: the second is taken and the first record voided', async () => {
    const sk = generateSecretKey();
    const home = join(dir, 'provider-lost');
    const job = 'b2'.repeat(32);
    const before = charged();
    let provider = await harness.startProvider({ sk, account: 4, home, doubts: true });
    provider.link.dropBeforeFulfill = true;
    const first = await harness.payFor(payer, payerSk, provider.spsp, PRICE, job, sk);
    expect(first.type).toBe(IlpPacketType.Reject);
    expect(charged() - before).toBe(0n);
    await provider.stop();
    provider = await harness.startProvider({ sk, account: 4, home, doubts: true });
    expect(provider.earnings.ledger.summary()).toMatchObject({ earned: PRICE, unclaimed: PRICE });

    const second = await harness.payFor(payer, payerSk, provider.spsp, PRICE, job, sk);
    expect(second.type).toBe(IlpPacketType.Fulfill);
    await until(() => forProvider(provider.att).paid === PRICE, "the node's claim");
    expect(charged() - before).toBe(PRICE);
    expect(forProvider(provider.att)).toEqual({ total: PRICE, owed: 0n, paid: PRICE });
    const books = provider.earnings.ledger.summary();
    expect(books).toMatchObject({ earned: PRICE, claimed: PRICE, unclaimed: 0n });
    expect(books.jobs).toHaveLength(1);
    // A third payment (the link is live, the record claimed) is a plain duplicate.
    const third = await harness.payFor(payer, payerSk, provider.spsp, PRICE, job, sk);
    expect(third.type === IlpPacketType.Reject && isAlreadyPaid(third)).toBe(true);
    expect(charged() - before).toBe(PRICE);
    await provider.stop();
  }, 30_000);

  it('bad owed-status requests get a clear BTP error, the node keeps serving, and the requests are budgeted', async () => {
    const session = (
      payer.btp as unknown as { session: import('../../../src/connector/btp-session.js').BtpSession }
    ).session;
    const raw = (text: string) =>
      session.request(
        [
          {
            protocolName: OWED_PROTOCOL,
            contentType: BtpContentType.ApplicationJson,
            data: new TextEncoder().encode(text),
          },
        ],
        5_000,
      );
    await expect(raw('{not json')).rejects.toThrow(/payment-owed-status is malformed: not UTF-8 JSON/);
    await expect(raw(JSON.stringify({ conditions: ['AB'.repeat(32)] }))).rejects.toThrow(/64 lowercase hex/);
    await expect(raw(JSON.stringify({ conditions: Array(65).fill('ab'.repeat(32)) }))).rejects.toThrow(
      /65 entries, at most 64/,
    );
    await expect(raw(JSON.stringify({ conditions: [], peer: 'x' }))).rejects.toThrow(/unknown field 'peer'/);
    expect((await payer.btp.requestOwed(['cd'.repeat(32)])).owed).toEqual([]);
    // Over the per-peer budget of claims and status requests (burst 200): T05, the node still answers after.
    const burst = await Promise.allSettled(
      Array.from({ length: 230 }, () => payer.btp.requestOwed(['cd'.repeat(32)])),
    );
    const limited = burst.filter((r) => r.status === 'rejected');
    expect(limited.length).toBeGreaterThan(0);
    expect(String((limited[0] as PromiseRejectedResult).reason)).toMatch(
      /T05 RateLimitedError: rate-limited/,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect((await payer.btp.requestOwed(['cd'.repeat(32)])).owed).toEqual([]);
  }, 30_000);
});
