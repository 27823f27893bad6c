// Who may fail a job with kind 7000 `error` feedback. Feedback costs one write and anyone can sign it, so an error
// counts only from a provider the Mayor deals with for that job: the one the request named (`p` tag), or the one
// already known for it (job.provider). A public job names nobody: an error from an author it does not know fails
// nothing (logged); the job waits for a result from another provider, or for its job timeout. A busy answer is
// not final and still goes to the busy policy (busy.ts) for a public job: re-offering it is what a busy answer asks.

import type { JobRecord } from '../state/types.js';

/**
 * Why `author`'s error feedback is ignored for `job`, or undefined when it counts. `chosen`: the provider the
 * request named, if any.
 */
export function ignoredErrorFeedback(
  job: Pick<JobRecord, 'provider'>,
  chosen: string | undefined,
  author: string,
  busy: boolean,
): string | undefined {
  if (chosen) return chosen === author ? undefined : 'the job was sent to another provider';
  if (job.provider === author) return undefined;
  if (job.provider) return 'another provider already answered the job';
  if (busy) return undefined;
  return 'a public job is failed only by a provider the Mayor deals with for it; it waits for a result or its timeout';
}
