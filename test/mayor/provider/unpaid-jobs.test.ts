// An accepted job costs the provider paid writes of its own (the `processing` feedback and the result, up to a full
// PREPARE) before the requester pays anything. A requester that never pays could keep a provider running and
// publishing for it without bound; the provider now refuses a requester with `maxUnpaidJobs` charged results it has
// not paid for.
// Real provider (policy, polecat pool, real git worktrees and child processes, no sandbox: allowUnsandboxed); the
// network is the tests' FakeNetwork (the paid writes it counts are the relay/ILP side, tested end to end elsewhere).
import { afterAll, describe, expect, it } from 'vitest';
import { isBusy } from '../../../src/mayor/lifecycle/feedback.js';
import type { ProviderService } from '../../../src/mayor/provider/index.js';
import { generateSecretKey } from '../../../src/nostr/index.js';
import { FakeNetwork, jobRequest, startProvider, tempHome } from './helpers.js';

const network = new FakeNetwork();
let service: ProviderService | undefined;
afterAll(() => service?.stop());

async function run(s: ProviderService, secretKey: Uint8Array, command = 'true') {
  const intake = await s.handleJobRequest(jobRequest({ command }, secretKey));
  if (intake.status !== 'accepted') return intake;
  const report = await intake.done;
  return { ...intake, report };
}

describe('jobs a requester has not paid for', () => {
  it('are at most maxUnpaidJobs per requester; a payment makes room; an uncharged job does not count', async () => {
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
    const third = await s.handleJobRequest(jobRequest({ command: 'true' }, payer));
    expect(third).toMatchObject({ status: 'refused', code: 'unpaid_jobs' });
    // Its reason reads as busy to a requester Mayor (feedback.ts isBusy): it posts the job again after a backoff.
    if (third.status === 'refused')
      expect(isBusy(third.reason) && /2 results .* not paid for/.test(third.reason)).toBe(true);
    // Another requester is not held up by it.
    expect((await run(s, generateSecretKey())).status).toBe('accepted');
    // The payment of one (as provider mode records it) makes room for one more.
    s.recordEarning(first.jobId!, 500n, 'requester');
    expect((await run(s, payer)).status).toBe('accepted');
    expect((await s.handleJobRequest(jobRequest({ command: 'true' }, payer))).status).toBe('refused');
  });

  it('a job that ends uncharged (cancelled) leaves no debt', async () => {
    const requester = generateSecretKey();
    const { service: s } = await startProvider(tempHome(), new FakeNetwork(), {
      sandbox: 'none',
      policy: { allowUnsandboxed: true, maxUnpaidJobs: 1 },
    });
    try {
      const paid = await run(s, requester);
      expect(paid.status).toBe('accepted');
      s.recordEarning(paid.jobId!, 500n, 'requester');
      // A cancelled job is not charged (its result says so): it leaves no debt.
      const cancelled = await s.handleJobRequest(jobRequest({ command: 'sleep 30' }, requester));
      expect(cancelled.status).toBe('accepted');
      s.cancel(cancelled.jobId!);
      if (cancelled.status === 'accepted') expect((await cancelled.done).result).toBeDefined();
      expect((await run(s, requester)).status).toBe('accepted');
    } finally {
      await s.stop();
    }
  });
});
