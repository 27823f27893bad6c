// Lifecycle rules on a real devnet with an in-process requester Mayor: provider feedback `error` fails the job
// at once with the provider's reason (busy does not; a stranger cannot fail a job sent to one provider), a job
// too large for one PREPARE is refused before anything is paid, and a failed provider payment is retried with
// backoff while the Mayor runs and lands exactly once. A busy job's re-posted copy is its outcome: the original
// names it, and `settled()`, the control server's `wait` op and `job post --wait` (a real CLI child) wait for it.
// For a public job (no chosen provider): a stranger's signed error leaves the job `posted` and the real provider's
// result still routes it; a public job only strangers answer ends at its job timeout; and once the provider said it
// is running a public job, a stranger's "busy" does not get it re-posted (failed under the provider, run twice),
// nor does a busy that came before the provider's `processing` once its backoff ends.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeControl,
  controlRequest,
  controlSocketPath,
  serveControl,
} from '../../../src/cli/commands/control.js';
import { controlHandler } from '../../../src/cli/commands/mayor.js';
import { type Devnet, startDevnet } from '../../../src/devnet/index.js';
import { IlpPacketType } from '../../../src/ilp/index.js';
import type { MayorConfig } from '../../../src/mayor/config/index.js';
import { type FaultHook, type Mayor, startMayor } from '../../../src/mayor/runtime/index.js';
import { openStateRepo } from '../../../src/mayor/state/index.js';
import { buildJobResult, finalizeEvent } from '../../../src/nostr/index.js';
import { encodeEventBytes } from '../../../src/toon/index.js';
import { runCli } from '../../cli/helpers.js';
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
/** Warnings and errors of the Mayors, kept (not printed) for a failing test to show. */
const logged: string[] = [];
const keep = (level: string) => (msg: string) => {
  logged.push(`${level} ${msg}`);
  if (logged.length > 200) logged.shift();
};
const quiet = { debug() {}, info() {}, warn: keep('warn'), error: keep('error') };
const running: Mayor[] = [];

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['beta', 'a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'stranger'] });
  provider = await startStandin(devnet, devnet.mayors.beta!, AMOUNT);
}, 60_000);
afterAll(async () => {
  for (const m of running) await m.stop().catch(() => {});
  await provider?.stop();
  await devnet?.stop();
});

/** The configuration (home) each Mayor started with, to start one again on its own state. */
const configs = new Map<Mayor, MayorConfig>();

async function start(
  who: string,
  busyRetry?: { delayMs: number; maxReposts: number },
  jobTimeoutMs?: number,
  skill = recordingSkill('record'),
  config = mayorConfig(devnet),
  extra: { fault?: FaultHook } = {},
): Promise<Mayor> {
  const m = devnet.mayors[who]!;
  // One Mayor per key at a time: the node keeps the newer connection of a key, and the older stops for good.
  await stopMayor(running.find((r) => r.pubkey === m.nostrPubkey));
  const mayor = await startMayor({
    config,
    walletKey: m.walletPrivateKey,
    nostrSecretKey: keyOf(m),
    nodePubkey: devnet.node.pubkey,
    logger: quiet,
    skills: [skill],
    ...(extra.fault ? { fault: extra.fault } : {}),
    paymentRetry: { minMs: 200, maxMs: 400 },
    ...(busyRetry ? { busyRetry } : {}),
    ...(jobTimeoutMs ? { jobTimeoutMs } : {}),
  });
  running.push(mayor);
  configs.set(mayor, config);
  return mayor;
}

/** Stops a Mayor this file started (if any) and forgets it, so a test that looks one up finds the live one. */
async function stopMayor(mayor: Mayor | undefined) {
  if (!mayor) return;
  running.splice(running.indexOf(mayor), 1);
  await mayor.stop();
}

/** Stops `mayor` and starts `who`'s Mayor again on the same state (its home and config), with `skill`. */
async function restartOnState(mayor: Mayor, who: string, skill = recordingSkill('record')) {
  const config = configs.get(mayor)!;
  await stopMayor(mayor);
  return start(who, undefined, undefined, skill, config);
}

/**
 * a1's Mayor (the one running, if any, is stopped) started on its state (`fresh`: on a new one) with one re-post allowed, set as the
 * config's `busy-retry-delay` (1 s) and `busy-max-reposts` (1), not the busyRetry option; `restart` stops it and
 * starts it again on the same state.
 */
