// Issue 8 end to end on a real devnet: a private work request. Mayor-Alpha posts a ci-cd-linux job as a
// NIP-59 gift wrap to Mayor-Beta (provider mode) through the paid write path; Beta's encrypted-DM skill opens
// it and provider mode runs it like a public one; the result goes back gift-wrapped to Alpha only, is routed
// to the callback skill once, and Alpha pays. An ordinary Nostr client (nostr-tools, authenticated as itself)
// gets none of it; tampered wraps sent to Beta are rejected with a logged reason and Beta keeps working.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { finalizeEvent as ntFinalize } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation as setWebSocketImplementation } from 'nostr-tools/relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Devnet, startDevnet } from '../../src/devnet/index.js';
import type { Mayor } from '../../src/mayor/runtime/index.js';
import { finalizeEvent } from '../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import { KIND_GIFT_WRAP, KIND_SEAL } from '../../src/nostr/kinds.js';
import { encrypt, getConversationKey } from '../../src/nostr/nip44.js';
import { createRumor, createSeal } from '../../src/nostr/nip59.js';
import { buildJobRequest } from '../../src/nostr/nip90.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { encodeEventBytes, peekKind } from '../../src/toon/index.js';
import {
  BID,
  PRICE,
  recordingLogger,
  sampleRepoInput,
  startProviderMayor,
  startRequesterMayor,
} from './provider-e2e-helpers.js';
import { keyOf, waitFor } from './runtime/helpers.js';

// nostr-tools needs a WebSocket class under Node.
setWebSocketImplementation(WebSocket);

let devnet: Devnet;
let alpha: Mayor;
let beta: Mayor;
const betaLog = recordingLogger(true);

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['alpha', 'beta', 'gamma'] });
  beta = await startProviderMayor(devnet, 'beta', {}, betaLog);
  alpha = await startRequesterMayor(devnet, 'alpha');
}, 90_000);

afterAll(async () => {
  await alpha?.stop();
  await beta?.stop();
  await devnet?.stop();
});

/** A third party with an ordinary Nostr client, authenticated (NIP-42) as itself. */
async function outsider() {
  const sk = keyOf(devnet.mayors.gamma!);
  const relay = await Relay.connect(devnet.relayUrl);
  const closed: string[] = [];
  const seen: unknown[] = [];
  // Before AUTH: the relay refuses a gift-wrap subscription outright.
  relay.subscribe([{ kinds: [KIND_GIFT_WRAP] }], {
    onevent: (e) => seen.push(e),
    onclose: (reason) => closed.push(reason),
  });
  await waitFor(() => closed.length > 0, 5000, 'CLOSED before AUTH');
  await waitFor(
    async () =>
      relay
        .auth(async (t) => ntFinalize(t, sk))
        .then(() => true)
        .catch(() => false),
    5000,
    'AUTH as the outsider',
  );
  let eose = false;
  relay.subscribe(
    [{ kinds: [KIND_GIFT_WRAP] }, { kinds: [KIND_GIFT_WRAP], '#p': [beta.pubkey, alpha.pubkey] }],
    {
      onevent: (e) => seen.push(e),
      oneose: () => {
        eose = true;
      },
    },
  );
  // Served (EOSE, not CLOSED): the relay answers the query, just without other people's wraps.
  await waitFor(() => eose, 5000, 'EOSE after AUTH');
  /** Asks for specific events by id; resolves with what the relay sent before EOSE. */
  const byIds = (ids: string[]) =>
    new Promise<unknown[]>((resolve) => {
      const got: unknown[] = [];
      const sub = relay.subscribe([{ ids }], {
        onevent: (e) => got.push(e),
        oneose: () => {
          sub.close();
          resolve(got);
        },
      });
    });
  return { relay, closed, seen, byIds, pubkey: getPublicKey(sk) };
}

