// The busy policy (issue 15, docs/mayor.md "Provider feedback"). A provider that answers kind 7000 `error` with a
// busy reason ("all 4 job slots are busy") refused the request for now, not for good, and it journals the request,
// so asking it again with the same event is ignored. So the Mayor waits a backoff (other providers may still
// answer a public job meanwhile), then re-posts a copy of the request as a new job (new id, write fee paid again)
// and fails the busy one with "re-posted as job-…". After `maxReposts` copies the job fails with the busy reason.
// A private (gift-wrapped) job or a chain step fails at once with the reason: re-offering those is the caller's
// decision (another provider, another wrap, the chain's own plan).
// Whether a provider is running the job is asked again when the backoff ends, not only when the busy came: a
// provider may say `processing` after another's busy, and a re-post then would fail the job under it (its result
// neither routed nor paid) and run the job twice.

import { KIND_GIFT_WRAP } from '../../nostr/kinds.js';
import { decodeEvent, peekKind } from '../../toon/index.js';
import { repostsBefore } from '../state/index.js';
import { failChain } from './chains.js';
import { type LifecycleDeps, short } from './deps.js';
import { runnerOf } from './feedback-authority.js';
import { type Posting, requestPath } from './posting.js';
import type { Timeouts } from './timeouts.js';

export interface BusyRetryOptions {
  /** Wait before the first re-post (default 30 s); doubles for each further one. */
  delayMs?: number;
  /** Copies posted before the job fails with the busy reason (default 2; 0 fails at once). */
  maxReposts?: number;
}

export interface BusyPolicy {
  /** A busy answer for a `posted` job from `author`. */
  onBusy(jobId: string, author: string, reason: string): void;
  stop(): void;
}

export function createBusyPolicy(
  deps: LifecycleDeps,
  posting: Posting,
  timeouts: Timeouts,
  options: BusyRetryOptions = {},
): BusyPolicy {
  const delayMs = options.delayMs ?? 30_000;
  const maxReposts = options.maxReposts ?? 2;
  const timers = new Map<string, NodeJS.Timeout>();

  const fail = (jobId: string, error: string, repostedAs?: string) => {
    const job = deps.state.jobs.get(jobId);
    if (job?.status !== 'posted') return;
    timeouts.clear(jobId);
    deps.putJob({ id: jobId, status: 'failed', error, ...(repostedAs ? { repostedAs } : {}) });
    deps.activity('error', `${short(jobId)} failed: ${error}`);
    if (job.chainId) failChain(deps, job.chainId);
  };

  const repost = async (jobId: string, author: string, reason: string) => {
    timers.delete(jobId);
    const job = deps.state.jobs.get(jobId);
    // Answered (or cancelled, or timed out) meanwhile: nothing to do.
    if (job?.status !== 'posted' || deps.stopped()) return;
    const who = `provider ${author.slice(0, 8)}…`;
    const stored = posting.readStored(requestPath(jobId));
    if (!stored) return fail(jobId, `${who} is busy: ${reason}`);
    const old = decodeEvent(stored);
    // A public job another provider said it is running since the busy answer waits for that result (or its
    // timeout). A job that named its provider can run only there: anyone else's `processing` changes nothing.
    const runner = runnerOf(deps, jobId);
    const named = old.tags.some((t) => t[0] === 'p');
    if (!named && runner && runner !== author) {
      deps.activity(
        'info',
        `${short(jobId)} not re-posted: provider ${runner.slice(0, 8)}… said it is running it (${who} was busy)`,
      );
      return;
    }
    const copy = posting.sign({
      kind: old.kind,
      tags: old.tags,
      content: old.content,
      created_at: Math.max(Math.floor(Date.now() / 1000), old.created_at + 1),
    });
    const attempt = repostsBefore(() => deps.state.jobs.list(), jobId) + 1;
    // The copy is recorded and the busy job failed naming it (`repostedAs`) in one synchronous block (one write
    // batch): a crash keeps both or neither, recovery sends a copy left `posting`, and whoever waits for the busy
    // job (`settled`, `job post --wait`) follows it to the copy's outcome.
    posting.record(copy, job.callbackSkill, undefined, job.bid);
    fail(
      jobId,
      `${who} is busy (${reason}); re-posted as ${short(copy.id)} (${attempt} of ${maxReposts})`,
      copy.id,
    );
    await deps.state.durable();
    deps.activity('info', `${short(copy.id)} re-posts ${short(jobId)}: ${who} was busy`);
    await posting.send(copy.id);
  };

  return {
    onBusy(jobId, author, reason) {
      const job = deps.state.jobs.get(jobId);
      if (job?.status !== 'posted') return;
      const who = `provider ${author.slice(0, 8)}…`;
      const stored = posting.readStored(requestPath(jobId));
      const wrapped = stored !== undefined && peekKind(stored) === KIND_GIFT_WRAP;
      // Counted from the records (each failed copy names the next), so a restart does not reset it.
      const done = repostsBefore(() => deps.state.jobs.list(), jobId);
      if (wrapped || job.chainId || done >= maxReposts) {
        const why = wrapped ? 'private job' : job.chainId ? 'chain step' : `gave up after ${done} re-posts`;
        return fail(jobId, `${who} is busy: ${reason} (${why}; not re-posted)`);
      }
      if (timers.has(jobId)) return;
      const wait = delayMs * 2 ** done;
      deps.activity(
        'info',
        `${short(jobId)}: ${who} is busy (${reason}); re-posting in ${Math.round(wait / 1000)} s unless another provider answers`,
      );
      const timer = setTimeout(() => {
        void deps
          .track(repost(jobId, author, reason))
          .catch((err) => deps.log.error(`re-posting ${short(jobId)}: ${(err as Error).message}`));
      }, wait);
      timer.unref();
      timers.set(jobId, timer);
    },
    stop() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
