// A job re-posted after a busy answer (docs/mayor.md "busy") fails and names its copy in `repostedAs`; its outcome
// is the last copy's. Waiting for a job (`settled`, `job post --wait`) follows this line of copies.
import type { JobRecord } from './types.js';

/**
 * The ids from `jobId` along `repostedAs` to its last copy, `jobId` first (just `[jobId]` when it was not
 * re-posted). Stops at a copy this state does not know, and at a loop (a hand-edited record), so it always ends.
 */
export function repostLine(get: (id: string) => JobRecord | undefined, jobId: string): string[] {
  const line = [jobId];
  let next = get(jobId)?.repostedAs;
  while (next && get(next) && !line.includes(next)) {
    line.push(next);
    next = get(next)?.repostedAs;
  }
  return line;
}

/**
 * How many copies came before `jobId` in its line: the jobs whose `repostedAs` leads to it. Read from the records,
 * so a restart keeps the count (and the busy policy's `maxReposts` holds across it). Stops at a loop.
 */
export function repostsBefore(list: () => readonly JobRecord[], jobId: string): number {
  const seen = new Set([jobId]);
  for (let current = jobId; ; ) {
    const parent = list().find((j) => j.repostedAs === current);
    if (!parent || seen.has(parent.id)) return seen.size - 1;
    seen.add(parent.id);
    current = parent.id;
  }
}
