// Runs the slowest test files first. The suite runs on 2 workers; a fresh clone has no vitest cache (which would
// order files by their last duration), so a long file picked up last would leave one worker idle at the end.
// The list is the slowest files of a CI run (durations alongside, from a run at load ~5); files not listed keep vitest's own order.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SLOWEST = [
  'test/mayor/recovery.test.ts', // 69 s
  'test/cli/walkthrough.test.ts', // 51 s
  'test/cli/mayor-job.test.ts', // 46 s
  'test/cli/demo.test.ts', // 33 s
  'test/mayor/lifecycle/crash.test.ts', // 32 s
  'test/mayor/lifecycle/provider-kill.test.ts', // 32 s
  'test/mayor/atomic-restart.test.ts', // 28 s
  'test/chain/invariants.test.ts', // 27 s
  'test/relay/multiprocess.test.ts', // 27 s
  'test/mayor/lifecycle/soak.test.ts', // 27 s
  'test/cli/wallet-channel.test.ts', // 26 s
  'test/connector/receiver-property.test.ts', // 23 s
  'test/devnet/cli.test.ts', // 21 s
  'test/store/postgres.test.ts', // 20 s
  'test/node/sigkill-under-mayor.test.ts', // 19 s
  'test/mayor/lifecycle/feedback.test.ts', // 19 s
  'test/cli/payments-skill.test.ts', // 19 s
  'test/relay/durability.test.ts', // 18 s
  'test/mayor/provider-e2e-restart.test.ts', // 18 s
  'test/mayor/state.test.ts', // 17 s
  'test/mayor/provider/pool.test.ts', // 16 s
  'test/mayor/state-crash.test.ts', // 15 s
  'test/mayor/tls.test.ts', // 15 s
  'test/node/process.test.ts', // 13 s
  'test/chain/anvil.test.ts', // 12 s
  'test/node/sigkill-fulfill.test.ts', // 12 s
  'test/relay/multiprocess-pg-conformance.test.ts', // 12 s
  'test/mayor/provider-earnings.test.ts', // 11 s
  'test/store/postgres-feed.test.ts', // 11 s
  'test/node/prepaid-replay-restart.test.ts', // 10 s
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOWEST.findIndex((s) => f.moduleId.endsWith(s));
      return i === -1 ? SLOWEST.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}
