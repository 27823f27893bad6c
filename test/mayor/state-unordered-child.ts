// Child process for the unordered-lane crash test: records a job (main lane) and a channel's new cumulative
// (unordered lane) in the same turn, waits for flush() and SIGKILLs itself at once. flush() must have waited for
// the channel record's write and its git commit too, though durable() never waits for it.
import { openStateRepo } from '../../src/mayor/state/index.js';
import { testChannel } from './state-helpers.js';

const [dir, channelId] = process.argv.slice(2) as [string, string];
const repo = await openStateRepo({ dir, onError: () => {} });
const channel = testChannel(channelId);
repo.channels.put({ ...channel, cumulativeSigned: 10n ** 15n });
await repo.flush();
repo.jobs.put({ id: 'u-1', status: 'posting', kind: 5065, jobType: 'ci-cd-linux', callbackSkill: 'cb' });
repo.channels.put({ ...channel, cumulativeSigned: 7n * 10n ** 15n });
await repo.durable();
process.stdout.write('DURABLE\n');
await repo.flush();
// Alone: the main lane has nothing left to commit, so only the unordered lane can hold flush() back.
repo.channels.put({ ...channel, cumulativeSigned: 9n * 10n ** 15n });
await repo.flush();
// Pipes are synchronous on Linux: the parent gets this line before the kill.
process.stdout.write('FLUSHED\n');
process.kill(process.pid, 'SIGKILL');