describe('private jobs (NIP-59) between two Mayors', () => {
  it('requester gets the gift-wrapped result; the outsider gets nothing; the relay holds only wraps', async () => {
    const spy = await outsider();
    expect(spy.closed[0]).toMatch(/^auth-required/);
    const posted = await alpha.postJob({
      jobType: 'ci-cd-linux',
      inputs: [sampleRepoInput('passing')],
      params: { command: 'node --test' },
      bid: BID,
      provider: beta.pubkey,
      private: true,
    });
    expect(posted.status).toBe('posted');
    await alpha.settled([posted.jobId], 90_000);

    const job = alpha.state.jobs.get(posted.jobId)!;
    expect(job.status).toBe('paid');
    expect(job.history.filter((h) => h.status === 'result-received')).toHaveLength(1);
    expect(job.provider).toBe(beta.pubkey);
    expect(job.amount).toBe(PRICE);
    const routed = alpha.results().get(posted.jobId)!;
    expect(routed.skill).toBe('ci-cd-callback');
    expect(routed.result.summary).toBe('Build: SUCCESS | Tests: 3/3 passed');
    // Beta served it as a private job and was paid for it. Its own bookkeeping (worktree removed, report
    // filed) may finish after Alpha has routed and paid.
    await waitFor(() => beta.provider()!.reports.has(posted.jobId), 20_000, 'provider report');
    const served = beta
      .provider()!
      .jobs()
      .find((j) => j.id === posted.jobId)!;
    expect(served).toMatchObject({ private: true, requester: alpha.pubkey, state: 'done' });
    await waitFor(() => beta.provider()!.earned() === PRICE, 20_000, 'payment at the provider');

    // Nothing readable is public: neither the request, its feedback nor its result exist as plain events.
    const plain = await alpha.pool.query([
      { ids: [posted.jobId] },
      { kinds: [6065, 7000], '#e': [posted.jobId] },
    ]);
    expect(plain).toEqual([]);
    // The outsider, authenticated as itself, was served no wrap at all (there are at least 3 on the relay).
    await new Promise((r) => setTimeout(r, 500));
    expect(spy.seen).toEqual([]);
    const alphaWraps = await alpha.pool.query([{ kinds: [KIND_GIFT_WRAP], '#p': [alpha.pubkey] }]);
    expect(alphaWraps.length).toBeGreaterThanOrEqual(2); // processing feedback + result
    // Even naming the wraps by id, the outsider is refused them.
    expect(await spy.byIds(alphaWraps.map((w) => w.event.id))).toEqual([]);
    // While Alpha (authenticated as the recipient) is served the same ids.
    expect(await alpha.pool.query([{ ids: alphaWraps.map((w) => w.event.id) }])).toHaveLength(
      alphaWraps.length,
    );
    // The requester keeps the result encrypted at rest (the wrap), and routed it from there.
    const stored = readFileSync(join(alpha.state.dir, 'results', `${posted.jobId}.toon`));
    expect(peekKind(stored)).toBe(KIND_GIFT_WRAP);
    spy.relay.close();
  }, 150_000);

  it('rejects tampered wraps with a logged reason and keeps serving', async () => {
    const alphaSk = keyOf(devnet.mayors.alpha!);
    const gammaSk = keyOf(devnet.mayors.gamma!);
    const request = buildJobRequest({
      jobType: 'ci-cd-linux',
      inputs: [],
      params: { command: 'true' },
      bid: BID,
      provider: beta.pubkey,
      relays: [],
      content: '',
    });
    /** A wrap signed by a fresh key (so the relay accepts it) around `sealJson` encrypted to `to`. */
    const wrapAround = (sealJson: string, to: string, tamper = false): NostrEvent => {
      const oneTime = generateSecretKey();
      let content = encrypt(sealJson, getConversationKey(oneTime, to));
      if (tamper) {
        const raw = Buffer.from(content, 'base64');
        raw[40] = raw[40]! ^ 0x01; // inside the ciphertext: the MAC no longer matches
        content = raw.toString('base64');
      }
      return finalizeEvent({ kind: KIND_GIFT_WRAP, tags: [['p', beta.pubkey]], content }, oneTime);
    };
    const seal = createSeal(createRumor(request, alphaSk), alphaSk, beta.pubkey);
    // Seal signed by Alpha around a rumor claiming Gamma wrote it.
    const forged = { ...createRumor(request, gammaSk) };
    const mismatch = finalizeEvent(
      {
        kind: KIND_SEAL,
        tags: [],
        content: encrypt(JSON.stringify(forged), getConversationKey(alphaSk, beta.pubkey)),
      },
      alphaSk,
    );
    const wraps = {
      badMac: wrapAround(JSON.stringify(seal), beta.pubkey, true),
      sealMismatch: wrapAround(JSON.stringify(mismatch), beta.pubkey),
      // p-tagged to Beta but encrypted to someone else: Beta cannot open it.
      wrongRecipient: wrapAround(JSON.stringify(seal), getPublicKey(generateSecretKey())),
    };
    const att = alpha.attachment()!;
    for (const w of Object.values(wraps)) {
      const { reply } = await att.writeToRelay(encodeEventBytes(w));
      expect(reply.type).toBe(13); // the relay stores them: it cannot know they are tampered
    }
    const rejected = (id: string) => betaLog.lines.find((l) => l.includes(`rejected gift wrap ${id}`));
    await waitFor(() => Object.values(wraps).every((w) => rejected(w.id)), 15_000, 'rejections logged');
    expect(rejected(wraps.badMac.id)).toMatch(/mac|MAC|decrypt/i);
    expect(rejected(wraps.sealMismatch.id)).toMatch(/not the seal signer/);
    expect(rejected(wraps.wrongRecipient.id)).toMatch(/mac|MAC|decrypt/i);
    // None became a job, and Beta still serves: a genuine private job after them succeeds.
    const ids = Object.values(wraps).map((w) => w.id);
    expect(
      beta
        .provider()!
        .jobs()
        .filter((j) => ids.includes(j.id)),
    ).toEqual([]);
    const posted = await alpha.postJob({
      jobType: 'ci-cd-linux',
      params: { command: 'true' },
      bid: BID,
      provider: beta.pubkey,
      private: true,
    });
    await alpha.settled([posted.jobId], 60_000);
    expect(alpha.state.jobs.get(posted.jobId)!.status).toBe('paid');
  }, 120_000);
});
