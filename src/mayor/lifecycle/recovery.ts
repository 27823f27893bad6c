// Recovery after a restart (DESIGN §4), in the order jobs move. Unknown outcomes are resolved by asking the
// other side: `posting` jobs whose write fee intent is open probe the relay, `result-received` jobs route (an
// interrupted skill call is resolved by routing.ts), `routed` jobs pay (the provider refuses a payment it
// already got). Results and feedback for posted jobs are looked up on the relay before any timeout is armed.
import { KIND_JOB_FEEDBACK } from '../../nostr/kinds.js';
import { advanceChain } from './chains.js';
import type { LifecycleDeps } from './deps.js';
import type { Payments } from './payments.js';
import type { Posting } from './posting.js';
import type { ResultIntake } from './results.js';
import type { Routing } from './routing.js';
import type { Timeouts } from './timeouts.js';

export async function recoverJobs(
  deps: LifecycleDeps,
  parts: { posting: Posting; routing: Routing; payments: Payments; timeouts: Timeouts; intake: ResultIntake },
): Promise<void> {
  const { state, log } = deps;
  const { posting, routing, payments, timeouts, intake } = parts;
  await posting.resume();
  for (const j of state.jobs.list({ status: 'result-received' })) await routing.route(j.id);
  for (const j of state.jobs.list({ status: 'routed' })) {
    if (j.chainId) {
      // A chain may have been created before B's step existed: make sure it advanced.
      const ev = advanceChain(deps, posting, j.chainId, j.id);
      if (ev) {
        await state.durable();
        await deps.track(posting.send(ev.id)).catch((err) => log.error((err as Error).message));
      }
    }
    await payments.pay(j.id).catch((err) => log.error((err as Error).message));
  }
  // Results and feedback that arrived while we were down, or before a restart: ask for them by job id, whatever
  // `since` says, and only then arm the timeouts (a job whose result waits on the relay is not failed for our
  // downtime). Feedback too: a busy answer whose backoff was pending at the restart starts it again (its timer
  // was in memory), a refusal fails the job. In the order they were made.
  const posted = state.jobs.list({ status: 'posted' });
  for (let i = 0; i < posted.length; i += 100) {
    const ids = posted.slice(i, i + 100).map((j) => j.id);
    const found = await deps.pool.query([{ kinds: [6065, KIND_JOB_FEEDBACK], '#e': ids }]).catch((err) => {
      log.warn(
        `could not look up results on the relay: ${(err as Error).message}; the live subscription catches up`,
      );
      return [];
    });
    found.sort((a, b) => a.event.created_at - b.event.created_at);
    for (const e of found) await intake(e);
  }
  for (const j of state.jobs.list({ status: 'posted' })) timeouts.arm(j.id);
}
