// Who may fail a job with kind 7000 `error` feedback. Feedback costs one write and anyone can sign it, so an error
// counts only from a provider the Mayor deals with for that job: the one the request named (`p` tag), or the one
// already known for it (job.provider). A public job names nobody: an error from an author it does not know fails
// nothing (logged); the job waits for a result from another provider, or for its job timeout. A busy answer is
// not final and goes to the busy policy (busy.ts) for a public job, re-offering it, unless a provider already said
// it is running the job (`processing`): a re-post would then fail the job under that provider and run it twice.

import type { JobRecord } from '../state/types.js';
import type { LifecycleDeps } from './deps.js';

/** Bound on jobs remembered per Mayor (oldest dropped first). */
const MAX_TRACKED = 10_000;
const running = new WeakMap<LifecycleDeps, Map<string, string>>();

/** Remembers the first provider that said `processing` for a job (the one running it). */
export function noteFeedback(deps: LifecycleDeps, jobId: string, status: string, author: string): void {
  if (status !== 'processing') return;
  let jobs = running.get(deps);
  if (!jobs) {
    jobs = new Map();
    running.set(deps, jobs);
  }
  if (jobs.has(jobId)) return;
  if (jobs.size >= MAX_TRACKED) jobs.delete(jobs.keys().next().value!);
  jobs.set(jobId, author);
}

/** The first provider that said `processing` for a job (in memory since this start), if any. */
export function runnerOf(deps: LifecycleDeps, jobId: string): string | undefined {
  return running.get(deps)?.get(jobId);
}

/**
 * Why `author`'s error feedback is ignored for `job`, or undefined when it counts. `chosen`: the provider the
 * request named, if any.
 */
export function ignoredErrorFeedback(
  deps: LifecycleDeps,
  job: Pick<JobRecord, 'id' | 'provider'>,
  chosen: string | undefined,
  author: string,
  busy: boolean,
): string | undefined {
  if (chosen) return chosen === author ? undefined : 'the job was sent to another provider';
  if (job.provider === author) return undefined;
  if (job.provider) return 'another provider already answered the job';
  if (!busy) {
    return 'a public job is failed only by a provider the Mayor deals with for it; it waits for a result or its timeout';
  }
  const runner = runnerOf(deps, job.id);
  if (runner && runner !== author) return `provider ${runner.slice(0, 8)}… said it is running the job`;
  return undefined;
}
