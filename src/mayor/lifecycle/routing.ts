// Routing a result to its callback skill. A `skill` intent (key: the result event id, which the skill also gets
// as metadata.idempotencyKey) is durable before the call; `routed`, the next jobs and the intent's outcome are
// one synchronous block, so one write batch, after it. A call a crash interrupted (intent, no outcome) is
// resolved by asking the skill: an `idempotent` skill gets the result again with the same key (redelivery);
// any other skill is not called again (at most once) and the operator is told to check its effects.
// A sealed result (issue 19) is paid for its key first (payments.ts), then opened and routed as a clear one.

import { KIND_GIFT_WRAP } from '../../nostr/kinds.js';
import { unwrapEvent } from '../../nostr/nip59.js';
import type { NostrEvent } from '../../nostr/types.js';
import { rumorToToon } from '../../skills/event.js';
import type { SkillPipeline } from '../../skills/pipeline.js';
import type { JobCorrelation, PrivateOrigin, SkillResult } from '../../skills/types.js';
import { decodeEvent, peekKind } from '../../toon/index.js';
import { mark } from '../../transport/trace.js';
import { advanceChain, failChain } from './chains.js';
import { type LifecycleDeps, short } from './deps.js';
import { intentKey } from './intents.js';
import type { Payments } from './payments.js';
import { type Posting, resultPath } from './posting.js';
import { openSealed, type SealedGate } from './sealed-open.js';
import { keyStoredThisRun, readSealed, type StoredResult } from './sealed-results.js';

/** A result routed to its skill, as the dashboard shows it. */
export interface RoutedResult {
  jobId: string;
  skill?: string;
  result: SkillResult;
  provider: string;
}

export interface Routing {
  /**
   * Routes a `result-received` job's stored result, then posts what follows and pays the provider. `fresh`: the
   * result was recorded by this run and is not durable yet (results.ts): it becomes durable with the intent.
   */
  route(jobId: string, fresh?: boolean): Promise<void>;
  /** Results routed in this run. */
  routed: Map<string, RoutedResult>;
}

/** The result file of a job cannot be decoded or opened (damaged on disk): that job fails, nothing else. */
class UnreadableResult extends Error {}

export function correlationOf(deps: LifecycleDeps, jobId: string): JobCorrelation | undefined {
  const j = deps.state.jobs.get(jobId);
  if (!j) return undefined;
  return { jobId, callbackSkill: j.callbackSkill, ...(j.chainId ? { chainId: j.chainId } : {}) };
}

