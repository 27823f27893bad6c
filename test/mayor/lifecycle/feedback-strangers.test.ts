// A stranger cannot fail someone else's public job (no chosen provider) with one paid kind 7000 `error` write: on
// a real devnet, the stranger's signed error feedback leaves the job `posted`, and the real provider's result
// still routes it; a public job only strangers answer still ends, at its job timeout; and once the provider said
// it is running a public job, a stranger's "busy" does not get it re-posted (failed under the provider, run twice).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../../src/devnet/index.js';
import { IlpPacketType } from '../../../src/ilp/index.js';
import { type Mayor, startMayor } from '../../../src/mayor/runtime/index.js';
import { finalizeEvent } from '../../../src/nostr/index.js';
import { encodeEventBytes } from '../../../src/toon/index.js';
import {
  keyOf,
  mayorConfig,
  recordingSkill,
  type Standin,
  startStandin,
  waitFor,
} from '../runtime/helpers.js';

let devnet: Devnet;
let provider: Standin;
const AMOUNT = 10n ** 15n;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const running: Mayor[] = [];
const record = recordingSkill('record');

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['beta', 'a1', 'a2', 'a3', 'stranger'] });
  provider = await startStandin(devnet, devnet.mayors.beta!, AMOUNT);
}, 60_000);
afterAll(async () => {
  for (const m of running) await m.stop().catch(() => {});
  await provider?.stop();
  await devnet?.stop();
});

async function start(
  who: string,
  jobTimeoutMs?: number,
  busyRetry?: { delayMs: number; maxReposts: number },
): Promise<Mayor> {
  const m = devnet.mayors[who]!;
  const mayor = await startMayor({
    config: mayorConfig(devnet),
    walletKey: m.walletPrivateKey,
    nostrSecretKey: keyOf(m),
    nodePubkey: devnet.node.pubkey,
    logger: quiet,
    skills: [record],
    paymentRetry: { minMs: 200, maxMs: 400 },
    ...(jobTimeoutMs ? { jobTimeoutMs } : {}),
    ...(busyRetry ? { busyRetry } : {}),
  });
  running.push(mayor);
  return mayor;
}

/** A signed feedback for `jobId` (the stranger's by default), written (paid) like any event. */
async function feedback(jobId: string, requester: string, status: string, reason: string, who = 'stranger') {
  const event = finalizeEvent(
    {
      kind: 7000,
      created_at: Math.floor(Date.now() / 1000),
      tags: [
        ['status', status, reason],
        ['e', jobId],
        ['p', requester],
      ],
      content: '',
    },
    keyOf(devnet.mayors[who]!),
  );
  const { reply } = await provider.att.writeToRelay(encodeEventBytes(event));
  expect(reply.type).toBe(IlpPacketType.Fulfill);
}

describe('error feedback for a public job', () => {
  it("a stranger's error leaves the job running; the provider's result still routes it", async () => {
    const alpha = await start('a1');
    provider.holdFrom.add(alpha.pubkey);
    const { jobId } = await alpha.postJob({
      jobType: 'ci-cd-linux',
      bid: 10n * AMOUNT,
      callbackSkill: 'record',
    });
    await waitFor(() => provider.pending.some((e) => e.id === jobId), 10_000, 'the provider saw the job');
    await feedback(jobId, alpha.pubkey, 'error', 'bid below price');
    await new Promise((r) => setTimeout(r, 1500));
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    await provider.resume();
    await waitFor(() => record.routed.includes(jobId), 20_000, 'the result routed');
    expect(alpha.state.jobs.get(jobId)?.provider).toBe(provider.pubkey);
    expect(alpha.state.jobs.get(jobId)?.error).toBeUndefined();
  }, 60_000);

  it('a public job only a stranger answers still ends at its job timeout', async () => {
    const alpha = await start('a2', 3000);
    provider.holdFrom.add(alpha.pubkey);
    const { jobId } = await alpha.postJob({
      jobType: 'ci-cd-linux',
      bid: 10n * AMOUNT,
      callbackSkill: 'record',
    });
    await feedback(jobId, alpha.pubkey, 'error', 'refused');
    await new Promise((r) => setTimeout(r, 1000));
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    await waitFor(() => alpha.state.jobs.get(jobId)?.status === 'failed', 10_000, 'timed out');
    expect(alpha.state.jobs.get(jobId)?.error).toBe('no result within 3 s of posting');
    // The ignored error is in the activity feed, with why.
    expect(alpha.activity().some((a) => a.text.includes(`error from`) && a.text.includes('ignored'))).toBe(
      true,
    );
    provider.pending.length = 0;
    provider.holdFrom.delete(alpha.pubkey);
  }, 60_000);

  it("a stranger's busy does not re-post a public job its provider said it is running", async () => {
    const alpha = await start('a3', undefined, { delayMs: 300, maxReposts: 1 });
    provider.holdFrom.add(alpha.pubkey);
    const { jobId } = await alpha.postJob({
      jobType: 'ci-cd-linux',
      bid: 10n * AMOUNT,
      callbackSkill: 'record',
    });
    await feedback(jobId, alpha.pubkey, 'processing', 'accepted; running', 'beta');
    await waitFor(
      () => alpha.activity().some((a) => a.text.includes(`${jobId.slice(0, 7)} feedback from`)),
      10_000,
      'the processing feedback seen',
    );
    await feedback(jobId, alpha.pubkey, 'error', 'all 4 job slots are busy');
    await new Promise((r) => setTimeout(r, 1500)); // five times the backoff
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    expect(alpha.jobs().map((j) => j.id)).toEqual([jobId]);
    await provider.resume();
    await waitFor(() => record.routed.includes(jobId), 20_000, 'the result routed');
  }, 60_000);
});
