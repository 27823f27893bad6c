// Child process for the durable-before-commit crash test: commits a job as `posting`, then makes it `posted`
// (with a payment log line), waits until that is durable (written and fsynced) and SIGKILLs itself at once,
// before the background git commit of that change can run.
import { openStateRepo } from '../../src/mayor/state/index.js';

const [dir] = process.argv.slice(2) as [string];
const repo = await openStateRepo({ dir, onError: () => {} });
repo.jobs.put({ id: 'd-1', status: 'posting', kind: 5065, jobType: 'ci-cd-linux', callbackSkill: 'cb' });
await repo.flush();
repo.jobs.put({ id: 'd-1', status: 'posted', price: 5n });
repo.files.append('payment_log.jsonl', `${JSON.stringify({ job: 'd-1', amount: '5' })}\n`, 'payment d-1');
await repo.durable();
// Pipes are synchronous on Linux: the parent gets this line before the kill.
process.stdout.write('DURABLE\n');
process.kill(process.pid, 'SIGKILL');
