// A sealed result's key and payments in doubt (issues 13 and 19), on the provider's side, with real files (earnings
// ledger, sealed keys) and no network: the node's answer to `payment-owed-status` is given by the test. A key is
// handed in an "already paid" refusal only when payments the node holds (or that are not in doubt) cover its price;
// a payment in doubt is never voided without asking the node, so a small payment the node holds is kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { UnpaidPackets } from '../../../src/connector/unpaid.js';
import { conditionOf, deriveFulfillment } from '../../../src/ilp/fulfillment.js';
import { IlpPacketType, type IlpPrepare, type IlpReply } from '../../../src/ilp/types.js';
import { SealedKeyStore } from '../../../src/mayor/provider/sealed-keys.js';
import { EarningsLedger } from '../../../src/mayor/runtime/earnings-ledger.js';
import { paymentDoubts } from '../../../src/mayor/runtime/payment-doubt.js';
import { createProviderSpsp, paymentData } from '../../../src/mayor/runtime/provider-spsp.js';
import { generateSecretKey, getPublicKey } from '../../../src/nostr/keys.js';
import { buildSpspRequest, parseSpspResponse } from '../../../src/nostr/spsp.js';
import { UNDIALLED_SPSP } from '../provider/helpers.js';

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});
const PRICE = 2_000n;
const providerSk = generateSecretKey();
const requesterSk = generateSecretKey();
const jobId = 'c'.repeat(64);
const K = new Uint8Array(32).fill(9);
const COND = Buffer.from(conditionOf(K)).toString('hex');
const code = (r: IlpReply) => (r.type === IlpPacketType.Reject ? r.code : 'FULFILL');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * One run of a provider on `home` (a restart opens it again: every earlier payment not claimed is then in doubt),
 * its sealed result there once `sealedYet`, the node holding the conditions `nodeHolds` keeps of those asked.
 */
function providerRun(home: string, sealedYet: () => boolean, nodeHolds: (asked: string[]) => string[]) {
  const ledger = EarningsLedger.open(home);
  const unpaid = new UnpaidPackets(undefined, ledger.unpaid());
  const doubts = paymentDoubts(ledger, unpaid);
  const store = SealedKeyStore.open(home);
  if (!store.get(jobId))
    store.save({ jobId, requester: getPublicKey(requesterSk), condition: COND, key: K, amount: PRICE });
  const asked: string[][] = [];
  const ask = async (conditions: string[]) => {
    asked.push(conditions);
    return { owed: nodeHolds(conditions).map((condition) => ({ condition, amount: 0n })) };
  };
  const spsp = createProviderSpsp({
    secretKey: providerSk,
    ilpAddress: 'g.node.provider',
    ...UNDIALLED_SPSP,
    paidBefore: (from, job) => ledger.paidFor(from, job),
    sealedKey: (id) => (sealedYet() ? store.get(id) : undefined),
    inDoubt: doubts.inDoubt,
    askNode: (from, job) => doubts.askNode(from, job, ask),
    anyInDoubt: doubts.anyInDoubt,
    settleDoubts: (from, job) => doubts.settle(from, job, ask),
    onPayment: ({ from, amount, prepare }) => {
      const c = hex(prepare.executionCondition);
      ledger.owe(c, amount, jobId, from);
      unpaid.add(c, amount);
      doubts.supersede(from, jobId, c);
    },
  });
  const account = () => {
    const req = buildSpspRequest(requesterSk, getPublicKey(providerSk), {
      requestId: `pay-${Math.random()}`,
    });
    return parseSpspResponse(spsp.respond(req), requesterSk, req.id).response;
  };
  const base = { type: IlpPacketType.Prepare, data: paymentData(jobId) } as const;
  /** A clear payment, its condition from the SPSP secret (what a payment before the result was sealed looks like). */
  const clear = (amount: bigint): IlpPrepare => {
    const r = account();
    const secret = new Uint8Array(Buffer.from(r.sharedSecret, 'base64'));
    const executionCondition = conditionOf(deriveFulfillment(secret, base.data));
    return { ...base, amount, destination: r.destinationAccount, executionCondition, expiresAt: soon() };
  };
  const sealedPayment = (): IlpPrepare => ({
    ...base,
    amount: PRICE,
    destination: account().destinationAccount,
    executionCondition: new Uint8Array(Buffer.from(COND, 'hex')),
    expiresAt: soon(),
  });
  return { ledger, unpaid, spsp, clear, sealedPayment, asked };
}
const soon = () => new Date(Date.now() + 10_000);