async function a1WithOneRepost(fresh = false) {
  const old = running.find((m) => m.pubkey === devnet.mayors.a1!.nostrPubkey);
  const config = {
    ...(old && !fresh ? configs.get(old)! : mayorConfig(devnet)),
    busyRetryDelaySeconds: 1,
    busyMaxReposts: 1,
  };
  await stopMayor(old);
  const alpha = await start('a1', undefined, undefined, recordingSkill('record'), config);
  return { alpha, restart: (mayor: Mayor) => restartOnState(mayor, 'a1') };
}

/** Posts a job to the stand-in provider, which holds it (answers nothing) until the test says. */
function postHeld(mayor: Mayor) {
  provider.holdFrom.add(mayor.pubkey);
  return mayor.postJob({
    jobType: 'ci-cd-linux',
    bid: 10n * AMOUNT,
    provider: provider.pubkey,
    callbackSkill: 'record',
  });
}

/** The same for a public job (no provider named): any provider may answer it. */
function postPublicHeld(mayor: Mayor) {
  provider.holdFrom.add(mayor.pubkey);
  return mayor.postJob({ jobType: 'ci-cd-linux', bid: 10n * AMOUNT, callbackSkill: 'record' });
}

const charged = (who: string) => {
  const b = devnet.runningNode!.connector.balance(devnet.mayors[who]!.nostrPubkey.slice(0, 16));
  return b.owedByPeer + b.paidByPeer;
};

