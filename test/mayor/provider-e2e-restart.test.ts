// Issue 7: a provider restart mid-job loses nothing. Mayor-Beta runs as a real child process
// (src/mayor/main.ts, provider mode from the environment, keys from the encrypted keystore) on a real devnet;
// it is SIGKILLed while a job's command runs in its worktree, then started again. The requester (an
// in-process Mayor) gets a result for the job, an error that says the provider restarted, and pays nothing.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../src/devnet/index.js';
import type { Mayor } from '../../src/mayor/runtime/index.js';
import { BID, PRICE, providerChildHome, startRequesterMayor } from './provider-e2e-helpers.js';
import { type MayorChild, spawnMayor } from './runtime/child.js';
import { waitFor } from './runtime/helpers.js';

const PASSPHRASE = 'provider restart passphrase 7';
let devnet: Devnet;
let alpha: Mayor;
let child: MayorChild | undefined;

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['alpha', 'beta'] });
  alpha = await startRequesterMayor(devnet, 'alpha');
}, 90_000);

afterAll(async () => {
  await child?.stop();
  await alpha?.stop();
  await devnet?.stop();
});

async function betaEnv(): Promise<Record<string, string>> {
  return (await providerChildHome(devnet, 'beta', PASSPHRASE)).env;
}

/** Process ids whose command line is exactly the job's marker command (none may survive the restart). */
function jobProcesses(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', `^sleep ${marker}$`])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('provider restart mid-job', () => {
  it('SIGKILL while the job runs, restart: the requester gets an error result, never silence', async () => {
    const env = await betaEnv();
    child = spawnMayor(env, PASSPHRASE);
    await child.waitFor((e) => 'ready' in e, 60_000, 'beta ready');
    const marker = `${60 + Math.floor(Math.random() * 1000)}.25`;
    const quick = () =>
      alpha.postJob({
        jobType: 'ci-cd-linux',
        params: { command: 'true' },
        bid: BID,
        provider: devnet.mayors.beta!.nostrPubkey,
      });
    // A job paid before the crash: Alpha now holds Beta's SPSP answer (account + secret).
    const before = await quick();
    await alpha.settled([before.jobId], 60_000);
    expect(alpha.state.jobs.get(before.jobId)).toMatchObject({ status: 'paid', amount: PRICE });
    const post = (priv: boolean) =>
      alpha.postJob({
        jobType: 'ci-cd-linux',
        params: { command: `sleep ${marker}` },
        bid: BID,
        provider: devnet.mayors.beta!.nostrPubkey,
        private: priv,
      });
    const posted = await post(false);
    // A private job too: after the restart its error must still go back gift-wrapped.
    const hidden = await post(true);
    // Beta accepted both (kind 7000 processing reached Alpha) and both commands are running.
    for (const id of [posted.jobId, hidden.jobId]) {
      await waitFor(
        () =>
          alpha
            .activity()
            .some(
              (a) => a.text.includes(`${id.slice(0, 7)} feedback from`) && a.text.endsWith(': processing'),
            ),
        30_000,
        'processing feedback',
      );
    }
    await waitFor(() => jobProcesses(marker).length >= 2, 10_000, 'the job commands running');
    await child.kill();
    expect(alpha.state.jobs.get(posted.jobId)!.status).toBe('posted');
    expect(alpha.state.jobs.get(hidden.jobId)!.status).toBe('posted');

    child = spawnMayor(env, PASSPHRASE);
    await child.waitFor((e) => 'ready' in e, 60_000, 'beta ready again');
    await alpha.settled([posted.jobId, hidden.jobId], 60_000);
    const hiddenJob = alpha.state.jobs.get(hidden.jobId)!;
    expect(hiddenJob.status).toBe('paid');
    expect(hiddenJob.amount ?? 0n).toBe(0n);
    expect(alpha.results().get(hidden.jobId)!.result.data).toMatchObject({ status: 'error' });
    // Nothing about the private job became public, even in the restart report.
    expect(await alpha.pool.query([{ kinds: [6065, 7000], '#e': [hidden.jobId] }])).toEqual([]);
    const job = alpha.state.jobs.get(posted.jobId)!;
    expect(job.status).toBe('paid');
    expect(job.provider).toBe(devnet.mayors.beta!.nostrPubkey);
    // Not charged: no amount, nothing paid to the provider.
    expect(job.amount ?? 0n).toBe(0n);
    const routed = alpha.results().get(posted.jobId)!;
    expect(routed.result.data).toMatchObject({ status: 'error' });
    const stored = alpha.state.jobs.get(posted.jobId)!;
    expect(stored.history.filter((h) => h.status === 'result-received')).toHaveLength(1);
    // No orphan of the killed provider survives (bwrap --die-with-parent; the restart kills leftover groups).
    expect(jobProcesses(marker)).toEqual([]);
    // The job is not run again after the restart (the request was journaled): no second result.
    await new Promise((r) => setTimeout(r, 1500));
    const results = await alpha.pool.query([{ kinds: [6065], '#e': [posted.jobId] }]);
    expect(results).toHaveLength(1);
    expect(results[0]!.event.tags).toContainEqual(['status', 'error', expect.stringContaining('restarted')]);

    // The restarted Beta issued new SPSP accounts: Alpha's cached one is refused (F02), Alpha asks again and
    // pays the next job.
    const after = await quick();
    await alpha.settled([after.jobId], 60_000);
    expect(alpha.state.jobs.get(after.jobId)).toMatchObject({ status: 'paid', amount: PRICE });
  }, 180_000);
});
