// Issue 7 end to end on a real devnet (anvil, node with connector + relay, real git state, real worktrees,
// bwrap when it works here): Mayor-Alpha posts ci-cd-linux jobs with a sample repository inline, Mayor-Beta
// in provider mode runs its tests in a Polecat worktree, the result comes back to Alpha's callback skill,
// Alpha pays the result's amount over ILP, the node's claims pay Beta, and Beta redeems them on-chain.
// Beta's pool full (2 slots): a public and a private job it refuses "busy" end as the busy policy says (the public
// one re-posted after the backoff and run once, the private one failed at once), each paid at most once.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChannel } from '../../src/chain/actions/readChannel.js';
import { type Devnet, startDevnet } from '../../src/devnet/index.js';
import { type Mayor, mayorDashboardSource } from '../../src/mayor/runtime/index.js';
import {
  BID,
  PRICE,
  sampleRepoInput,
  startProviderMayor,
  startRequesterMayor,
} from './provider-e2e-helpers.js';
import { waitFor } from './runtime/helpers.js';

let devnet: Devnet;
let alpha: Mayor;
let beta: Mayor;
/** A requester whose busy backoff is short (the default 30 s would outlast the test). */
let gamma: Mayor;
const BUSY_DELAY_MS = 4000;

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['alpha', 'beta', 'gamma'] });
  beta = await startProviderMayor(devnet, 'beta');
  alpha = await startRequesterMayor(devnet, 'alpha');
  gamma = await startRequesterMayor(devnet, 'gamma', [], undefined, {
    busyRetry: { delayMs: BUSY_DELAY_MS, maxReposts: 2 },
  });
}, 90_000);

afterAll(async () => {
  await gamma?.stop();
  await alpha?.stop();
  await beta?.stop();
  await devnet?.stop();
});

