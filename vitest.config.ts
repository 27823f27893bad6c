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
    // The slowest files first, so neither worker is left idle at the end (test/support/slow-first-sequencer.ts).
    sequence: { sequencer: SlowFirstSequencer },
    // CROSSTOWN_TEST_FORKS: how many test files run at once (measuring the suite with more or fewer).
    poolOptions: { forks: { maxForks: Number(process.env.CROSSTOWN_TEST_FORKS ?? 2), minForks: 1 } },
  },
});
