// Result intake: a result or feedback addressed to us. A result for a job still waiting (`posted`) is stored,
// recorded `result-received` and made durable before it is routed; repeats (another relay, a catch-up, a
// redelivery) find the job past `posted` and are dropped: exactly once. Feedback reaches the skills once per event
// (feedback-skills.ts); its effect on the job is applied on every arrival (a restart needs a pending busy again).

import { KIND_JOB_FEEDBACK } from '../../nostr/kinds.js';
import { parseJobResult } from '../../nostr/nip90.js';
import { type ParsedSealedResult, parseSealedResult } from '../../nostr/sealed-result.js';
import { verifyEventFast } from '../../nostr/verify-fast.js';
import { rumorToToon } from '../../skills/event.js';
import type { SkillPipeline } from '../../skills/pipeline.js';
import type { PrivateOrigin } from '../../skills/types.js';
import { mark, tracing } from '../../transport/trace.js';
import { ignoredProvider } from '../fraud/lifecycle.js';
import type { PoolEvent } from '../runtime/relay-pool.js';
import { type LifecycleDeps, short } from './deps.js';
import { applyFeedback, chosenProvider, noteFeedbackArrival } from './feedback.js';
import { createFeedbackToSkills } from './feedback-skills.js';
import { intentKey } from './intents.js';
import type { Payments } from './payments.js';
import { type Posting, resultPath } from './posting.js';
import type { Routing } from './routing.js';
import { recordSealed, sealedInfoPath } from './sealed-results.js';
import type { Timeouts } from './timeouts.js';
import { untilPosted } from './until-posted.js';

export type ResultIntake = (e: PoolEvent, priv?: PrivateOrigin) => Promise<void>;

export function createResultIntake(
  deps: LifecycleDeps,
  pipeline: SkillPipeline,
  posting: Posting,
  timeouts: Timeouts,
  routing: Routing,
  payments?: Pick<Payments, 'beginSealed'>,
): ResultIntake {
  const { state } = deps;
  const feedbackToSkills = createFeedbackToSkills(deps, pipeline);
  return async (e, priv) => {
    const { event } = e;
    if (tracing) mark(`results: intake kind ${event.kind}`);
    if (!priv && !(await verifyEventFast(event))) return; // libsecp256k1 (wasm): ~5x the JS verifier
    if (event.kind === KIND_JOB_FEEDBACK) {
      const jobId = event.tags.find((t) => t[0] === 'e')?.[1];
      if (!jobId || !state.jobs.get(jobId)) return;
      await feedbackToSkills(jobId, {
        event,
        toon: priv ? rumorToToon(event) : e.toon,
        relayUrl: e.relayUrl,
        ...(priv ? { priv } : {}),
      });
      const author = priv?.senderPubkey ?? event.pubkey;
      noteFeedbackArrival(deps, jobId, event, author);
      // A provider's answer can overtake our own FULFILL (separate sockets), as a result can: a refusal that
      // came while the job was still `posting` was dropped, and the job waited for its timeout.
      await untilPosted(deps, jobId);
      applyFeedback(deps, posting, timeouts, jobId, event, author);
      return;
    }
    let parsed: ReturnType<typeof parseJobResult>;
    try {
      parsed = parseJobResult(event);
    } catch {
      return;
    }
    let sealed: ParsedSealedResult | undefined;
    try {
      // A result that claims to be sealed but is malformed (or names no price) cannot be paid for: dropped, so
      // a good result can still come.
      sealed = parseSealedResult(event);
      if (sealed && !parsed.amount) throw new Error('a sealed result must name its price');
    } catch (err) {
      if (state.jobs.get(parsed.jobId))
        deps.log.warn(`result ${event.id} for ${parsed.jobId} dropped: ${(err as Error).message}`);
      return;
    }
    // A fast provider's result can overtake our own FULFILL (separate sockets): let the post finish first.
    mark('results: parsed');
    await untilPosted(deps, parsed.jobId);
    mark('results: posted ok');
    const job = state.jobs.get(parsed.jobId);
    if (job?.status !== 'posted' || parsed.requester !== deps.pubkey) return;
    if (ignoredProvider(deps, event.pubkey, job.id)) return;
    // A job sent to one provider takes that provider's result only (as it takes only its feedback): anyone else's
    // would be routed and paid, and the provider's own result dropped.
    const named = chosenProvider(posting, job.id);
    if (named && event.pubkey !== named) {
      deps.activity(
        'info',
        `${short(job.id)}: result from ${event.pubkey.slice(0, 8)}… dropped: the job was sent to ${named.slice(0, 8)}…`,
      );
      return;
    }
    // After a crash mid-payment for a result (paid before it was recorded), the job is `posted` again with that
    // payment's intent open: only a result from the provider it went to can take the job (anyone else's would be
    // paid on top of it; the same provider's is answered "already paid").
    const paying = deps.intents.get(intentKey('provider-payment', job.id));
    if (paying.intent && !paying.outcome && paying.intent.detail && paying.intent.detail !== event.pubkey) {
      deps.activity(
        'info',
        `${short(job.id)}: result from ${event.pubkey.slice(0, 8)}… dropped: a payment to ${paying.intent.detail.slice(0, 8)}… for this job is in doubt`,
      );
      return;
    }
    await deps.fault('result-arrived', job.id);
    if (state.jobs.get(job.id)?.status !== 'posted') return;
    // A SIGKILL can keep this append and lose the `result-received` of the same write batch: the result then
    // comes again and must replace the leftover, not follow it (two TOON documents in one file cannot be read).
    if (posting.readStored(resultPath(job.id)))
      state.files.remove(resultPath(job.id), `job ${job.id}: result left by an interrupted batch`);
    // The same for its sealed record: appended twice it would not parse, and the result would pass for clear.
    if (posting.readStored(sealedInfoPath(job.id)))
      state.files.remove(sealedInfoPath(job.id), `job ${job.id}: sealed record left by an interrupted batch`);
    state.files.append(
      resultPath(job.id),
      new TextDecoder().decode(e.toon),
      `job ${job.id}: result ${event.id}`,
    );
    if (sealed) recordSealed(deps, job.id, { condition: sealed.condition, summary: sealed.summary });
    deps.putJob({
      id: job.id,
      status: 'result-received',
      resultEventId: event.id,
      provider: event.pubkey,
      ...(parsed.amount ? { amount: parsed.amount.amount } : {}),
    });
    timeouts.clear(job.id);
    if (sealed) {
      deps.activity(
        'result',
        `Sealed result for ${job.id.slice(0, 7)}: ${sealed.summary.build}${sealed.summary.tests ? `, tests ${sealed.summary.tests.passed}/${sealed.summary.tests.total}` : ''}; paying for its key`,
      );
      // A sealed result is paid before it is routed: the result, its sealed record (results/<job>.sealed.json)
      // and the payment intent must be durable first. They join one write batch, one fsync round (a crash
      // before it is durable sent nothing; an intent without its PREPARE is harmless: the payment is sent again
      // and the provider answers once). The job's `result-received` record is not waited for (logged()): a
      // restart that finds the job `posted` with this intent takes the result again from the relay and pays
      // through the same intent (the provider answers "already paid" with K), as after a kill inside the batch.
      payments?.beginSealed(job.id);
      await state.logged();
      mark('results: sealed logged');
    }
    // Durable before the skill runs (route waits for it with the skill intent: one fsync round): a restart
    // re-routes only what was not marked routed.
    await routing.route(job.id, true);
  };
}
