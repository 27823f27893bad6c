// A job's timeout runs from when it was actually posted: a job kept locally for ten minutes (relay down) and
// posted now is not timed out the moment it is posted. Real state repo; the timeout itself is 600 ms.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LifecycleDeps } from '../../../src/mayor/lifecycle/deps.js';
import { createTimeouts } from '../../../src/mayor/lifecycle/timeouts.js';
import { openStateRepo } from '../../../src/mayor/state/index.js';

describe('job timeouts', () => {
  it('count from the posted transition, not from creation', async () => {
    const state = await openStateRepo({ dir: mkdtempSync(join(tmpdir(), 'crosstown-timeouts-')) });
    try {
      const activity: string[] = [];
      const deps = {
        state,
        jobTimeoutMs: 600,
        putJob: (t) => state.jobs.put(t),
        activity: (_k: string, text: string) => activity.push(text),
      } as Partial<LifecycleDeps> as LifecycleDeps;
      const timeouts = createTimeouts(deps);
      const tenMinutesAgo = Date.now() - 600_000;
      state.jobs.put({
        id: 'kept',
        status: 'posting',
        kind: 5065,
        jobType: 't',
        callbackSkill: 's',
        at: tenMinutesAgo,
      });
      state.jobs.put({ id: 'kept', status: 'posted' });
      timeouts.arm('kept');
      await new Promise((r) => setTimeout(r, 300));
      expect(state.jobs.get('kept')?.status).toBe('posted');
      await new Promise((r) => setTimeout(r, 600));
      expect(state.jobs.get('kept')?.status).toBe('failed');
      expect(state.jobs.get('kept')?.error).toMatch(/of posting/);
      timeouts.stop();
    } finally {
      await state.close();
    }
  });
});
