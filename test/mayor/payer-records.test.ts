// A restarted Mayor facing a hostile node, on a real anvil and a real node (relay, connector, SQLite, in this
// process) over Nostr SPSP and BTP. The Mayor's record of the packets it pays for (payments-out.jsonl, payer-log.ts)
// is what a restart checks the node's word against: before it, the first resync after a start took the node's list
// of what we owe (up to 1 M2M) and any cumulative carrying our signature.
// The node's lies are made by replacing its answers in this process (its status answer, its claim handler): a real
// node never lies, so a hostile one can only be played.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelStatus, ClaimMessage, PeerAccount } from '../../src/connector/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import type { Attachment } from '../../src/mayor/runtime/index.js';
import { PAYER_LOG_FILE } from '../../src/mayor/state/index.js';
import { finalizeEvent } from '../../src/nostr/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { type MayorOnNode, startMayorOnNode } from '../support/mayor-on-node.js';

let h: MayorOnNode;
const NEVER = 10n ** 30n; // a settle threshold no write reaches: claims only on settle()

beforeAll(async () => {
  h = await startMayorOnNode('crosstown-payer-records-');
});

afterAll(async () => {
  await h?.close();
});

/** The node's private handlers, replaced to play a hostile node. */
type Hostile = { acceptClaim(peerId: string, msg: ClaimMessage): Promise<unknown> };

/** Every claim that reaches the node, accepted or not: what a hostile node could keep and redeem. */
function recordClaims(): { signed: ClaimMessage[]; restore(): void } {
  const connector = h.node.connector as unknown as Hostile;
  const original = connector.acceptClaim;
  const signed: ClaimMessage[] = [];
  connector.acceptClaim = function (this: Hostile, peerId, msg) {
    signed.push(msg);
    return original.call(this, peerId, msg);
  };
  return {
    signed,
    restore: () => {
      connector.acceptClaim = original;
    },
  };
}

function lieInStatus(change: (real: ChannelStatus) => ChannelStatus): () => void {
  const connector = h.node.connector;
  const original = connector.channelStatus;
  connector.channelStatus = async (peerId, channelId) =>
    change(await original.call(connector, peerId, channelId));
  return () => {
    connector.channelStatus = original;
  };
}

const peerOf = (att: Attachment) => att.spsp.ilpAddress.split('.').at(-1)!;

/**
 * Restarts the Mayor under a node whose status answer `lie` changes: its resync must sign no claim and warn `why`.
 * `then` runs on the restarted attachment before it detaches.
 */
async function restartRefused(
  lie: (real: ChannelStatus) => ChannelStatus,
  why: RegExp,
  then?: (b: Attachment) => Promise<void>,
): Promise<void> {
  const restore = lieInStatus(lie);
  const claims = recordClaims();
  const warnings = h.warnings.length;
  try {
    const b = await h.attachMayor({ settleThreshold: NEVER });
    expect(claims.signed.map((c) => c.cumulativeAmount)).toEqual([]);
    expect(h.warnings.slice(warnings).join('\n')).toMatch(why);
    await then?.(b);
    await b.detach();
  } finally {
    restore();
    claims.restore();
  }
}
const fulfilled = async (att: Attachment) =>
  expect((await h.write(att)).reply.type).toBe(IlpPacketType.Fulfill);

