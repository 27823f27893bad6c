// Child process for the crash test: writes job transitions and log appends in a loop, and prints
// "F <n>" once every job up to n is flushed (committed), or with the mode `durable` once it is durable (written
// and fsynced; the git commit may still be running). The parent SIGKILLs it at a random moment.
import { openStateRepo } from '../../src/mayor/state/index.js';

const [dir, prefix, mode] = process.argv.slice(2) as [string, string, string | undefined];
const repo = await openStateRepo({ dir, onError: () => {} });
process.stdout.write(`OPEN ${JSON.stringify(repo.recovery.pendingJobs.length)}\n`);
let i = 0;
for (;;) {
  for (let k = 0; k < 5; k++, i++) {
    const id = `${prefix}-${i}`;
    repo.jobs.put({
      id,
      status: 'posting',
      kind: 5065,
      jobType: 'ci-cd-linux',
      callbackSkill: 'cb',
      bid: BigInt(i),
    });
    repo.jobs.put({ id, status: 'posted', price: 875n * 10n ** 13n });
    if (i % 3 === 0) repo.jobs.put({ id, status: 'result-received', resultEventId: 'e'.repeat(64) });
    repo.files.append(
      'payment_log.jsonl',
      `${JSON.stringify({ job: id, amount: String(i) })}\n`,
      `payment ${id}`,
    );
  }
  const upto = i - 1;
  // Pipes are synchronous on Linux: once this line is written the parent can rely on it.
  void (mode === 'durable' ? repo.durable() : repo.flush()).then(() => process.stdout.write(`F ${upto}\n`));
  // About 1,000 transitions/s: a busy Mayor, and commits stay concurrent with new transitions.
  await new Promise((r) => setTimeout(r, 5));
}