describe('provider mode: two Mayors on a real devnet', () => {
  it('advertises itself (NIP-89) through the paid write path', async () => {
    const ads = await alpha.pool.query([{ kinds: [31990], authors: [beta.pubkey] }]);
    expect(ads).toHaveLength(1);
    expect(ads[0]!.event.tags).toContainEqual(['k', '5065']);
    const fees = (await beta.audit.list()).filter((p) => p.direction === 'out' && p.status === 'fulfilled');
    expect(fees.map((f) => f.amount)).toContainEqual(BigInt(ads[0]!.toon.length) * 10n ** 13n);
  });

  it('runs a passing and a failing repository, routes both results, pays, and redeems exactly the amounts', async () => {
    const provider = beta.provider()!;
    expect(provider).toBeDefined();
    // bwrap works on this machine (docs/provider.md): jobs run sandboxed.
    expect(provider.service.sandbox.kind).toBe('bwrap');
    const post = (repo: 'passing' | 'failing') =>
      alpha.postJob({
        jobType: 'ci-cd-linux',
        inputs: [sampleRepoInput(repo)],
        params: { command: 'node --test' },
        bid: BID,
        provider: beta.pubkey,
      });
    const ok = await post('passing');
    const bad = await post('failing');
    expect(ok.status).toBe('posted');
    await alpha.settled([ok.jobId, bad.jobId], 90_000);
    // The provider files its report when its job has finished (worktree removed), which can be after Alpha
    // has already routed and paid: the requester does not wait on git any more.
    await waitFor(
      () => beta.provider()!.reports.has(ok.jobId) && beta.provider()!.reports.has(bad.jobId),
      20_000,
      'provider reports',
    );

    // Success: the callback skill (ci-cd-callback) got the result exactly once, with the test counts.
    const okJob = alpha.state.jobs.get(ok.jobId)!;
    expect(okJob.history.map((h) => h.status)).toEqual([
      'posting',
      'posted',
      'result-received',
      'routed',
      'paid',
    ]);
    expect(okJob.provider).toBe(beta.pubkey);
    expect(okJob.amount).toBe(PRICE);
    const okRouted = alpha.results().get(ok.jobId)!;
    expect(okRouted.skill).toBe('ci-cd-callback');
    expect(okRouted.result.summary).toBe('Build: SUCCESS | Tests: 3/3 passed');
    expect(okRouted.result.data).toMatchObject({ status: 'success', tests: { passed: 3, failed: 0 } });

    // Failure: a failure result with the failing count (the fixture has 2 of 4 tests failing), still
    // charged (the command ran).
    const badRouted = alpha.results().get(bad.jobId)!;
    expect(badRouted.result.data).toMatchObject({ status: 'error', tests: { passed: 2, failed: 2 } });
    expect(badRouted.result.summary).toBe('Build: FAILURE | Tests: 2/4 passed');
    expect(alpha.state.jobs.get(bad.jobId)!.status).toBe('paid');

    // The provider ran them in worktrees (now cleaned up) and saw the payments for exactly these jobs.
    const reports = [provider.reports.get(ok.jobId)!, provider.reports.get(bad.jobId)!];
    expect(reports.map((r) => r.outcome.build)).toEqual(['SUCCESS', 'FAILURE']);
    expect(reports[0]!.worktree).toContain('worktrees');
    await waitFor(() => provider.earned() === 2n * PRICE, 20_000, 'payments at the provider');
    const earnings = (await beta.audit.list()).filter((p) => p.direction === 'in');
    expect(earnings.map((p) => [p.jobId, p.amount]).sort()).toEqual(
      [
        [ok.jobId, PRICE],
        [bad.jobId, PRICE],
      ].sort(),
    );
    // Alpha's audit: the provider payments are exactly the results' amounts.
    const paidOut = (await alpha.audit.list()).filter(
      (p) => p.direction === 'out' && p.counterparty === beta.pubkey,
    );
    expect(paidOut.map((p) => p.amount)).toEqual([PRICE, PRICE]);

    // The node pays Beta by claims on its channel to Beta; Beta redeems the best one on-chain.
    await waitFor(() => provider.receiver.paid === 2n * PRICE, 30_000, 'node claims to the provider');
    const redeemed = await provider.redeemEarnings();
    expect(redeemed.paid).toBe(2n * PRICE);
    const [channel] = provider.receiver.list();
    const onChain = await readChannel(beta.attachment()!.clients.public, {
      channels: devnet.channels,
      channelId: channel!.channelId,
    });
    expect(onChain.claimed).toBe(okJob.amount! + alpha.state.jobs.get(bad.jobId)!.amount!);
    // Redeeming again moves nothing.
    expect((await provider.redeemEarnings()).paid).toBe(0n);

    // Beta's dashboard shows the jobs it served.
    const served = mayorDashboardSource(beta)
      .snapshot()
      .jobs.filter((j) => j.jobType.startsWith('serving'));
    expect(served.map((j) => j.id).sort()).toEqual([ok.jobId, bad.jobId].sort());
    expect(served.every((j) => j.state === 'served')).toBe(true);
  }, 150_000);

  it('a job naming another provider is not run by Beta', async () => {
    const other = devnet.mayors.alpha!.nostrPubkey;
    const posted = await alpha.postJob({
      jobType: 'ci-cd-linux',
      params: { command: 'true' },
      bid: BID,
      provider: 'f'.repeat(64) === other ? '0'.repeat(64) : 'f'.repeat(64),
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(
      beta
        .provider()!
        .jobs()
        .find((j) => j.id === posted.jobId),
    ).toBeUndefined();
    expect(alpha.state.jobs.get(posted.jobId)!.status).toBe('posted');
  }, 30_000);

  it("Beta's slots full: a public job it refuses busy is re-posted after the backoff and runs once; a private one fails at once", async () => {
    const provider = beta.provider()!;
    const post = (seq: string, command: string, priv: boolean) =>
      gamma.postJob({
        jobType: 'ci-cd-linux',
        params: { command, seq },
        bid: BID,
        provider: beta.pubkey,
        private: priv,
      });
    // Two jobs fill Beta's two slots (poolSize 2) until the test drops a file into their worktrees (bwrap binds
    // the worktree at its own path), however slowly the busy answers come on a loaded machine.
    const hold = 'while [ ! -e release ]; do sleep 0.05; done';
    const fill = await Promise.all([post('fill-1', hold, false), post('fill-2', hold, true)]);
    await waitFor(
      () => fill.every((f) => provider.jobs().find((j) => j.id === f.jobId)?.state === 'running'),
      20_000,
      'both slots running',
    );
    const t0 = Date.now();
    const [pub, priv] = await Promise.all([
      post('busy-public', 'true', false),
      post('busy-private', 'true', true),
    ]);
    // The private job fails as soon as Beta's busy answer arrives: re-wrapping it is the caller's decision.
    await gamma.settled([priv.jobId], 20_000);
    expect(gamma.state.jobs.get(priv.jobId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/is busy: all 2 job slots are busy.*\(private job; not re-posted\)$/),
    });
    // The public one waits out the backoff, then its copy (new id, same request) goes to Beta, freed meanwhile.
    await waitFor(
      () => provider.jobs().find((j) => j.id === pub.jobId)?.state === 'refused',
      20_000,
      'Beta refused the public job',
    );
    expect(gamma.state.jobs.get(pub.jobId)!.status).toBe('posted');
    const home = provider.service.options.home;
    for (const f of fill) writeFileSync(path.join(home, 'worktrees', f.jobId, 'release'), '');
    await gamma.settled([pub.jobId], BUSY_DELAY_MS + 20_000);
    const error = gamma.state.jobs.get(pub.jobId)!.error ?? '';
    expect(error).toMatch(
      /is busy \(all 2 job slots are busy; post again later\); re-posted as job-[0-9a-f]{7} \(1 of 2\)/,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(BUSY_DELAY_MS);
    const copy = gamma
      .jobs()
      .find((j) => j.id.startsWith(error.match(/job-([0-9a-f]{7})/)![1]!) && j.id !== pub.jobId)!;
    await gamma.settled([copy.id, ...fill.map((f) => f.jobId)], 30_000);
    expect(gamma.state.jobs.get(copy.id)).toMatchObject({
      status: 'paid',
      provider: beta.pubkey,
      amount: PRICE,
    });
    for (const f of fill) expect(gamma.state.jobs.get(f.jobId)!.status).toBe('paid');
    // Beta saw each request once: the two refused, the copy and the fillers run and were paid once each.
    const served = (id: string) => provider.jobs().filter((j) => j.id === id);
    expect(served(pub.jobId).map((j) => j.state)).toEqual(['refused']);
    expect(served(priv.jobId).map((j) => j.state)).toEqual(['refused']);
    // Beta files a job as done when its worktree is gone, which can be after Gamma was paid.
    await waitFor(
      () => served(copy.id)[0]?.state === 'done' && served(copy.id)[0]?.earned === PRICE,
      20_000,
      'Beta ran the copy and was paid',
    );
    expect(served(copy.id)).toHaveLength(1);
    // Gamma paid the provider once for each job that ran, nothing for the refused ones.
    const paidTo = (await gamma.audit.list()).filter(
      (p) =>
        p.direction === 'out' &&
        p.status === 'fulfilled' &&
        p.counterparty === beta.pubkey &&
        p.amount === PRICE,
    );
    expect(paidTo.map((p) => p.jobId).sort()).toEqual([copy.id, ...fill.map((f) => f.jobId)].sort());
  }, 90_000);
});
