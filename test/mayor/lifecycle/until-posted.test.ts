// A result that overtook our own FULFILL waits for the post to finish (src/mayor/lifecycle/until-posted.ts). Issue
// 17: it is woken by the job's `posted` transition, not by a 50 ms poll, and still ends on a stop or at its cap.
// Real state repo; the lifecycle deps are the few members untilPosted reads (the Mayor builds the rest).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LifecycleDeps } from '../../../src/mayor/lifecycle/deps.js';
import { untilPosted } from '../../../src/mayor/lifecycle/until-posted.js';
import { type JobRecord, openStateRepo, type StateRepo } from '../../../src/mayor/state/index.js';

const JOB = 'a'.repeat(64);
const dirs: string[] = [];
const repos: StateRepo[] = [];
afterEach(async () => {
  for (const r of repos.splice(0)) await r.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'crosstown-until-posted-'));
  dirs.push(dir);
  const state = await openStateRepo({ dir: join(dir, 'state') });
  repos.push(state);
  const listeners = new Set<(j: JobRecord) => void>();
  let stopped = false;
  const deps = {
    state,
    stopped: () => stopped,
    putJob: (t: Parameters<StateRepo['jobs']['put']>[0]) => {
      const j = state.jobs.put(t);
      for (const l of listeners) l(j);
      return j;
    },
    onJobChange: (l: (j: JobRecord) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as LifecycleDeps;
  deps.putJob({ id: JOB, status: 'posting', kind: 5065, jobType: 'ci-cd-linux', callbackSkill: 'x' });
  return { deps, listeners, stop: () => (stopped = true) };
}

describe('untilPosted', () => {
  it('resolves at once for a job that is not posting', async () => {
    const { deps } = await setup();
    deps.putJob({ id: JOB, status: 'posted', price: 1n });
    const t0 = performance.now();
    await untilPosted(deps, JOB);
    expect(performance.now() - t0).toBeLessThan(20);
  });

  it('wakes on the posted transition, well before a 50 ms poll would, and removes its listener', async () => {
    const { deps, listeners } = await setup();
    let at = 0;
    const waiting = untilPosted(deps, JOB).then(() => {
      at = performance.now();
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(at).toBe(0);
    const posted = performance.now();
    deps.putJob({ id: JOB, status: 'posted', price: 1n });
    await waiting;
    expect(at - posted).toBeLessThan(25);
    expect(listeners.size).toBe(0);
  });

  it('ends on a stop (checked every 250 ms) and at its cap', async () => {
    const { deps, stop } = await setup();
    const stopping = untilPosted(deps, JOB);
    stop();
    const t0 = performance.now();
    await stopping;
    expect(performance.now() - t0).toBeLessThan(1000);
    const other = await setup();
    const t1 = performance.now();
    await untilPosted(other.deps, JOB, 100);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(95);
    expect(other.deps.state.jobs.get(JOB)?.status).toBe('posting');
  });
});
