// Runs the slowest test files first. The suite runs on 2 workers; a fresh clone has no vitest cache (which would
// order files by their last duration), so a long file picked up last would leave one worker idle at the end.
// The list is the slowest files of a CI run (durations alongside, from a run at load ~8-10 beside other work); files not listed keep vitest's own order.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SLOWEST = [
  'test/mayor/lifecycle/provider-kill.test.ts', // 83 s
  'test/mayor/lifecycle/crash.test.ts', // 77 s
  'test/cli/demo.test.ts', // 66 s
  'test/cli/wallet-channel.test.ts', // 58 s
  'test/cli/mayor-job.test.ts', // 45 s
  'test/mayor/recovery.test.ts', // 43 s
  'test/devnet/cli.test.ts', // 41 s
  'test/cli/walkthrough.test.ts', // 40 s
  'test/mayor/lifecycle/soak.test.ts', // 37 s
  'test/node/sigkill-under-mayor.test.ts', // 37 s
  'test/cli/payments-skill.test.ts', // 37 s
  'test/devnet/stop-leaks.test.ts', // 35 s
  'test/relay/durability.test.ts', // 32 s
  'test/connector/receiver-property.test.ts', // 31 s
  'test/chain/invariants.test.ts', // 30 s
  'test/mayor/state.test.ts', // 29 s
  'test/mayor/lifecycle/feedback.test.ts', // 28 s
  'test/mayor/provider-e2e-restart.test.ts', // 27 s
  'test/store/postgres.test.ts', // 26 s
  'test/mayor/provider-e2e.test.ts', // 24 s
  'test/mayor/atomic-restart.test.ts', // 19 s
  'test/mayor/state-crash.test.ts', // 18 s
  'test/relay/multiprocess.test.ts', // 18 s
  'test/mayor/audit.test.ts', // 18 s
  'test/mayor/provider/pool.test.ts', // 17 s
  'test/relay/multiprocess-pg-conformance.test.ts', // 16 s
  'test/store/postgres-crash.test.ts', // 16 s
  'test/mayor/provider-earnings.test.ts', // 16 s
  'test/connector/store-exit.test.ts', // 14 s
  'test/mayor/node-chain-restart.test.ts', // 13 s
  'test/store/sqlite.test.ts', // 13 s
  'test/mayor/tls.test.ts', // 12 s
  'test/chain/anvil.test.ts', // 12 s
  'test/mayor/provider/service.test.ts', // 12 s
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