/** A kind 7000 feedback for `jobId`, signed by `who` and written (paid) through the provider's attachment. */
async function feedback(
  who: string,
  jobId: string,
  requester: string,
  reason: string,
  status = 'error',
  createdAt = Math.floor(Date.now() / 1000),
): Promise<string> {
  const event = finalizeEvent(
    {
      kind: 7000,
      created_at: createdAt,
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
  return event.id;
}

/** The callback skill `record`, which also takes kind 7000 (over the built-in) and notes each feedback id it gets. */
function feedbackWatcher(): ReturnType<typeof recordingSkill> & { feedback: string[] } {
  const feedback: string[] = [];
  return {
    ...recordingSkill('record'),
    priority: 1,
    feedback,
    supportedEventKinds: () => [7000],
    async handleToon(_payload, meta) {
      feedback.push(meta.eventId ?? '?');
      return { status: 'handled', summary: 'feedback noted' };
    },
  };
}

describe('lifecycle rules', () => {
  it('feedback error fails the job at once with the reason; busy and strangers do not', async () => {
    const alpha = await start('a1');
    const { jobId } = await postHeld(alpha);
    await feedback('beta', jobId, alpha.pubkey, 'all 4 job slots are busy');
    await feedback('stranger', jobId, alpha.pubkey, 'bid below price');
    await new Promise((r) => setTimeout(r, 1500));
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    await feedback('beta', jobId, alpha.pubkey, 'bid below price');
    await waitFor(() => alpha.state.jobs.get(jobId)?.status === 'failed', 10_000, 'failed');
    expect(alpha.state.jobs.get(jobId)?.error).toMatch(/refused the job: bid below price/);
    // The job is final: a late result is not routed and not paid.
    provider.pending.length = 0;
    provider.holdFrom.delete(alpha.pubkey);
  }, 60_000);

  it('busy: re-posted as a new job after a backoff, then failed with the busy reason', async () => {
    const alpha = await start('a3', { delayMs: 800, maxReposts: 1 });
    provider.holdFrom.add(alpha.pubkey);
    const before = charged('a3');
    const { jobId, price } = await alpha.postJob({
      jobType: 'ci-cd-linux',
      params: { command: 'npm test' },
      bid: 10n * AMOUNT,
      provider: provider.pubkey,
      callbackSkill: 'record',
    });
    await feedback('beta', jobId, alpha.pubkey, 'all 4 job slots are busy');
    // Not at once: the backoff leaves room for the provider (or, for a public job, another one) to answer.
    await new Promise((r) => setTimeout(r, 300));
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    await waitFor(() => alpha.state.jobs.get(jobId)?.status === 'failed', 10_000, 'the busy job re-posted');
    const error = alpha.state.jobs.get(jobId)!.error!;
    expect(error).toMatch(/is busy \(all 4 job slots are busy\); re-posted as job-[0-9a-f]{7} \(1 of 1\)/);
    const copy = alpha
      .jobs()
      .find((j) => j.id !== jobId && j.id.startsWith(error.match(/job-([0-9a-f]{7})/)![1]!))!;
    // The failed original names its copy, and waiting for the original (the Mayor's `settled`, the control
    // server's `wait` op behind `job post --wait`) follows the copy: the original's `failed` is not its outcome.
    expect(alpha.state.jobs.get(jobId)!.repostedAs).toBe(copy.id);
    const dir = mkdtempSync(join(tmpdir(), 'ct-busy-wait-'));
    const socket = join(dir, 'control.sock');
    const server = await serveControl(socket, controlHandler(alpha, socket));
    try {
      let settled = false;
      const settling = alpha.settled([jobId], 20_000).then(() => {
        settled = true;
      });
      const waited = controlRequest(socket, { op: 'wait', id: jobId, timeoutMs: 20_000 }, 25_000);
      await waitFor(() => alpha.state.jobs.get(copy.id)?.status === 'posted', 10_000, 'the copy posted');
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      // Busy again: no re-post left, the copy fails with the provider's reason at once; that ends the wait.
      await feedback('beta', copy.id, alpha.pubkey, 'all 4 job slots are busy');
      await settling;
      expect(alpha.state.jobs.get(copy.id)?.status).toBe('failed');
      expect(await waited).toMatchObject({ id: copy.id, status: 'failed', repostedFrom: [jobId] });
    } finally {
      await closeControl(server, socket);
      rmSync(dir, { recursive: true, force: true });
    }
    // The same request (job type, params, bid, provider), a new id, its own write fee paid once.
    const stored = alpha.state.jobs.get(copy.id)!;
    expect(stored).toMatchObject({ jobType: 'ci-cd-linux', bid: 10n * AMOUNT, callbackSkill: 'record' });
    await waitFor(
      () => charged('a3') - before === price + stored.price!,
      10_000,
      'both write fees charged once',
    );
    expect(alpha.state.jobs.get(copy.id)!.repostedAs).toBeUndefined();
    expect(alpha.state.jobs.get(copy.id)!.error).toMatch(
      /is busy: all 4 job slots are busy \(gave up after 1 re-posts; not re-posted\)/,
    );
    expect(alpha.jobs().filter((j) => j.status !== 'failed' && j.id !== jobId)).toEqual([]);
    provider.pending.length = 0;
    provider.holdFrom.delete(alpha.pubkey);
  }, 60_000);

  it('job post --wait on a job refused busy reports its re-posted copy: paid, exit 0, repostedFrom', async () => {
    // The CLI as a real child process, talking to this Mayor through its control server (in-process here, so the
    // test sets the busy backoff; the daemon's is 30 s). a3's Mayor from the test before (devnet funds 8 Mayors).
    const alpha =
      running.find((m) => m.pubkey === devnet.mayors.a3!.nostrPubkey) ??
      (await start('a3', { delayMs: 800, maxReposts: 1 }));
    const earlier = new Set(alpha.jobs().map((j) => j.id));
    provider.holdFrom.add(alpha.pubkey);
    const home = mkdtempSync(join(tmpdir(), 'ct-busy-cli-'));
    const socket = controlSocketPath({ home, name: 'mayor' });
    const server = await serveControl(socket, controlHandler(alpha, socket));
    try {
      const cli = runCli(
        ['job', 'post', '--type', 'ci-cd-linux', '--provider', provider.pubkey, '--bid', '0.01'].concat([
          '--wait',
          '--timeout',
          '30',
          '--yes',
          '--format',
          'json',
        ]),
        { CROSSTOWN_HOME: home },
      );
      await waitFor(() => alpha.jobs().length === earlier.size + 1, 20_000, 'the CLI posted a job');
      const jobId = alpha.jobs().find((j) => !earlier.has(j.id))!.id;
      await waitFor(
        () => provider.pending.some((e) => e.id === jobId),
        10_000,
        'the request at the provider',
      );
      await feedback('beta', jobId, alpha.pubkey, 'all 4 job slots are busy');
      await waitFor(() => alpha.state.jobs.get(jobId)?.repostedAs !== undefined, 10_000, 'the job re-posted');
      const copyId = alpha.state.jobs.get(jobId)!.repostedAs!;
      // The provider runs the copy only (it journals the refused original and never answers it).
      await waitFor(() => provider.pending.some((e) => e.id === copyId), 10_000, 'the copy at the provider');
      provider.pending.splice(
        provider.pending.findIndex((e) => e.id === jobId),
        1,
      );
      await provider.resume();
      const run = await cli;
      expect(run.status, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        id: copyId,
        status: 'paid',
        amount: AMOUNT.toString(),
        repostedFrom: [jobId],
      });
      expect(alpha.state.jobs.get(jobId)).toMatchObject({ status: 'failed', repostedAs: copyId });
    } finally {
      await closeControl(server, socket);
      rmSync(home, { recursive: true, force: true });
      provider.pending.length = 0;
      provider.holdFrom.delete(alpha.pubkey);
    }
  }, 60_000);

  it('busy: the re-post count survives a restart, so maxReposts still holds', async () => {
    let { alpha, restart } = await a1WithOneRepost();
    const { jobId } = await postHeld(alpha);
    await feedback('beta', jobId, alpha.pubkey, 'all 4 job slots are busy');
    await waitFor(() => alpha.state.jobs.get(jobId)?.repostedAs !== undefined, 10_000, 'the job re-posted');
    const copyId = alpha.state.jobs.get(jobId)!.repostedAs!;
    await waitFor(() => alpha.state.jobs.get(copyId)?.status === 'posted', 10_000, 'the copy posted');
    alpha = await restart(alpha);
    // Busy again after the restart: its one re-post is spent, so the copy fails with the reason, no third copy.
    await feedback('beta', copyId, alpha.pubkey, 'all 4 job slots are busy');
    await waitFor(() => alpha.state.jobs.get(copyId)?.status === 'failed', 10_000, 'the copy failed');
    expect(alpha.state.jobs.get(copyId)!.error).toMatch(/gave up after 1 re-posts; not re-posted/);
    expect(alpha.state.jobs.get(copyId)!.repostedAs).toBeUndefined();
    await new Promise((r) => setTimeout(r, 600));
    expect(alpha.jobs().filter((j) => j.status !== 'failed')).toEqual([]);
    provider.holdFrom.delete(alpha.pubkey);
  }, 60_000);

  it('busy: a backoff pending at a restart ends in a re-post, even once the catch-up window has passed it', async () => {
    // On a new state: its results subscription has no resume point yet, so an answer dated back still comes.
    let { alpha, restart } = await a1WithOneRepost(true);
    const { jobId } = await postHeld(alpha);
    // The busy answer is dated 2 minutes back, so a later event puts it behind the results subscription's resume
    // point (the Mayor resumes 60 s before the newest event it saw, never later than its clock).
    const now = Math.floor(Date.now() / 1000);
    await feedback('beta', jobId, alpha.pubkey, 'all 4 job slots are busy', 'error', now - 120);
    await waitFor(
      () => alpha.activity().some((a) => a.text.startsWith(`job-${jobId.slice(0, 7)}: provider`)),
      10_000,
      'the backoff started',
    );
    await feedback('stranger', '00'.repeat(32), alpha.pubkey, 'unrelated', 'processing', now + 1);
    await waitFor(() => (alpha.pool.sinceOf('results') ?? 0) >= now, 10_000, 'the later event seen');
    // Stopped before the backoff ends: its timer goes with the process.
    alpha = await restart(alpha);
    await waitFor(() => alpha.state.jobs.get(jobId)?.repostedAs !== undefined, 10_000, 'the job re-posted');
    expect(alpha.state.jobs.get(jobId)!.error).toMatch(/re-posted as job-[0-9a-f]{7} \(1 of 1\)/);
    provider.holdFrom.delete(alpha.pubkey);
  }, 60_000);

  it('feedback reaches the skills once per event, not again when a restart looks it up', async () => {
    const watcher = feedbackWatcher();
    let alpha = await start('a2', undefined, undefined, watcher);
    const { jobId } = await postHeld(alpha);
    const first = await feedback('beta', jobId, alpha.pubkey, 'working on it', 'processing');
    await waitFor(() => watcher.feedback.includes(first), 10_000, 'the feedback handed to the skill');
    // Started again on its state: the job is still posted, so its feedback is looked up (and the catch-up window
    // replays it too). The skill has had it.
    alpha = await restartOnState(alpha, 'a2', watcher);
    const second = await feedback('beta', jobId, alpha.pubkey, 'still working', 'processing');
    await waitFor(() => watcher.feedback.includes(second), 10_000, 'the new feedback handed to the skill');
    await new Promise((r) => setTimeout(r, 500));
    expect(watcher.feedback).toEqual([first, second]);
    provider.holdFrom.delete(alpha.pubkey);
  }, 60_000);

  it('an answer dated ahead (a fast clock) does not push the resume point past ours: answers after a restart arrive', async () => {
    let alpha = await start('a3');
    const { jobId } = await postHeld(alpha);
    // Beta's clock runs 10 minutes ahead (the relay takes up to 15): its `processing` is dated then.
    await feedback('beta', jobId, alpha.pubkey, 'started', 'processing', Math.floor(Date.now() / 1000) + 600);
    await waitFor(
      () => alpha.activity().some((a) => a.text.includes(`${jobId.slice(0, 7)} feedback from`)),
      10_000,
      'the dated-ahead feedback seen',
    );
    expect(alpha.pool.sinceOf('results')).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    alpha = await restartOnState(alpha, 'a3');
    // Dated now: a subscription resumed from 10 minutes ahead would never ask for it.
    await feedback('beta', jobId, alpha.pubkey, 'cannot build this');
    await waitFor(() => alpha.state.jobs.get(jobId)?.status === 'failed', 10_000, 'the refusal applied');
    expect(alpha.state.jobs.get(jobId)!.error).toMatch(/cannot build this/);
    provider.holdFrom.delete(alpha.pubkey);
  }, 60_000);

  it('a resume point saved ahead of the clock (by an older version) is not asked for: answers still arrive', async () => {
    let alpha = await start('b1');
    const config = configs.get(alpha)!;
    const { jobId } = await postHeld(alpha);
    await stopMayor(alpha);
    const state = await openStateRepo({ dir: config.stateDir });
    const filters = [{ kinds: [6065, 7000], '#p': [alpha.pubkey] }];
    state.subscriptions.set('results', filters, Math.floor(Date.now() / 1000) + 600);
    await state.close();
    alpha = await start('b1', undefined, undefined, recordingSkill('record'), config);
    await feedback('beta', jobId, alpha.pubkey, 'cannot build this');
    await waitFor(() => alpha.state.jobs.get(jobId)?.status === 'failed', 10_000, 'the refusal applied');
    provider.holdFrom.delete(alpha.pubkey);
  }, 60_000);

  it('a job too large for one PREPARE is refused before anything is paid, with size and limit', async () => {
    const alpha = await start('a2');
    const before = charged('a2');
    const jobs = alpha.jobs().length;
    await expect(
      alpha.postJob({ jobType: 'ci-cd-linux', bid: AMOUNT, content: 'x'.repeat(40_000) }),
    ).rejects.toMatchObject({ code: 'POST_REJECTED', message: expect.stringMatching(/\d+ bytes.*32767/) });
    expect(alpha.jobs().length).toBe(jobs);
    expect(charged('a2')).toBe(before);
  }, 60_000);

  it("a provider's refusal that overtakes our own FULFILL (the job still posting) fails the job once posted", async () => {
    // a2's Mayor from the size test before (if it ran) is stopped; a2 then starts on that state with a hook that holds
    // the post between the relay's FULFILL and the `posted` transition, as a loaded machine may.
    const old = running.find((m) => m.pubkey === devnet.mayors.a2!.nostrPubkey);
    const config = old ? configs.get(old)! : mayorConfig(devnet);
    await stopMayor(old);
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const fault: FaultHook = async (point) => {
      if (point === 'fulfill-before-commit') await held;
    };
    const alpha = await start('a2', undefined, undefined, recordingSkill('record'), config, { fault });
    const posted = postHeld(alpha);
    try {
      await waitFor(() => alpha.jobs().some((j) => j.status === 'posting'), 10_000, 'the job posting');
      const jobId = alpha.jobs().find((j) => j.status === 'posting')!.id;
      await feedback('beta', jobId, alpha.pubkey, 'bid below price');
      await waitFor(
        () => alpha.activity().some((a) => a.text.startsWith(`job-${jobId.slice(0, 7)} feedback from`)),
        10_000,
        'the refusal delivered while the job is posting',
      );
      expect(alpha.state.jobs.get(jobId)?.status).toBe('posting');
    } finally {
      release();
    }
    const { jobId } = await posted;
    await waitFor(() => alpha.state.jobs.get(jobId)?.status !== 'posted', 10_000, 'the refusal applied');
    expect(alpha.state.jobs.get(jobId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/refused the job: bid below price/),
    });
    provider.holdFrom.delete(alpha.pubkey);
  }, 60_000);

  it('a failed provider payment is retried with backoff while the Mayor runs, and lands once', async () => {
    const alpha = running.find((m) => m.pubkey === devnet.mayors.a2!.nostrPubkey)!;
    provider.flags.refusePayments = true;
    const { jobId } = await alpha.postJob({
      jobType: 'ci-cd-linux',
      bid: 10n * AMOUNT,
      callbackSkill: 'record',
    });
    await waitFor(() => alpha.state.jobs.get(jobId)?.status === 'routed', 20_000, 'routed');
    await new Promise((r) => setTimeout(r, 1000));
    expect(alpha.state.jobs.get(jobId)?.status).toBe('routed');
    provider.flags.refusePayments = false;
    await waitFor(() => alpha.state.jobs.get(jobId)?.status === 'paid', 20_000, 'paid after the retry').catch(
      (err) => {
        // What the Mayor did meanwhile, to tell a slow machine from a payment that stopped being retried.
        const log = alpha.activity().map((a) => `${a.kind}: ${a.text}`);
        const logs = logged.slice(-20).join('\n');
        throw new Error(
          `${(err as Error).message}; the Mayor's activity:\n${log.slice(-30).join('\n')}\nlogged:\n${logs}`,
        );
      },
    );
    expect(provider.paymentsByJob.get(jobId)).toBe(1);
  }, 60_000);
});

