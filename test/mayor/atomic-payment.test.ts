// Issue 19 end to end on a real devnet (anvil, node with connector + relay, real worktrees): Mayor-Beta seals
// its result, Mayor-Alpha pays by the result's condition through the node and the FULFILL hands it K.
// Hostile cases: whoever reads the sealed result without paying learns nothing; a payment with a wrong
// condition (or short) is refused by the provider and nobody is credited; a provider that never fulfills gets
// nothing and the job fails with that reason. The only stand-in: the withholding provider is Mayor-Beta with
// its PREPARE handler replaced by one that never answers (a hostile provider cannot be produced otherwise).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../src/devnet/index.js';
import { IlpPacketType } from '../../src/ilp/types.js';
import type { FraudReport } from '../../src/mayor/lifecycle/sealed-results.js';
import { keyPath } from '../../src/mayor/lifecycle/sealed-results.js';
import { sealedSummaryLine } from '../../src/mayor/lifecycle/sealed-summary.js';
import { SealedKeyStore } from '../../src/mayor/provider/sealed-keys.js';
import { sealTemplate } from '../../src/mayor/provider/sealing.js';
import {
  attach,
  createProviderSpsp,
  type Mayor,
  paymentData,
  RelayPool,
  startMayor,
} from '../../src/mayor/runtime/index.js';
import { finalizeEvent } from '../../src/nostr/event.js';
import { buildJobResult, parseJobResult } from '../../src/nostr/nip90.js';
import { openSealedResult, parseSealedResult, SealedResultError } from '../../src/nostr/sealed-result.js';
import { buildSpspRequest, parseSpspResponse } from '../../src/nostr/spsp.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { BID, PRICE, recordingLogger, sampleRepoInput, startProviderMayor } from './provider-e2e-helpers.js';
import { keyOf, M2M, mayorConfig, waitFor } from './runtime/helpers.js';

let devnet: Devnet;
let alpha: Mayor;
let beta: Mayor;
const alphaLog = recordingLogger();
const frauds: FraudReport[] = [];
const closers: (() => Promise<unknown>)[] = [];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['alpha', 'beta', 'carol'] });
  beta = await startProviderMayor(devnet, 'beta');
  const m = devnet.mayors.alpha!;
  alpha = await startMayor({
    config: mayorConfig(devnet),
    walletKey: m.walletPrivateKey,
    nostrSecretKey: keyOf(m),
    nodePubkey: devnet.node.pubkey,
    logger: alphaLog,
    // The withholding provider case waits one expiry: 3 s instead of 30 s (the node takes 1 s per hop).
    paymentRetry: { atomicExpiryMs: 3000, minMs: 200, maxMs: 1000 },
    onFraud: (r) => {
      frauds.push(r);
    },
  });
}, 90_000);

afterAll(async () => {
  for (const close of closers) await close();
  await alpha?.stop();
  await beta?.stop();
  await devnet?.stop();
});

const post = (bid = BID, command = 'node --test') =>
  alpha.postJob({
    jobType: 'ci-cd-linux',
    inputs: [sampleRepoInput('passing')],
    params: { command },
    bid,
    provider: beta.pubkey,
  });

async function sealedEvent(jobId: string) {
  const found = await alpha.pool.query([{ kinds: [6065], '#e': [jobId] }]);
  expect(found).toHaveLength(1);
  return found[0]!.event;
}