describe('a restarted Mayor and a node that lies about what it is owed', () => {
  it('a packet the Mayor never sent, listed as owed, is refused, and no claim pays it', async () => {
    const a = await h.attachMayor();
    for (let i = 0; i < 3; i++) await fulfilled(a);
    await a.settle();
    const paid = a.claims.cumulative;
    expect(h.node.connector.balance(peerOf(a))).toMatchObject({ owedByPeer: 0n, paidByPeer: paid });
    await a.detach();

    // Before the payer's record, this resync signed a claim for paid + 5,000 and sent it to the node.
    const fake = { condition: randomBytes(32).toString('hex'), amount: 5_000n };
    await restartRefused(
      (real) => ({ ...real, owed: [...real.owed, fake] }),
      /we owe 5000 for packets we have no record of sending/,
      async (b) => expect(b.claims.cumulative).toBe(paid),
    );
  }, 60_000);

  it('packets a kept claim paid, listed again as owed, are refused, and not paid twice', async () => {
    const a = await h.attachMayor({ settleThreshold: NEVER });
    for (let i = 0; i < 2; i++) await fulfilled(a);
    const channelId = a.claims.channel as Hex;
    const owedBefore = (await h.node.connector.channelStatus(peerOf(a), channelId)).owed;
    expect(owedBefore).toHaveLength(2);
    // The node takes the claim (it now holds our signature) and answers with an error: the packets are owed again.
    const connector = h.node.connector as unknown as Hostile;
    const original = connector.acceptClaim;
    connector.acceptClaim = async function (this: Hostile, peerId, msg) {
      await original.call(this, peerId, msg);
      throw new Error('disk full');
    };
    try {
      await expect(a.settle()).rejects.toThrow(/disk full/);
    } finally {
      connector.acceptClaim = original;
    }
    const kept = a.claims.fulfilled; // what the kept claim is worth: everything ever fulfilled
    await a.detach();

    // At the restart it shows that claim and lists its packets as still owed, to be paid them a second time.
    await restartRefused(
      (real) => ({ ...real, owed: [...real.owed, ...owedBefore] }),
      /stopped listing only 0 of the packets we owe/,
    );
    // The honest node's own books: the kept claim paid both packets, once.
    expect(h.node.connector.balance(peerOf(a))).toMatchObject({ owedByPeer: 0n, paidByPeer: kept });
  }, 60_000);
  it('a payment whose fate a crash hid, listed as owed without its fulfillment, is not taken as delivered', async () => {
    const a = await h.attachMayor({ settleThreshold: NEVER });
    await fulfilled(a);
    // A provider payment's PREPARE went out (its line written first, as pay() writes it), and the node kept it: it
    // never forwarded it to the provider, and the Mayor stopped before any answer. The provider was never paid.
    const condition = randomBytes(32).toString('hex');
    a.payerLog!.sent(condition, 7_000n, 'job-kept:provider');
    await a.detach();

    // At the restart the node lists it as owed, to be paid for it while the Mayor takes the provider as paid. Before
    // the node had to show the fulfillment, this resync paid it, and the payment counted as delivered.
    const unproven = /lists 7000 we sent and never learned the fate of without the fulfillment/;
    const stillUnknown = (b: Attachment) =>
      expect(b.earlierPayment('job-kept:provider')).rejects.toThrow(/without the fulfillment/);
    await restartRefused(
      (real) => ({ ...real, owed: [...real.owed, { condition, amount: 7_000n }] }),
      unproven,
      stillUnknown,
    );
    // Nor with a fulfillment that is not its preimage (SHA-256 of it is not the condition).
    const forged = randomBytes(32).toString('hex');
    await restartRefused(
      (real) => ({ ...real, owed: [...real.owed, { condition, amount: 7_000n, fulfillment: forged }] }),
      unproven,
      stillUnknown,
    );
    // The honest node (its real list, which never held it) settles it: not owed, and the payment did not go through.
    const c = await h.attachMayor({ settleThreshold: NEVER });
    expect(await c.earlierPayment('job-kept:provider')).toBeUndefined();
    await c.detach();
  }, 60_000);
  it("a kept attempt of a payment another attempt paid is refused, though the other's fulfillment proves the condition", async () => {
    const a = await h.attachMayor({ settleThreshold: NEVER });
    await fulfilled(a);
    const fulfillment = randomBytes(32);
    const condition = createHash('sha256').update(fulfillment).digest('hex');
    const label = 'job-retried:provider';
    // Attempt 1 went out and no answer came (pay() then retries the same PREPARE): the node kept it.
    a.payerLog!.sent(condition, 7_000n, label);
    // Attempt 2 (same condition): the node forwarded it, the provider fulfilled it, the FULFILL reached the Mayor.
    // Played on both sides as pay() and the node's balance step record it (no provider runs in this test).
    a.payerLog!.sent(condition, 7_000n, label);
    a.payerLog!.paid(label, fulfillment);
    a.claims.recordFulfilled(condition, 7_000n);
    const account = (h.node.connector as unknown as { accounts: Map<string, PeerAccount> }).accounts.get(
      peerOf(a),
    )!;
    await account.incoming.add(condition, 7_000n, Buffer.from(fulfillment).toString('hex'));
    const owed = a.claims.fulfilled;
    await a.detach();

    // The node lists attempt 1 as owed too, with attempt 2's fulfillment (one per condition: it proves the condition).
    // Before, this resync signed a claim for what it owed plus the kept attempt's 7,000.
    const proof = Buffer.from(fulfillment).toString('hex');
    await restartRefused(
      (real) => ({ ...real, owed: [...real.owed, { condition, amount: 7_000n, fulfillment: proof }] }),
      /we owe 7000 for packets we have no record of sending/,
    );
    // The honest node's list: attempt 2 alone, paid once.
    const c = await h.attachMayor({ settleThreshold: NEVER });
    expect(c.claims.cumulative).toBe(owed);
    expect(h.node.connector.balance(peerOf(c))).toMatchObject({ owedByPeer: 0n, paidByPeer: owed });
    await c.detach();
  }, 60_000);
});

