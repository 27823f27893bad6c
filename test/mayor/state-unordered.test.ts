// The state repo's unordered lane (channel records, issue 17): written beside the job transitions, never queued
// ahead of them; flush() and close() still wait for it, so a process that flushed and was SIGKILLed at once has
// the channel record on disk and committed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateRepo } from '../../src/mayor/state/index.js';
import { gitOut, runUntilSelfKill, tempDir, testChannel } from './state-helpers.js';

const tmp = tempDir('crosstown-unordered-');
afterAll(() => tmp.cleanup());

const channelId = `0x${'cd'.repeat(32)}`;
const base = testChannel(channelId);
const onDisk = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'channels', `${channelId}.json`), 'utf8')) as {
    cumulativeSigned: string;
  };

async function runChild(dir: string): Promise<string[]> {
  const out = await runUntilSelfKill('test/mayor/state-unordered-child.ts', [dir, channelId]);
  return out.split('\n').filter(Boolean);
}

describe('state repo: the unordered lane (channel records)', () => {
  it('a channel record made just before flush() and a SIGKILL is on disk and committed', async () => {
    const dir = join(tmp.dir, 'killed');
    expect(await runChild(dir)).toEqual(['DURABLE', 'FLUSHED']);
    // Read before any reopen: recovery on open would commit leftovers and hide a flush() that did not wait.
    expect(onDisk(dir).cumulativeSigned).toBe('9000000000000000');
    expect(gitOut(dir, ['show', `HEAD:channels/${channelId}.json`])).toContain('"9000000000000000"');
    expect(gitOut(dir, ['log', '--format=%B'])).toContain(`channel ${channelId}: deposit`);
    const repo = await openStateRepo({ dir });
    expect(repo.channels.get(channelId)?.cumulativeSigned).toBe(9n * 10n ** 15n);
    expect(repo.jobs.get('u-1')?.status).toBe('posting');
    await repo.close();
  });

  it('durable() covers job transitions made with a channel record; close() writes and commits both', async () => {
    const dir = join(tmp.dir, 'lanes');
    const repo = await openStateRepo({ dir });
    repo.channels.put({ ...base, cumulativeSigned: 1n });
    repo.jobs.put({ id: 'l-1', status: 'posting', kind: 5065, jobType: 'ci-cd-linux', callbackSkill: 'cb' });
    repo.files.append('intents.jsonl', '{"k":"x"}\n', 'intent x');
    await repo.durable();
    expect(existsSync(join(dir, 'jobs', 'l-1.json'))).toBe(true);
    expect(readFileSync(join(dir, 'intents.jsonl'), 'utf8')).toBe('{"k":"x"}\n');
    repo.channels.put({ ...base, cumulativeSigned: 2n });
    await repo.close();
    expect(onDisk(dir).cumulativeSigned).toBe('2');
    expect(gitOut(dir, ['status', '--porcelain'])).toBe('');
    const again = await openStateRepo({ dir });
    expect(again.channels.get(channelId)?.cumulativeSigned).toBe(2n);
    // A forgotten channel goes the same lane: its file is removed, never raced by an older write.
    again.channels.put({ ...base, cumulativeSigned: 3n });
    await again.flush();
    expect(onDisk(dir).cumulativeSigned).toBe('3');
    expect(again.channels.forget(channelId, 'test')).toBe(true);
    await again.flush();
    expect(existsSync(join(dir, 'channels', `${channelId}.json`))).toBe(false);
    await again.close();
  });
});
