// Result intake: a result or feedback addressed to us. A result for a job still waiting (`posted`) is stored,
// recorded `result-received` and made durable before it is routed; repeats (another relay, a catch-up, a
// redelivery) find the job past `posted` and are dropped: exactly once.

import { KIND_JOB_FEEDBACK } from '../../nostr/kinds.js';
import { parseJobResult } from '../../nostr/nip90.js';
import { verifyEventFast } from '../../nostr/verify-fast.js';
import { rumorToToon } from '../../skills/event.js';
import type { SkillPipeline } from '../../skills/pipeline.js';
import type { PrivateOrigin } from '../../skills/types.js';
import type { PoolEvent } from '../runtime/relay-pool.js';
import type { LifecycleDeps } from './deps.js';
import { applyFeedback } from './feedback.js';
import { type Posting, resultPath } from './posting.js';
import type { Routing } from './routing.js';
import type { Timeouts } from './timeouts.js';

export type ResultIntake = (e: PoolEvent, priv?: PrivateOrigin) => Promise<void>;

export function createResultIntake(
  deps: LifecycleDeps,
  pipeline: SkillPipeline,
  posting: Posting,
  timeouts: Timeouts,
  routing: Routing,
): ResultIntake {
  const { state } = deps;
  return async (e, priv) => {
    const { event } = e;
    if (!priv && !(await verifyEventFast(event))) return; // libsecp256k1 (wasm): ~5x the JS verifier
    if (event.kind === KIND_JOB_FEEDBACK) {
      const jobId = event.tags.find((t) => t[0] === 'e')?.[1];
      if (!jobId || !state.jobs.get(jobId)) return;
      await pipeline.dispatch(priv ? rumorToToon(event) : e.toon, {
        eventId: event.id,
        relayUrl: e.relayUrl,
        ...(priv ? { private: priv } : {}),
      });
      applyFeedback(deps, posting, timeouts, jobId, event, priv?.senderPubkey ?? event.pubkey);
      return;
    }
    let parsed: ReturnType<typeof parseJobResult>;
    try {
      parsed = parseJobResult(event);
    } catch {
      return;
    }
    // A fast provider's result can overtake our own FULFILL (separate sockets): let the post finish first.
    for (let i = 0; i < 600 && state.jobs.get(parsed.jobId)?.status === 'posting' && !deps.stopped(); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const job = state.jobs.get(parsed.jobId);
    if (job?.status !== 'posted' || parsed.requester !== deps.pubkey) return;
    await deps.fault('result-arrived', job.id);
    if (state.jobs.get(job.id)?.status !== 'posted') return;
    state.files.append(
      resultPath(job.id),
      new TextDecoder().decode(e.toon),
      `job ${job.id}: result ${event.id}`,
    );
    deps.putJob({
      id: job.id,
      status: 'result-received',
      resultEventId: event.id,
      provider: event.pubkey,
      ...(parsed.amount ? { amount: parsed.amount.amount } : {}),
    });
    timeouts.clear(job.id);
    // Durable before the skill runs (route waits for it with the skill intent: one fsync round): a restart
    // re-routes only what was not marked routed.
    await routing.route(job.id, true);
  };
}
