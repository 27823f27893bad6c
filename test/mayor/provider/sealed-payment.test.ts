// Issue 19, the provider's side of an atomic payment, in process: a payment for a sealed result is fulfilled
// with K only when it comes from the requester, carries the sealed condition and at least the price, and has
// not expired; a repeat from the requester that paid is refused F99 with K in the data (nothing moves); K is
// durable (a new store opened on the same home still has it). No network here: the PREPAREs are built as the
// node would deliver them (the devnet tests in test/mayor/atomic-*.test.ts run the real path).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conditionOf, deriveFulfillment } from '../../../src/ilp/fulfillment.js';
import { IlpPacketType, type IlpPrepare, type IlpReply } from '../../../src/ilp/types.js';
import { SealedKeyStore } from '../../../src/mayor/provider/sealed-keys.js';
import { sealTemplate } from '../../../src/mayor/provider/sealing.js';
import { createProviderSpsp, paymentData } from '../../../src/mayor/runtime/provider-spsp.js';
import { finalizeEvent } from '../../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../../src/nostr/keys.js';
import { openSealedResult, parseSealedResult } from '../../../src/nostr/sealed-result.js';
import { buildSpspRequest, parseSpspResponse } from '../../../src/nostr/spsp.js';
import { UNDIALLED_SPSP } from './helpers.js';

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

const PRICE = 2_000n;
const providerSk = generateSecretKey();
const requesterSk = generateSecretKey();
const strangerSk = generateSecretKey();
const jobId = 'c'.repeat(64);

/**
 * A provider with a sealed result for `jobId` (from when `sealedYet` says so); `record` is its onPayment (default:
 * kept in `paid`).
 */
function setup(record?: (amount: bigint) => void, sealedYet: () => boolean = () => true) {
  const home = mkdtempSync(join(tmpdir(), 'crosstown-sealed-'));
  homes.push(home);
  const store = SealedKeyStore.open(home);
  const plain = JSON.stringify({ build: 'SUCCESS', tests: { passed: 3, failed: 0 }, logs: 'secret logs' });
  const { template, sealed } = sealTemplate(
    { kind: 6065, tags: [['e', jobId]], content: plain },
    jobId,
    'success',
  );
  store.save({
    jobId,
    requester: getPublicKey(requesterSk),
    condition: sealed.condition,
    key: sealed.key,
    amount: PRICE,
  });
  const paid: bigint[] = [];
  const spsp = createProviderSpsp({
    secretKey: providerSk,
    ilpAddress: 'g.node.provider',
    ...UNDIALLED_SPSP,
    sealedKey: (id) => (sealedYet() ? store.get(id) : undefined),
    onPayment: ({ amount }) => (record ? record(amount) : paid.push(amount)),
  });
  const accountOf = (sk: Uint8Array) => {
    const req = buildSpspRequest(sk, getPublicKey(providerSk), { requestId: `pay-${Math.random()}` });
    return parseSpspResponse(spsp.respond(req), sk, req.id).response.destinationAccount;
  };
  const prepare = (over: Partial<IlpPrepare> & { from?: Uint8Array } = {}): IlpPrepare => ({
    type: IlpPacketType.Prepare,
    amount: PRICE,
    destination: accountOf(over.from ?? requesterSk),
    executionCondition: new Uint8Array(Buffer.from(sealed.condition, 'hex')),
    data: paymentData(jobId),
    expiresAt: new Date(Date.now() + 10_000),
    ...over,
  });
  const event = finalizeEvent(template, providerSk);
  return { home, store, sealed, spsp, prepare, paid, plain, event };
}

const code = (r: IlpReply) => (r.type === IlpPacketType.Reject ? r.code : 'FULFILL');

describe('provider: payment for a sealed result', () => {
  it('refuses a wrong condition, a short amount, an expired packet and a stranger, revealing nothing', async () => {
    const { spsp, prepare, paid } = setup();
    const wrong = await spsp.handlePrepare(prepare({ executionCondition: new Uint8Array(32).fill(7) }));
    expect(code(wrong)).toBe('F05');
    expect(code(await spsp.handlePrepare(prepare({ amount: PRICE - 1n })))).toBe('F04');
    expect(code(await spsp.handlePrepare(prepare({ expiresAt: new Date(Date.now() - 1) })))).toBe('R00');
    expect(code(await spsp.handlePrepare(prepare({ from: strangerSk })))).toBe('F06');
    expect(paid).toEqual([]);
    expect(spsp.received).toBe(0n);
  });

  it('fulfills the right payment with K, once; a repeat is refused F99 with K in the data', async () => {
    const { spsp, prepare, paid, sealed, event, plain } = setup();
    const reply = await spsp.handlePrepare(prepare({ amount: PRICE + 5n }));
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    const key = reply.type === IlpPacketType.Fulfill ? reply.fulfillment : new Uint8Array();
    expect(Buffer.from(key).equals(Buffer.from(sealed.key))).toBe(true);
    // The published event opens with the FULFILL's fulfillment.
    expect(openSealedResult(parseSealedResult(event)!.ciphertext, key, jobId)).toBe(plain);
    const again = await spsp.handlePrepare(prepare());
    expect(code(again)).toBe('F99');
    expect(Buffer.from(again.data).equals(Buffer.from(sealed.key))).toBe(true);
    expect(paid).toEqual([PRICE + 5n]);
    expect(spsp.duplicatesRefused).toBe(1);
  });

  it('K survives a restart: a store opened again on the same home has it', () => {
    const { home, sealed } = setup();
    const reopened = SealedKeyStore.open(home).get(jobId)!;
    expect(reopened.condition).toBe(sealed.condition);
    expect(Buffer.from(reopened.key).equals(Buffer.from(sealed.key))).toBe(true);
    expect(reopened.amount).toBe(PRICE);
  });

  it('the sealed event carries no plain text, only the summary', () => {
    const { event } = setup();
    expect(event.content).not.toContain('secret logs');
    expect(JSON.stringify(event.tags)).not.toContain('secret logs');
    expect(parseSealedResult(event)!.summary).toEqual({
      status: 'success',
      build: 'SUCCESS',
      tests: { passed: 3, failed: 0, total: 3 },
    });
  });
});

