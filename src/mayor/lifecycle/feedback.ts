// Provider feedback (kind 7000) for a job we posted. Status `error` fails a waiting job at once with the
// provider's reason, except "busy" (the provider has no free slot now): that goes to the busy policy (busy.ts:
// re-posted after a backoff, up to N times, then failed with the reason; docs/mayor.md).

import { KIND_GIFT_WRAP } from '../../nostr/kinds.js';
import type { NostrEvent } from '../../nostr/types.js';
import { decodeEvent, peekKind } from '../../toon/index.js';
import { type BusyPolicy, createBusyPolicy } from './busy.js';
import { failChain } from './chains.js';
import { type LifecycleDeps, short } from './deps.js';
import { ignoredErrorFeedback, noteFeedback } from './feedback-authority.js';
import { type Posting, requestPath } from './posting.js';
import type { Timeouts } from './timeouts.js';

const BUSY = /\bbusy\b|no free (job )?slot|slots? (are )?(full|taken)|try again later/i;

export interface FeedbackStatus {
  status: string;
  reason: string;
}

export function feedbackStatus(event: NostrEvent): FeedbackStatus {
  const tag = event.tags.find((t) => t[0] === 'status');
  const status = tag?.[1] ?? 'feedback';
  const reason = (tag?.[2] || event.content || '').trim() || 'no reason given';
  return { status, reason };
}

export const isBusy = (reason: string) => BUSY.test(reason);

/** The provider a job request named (`p` tag), if the request is stored in clear. */
export function chosenProvider(posting: Posting, jobId: string): string | undefined {
  const stored = posting.readStored(requestPath(jobId));
  if (!stored || peekKind(stored) === KIND_GIFT_WRAP) return undefined;
  return decodeEvent(stored).tags.find((t) => t[0] === 'p')?.[1];
}

const policies = new WeakMap<LifecycleDeps, BusyPolicy>();
/** The Mayor's busy policy (one per Mayor: its re-post counts and timers). */
export function busyPolicyOf(deps: LifecycleDeps, posting: Posting, timeouts: Timeouts): BusyPolicy {
  let policy = policies.get(deps);
  if (!policy) {
    policy = createBusyPolicy(deps, posting, timeouts, deps.busyRetry);
    policies.set(deps, policy);
  }
  return policy;
}

/** Says a feedback event arrived and notes who said what (`processing`), as soon as it comes. */
export function noteFeedbackArrival(
  deps: LifecycleDeps,
  jobId: string,
  event: NostrEvent,
  author: string,
): void {
  const { status, reason } = feedbackStatus(event);
  deps.activity(
    'info',
    `${short(jobId)} feedback from ${author.slice(0, 8)}…: ${status}${status === 'error' ? ` (${reason})` : ''}`,
  );
  noteFeedback(deps, jobId, status, author);
}

/**
 * Applies a feedback event's status to its job, once the job is `posted` (the caller waits for a post still in
 * flight: the provider's answer can overtake our own FULFILL). `author`: the proven author (the seal's, for a wrap).
 */
export function applyFeedback(
  deps: LifecycleDeps,
  posting: Posting,
  timeouts: Timeouts,
  jobId: string,
  event: NostrEvent,
  author: string,
): void {
  const job = deps.state.jobs.get(jobId);
  const { status, reason } = feedbackStatus(event);
  if (status !== 'error' || job?.status !== 'posted') return;
  // Only a provider the Mayor deals with for the job can fail it (feedback-authority.ts).
  const ignored = ignoredErrorFeedback(deps, job, chosenProvider(posting, jobId), author, isBusy(reason));
  if (ignored) {
    deps.activity('info', `${short(jobId)}: error from ${author.slice(0, 8)}… ignored: ${ignored}`);
    return;
  }
  if (isBusy(reason)) {
    busyPolicyOf(deps, posting, timeouts).onBusy(jobId, author, reason);
    return;
  }
  timeouts.clear(jobId);
  deps.putJob({
    id: jobId,
    status: 'failed',
    error: `provider ${author.slice(0, 8)}… refused the job: ${reason}`,
  });
  deps.activity('error', `${short(jobId)} failed: provider ${author.slice(0, 8)}… refused it: ${reason}`);
  if (job.chainId) failChain(deps, job.chainId);
}