describe('a restarted Mayor and an honest node', () => {
  it('a record older than the channel (an upgrade) is not followed until a resync succeeded', async () => {
    let crashed = false;
    const a = await h.attachMayor({
      settleThreshold: NEVER,
      fault: async (point) => {
        if (point === 'claim-accepted' && crashed) throw new Error('crashed');
      },
    });
    await fulfilled(a);
    crashed = true;
    await expect(a.settle()).rejects.toThrow(/crashed/); // the node's cumulative is now above ours
    const total = a.claims.fulfilled;
    await a.detach();
    rmSync(join(h.state.dir, PAYER_LOG_FILE)); // a Mayor of an older version kept none
    // Its first resync after the upgrade fails (the node cannot answer for a moment).
    const restore = lieInStatus(() => {
      throw new Error('status unavailable');
    });
    try {
      const b = await h.attachMayor({ settleThreshold: NEVER });
      expect(h.warnings.at(-1)).toMatch(/Could not resync .*status unavailable/);
      await b.detach();
    } finally {
      restore();
    }
    // The next start takes the node's word once (up to max resync owed) and follows its record from then on.
    const warnings = h.warnings.length;
    const c = await h.attachMayor({ settleThreshold: NEVER });
    expect(h.warnings.slice(warnings)).toEqual([]);
    expect(c.claims.cumulative).toBe(total);
    await c.detach();
  }, 60_000);

  it('a payment whose fate a crash hid, fulfilled for us, is known delivered with its fulfillment (a sealed result key)', async () => {
    const a = await h.attachMayor({ settleThreshold: NEVER });
    await fulfilled(a);
    const fulfillment = randomBytes(32);
    const condition = createHash('sha256').update(fulfillment).digest('hex');
    a.payerLog!.sent(condition, 7_000n, 'job-sealed:provider');
    // The node forwarded it and the provider fulfilled it, then the Mayor stopped before the FULFILL reached it.
    // Played by adding the packet to the node's ledger of what this Mayor owes, as its balance step does on a FULFILL
    // (no provider runs in this test).
    const account = (h.node.connector as unknown as { accounts: Map<string, PeerAccount> }).accounts.get(
      peerOf(a),
    )!;
    await account.incoming.add(condition, 7_000n, Buffer.from(fulfillment).toString('hex'));
    const total = a.claims.fulfilled + 7_000n;
    await a.detach();

    const warnings = h.warnings.length;
    const b = await h.attachMayor({ settleThreshold: NEVER });
    expect(h.warnings.slice(warnings)).toEqual([]);
    const earlier = await b.earlierPayment('job-sealed:provider');
    expect(Buffer.from(earlier?.fulfillment ?? []).toString('hex')).toBe(
      Buffer.from(fulfillment).toString('hex'),
    );
    expect(b.claims.cumulative).toBe(total);
    expect(h.node.connector.balance(peerOf(b))).toMatchObject({ owedByPeer: 0n, paidByPeer: total });
    await b.detach();
  }, 60_000);

  it('continues from its record: a claim whose answer a crash cut off, and packets it never claimed, paid exactly once', async () => {
    let crashed = false;
    const a = await h.attachMayor({
      settleThreshold: NEVER,
      // The process dies here: the node accepted the claim, nothing after it is recorded.
      fault: async (point) => {
        if (point === 'claim-accepted' && crashed) throw new Error('crashed');
      },
    });
    for (let i = 0; i < 3; i++) await fulfilled(a);
    crashed = true;
    await expect(a.settle()).rejects.toThrow(/crashed/);
    for (let i = 0; i < 2; i++) await fulfilled(a); // fulfilled, never claimed
    const total = a.claims.fulfilled;
    await a.detach();
    const log = readFileSync(join(h.state.dir, PAYER_LOG_FILE), 'utf8');
    expect(log).toContain('"t":"fulfilled"');

    const warnings = h.warnings.length;
    const b = await h.attachMayor({ settleThreshold: NEVER });
    expect(h.warnings.slice(warnings)).toEqual([]);
    // The lost claim's packets were paid by it (the node no longer lists them); the two others by the resync.
    expect(b.resync?.recovered).toBe(0n);
    expect(b.claims.cumulative).toBe(total);
    expect(h.node.connector.balance(peerOf(b))).toMatchObject({ owedByPeer: 0n, paidByPeer: total });
    // And it goes on: the next start finds nothing owed.
    await fulfilled(b);
    await b.settle();
    const after = b.claims.cumulative;
    await b.detach();
    const c = await h.attachMayor({ settleThreshold: NEVER });
    expect(c.resync).toMatchObject({ cumulative: after, recovered: 0n, paid: 0n });
    await c.detach();
  }, 60_000);
});