describe('SealedKeyStore.saveDurably', () => {
  it('keeps the key only once it is on disk, in order, and a reopened store has them', async () => {
    const home = mkdtempSync(join(tmpdir(), 'crosstown-sealed-'));
    homes.push(home);
    const store = SealedKeyStore.open(home);
    const entry = (i: number) => ({
      jobId: i.toString(16).padStart(64, '0'),
      requester: getPublicKey(requesterSk),
      condition: (i + 100).toString(16).padStart(64, '0'),
      key: new Uint8Array(32).fill(i),
      amount: PRICE + BigInt(i),
    });
    const saves = [1, 2, 3].map((i) => store.saveDurably(entry(i)));
    expect(store.get(entry(1).jobId)).toBeUndefined(); // not yet durable: a payment could not be fulfilled with it
    await Promise.all(saves);
    for (const i of [1, 2, 3]) expect(store.get(entry(i).jobId)).toEqual(entry(i));
    const again = SealedKeyStore.open(home);
    for (const i of [1, 2, 3]) expect(again.get(entry(i).jobId)).toEqual(entry(i));
  });
});

describe('provider: payments that must not be taken as paid', () => {
  /** A clear (not sealed) payment from the requester with `data`, its condition from the SPSP shared secret. */
  function clearPayment(spsp: ReturnType<typeof setup>['spsp'], data: Uint8Array): IlpPrepare {
    const req = buildSpspRequest(requesterSk, getPublicKey(providerSk), {
      requestId: `pay-${Math.random()}`,
    });
    const { response } = parseSpspResponse(spsp.respond(req), requesterSk, req.id);
    const secret = new Uint8Array(Buffer.from(response.sharedSecret, 'base64'));
    return {
      type: IlpPacketType.Prepare,
      amount: PRICE,
      destination: response.destinationAccount,
      executionCondition: conditionOf(deriveFulfillment(secret, data)),
      data,
      expiresAt: new Date(Date.now() + 10_000),
    };
  }

  it('a payment that names no job (empty, malformed or no prefix) is refused and recorded nowhere', async () => {
    const { spsp, paid } = setup();
    for (const data of [
      paymentData(''),
      paymentData('../x'),
      paymentData('a'.repeat(129)),
      new TextEncoder().encode('x'.repeat(30_000)),
    ]) {
      const reply = await spsp.handlePrepare(clearPayment(spsp, data));
      expect(code(reply)).toBe('F06');
      expect(reply.type === IlpPacketType.Reject && reply.message).toMatch(/must name its job/);
    }
    expect(paid).toEqual([]);
    // A well-formed one is taken.
    expect(code(await spsp.handlePrepare(clearPayment(spsp, paymentData('d'.repeat(64)))))).toBe('FULFILL');
  });

  it('a small clear payment made before the result was sealed does not buy its key', async () => {
    let sealedYet = false;
    const { spsp, prepare, paid, sealed } = setup(undefined, () => sealedYet);
    // Before the result exists, the job's payment is a clear one: the requester pays 1 base unit for it.
    const early = { ...clearPayment(spsp, paymentData(jobId)), amount: 1n };
    expect(code(await spsp.handlePrepare(early))).toBe('FULFILL');
    sealedYet = true;
    // The key's price is still owed: it is paid for, not handed in an "already paid" refusal (F99, K in its data).
    const reply = await spsp.handlePrepare(prepare());
    expect(code(reply)).toBe('FULFILL');
    expect(reply.type === IlpPacketType.Fulfill && Buffer.from(reply.fulfillment).toString('hex')).toBe(
      Buffer.from(sealed.key).toString('hex'),
    );
    expect(paid).toEqual([1n, PRICE]);
    // Once the price is paid, a repeat is refused as before.
    expect(code(await spsp.handlePrepare(prepare()))).toBe('F99');
  });

  it('a payment whose recording failed is not taken as paid: the retry is fulfilled, not refused with K', async () => {
    let fail = true;
    const recorded: bigint[] = [];
    const { spsp, sealed, prepare } = setup((amount) => {
      if (fail) {
        fail = false;
        throw new Error('ENOSPC: no space left on device');
      }
      recorded.push(amount);
    });
    const destination = prepare().destination;
    await expect(spsp.handlePrepare(prepare({ destination }))).rejects.toThrow(/ENOSPC/);
    const retry = await spsp.handlePrepare(prepare({ destination }));
    expect(code(retry)).toBe('FULFILL');
    expect(retry.type === IlpPacketType.Fulfill && Buffer.from(retry.fulfillment).toString('hex')).toBe(
      Buffer.from(sealed.key).toString('hex'),
    );
    expect(recorded).toEqual([PRICE]);
  });
});
