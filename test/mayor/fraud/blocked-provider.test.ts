// A Mayor stops buying from a provider it blocked after a proven fraud (issue 19), on a real devnet (anvil, node,
// relay) with an in-process requester Mayor and a stand-in provider that answers every job: its results are
// ignored with a logged reason (the job keeps waiting for someone else, nothing is paid to it), and a job cannot
// be sent to it by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../../src/devnet/index.js';
import { Blocklist, blocklistFor } from '../../../src/mayor/fraud/index.js';
import { type Mayor, startMayor } from '../../../src/mayor/runtime/index.js';
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
let alpha: Mayor | undefined;
const AMOUNT = 10n ** 15n;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['beta', 'alpha'] });
  provider = await startStandin(devnet, devnet.mayors.beta!, AMOUNT);
}, 60_000);
afterAll(async () => {
  await alpha?.stop().catch(() => {});
  await provider?.stop();
  await devnet?.stop();
});

describe('a blocked provider', () => {
  it('is neither routed nor paid, and jobs cannot be sent to it', async () => {
    const m = devnet.mayors.alpha!;
    const skill = recordingSkill('record');
    alpha = await startMayor({
      config: mayorConfig(devnet),
      walletKey: m.walletPrivateKey,
      nostrSecretKey: keyOf(m),
      nodePubkey: devnet.node.pubkey,
      logger: quiet,
      skills: [skill],
    });
    const activity: string[] = [];
    alpha.on('activity', (a: { text: string }) => activity.push(a.text));

    // Before the block: the provider answers and is paid (the stand-in works).
    const first = await alpha.postJob({ jobType: 'ci-cd-linux', bid: AMOUNT, callbackSkill: 'record' });
    await waitFor(() => alpha!.state.jobs.get(first.jobId)?.status === 'paid', 30_000, 'first job paid');
    expect(provider.paymentsByJob.get(first.jobId)).toBe(1);
    expect(skill.routed).toContain(first.jobId);

    blocklistFor(alpha.state.dir).block({
      pubkey: provider.pubkey,
      reason: 'DECRYPT_FAILED: the result does not decrypt under the key it was paid for',
      at: Date.now(),
      reportId: 'f'.repeat(64),
      published: true,
    });

    const { jobId } = await alpha.postJob({ jobType: 'ci-cd-linux', bid: AMOUNT, callbackSkill: 'record' });
    await waitFor(() => provider.answered.has(jobId), 30_000, 'the provider answered');
    await waitFor(
      () => activity.some((t) => t.includes('ignored: blocked since')),
      15_000,
      'the ignored result is logged',
    );
    const line = activity.find((t) => t.includes('ignored: blocked since'))!;
    expect(line).toContain(`result from provider ${provider.pubkey.slice(0, 8)}`);
    expect(line).toContain('DECRYPT_FAILED');
    // The job still waits (another provider may answer until its timeout); nothing was routed or paid.
    await new Promise((r) => setTimeout(r, 1000));
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    expect(skill.routed).not.toContain(jobId);
    expect(provider.paymentsByJob.get(jobId)).toBeUndefined();

    await expect(
      alpha.postJob({ jobType: 'ci-cd-linux', bid: AMOUNT, provider: provider.pubkey, private: true }),
    ).rejects.toThrow(/is blocked since .*choose another provider/);
    await expect(
      alpha.postJob({ jobType: 'ci-cd-linux', bid: AMOUNT, provider: provider.pubkey }),
    ).rejects.toThrow(/blocked/);
    // The block is on disk: the next start of this Mayor reads it.
    expect(Blocklist.open(alpha.state.dir).has(provider.pubkey)).toBe(true);
  }, 90_000);
});
