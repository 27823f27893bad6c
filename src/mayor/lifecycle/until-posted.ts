// A fast provider's result can overtake our own FULFILL (separate sockets): its intake waits until the post has
// finished (the job leaves `posting`). Woken by the job's own transition: a 50 ms poll used to add up to 50 ms
// to such a result (issue 17). A slow check covers a stop and changes made outside putJob.
import type { LifecycleDeps } from './deps.js';

/** Longest wait for our own post to finish (as before: 600 polls of 50 ms). */
export const POST_WAIT_MS = 30_000;
const CHECK_MS = 250;

/** Resolves once `jobId` is no longer `posting` (or the Mayor stops, or `maxMs` passed). */
export function untilPosted(deps: LifecycleDeps, jobId: string, maxMs = POST_WAIT_MS): Promise<void> {
  const posting = () => deps.state.jobs.get(jobId)?.status === 'posting' && !deps.stopped();
  if (!posting()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      off();
      clearInterval(check);
      clearTimeout(cap);
      resolve();
    };
    const off = deps.onJobChange((job) => {
      if (job.id === jobId && !posting()) done();
    });
    const check = setInterval(() => {
      if (!posting()) done();
    }, CHECK_MS);
    const cap = setTimeout(done, maxMs);
  });
}
