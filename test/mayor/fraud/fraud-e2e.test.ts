// Issue 19, "a Beta that serves garbage is paid but provably reported", on a real devnet (anvil, node, relay):
// an in-process requester Mayor posts atomic jobs to cheating providers (test/mayor/fraud/cheating-provider.ts).
// It pays by condition, the FULFILL reveals K, the result does not open (or contradicts its summary): the job
// fails with the reason, the provider was paid exactly once, a fraud report is on the relay and verifies with
// public data only (checked by the real `crosstown provider reports` binary), and the provider is blocked: its
// next result is ignored with a logged reason and not paid (the job keeps waiting).
// Then a requester that lost the FULFILL of its payment (it crashed right after it came) and a provider that takes
// every payment: recovery used to pay again and rely on the provider to refuse the second payment as "already paid"
// (an honest one does, this one does not). The requester now reads the FULFILL from its own record of what it pays
// for (payments-out.jsonl): the job is paid once, a sealed result's key from that record. The crash is the
// in-process stand-in of atomic-restart.test.ts: the fault hook throws at `payment-fulfilled`, then the Mayor is
// stopped and started again on the same state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../../src/devnet/index.js';
import { Blocklist, verifyFraudReport } from '../../../src/mayor/fraud/index.js';
import { type Mayor, startMayor } from '../../../src/mayor/runtime/index.js';
import { KIND_REPORT } from '../../../src/nostr/nip56.js';
import { json, runCli, tempHome } from '../../cli/helpers.js';
import { readEvents } from '../../devnet/helpers.js';
import { keyOf, mayorConfig, recordingSkill, waitFor } from '../runtime/helpers.js';
import { type CheatingProvider, startCheatingProvider } from './cheating-provider.js';

let devnet: Devnet;
const providers: CheatingProvider[] = [];
let alpha: Mayor | undefined;
const running: Mayor[] = [];
const AMOUNT = 10n ** 15n;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const skill = recordingSkill('record');

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['garbage', 'liar', 'alpha', 'greedy', 'greedyClear', 'r1', 'r2'] });
}, 60_000);
afterAll(async () => {
  await alpha?.stop().catch(() => {});
  for (const m of running) await m.stop().catch(() => {});
  for (const p of providers) await p.stop().catch(() => {});
  await devnet?.stop();
});

async function reportedFraud(provider: CheatingProvider, code: string) {
  const { jobId } = await alpha!.postJob({
    jobType: 'ci-cd-linux',
    bid: AMOUNT,
    provider: provider.pubkey,
    callbackSkill: 'record',
  });
  await waitFor(() => alpha!.state.jobs.get(jobId)?.status === 'failed', 45_000, `job ${jobId} failed`);
  const job = alpha!.state.jobs.get(jobId)!;
  expect(job.error).toMatch(/fraud/);
  // Paid exactly once: the money moved and K came back with it.
  expect(provider.paymentsByJob.get(jobId)).toBe(1);
  expect(skill.routed).not.toContain(jobId);

  await waitFor(
    async () =>
      (await readEvents(devnet.relayUrl, { kinds: [KIND_REPORT], '#p': [provider.pubkey] })).length > 0,
    20_000,
    'the fraud report is on the relay',
  );
  const [report] = await readEvents(devnet.relayUrl, { kinds: [KIND_REPORT], '#p': [provider.pubkey] });
  expect(report!.pubkey).toBe(alpha!.pubkey);
  expect(verifyFraudReport(report!)).toMatchObject({ verified: true, code, provider: provider.pubkey });
  // The relay stores the report before its FULFILL reaches us: `published` follows a moment later.
  await waitFor(
    () => Blocklist.open(alpha!.state.dir).get(provider.pubkey)?.published === true,
    10_000,
    'the report marked published',
  );
  expect(Blocklist.open(alpha!.state.dir).get(provider.pubkey)).toMatchObject({ reportId: report!.id });
  return { jobId, report: report! };
}

