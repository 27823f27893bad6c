// Job timeouts: a posted job with no result within job-timeout fails. The clock starts when the job was
// actually posted (its `posted` transition), not when it was created: a job kept while the relay was down is
// not timed out the moment it is posted. After a restart, results on the relay are looked up before any
// timeout is armed (recovery.ts).
import { failChain } from './chains.js';
import { type LifecycleDeps, short } from './deps.js';

export interface Timeouts {
  arm(jobId: string): void;
  clear(jobId: string): void;
  stop(): void;
}

export function createTimeouts(deps: LifecycleDeps): Timeouts {
  const timers = new Map<string, NodeJS.Timeout>();
  const secs = Math.round(deps.jobTimeoutMs / 1000);
  const postedAt = (jobId: string) => {
    const j = deps.state.jobs.get(jobId);
    if (!j) return Date.now();
    return j.history.findLast((h) => h.status === 'posted')?.at ?? j.updatedAt;
  };
  const expire = (jobId: string) => {
    timers.delete(jobId);
    const j = deps.state.jobs.get(jobId);
    if (j?.status !== 'posted') return;
    deps.putJob({ id: jobId, status: 'failed', error: `no result within ${secs} s of posting` });
    deps.activity('error', `${short(jobId)} timed out ${secs} s after it was posted`);
    if (j.chainId) failChain(deps, j.chainId);
  };
  return {
    arm: (jobId) => {
      if (timers.has(jobId)) return;
      const left = Math.max(0, postedAt(jobId) + deps.jobTimeoutMs - Date.now());
      const timer = setTimeout(() => expire(jobId), left);
      timer.unref();
      timers.set(jobId, timer);
    },
    clear: (jobId) => {
      clearTimeout(timers.get(jobId));
      timers.delete(jobId);
    },
    stop: () => {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
