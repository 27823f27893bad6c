// The relay subscriptions of the requester side: results and feedback addressed to us (with `since` kept in
// the state repo, so a restart catches up) and gift wraps (private results, DMs, private job requests).
import { KIND_GIFT_WRAP, KIND_JOB_FEEDBACK } from '../../nostr/kinds.js';
import type { SkillPipeline } from '../../skills/pipeline.js';
import { isJobAnswerKind, openWrap } from '../runtime/private-jobs.js';
import type { PoolEvent } from '../runtime/relay-pool.js';
import type { LifecycleDeps } from './deps.js';
import type { ResultIntake } from './results.js';

const RESULTS_SUB = 'results';
const PRIVATE_SUB = 'gift-wraps';
const resultFilters = (pubkey: string) => [{ kinds: [6065, KIND_JOB_FEEDBACK], '#p': [pubkey] }];

/** Subscribes to results; returns the timer that saves `since` every 2 s (clear it on stop). */
export function subscribeResults(deps: LifecycleDeps, onEvent: (e: PoolEvent) => void): NodeJS.Timeout {
  const { pool, state } = deps;
  const filters = resultFilters(deps.pubkey);
  // Never from later than now: a resume point saved ahead of the clock (older versions followed events dated
  // ahead) would skip every answer until then.
  const saved = state.subscriptions.get(RESULTS_SUB)?.since;
  const savedSince = saved === undefined ? undefined : Math.min(saved, Math.floor(Date.now() / 1000));
  pool.subscribe(RESULTS_SUB, filters, onEvent, savedSince !== undefined ? { since: savedSince } : {});
  const timer = setInterval(() => {
    const since = pool.sinceOf(RESULTS_SUB);
    if (since !== undefined && since !== state.subscriptions.get(RESULTS_SUB)?.since)
      state.subscriptions.set(RESULTS_SUB, filters, since);
  }, 2000);
  timer.unref();
  return timer;
}

/** Saves where the results subscription got to (on stop). */
export function saveSince(deps: LifecycleDeps): void {
  const since = deps.pool.sinceOf(RESULTS_SUB);
  if (since !== undefined) deps.state.subscriptions.set(RESULTS_SUB, resultFilters(deps.pubkey), since);
}

/**
 * Gift wraps addressed to us (the relay serves them only after our NIP-42 AUTH). Their created_at is randomized
 * up to two days back, so no `since`: repeats are dropped by the job state / the provider journal.
 */
export function subscribeGiftWraps(deps: LifecycleDeps, pipeline: SkillPipeline, intake: ResultIntake): void {
  const onWrap = async (e: PoolEvent): Promise<void> => {
    const opened = openWrap(e.event, deps.secretKey, deps.pubkey);
    if (!opened.ok) {
      deps.log.warn(`rejected gift wrap ${e.event.id}: ${opened.reason}`);
      deps.activity('error', `Rejected gift wrap ${e.event.id.slice(0, 8)}…: ${opened.reason}`);
      return;
    }
    const { rumor, senderPubkey } = opened.opened;
    deps.openedWraps.set(e.event.id, opened.opened);
    try {
      if (isJobAnswerKind(rumor.kind)) {
        const event = { ...rumor, sig: '0'.repeat(128) };
        await intake({ ...e, event }, { senderPubkey, wrapId: e.event.id });
        return;
      }
      // Anything else (a private job request for provider mode, a DM): the encrypted-DM skill routes it.
      await pipeline.dispatch(e.toon, { eventId: e.event.id, relayUrl: e.relayUrl });
    } finally {
      deps.openedWraps.delete(e.event.id);
    }
  };
  deps.pool.subscribe(PRIVATE_SUB, [{ kinds: [KIND_GIFT_WRAP], '#p': [deps.pubkey] }], (e) => {
    void deps
      .track(onWrap(e))
      .catch((err) => deps.log.error(`gift wrap ${e.event.id}: ${(err as Error).message}`));
  });
}
