// An accepted job costs the provider paid writes of its own (the `processing` feedback and the result, up to a full
// PREPARE) before the requester pays anything. A requester that never pays could keep a provider running and
// publishing for it without bound; the provider now refuses a requester with `maxUnpaidJobs` charged results of jobs
// it named this provider for and has not paid the price of.
// Real provider (policy, polecat pool, real git worktrees and child processes, no sandbox: allowUnsandboxed); the
// network is the tests' FakeNetwork (the paid writes it counts are the relay/ILP side, tested end to end elsewhere).
import { afterAll, describe, expect, it } from 'vitest';
import { isBusy } from '../../../src/mayor/lifecycle/feedback.js';
import type { ProviderService } from '../../../src/mayor/provider/index.js';
import { UnpaidJobs } from '../../../src/mayor/provider/unpaid-jobs.js';
import { generateSecretKey } from '../../../src/nostr/index.js';
import { FakeNetwork, jobRequest, startProvider, tempHome } from './helpers.js';

const network = new FakeNetwork();
let service: ProviderService | undefined;
afterAll(() => service?.stop());

/** A job naming this provider (`named`, the default) or public, run to its end when accepted. */
async function run(s: ProviderService, secretKey: Uint8Array, named = true) {
  const event = jobRequest({ command: 'true', ...(named && { provider: network.pubkey }) }, secretKey);
  const intake = await s.handleJobRequest(event);
  if (intake.status === 'accepted') await intake.done;
  return intake;
}

describe('results a requester has not paid for', () => {
  it('are at most maxUnpaidJobs per requester; paying the price makes room; public jobs do not count', async () => {
    ({ service } = await startProvider(tempHome(), network, {
      sandbox: 'none',
      policy: { allowUnsandboxed: true, maxUnpaidJobs: 2 },
    }));
    const s = service;
    const payer = generateSecretKey();
    const first = await run(s, payer);
    const second = await run(s, payer);
    expect([first.status, second.status]).toEqual(['accepted', 'accepted']);
    // Two charged results wait for their payment: a third job is refused, and told why.
    const third = await run(s, payer);
    expect(third).toMatchObject({ status: 'refused', code: 'unpaid_jobs' });
    // Its reason reads as busy to a requester Mayor (feedback.ts isBusy): it posts the job again after a backoff.
    if (third.status === 'refused')
      expect(isBusy(third.reason) && /2 results .* not paid for/.test(third.reason)).toBe(true);
    // Another requester is not held up by it.
    expect((await run(s, generateSecretKey())).status).toBe('accepted');
    // A payment below the price (1 base unit) does not make room; one covering it does (as provider mode records it).
    s.recordEarning(first.jobId!, 1n, 'requester');
    expect((await run(s, payer)).status).toBe('refused');
    s.recordEarning(first.jobId!, 499n, 'requester');
    expect((await run(s, payer)).status).toBe('accepted');
    expect((await run(s, payer)).status).toBe('refused');
    // A public job is not counted: its requester pays the result it takes, not every provider that raced for it.
    const racer = generateSecretKey();
    for (let i = 0; i < 3; i++) expect((await run(s, racer, false)).status).toBe('accepted');
    // A private job came to us alone (its gift wrap), whatever its own tags say: it counts.
    const wrapped = generateSecretKey();
    for (let i = 0; i < 3; i++) {
      const intake = await s.handleJobRequest(jobRequest({ command: 'true' }, wrapped), {
        addressedToUs: true,
      });
      if (intake.status === 'accepted') await intake.done;
      expect(intake.status).toBe(i < 2 ? 'accepted' : 'refused');
    }
  });

  it('a cancelled job (not charged) leaves no debt', async () => {
    const requester = generateSecretKey();
    const { service: s } = await startProvider(tempHome(), network, {
      sandbox: 'none',
      policy: { allowUnsandboxed: true, maxUnpaidJobs: 1 },
    });
    try {
      const cancelled = await s.handleJobRequest(
        jobRequest({ command: 'sleep 30', provider: network.pubkey }, requester),
      );
      expect(cancelled.status).toBe('accepted');
      s.cancel(cancelled.jobId!);
      if (cancelled.status === 'accepted') expect((await cancelled.done).result).toBeDefined();
      expect((await run(s, requester)).status).toBe('accepted');
    } finally {
      await s.stop();
    }
  });

  it('a result older than the age limit no longer counts (its requester timed out before it came)', () => {
    let now = 0;
    const jobs = new UnpaidJobs(1000, () => now);
    jobs.add('j1', 'r', 500n);
    jobs.add('j2', 'r', 500n);
    expect(jobs.of('r')).toBe(2);
    now = 600;
    jobs.add('j3', 'r', 500n);
    now = 1001;
    expect(jobs.of('r')).toBe(1);
    jobs.paid('j3', 500n);
    expect(jobs.of('r')).toBe(0);
  });
});
