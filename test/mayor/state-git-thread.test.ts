// git runs from a worker thread (src/mayor/state/git-thread.ts), not on the Mayor's event loop. Same answers as a
// direct spawn (output, exit code, GIT_FAILED with git's message), and a process that returns right after a change
// is durable still gets its git commit: the thread keeps the process alive while git runs, as a child process did.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { git } from '../../src/mayor/state/git.js';
import { gitOut, tempDir } from './state-helpers.js';

const root = resolve(import.meta.dirname, '../..');
const tmp = tempDir('crosstown-git-thread-');
afterAll(() => tmp.cleanup());

describe('git on its worker thread', () => {
  it('answers as git does: output, exit code with allowFail, GIT_FAILED with git’s message', async () => {
    const dir = join(tmp.dir, 'plain');
    await git(tmp.dir, ['init', '-q', dir]);
    expect((await git(dir, ['rev-parse', '--is-inside-work-tree'])).stdout.trim()).toBe('true');
    const failed = await git(dir, ['rev-parse', '--verify', 'no-such-ref'], { allowFail: true });
    expect(failed.code).toBe(128);
    expect(failed.stderr).toMatch(/fatal/);
    await expect(git(dir, ['rev-parse', '--verify', 'no-such-ref'])).rejects.toMatchObject({
      code: 'GIT_FAILED',
      message: expect.stringMatching(/git rev-parse --verify no-such-ref failed in .*fatal/),
    });
    // Calls in parallel each get their own answer.
    const many = await Promise.all(
      Array.from({ length: 8 }, (_, i) => git(dir, ['config', '--get', `x.k${i}`], { allowFail: true })),
    );
    expect(many.map((r) => r.code)).toEqual(Array(8).fill(1));
  });

  it('a process that returns once its change is durable still commits it before exiting', async () => {
    const dir = join(tmp.dir, 'exit');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'test/mayor/state-exit-child.ts'), dir],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code, err).toBe(0);
    expect(out).toBe('durable\n');
    expect(JSON.parse(gitOut(dir, ['show', 'HEAD:jobs/exit-1.json'])).id).toBe('exit-1');
    expect(gitOut(dir, ['status', '--porcelain'])).toBe('');
  }, 60_000);
});