describe('a lost answer', () => {
  it('a relay write whose FULFILL was lost is not paid a second time when pay() sends it again', async () => {
    const a = await h.attachMayor({ settleThreshold: NEVER });
    await fulfilled(a);
    const data = encodeEventBytes(
      finalizeEvent({ kind: 1, tags: [], content: 'a lost answer', created_at: 1_700_000_000 }, h.mayorSk),
    );
    const price = BigInt(data.length) * a.spsp.basePricePerByte;
    const books = () => {
      const b = h.node.connector.balance(peerOf(a));
      return b.owedByPeer + b.paidByPeer;
    };
    const before = books();
    // The node stores the event and charges it; its FULFILL is lost on the way back (the link dropped, or the answer
    // came after the Mayor's timeout). Played in the Mayor's BTP client: the real answer is dropped once.
    const send = a.btp.sendPrepare.bind(a.btp);
    let lose = true;
    a.btp.sendPrepare = async (prepare) => {
      const reply = await send(prepare);
      if (lose && prepare.amount > 0n) {
        lose = false;
        throw new Error('BTP request timed out');
      }
      return reply;
    };
    const { reply } = await a.writeToRelay(data);
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    // Before, pay() sent the same paid PREPARE again and the relay charged the copy: 2 x price.
    expect(books() - before).toBe(price);
    // The first attempt is owed once: its fate, unknown to the Mayor, is settled by the next resync, which pays it.
    await a.detach();
    const b = await h.attachMayor({ settleThreshold: NEVER });
    expect(h.node.connector.balance(peerOf(b)).owedByPeer).toBe(0n);
    expect(books() - before).toBe(price);
    await b.detach();
  }, 60_000);
});
