// Feedback (kind 7000) reaches the skills once per event, however often it arrives: the relays, the results
// subscription's catch-up window after a restart (60 s) and recovery's look-up of posted jobs all hand it over
// again. The skill call is guarded by a durable `feedback` intent (key: the event id, which the skill also gets
// as metadata.idempotencyKey), as a result's call is (routing.ts): an outcome means it was handled; an intent
// without one is a call a crash interrupted, given again to an idempotent skill (redelivery) and to no other.

import { KIND_JOB_FEEDBACK } from '../../nostr/kinds.js';
import type { NostrEvent } from '../../nostr/types.js';
import type { SkillPipeline } from '../../skills/pipeline.js';
import type { PrivateOrigin } from '../../skills/types.js';
import { type LifecycleDeps, short } from './deps.js';
import { intentKey } from './intents.js';

export interface FeedbackArrival {
  event: NostrEvent;
  /** What the skill gets: the event (or, for private feedback, its rumor) in TOON. */
  toon: Uint8Array;
  relayUrl?: string;
  priv?: PrivateOrigin;
}

/** Hands a job's feedback to the skill that takes kind 7000, once per event id. */
export type FeedbackToSkills = (jobId: string, arrival: FeedbackArrival) => Promise<void>;

export function createFeedbackToSkills(deps: LifecycleDeps, pipeline: SkillPipeline): FeedbackToSkills {
  const { state, intents } = deps;
  /** Keys whose call runs now: a copy that arrives meanwhile (another relay) is not a crashed call. */
  const running = new Set<string>();
  return async (jobId, { event, toon, relayUrl, priv }) => {
    const meta = { eventId: event.id, ...(relayUrl ? { relayUrl } : {}), ...(priv ? { private: priv } : {}) };
    const skill = pipeline.registry.lookup(KIND_JOB_FEEDBACK);
    // No skill takes feedback: the pipeline only says so; nothing to guard.
    if (!skill) return void (await pipeline.dispatch(toon, meta));
    const key = intentKey('feedback', event.id);
    const earlier = intents.get(key);
    if (running.has(key) || earlier.outcome) return;
    const interrupted = earlier.intent !== undefined;
    if (interrupted && !skill.idempotent) {
      deps.log.warn(
        `${short(jobId)}: skill ${skill.name} was interrupted by a crash while it handled feedback ${event.id.slice(0, 8)} and is not idempotent: not called again; check its effects`,
      );
      intents.settle(key, 'skipped');
      return;
    }
    running.add(key);
    try {
      if (!interrupted) {
        intents.begin('feedback', jobId, key, { detail: skill.name });
        await state.durable();
      }
      const { outcome } = await pipeline.dispatch(toon, {
        ...meta,
        idempotencyKey: event.id,
        ...(interrupted ? { redelivery: true } : {}),
      });
      intents.settle(key, outcome.status);
    } finally {
      running.delete(key);
    }
  };
}
