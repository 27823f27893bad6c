// Child of state-git-thread.test.ts: records a job, waits until it is durable (not committed) and returns without
// closing the repository, as a short CLI command does. Its git commit must still happen before the process exits.
import { openStateRepo } from '../../src/mayor/state/index.js';

const [dir] = process.argv.slice(2) as [string];
const repo = await openStateRepo({ dir, onError: (err) => console.error(String(err)) });
repo.jobs.put({
  id: 'exit-1',
  status: 'posting',
  kind: 5065,
  jobType: 'ci-cd-linux',
  callbackSkill: 'cb',
  bid: 1n,
});
await repo.durable();
process.stdout.write('durable\n');