describe('a provider that serves garbage', () => {
  it('is paid once, provably reported, blocked; anyone verifies the report', async () => {
    providers.push(await startCheatingProvider(devnet, devnet.mayors.garbage!, AMOUNT, 'garbage'));
    providers.push(await startCheatingProvider(devnet, devnet.mayors.liar!, AMOUNT, 'lie'));
    const m = devnet.mayors.alpha!;
    alpha = await startMayor({
      config: mayorConfig(devnet),
      walletKey: m.walletPrivateKey,
      nostrSecretKey: keyOf(m),
      nodePubkey: devnet.node.pubkey,
      logger: quiet,
      skills: [skill],
    });
    const [garbage, liar] = providers as [CheatingProvider, CheatingProvider];
    // A result of the garbage provider that arrives before the fraud is found, held for the operator (it asks
    // more than the bid): once the provider is blocked, approving it buys no key and pays nothing.
    const held = await alpha.postJob({
      jobType: 'ci-cd-linux',
      bid: AMOUNT - 1n,
      provider: garbage.pubkey,
      callbackSkill: 'record',
    });
    await waitFor(() => alpha!.status().held.includes(held.jobId), 30_000, 'the result held');

    const g = await reportedFraud(garbage, 'DECRYPT_FAILED');
    await reportedFraud(liar, 'CONTRADICTS_SUMMARY');

    await alpha.approvePayment(held.jobId);
    const heldJob = alpha.state.jobs.get(held.jobId)!;
    expect(heldJob.status).toBe('failed');
    expect(heldJob.error).toMatch(/is blocked since .*its result's key was not bought/);
    expect(garbage.paymentsByJob.get(held.jobId)).toBeUndefined();
    expect(alpha.status().held).not.toContain(held.jobId);

    // The real binary, reading the devnet relay with no key of Alpha's, verifies it.
    const run = await runCli(
      ['provider', 'reports', garbage.pubkey, '--relay-url', devnet.relayUrl, '--format', 'json'],
      {
        CROSSTOWN_HOME: tempHome(),
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({
      verified: 1,
      reports: [{ id: g.report.id, verified: true, code: 'DECRYPT_FAILED' }],
    });

    // Blocked: its next result is ignored, not paid; naming it is refused.
    await expect(
      alpha.postJob({ jobType: 'ci-cd-linux', bid: AMOUNT, provider: garbage.pubkey }),
    ).rejects.toThrow(/blocked/);
    await expect(
      alpha.postJob({ jobType: 'ci-cd-linux', bid: AMOUNT, provider: liar.pubkey, private: true }),
    ).rejects.toThrow(/is blocked since .*choose another provider/);
    const activity: string[] = [];
    alpha.on('activity', (a: { text: string }) => activity.push(a.text));
    const { jobId } = await alpha.postJob({ jobType: 'ci-cd-linux', bid: AMOUNT });
    await waitFor(() => garbage.answered.has(jobId) && liar.answered.has(jobId), 30_000, 'both answered');
    await waitFor(
      () =>
        [garbage, liar].every((p) =>
          activity.some((t) => t.includes(`result from provider ${p.pubkey.slice(0, 8)}`)),
        ),
      15_000,
      'both ignored results logged',
    );
    const line = activity.find((t) => t.includes(`result from provider ${garbage.pubkey.slice(0, 8)}`))!;
    expect(line).toMatch(/ignored: blocked since .*does not decrypt/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    expect(garbage.paymentsByJob.get(jobId)).toBeUndefined();
    expect(liar.paymentsByJob.get(jobId)).toBeUndefined();
  }, 180_000);
});

describe('a requester that lost its FULFILL, and a provider that takes every payment', () => {
  for (const [mode, provider, requester] of [
    ['greedy', 'greedy', 'r1'],
    ['greedy-clear', 'greedyClear', 'r2'],
  ] as const) {
    it(`pays once (${mode === 'greedy' ? 'sealed result: the key comes from its own record' : 'clear result'})`, async () => {
      const greedy = await startCheatingProvider(devnet, devnet.mayors[provider]!, AMOUNT, mode);
      providers.push(greedy);
      const config = mayorConfig(devnet);
      const m = devnet.mayors[requester]!;
      let crash = true;
      const start = (withFault: boolean) =>
        startMayor({
          config,
          walletKey: m.walletPrivateKey,
          nostrSecretKey: keyOf(m),
          nodePubkey: devnet.node.pubkey,
          logger: quiet,
          paymentRetry: { minMs: 200, maxMs: 1000 },
          ...(withFault && {
            fault: async (point: string) => {
              if (point === 'payment-fulfilled' && crash) {
                crash = false;
                throw new Error('simulated crash after the FULFILL');
              }
            },
          }),
        }).then((mayor) => {
          running.push(mayor);
          return mayor;
        });
      const first = await start(true);
      const job = await first.postJob({ jobType: 'ci-cd-linux', bid: AMOUNT, provider: greedy.pubkey });
      await waitFor(() => !crash, 60_000, 'the FULFILL');
      await waitFor(() => greedy.paymentsByJob.get(job.jobId) === 1, 20_000, 'the provider paid');
      // A clear result is routed before it is paid; a sealed one once its key is in hand (below).
      const routed = mode === 'greedy' ? undefined : first.results().get(job.jobId);
      await first.stop();
      running.splice(running.indexOf(first), 1);

      const again = await start(false);
      await again.settled([job.jobId], 60_000);
      const record = again.state.jobs.get(job.jobId)!;
      expect(record.error).toBeUndefined();
      expect(record.status).toBe('paid');
      expect((routed ?? again.results().get(job.jobId))?.result.summary).toMatch(/^Build: SUCCESS/);
      // Paid once: before the payer's record, recovery sent the payment again and this provider took it.
      await new Promise((r) => setTimeout(r, 500));
      expect(greedy.paymentsByJob.get(job.jobId)).toBe(1);
      const out = (await again.audit.list()).filter(
        (p) => p.jobId === job.jobId && p.counterparty === greedy.pubkey && p.status === 'fulfilled',
      );
      expect(out.map((p) => p.amount)).toEqual([AMOUNT]);
    }, 150_000);
  }
});
