import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/support/slow-first-sequencer.js';

export default defineConfig({
  test: {
    // skills/: the tests `crosstown skill new` writes (README journey 4), run with `npx vitest run skills/<name>.test.ts`.
    include: ['test/**/*.test.ts', 'skills/**/*.test.ts'],
    // Tags the run's processes and kills any that outlive it (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    // Ink renders only the last frame when it thinks it runs in CI (is-in-ci reads CI at import time); the
    // dashboard tests drive a live terminal, so test workers (and the processes they spawn) see CI=false.
    env: { CI: 'false', CONTINUOUS_INTEGRATION: 'false' },
    hookTimeout: 120_000,
    // Tests start real servers and chains; 2 cores on CI.
    pool: 'forks',
    // A worker keeps its modules from one test file to the next: importing viem, nostr-tools and the node again for
    // each of 200 files cost a third of the suite (collect 177 s of 640 s wall on 2 workers). A file that changes
    // shared state (a test helper's factory, chalk's colour level) puts it back when it ends.
    isolate: false,
    // The slowest files first, so neither worker is left idle at the end (test/support/slow-first-sequencer.ts).
    sequence: { sequencer: SlowFirstSequencer },
    // CROSSTOWN_TEST_FORKS: how many test files run at once (measuring the suite with more or fewer).
    poolOptions: { forks: { maxForks: Number(process.env.CROSSTOWN_TEST_FORKS ?? 2), minForks: 1 } },
  },
});