describe('atomic pay-for-result on a real devnet', () => {
  it('pays exactly when K is revealed, routes the opened result once, and the books agree', async () => {
    // Beta's NIP-89 advert names the payment modes it serves.
    const [ad] = await alpha.pool.query([{ kinds: [31990], authors: [beta.pubkey] }]);
    expect(ad!.event.tags).toContainEqual(['payment', 'atomic', 'after-result']);
    const earnedBefore = beta.provider()!.earned();
    const job = await post();
    await alpha.settled([job.jobId], 60_000);
    const record = alpha.state.jobs.get(job.jobId)!;
    expect(record.status).toBe('paid');
    expect(record.history.map((h) => h.status)).toEqual([
      'posting',
      'posted',
      'result-received',
      'routed',
      'paid',
    ]);

    // The published result is sealed: ciphertext only, a summary, the condition; a reader without K gets nothing.
    const event = await sealedEvent(job.jobId);
    const sealed = parseSealedResult(event)!;
    expect(sealed.summary).toEqual({
      status: 'success',
      build: 'SUCCESS',
      tests: { passed: 3, failed: 0, total: 3 },
    });
    expect(() => JSON.parse(event.content)).toThrow();
    expect(() => openSealedResult(event.content, new Uint8Array(32).fill(1), job.jobId)).toThrow(
      SealedResultError,
    );
    expect(parseJobResult(event).amount?.amount).toBe(PRICE);

    // Alpha holds K (durable in its state repo), and sha256(K) is the condition it paid.
    const key = new Uint8Array(
      Buffer.from(readFileSync(join(alpha.state.dir, keyPath(job.jobId)), 'utf8').trim(), 'hex'),
    );
    expect(hex(sha256(key))).toBe(sealed.condition);
    const plain = JSON.parse(openSealedResult(event.content, key, job.jobId)) as {
      build: string;
      logs: string;
    };
    expect(plain.build).toBe('SUCCESS');
    expect(typeof plain.logs).toBe('string');

    // Routed exactly once, to the callback skill, as a clear result would be.
    const routed = alpha.results().get(job.jobId)!;
    expect(routed.skill).toBe('ci-cd-callback');
    expect(routed.result.summary).toBe('Build: SUCCESS | Tests: 3/3 passed');
    const skillIntents = readFileSync(join(alpha.state.dir, 'intents.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes(`"skill:`) && l.includes(job.jobId) && l.includes('"intent"'));
    expect(skillIntents).toHaveLength(1);

    // Books: Alpha paid the price once, Beta earned it once, the node's claims to Beta carry it.
    const out = (await alpha.audit.list()).filter(
      (p) => p.direction === 'out' && p.jobId === job.jobId && p.counterparty === beta.pubkey,
    );
    expect(out.map((p) => [p.status, p.amount])).toEqual([['fulfilled', PRICE]]);
    await waitFor(() => beta.provider()!.earned() === earnedBefore + PRICE, 20_000, 'Beta earned');
    const earnedIn = (await beta.audit.list()).filter((p) => p.direction === 'in' && p.jobId === job.jobId);
    expect(earnedIn.map((p) => p.amount)).toEqual([PRICE]);
    await waitFor(
      () => beta.provider()!.receiver.paid === earnedBefore + PRICE,
      30_000,
      'node claims to Beta',
    );
    // Alpha's claims to the node cover exactly what its audit says it paid (relay fees + the provider).
    const paidOut = (await alpha.audit.list())
      .filter((p) => p.direction === 'out' && p.status === 'fulfilled')
      .reduce((a, p) => a + p.amount, 0n);
    await waitFor(() => alpha.attachment()!.channel().cumulative === paidOut, 20_000, "Alpha's claims");
    expect(sealedSummaryLine(alpha.state.dir, job.jobId, parseJobResult(event))).toBe(
      'Build: SUCCESS | Tests: 3/3 passed',
    );
  }, 90_000);

  it('an unpaid sealed result stays unreadable; a wrong condition or a short payment is refused and credits nobody', async () => {
    const provider = beta.provider()!;
    const earnedBefore = provider.earned();
    const honest = provider.handlePrepare;
    // Beta is unreachable for Alpha's own payment for a while (T01: Alpha retries with backoff), so the
    // result sits sealed and unpaid; every other PREPARE reaches the real handler.
    let unreachable = true;
    let sealedCondition = '';
    (provider as { handlePrepare: typeof honest }).handlePrepare = async (p) =>
      unreachable && hex(p.executionCondition) === sealedCondition && p.amount === PRICE
        ? {
            type: IlpPacketType.Reject,
            code: 'T01',
            triggeredBy: p.destination,
            message: 'provider unreachable (test)',
            data: new Uint8Array(),
          }
        : honest(p);
    try {
      const job = await post();
      await waitFor(
        async () => {
          const found = await alpha.pool.query([{ kinds: [6065], '#e': [job.jobId] }]);
          if (found[0]) sealedCondition = parseSealedResult(found[0].event)!.condition;
          return found.length > 0;
        },
        60_000,
        'sealed result',
      );
      await waitFor(
        () => alpha.state.jobs.get(job.jobId)?.status === 'result-received',
        20_000,
        'result-received',
      );
      const event = await sealedEvent(job.jobId);
      expect(sealedSummaryLine(alpha.state.dir, job.jobId, parseJobResult(event))).toBe(
        'sealed, awaiting payment (Build: SUCCESS | Tests: 3/3 passed)',
      );
      expect(alpha.results().has(job.jobId)).toBe(false);

      // A payment through the node whose condition is not the sealed one: Beta refuses (F05), nothing moves.
      const alphaSk = keyOf(devnet.mayors.alpha!);
      const req = buildSpspRequest(alphaSk, beta.pubkey, { requestId: 'hostile-pay' });
      const { response } = parseSpspResponse(provider.spsp.respond(req), alphaSk, req.id);
      const att = alpha.attachment()!;
      const wrong = await att.pay({
        amount: PRICE,
        destination: response.destinationAccount,
        executionCondition: new Uint8Array(32).fill(9),
        data: paymentData(job.jobId),
      });
      expect(wrong.reply.type === IlpPacketType.Reject && wrong.reply.code).toBe('F05');
      // The right condition with less than the price: F04.
      const short = await att.pay({
        amount: PRICE - 1n,
        destination: response.destinationAccount,
        executionCondition: new Uint8Array(Buffer.from(sealedCondition, 'hex')),
        data: paymentData(job.jobId),
      });
      expect(short.reply.type === IlpPacketType.Reject && short.reply.code).toBe('F04');
      expect(provider.earned()).toBe(earnedBefore);
      expect(alpha.state.jobs.get(job.jobId)!.status).toBe('result-received');

      // Beta reachable again: Alpha's retry pays by condition, opens, routes.
      unreachable = false;
      await alpha.settled([job.jobId], 30_000);
      expect(alpha.state.jobs.get(job.jobId)!.error).toBeUndefined();
      expect(alpha.state.jobs.get(job.jobId)!.status).toBe('paid');
      expect(alpha.results().get(job.jobId)!.result.summary).toBe('Build: SUCCESS | Tests: 3/3 passed');
      await waitFor(() => provider.earned() === earnedBefore + PRICE, 20_000, 'Beta earned');
      const out = (await alpha.audit.list()).filter(
        (p) => p.jobId === job.jobId && p.counterparty === beta.pubkey && p.status === 'fulfilled',
      );
      expect(out.map((p) => p.amount)).toEqual([PRICE]);
    } finally {
      (provider as { handlePrepare: typeof honest }).handlePrepare = honest;
    }
  }, 90_000);

  it('a provider that never fulfills gets nothing; the job fails with that reason', async () => {
    const provider = beta.provider()!;
    const earnedBefore = provider.earned();
    const honest = provider.handlePrepare;
    // Hostile Beta: takes the PREPARE and never answers (keeps K).
    (provider as { handlePrepare: typeof honest }).handlePrepare = () => new Promise(() => {});
    try {
      const job = await post();
      await alpha.settled([job.jobId], 60_000);
      const record = alpha.state.jobs.get(job.jobId)!;
      expect(record.status).toBe('failed');
      expect(record.error).toMatch(/did not reveal the key before the payment expired/);
      expect(alpha.results().has(job.jobId)).toBe(false);
      const paid = (await alpha.audit.list()).filter(
        (p) => p.jobId === job.jobId && p.counterparty === beta.pubkey && p.status === 'fulfilled',
      );
      expect(paid).toEqual([]);
      expect(provider.earned()).toBe(earnedBefore);
    } finally {
      (provider as { handlePrepare: typeof honest }).handlePrepare = honest;
    }
  }, 90_000);

  it('a provider that serves garbage is paid, and the fraud hook gets the event, K and the mismatch', async () => {
    // Carol: a hostile provider built from the real parts (attachment, SPSP responder, sealed key store) that
    // signs a summary of "3/3 passed" over a sealed result saying 1 of 3 failed.
    const carol = devnet.mayors.carol!;
    const sk = keyOf(carol);
    const pool = new RelayPool({
      urls: [devnet.relayUrl],
      secretKey: sk,
      backoff: { minMs: 50, maxMs: 200 },
    });
    pool.start();
    const store = SealedKeyStore.open(mkdtempSync(join(tmpdir(), 'crosstown-carol-')));
    let earned = 0n;
    let spsp: ReturnType<typeof createProviderSpsp> | undefined;
    const att = await attach({
      pool,
      nostrSecretKey: sk,
      walletKey: carol.walletPrivateKey,
      rpcUrl: devnet.rpcUrl,
      nodePubkey: devnet.node.pubkey,
      maxBasePricePerByte: M2M,
      deposit: M2M,
      maxDeposit: 10n * M2M,
      onPrepare: (p) => spsp!.handlePrepare(p),
      onWarning: () => {},
    });
    closers.push(async () => {
      await att.detach();
      await pool.close();
    });
    spsp = createProviderSpsp({
      secretKey: sk,
      ilpAddress: att.spsp.ilpAddress,
      settlement: att.spsp.settlement,
      btpUrl: att.spsp.btpUrl,
      sealedKey: (id) => store.get(id),
      onPayment: ({ amount }) => {
        earned += amount;
      },
    });
    pool.subscribe('spsp-in', [{ kinds: [23194], '#p': [carol.nostrPubkey] }], ({ event }) => {
      void pool.publish(spsp!.respond(event)).catch(() => {});
    });
    pool.subscribe('jobs', [{ kinds: [5065], '#p': [carol.nostrPubkey] }], ({ event }) => {
      const lie = JSON.stringify({ build: 'FAILURE', tests: { passed: 2, failed: 1 }, logs: '' });
      const clear = buildJobResult({
        request: event,
        content: lie,
        amount: { amount: PRICE },
        status: 'success',
      });
      const { template, sealed } = sealTemplate(clear, event.id, 'success');
      // The lie: the signed summary claims a green build.
      const tags = template.tags.map((t) =>
        t[0] === 'summary'
          ? [
              'summary',
              JSON.stringify({
                status: 'success',
                build: 'SUCCESS',
                tests: { passed: 3, failed: 0, total: 3 },
              }),
            ]
          : t,
      );
      store.save({
        jobId: event.id,
        requester: event.pubkey,
        condition: sealed.condition,
        key: sealed.key,
        amount: PRICE,
      });
      const result = finalizeEvent({ ...template, tags }, sk);
      void att.writeToRelay(encodeEventBytes(result));
    });
    await new Promise((r) => setTimeout(r, 300));

    const job = await alpha.postJob({
      jobType: 'ci-cd-linux',
      params: { command: 'true' },
      bid: BID,
      provider: carol.nostrPubkey,
    });
    await alpha.settled([job.jobId], 30_000);
    const record = alpha.state.jobs.get(job.jobId)!;
    expect(record.status).toBe('failed');
    expect(record.error).toMatch(
      /^provider fraud: summary status is success but the result's build is FAILURE/,
    );
    expect(alpha.results().has(job.jobId)).toBe(false);
    // Paid (K was revealed): the books say so on both sides.
    expect(earned).toBe(PRICE);
    const out = (await alpha.audit.list()).filter(
      (p) => p.jobId === job.jobId && p.counterparty === carol.nostrPubkey,
    );
    expect(out.map((p) => [p.status, p.amount])).toEqual([['fulfilled', PRICE]]);
    // The hook got what a third party needs: the signed event, K (sha256 = its condition), the mismatch.
    expect(frauds).toHaveLength(1);
    const [fraud] = frauds;
    expect(fraud!.jobId).toBe(job.jobId);
    expect(fraud!.resultEvent.pubkey).toBe(carol.nostrPubkey);
    expect(hex(sha256(fraud!.key))).toBe(parseSealedResult(fraud!.resultEvent)!.condition);
    expect(fraud!.mismatch).toMatch(/build is FAILURE/);
  }, 60_000);
});