export function createRouting(
  deps: LifecycleDeps,
  pipeline: SkillPipeline,
  posting: Posting,
  payments: Payments,
): Routing {
  const { state, intents } = deps;
  const routed = new Map<string, RoutedResult>();

  /** The stored result as the skill sees it: a private result is kept as its wrap, opened again here. */
  const storedResult = (jobId: string): { toon: Uint8Array; priv?: PrivateOrigin } | undefined => {
    const stored = posting.readStored(resultPath(jobId));
    if (!stored) return undefined;
    try {
      if (peekKind(stored) !== KIND_GIFT_WRAP) return { toon: stored };
      const wrap = decodeEvent(stored);
      const { rumor, senderPubkey } = deps.openedWraps.get(wrap.id) ?? unwrapEvent(wrap, deps.secretKey);
      return { toon: rumorToToon(rumor), priv: { senderPubkey, wrapId: wrap.id } };
    } catch (err) {
      throw new UnreadableResult(
        `the stored result is unreadable (${resultPath(jobId)} in the state repo: ${(err as Error).message})`,
      );
    }
  };

  /** `ready`: the result routeNow already opened (a sealed result is read and decrypted once, not twice). */
  const invoke = async (jobId: string, key: string, redelivery: boolean, ready?: StoredResult) => {
    const job = state.jobs.get(jobId)!;
    const opened: SealedGate = ready
      ? { status: 'ready', stored: ready }
      : openSealed(deps, jobId, storedResult(jobId));
    if (opened.status !== 'ready') return undefined;
    const { stored } = opened;
    if (!stored) return undefined;
    const dispatched = await pipeline.dispatch(stored.toon, {
      ...(job.resultEventId ? { eventId: job.resultEventId, idempotencyKey: job.resultEventId } : {}),
      correlation: correlationOf(deps, jobId)!,
      ...(stored.priv ? { private: stored.priv } : {}),
      ...(redelivery ? { redelivery: true } : {}),
    });
    return {
      skill: dispatched.skill,
      status: dispatched.outcome.status,
      result: dispatched.outcome.result,
      key,
    };
  };

  const routing = new Map<string, Promise<void>>();
  const route = (jobId: string, fresh = false): Promise<void> => {
    const running = routing.get(jobId);
    if (running) return running;
    const p = routeNow(jobId, fresh)
      .catch((err) => {
        // A damaged result file fails its own job, not the Mayor (recovery routes every job at start).
        if (!(err instanceof UnreadableResult)) throw err;
        deps.log.error(`${short(jobId)}: ${err.message}; that job is failed, the others go on`);
        deps.putJob({ id: jobId, status: 'failed', error: err.message });
      })
      .finally(() => routing.delete(jobId));
    routing.set(jobId, p);
    return p;
  };

  const routeNow = async (jobId: string, fresh: boolean): Promise<void> => {
    if (state.jobs.get(jobId)?.status !== 'result-received') return;
    // A sealed result: paid for its key first; opened only with it (fraud fails the job here).
    mark('route: start');
    let ready: StoredResult | undefined;
    if (readSealed(state, jobId)) {
      const gate = openSealed(deps, jobId, storedResult(jobId));
      if (gate.status === 'unpaid') {
        await payments.pay(jobId);
        const after = openSealed(deps, jobId, storedResult(jobId));
        if (after.status === 'fraud') return after.report();
        if (after.status !== 'ready') return;
        ready = after.stored;
      } else if (gate.status === 'fraud') return gate.report();
      else if (gate.status === 'ready') ready = gate.stored;
    }
    const job = state.jobs.get(jobId);
    if (job?.status !== 'result-received') return;
    const key = intentKey('skill', job.resultEventId ?? jobId);
    // Any earlier call: one a crash interrupted (no outcome), or one whose outcome line survived a kill that
    // lost the `routed` transition of the same write batch.
    // A fresh result was `posted` on disk: a skill intent under its key is from a write batch a kill cut
    // before it was durable, and the skill is only called after that, so it was never called.
    // A sealed result whose K this run received: K becomes durable in the same batch as the skill intent, and
    // the skill runs only after it, so an intent whose K did not survive a crash is from a call never made.
    const earlier = intents.get(key);
    const interrupted = !fresh && !keyStoredThisRun(state, jobId) && earlier.intent !== undefined;
    let outcome: Awaited<ReturnType<typeof invoke>>;
    if (interrupted && !deps.skill(job.callbackSkill)?.idempotent) {
      // The skill cannot take the same result twice: do not call it again.
      const summary = earlier.outcome
        ? `skill ${job.callbackSkill} already handled this result before a crash: not called again`
        : `skill ${job.callbackSkill} was interrupted by a crash and is not idempotent: not called again; check its effects`;
      deps.log.warn(`${short(jobId)}: ${summary}`);
      outcome = { skill: job.callbackSkill, status: 'failed', result: { status: 'failed', summary }, key };
    } else {
      if (!interrupted) {
        intents.begin('skill', jobId, key, { detail: job.callbackSkill });
        mark('route: skill intent queued');
        await state.durable();
        mark('route: skill intent durable');
      }
      outcome = await invoke(jobId, key, interrupted, ready);
      mark('route: skill done');
      if (!outcome) {
        deps.putJob({
          id: jobId,
          status: 'failed',
          error: 'the stored result is missing from the state repo',
        });
        return;
      }
    }
    const { result } = outcome;
    routed.set(jobId, {
      jobId,
      ...(outcome.skill ? { skill: outcome.skill } : {}),
      result,
      provider: job.provider ?? '',
    });
    // One synchronous block, so the same write batch holds all of it: A routed, B (and any nextJobs) recorded.
    const next: NostrEvent[] = [];
    if (outcome.status === 'handled') {
      for (const t of result.nextJobs ?? []) {
        const ev = posting.sign(t);
        posting.record(ev, outcome.skill ?? job.callbackSkill);
        next.push(ev);
      }
      if (job.chainId) {
        const ev = advanceChain(deps, posting, job.chainId, jobId);
        if (ev) next.push(ev);
      }
    } else if (job.chainId) failChain(deps, job.chainId);
    deps.putJob({ id: jobId, status: 'routed' });
    intents.settle(key, interrupted && outcome.status === 'failed' ? 'skipped' : outcome.status);
    deps.activity(
      'result',
      `Result for ${short(jobId)} -> ${outcome.skill ?? 'no skill'}: ${result.summary ?? result.status}`,
    );
    await state.durable();
    await deps.fault('before-next-job', jobId);
    for (const ev of next)
      await deps.track(posting.send(ev.id)).catch((err) => deps.log.error((err as Error).message));
    await payments.pay(jobId);
  };

  payments.onKey = route;
  return { route, routed };
}