describe('error feedback for a public job (strangers)', () => {
  const record = recordingSkill('record');
  it("a stranger's error leaves the job running; the provider's result still routes it", async () => {
    const alpha = await start('b1', undefined, undefined, record);
    const { jobId } = await postPublicHeld(alpha);
    await waitFor(() => provider.pending.some((e) => e.id === jobId), 10_000, 'the provider saw the job');
    await feedback('stranger', jobId, alpha.pubkey, 'bid below price');
    await new Promise((r) => setTimeout(r, 1500));
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    await provider.resume();
    await waitFor(() => record.routed.includes(jobId), 20_000, 'the result routed');
    expect(alpha.state.jobs.get(jobId)?.provider).toBe(provider.pubkey);
    expect(alpha.state.jobs.get(jobId)?.error).toBeUndefined();
  }, 60_000);

  it('a public job only a stranger answers still ends at its job timeout', async () => {
    const alpha = await start('b2', undefined, 3000, record);
    const { jobId } = await postPublicHeld(alpha);
    await feedback('stranger', jobId, alpha.pubkey, 'refused');
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
    const alpha = await start('b3', { delayMs: 300, maxReposts: 1 }, undefined, record);
    const { jobId } = await postPublicHeld(alpha);
    await feedback('beta', jobId, alpha.pubkey, 'accepted; running', 'processing');
    await waitFor(
      () => alpha.activity().some((a) => a.text.includes(`${jobId.slice(0, 7)} feedback from`)),
      10_000,
      'the processing feedback seen',
    );
    await feedback('stranger', jobId, alpha.pubkey, 'all 4 job slots are busy');
    await new Promise((r) => setTimeout(r, 1500)); // five times the backoff
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    expect(alpha.jobs().map((j) => j.id)).toEqual([jobId]);
    await provider.resume();
    await waitFor(() => record.routed.includes(jobId), 20_000, 'the result routed');
  }, 60_000);

  it('a busy that came before another provider said it is running the job does not re-post it', async () => {
    // A backoff long enough for the processing answer to come inside it, on a loaded machine too: the busy answer is
    // applied first (waited for), then the processing one, then the backoff ends without a copy. (Applied in the other
    // order, the busy answer is ignored: also no copy, but not this case.)
    const alpha = await start('b3', { delayMs: 2000, maxReposts: 1 }, undefined, record);
    const earlier = alpha.jobs().length;
    const { jobId } = await postPublicHeld(alpha);
    await feedback('stranger', jobId, alpha.pubkey, 'all 4 job slots are busy');
    await waitFor(
      () => alpha.activity().some((a) => a.text.startsWith(`job-${jobId.slice(0, 7)}: provider`)),
      10_000,
      'the busy answer applied (its backoff started)',
    );
    await feedback('beta', jobId, alpha.pubkey, 'accepted; running', 'processing');
    await waitFor(
      () =>
        alpha
          .activity()
          .some((a) => a.text.includes(`${jobId.slice(0, 7)} feedback from ${provider.pubkey.slice(0, 8)}`)),
      10_000,
      'the processing feedback seen',
    );
    await waitFor(
      () => alpha.activity().some((a) => a.text.startsWith(`job-${jobId.slice(0, 7)} not re-posted`)),
      10_000,
      'the backoff ended without a re-post',
    );
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    expect(alpha.jobs().length).toBe(earlier + 1); // no copy
    await provider.resume();
    await waitFor(() => record.routed.includes(jobId), 20_000, 'the result routed');
    await waitFor(() => alpha.state.jobs.get(jobId)?.status === 'paid', 20_000, 'paid');
    expect(provider.paymentsByJob.get(jobId)).toBe(1);
  }, 60_000);

  it("a stranger's result for a job sent to one provider is dropped; the provider's own result routes it", async () => {
    const alpha = await start('b3', undefined, undefined, record);
    const { jobId } = await postHeld(alpha);
    await waitFor(() => provider.pending.some((e) => e.id === jobId), 10_000, 'the provider saw the job');
    const request = provider.pending.find((e) => e.id === jobId)!;
    // A valid, signed result asking less than the bid, from someone the job was not sent to.
    const result = finalizeEvent(
      buildJobResult({ request, content: '{"ok":true}', amount: { amount: AMOUNT }, status: 'success' }),
      keyOf(devnet.mayors.stranger!),
    );
    const { reply } = await provider.att.writeToRelay(encodeEventBytes(result));
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    await waitFor(
      () => alpha.activity().some((a) => a.text.includes(`${jobId.slice(0, 7)}: result from`)),
      10_000,
      "the stranger's result seen",
    );
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    await provider.resume();
    await waitFor(() => record.routed.includes(jobId), 20_000, 'the result routed');
    expect(alpha.state.jobs.get(jobId)?.provider).toBe(provider.pubkey);
    await waitFor(() => alpha.state.jobs.get(jobId)?.status === 'paid', 20_000, 'the provider paid');
    expect(alpha.state.jobs.get(jobId)?.provider).toBe(provider.pubkey);
  }, 60_000);
  it("after a crash mid-payment to one provider, another provider's result for the public job is not taken", async () => {
    let alpha = await start('b2', undefined, undefined, record);
    const config = configs.get(alpha)!;
    const { jobId } = await postPublicHeld(alpha);
    await waitFor(() => provider.pending.some((e) => e.id === jobId), 10_000, 'the provider saw the job');
    await stopMayor(alpha);
    // What a crash leaves when it cut the batch of a result (another provider's, paid at once) after its payment
    // went out: the job `posted`, the payment's intent open.
    const other = devnet.mayors.stranger!.nostrPubkey;
    appendFileSync(
      join(config.stateDir, 'intents.jsonl'),
      `${JSON.stringify({ key: `provider-payment:${jobId}`, effect: 'provider-payment', jobId, phase: 'intent', amount: String(AMOUNT), detail: other, at: Date.now() })}\n`,
    );
    alpha = await start('b2', undefined, undefined, record, config);
    await provider.resume();
    await waitFor(
      () => alpha.activity().some((a) => a.text.includes(`${jobId.slice(0, 7)}: result from`)),
      10_000,
      "the provider's result seen",
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(alpha.state.jobs.get(jobId)?.status).toBe('posted');
    expect(provider.paymentsByJob.get(jobId)).toBeUndefined();
  }, 60_000);
});