function home(): string {
  const h = mkdtempSync(join(tmpdir(), 'crosstown-sealed-doubt-'));
  homes.push(h);
  return h;
}

/** A first run on a new home in which the requester paid 1 base unit for the job before its result was sealed. */
async function paidEarly() {
  const h = home();
  const state = { sealed: false };
  const first = providerRun(
    h,
    () => state.sealed,
    () => [],
  );
  const early = first.clear(1n);
  expect(code(await first.spsp.handlePrepare(early))).toBe('FULFILL'); // the node owes it, no claim yet
  return { h, state, first, clearCond: hex(early.executionCondition) };
}

describe('sealed key and payments in doubt', () => {
  it('a small payment in doubt that the node holds is kept, and the price is paid for the key', async () => {
    const { h, state, first, clearCond } = await paidEarly();
    first.ledger.close();
    state.sealed = true;
    const again = providerRun(
      h,
      () => state.sealed,
      (asked) => asked.filter((c) => c === clearCond),
    );
    const reply = await again.spsp.handlePrepare(again.sealedPayment());
    expect(code(reply)).toBe('FULFILL');
    expect(again.asked).toEqual([[clearCond]]);
    // Both packets stay owed to us: a claim of the node paying them is accepted.
    expect(again.unpaid.sumOf([clearCond, COND])).toBe(1n + PRICE);
  });

  it('a paid key whose payment never reached the node is not handed for the 1 unit that did', async () => {
    const { h, state, first, clearCond } = await paidEarly();
    state.sealed = true;
    expect(code(await first.spsp.handlePrepare(first.sealedPayment()))).toBe('FULFILL'); // its FULFILL was lost
    first.ledger.close();
    const again = providerRun(
      h,
      () => state.sealed,
      (asked) => asked.filter((c) => c === clearCond),
    );
    const reply = await again.spsp.handlePrepare(again.sealedPayment());
    expect(code(reply)).toBe('FULFILL'); // before: F99 with K in its data, the provider paid 1 unit for it
    expect(again.ledger.summary().earned).toBe(1n + PRICE);
  });

  it('the same with the small payment already claimed (only the key payment in doubt)', async () => {
    const { h, state, first, clearCond } = await paidEarly();
    first.unpaid.take([clearCond]);
    const claim = { channelId: `0x${'1'.repeat(64)}` as Hex, cumulativeAmount: 1n, signature: '0x' as Hex };
    await first.ledger.acceptedDurably(claim, [clearCond]);
    state.sealed = true;
    expect(code(await first.spsp.handlePrepare(first.sealedPayment()))).toBe('FULFILL'); // never reached the node
    first.ledger.close();
    const again = providerRun(
      h,
      () => state.sealed,
      () => [],
    );
    expect(code(await again.spsp.handlePrepare(again.sealedPayment()))).toBe('FULFILL');
    expect(again.asked).toEqual([[COND]]);
  });

  it('a paid key whose payment the node holds is handed again in F99, nothing paid twice', async () => {
    const h = home();
    const first = providerRun(
      h,
      () => true,
      () => [],
    );
    expect(code(await first.spsp.handlePrepare(first.sealedPayment()))).toBe('FULFILL'); // FULFILL lost on the way back
    first.ledger.close();
    const again = providerRun(
      h,
      () => true,
      (asked) => asked,
    );
    const reply = await again.spsp.handlePrepare(again.sealedPayment());
    expect(code(reply)).toBe('F99');
    expect(hex(reply.data)).toBe(hex(K));
    expect(again.ledger.summary().earned).toBe(PRICE);
  });
});
