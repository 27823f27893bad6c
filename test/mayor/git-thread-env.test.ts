// The git thread keeps each environment it was sent (issue 17: the environment goes to the thread once, not with
// every call). Calls with different environments, interleaved and concurrent, must each run under their own.
import { describe, expect, it } from 'vitest';
import { runGitInThread } from '../../src/mayor/state/git-thread.js';

const envFor = (name: string) => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: name,
  GIT_AUTHOR_EMAIL: `${name}@crosstown.invalid`,
});

async function author(env: NodeJS.ProcessEnv): Promise<string> {
  const run = runGitInThread(process.cwd(), ['var', 'GIT_AUTHOR_IDENT'], env);
  if (!run) throw new Error('no git thread on this platform');
  const r = await run;
  if (r.error) throw new Error(r.stderr || r.error.message);
  return r.stdout.split(' <')[0]!;
}

describe('git thread environments', () => {
  it('runs each call under its own environment, sent once or again', async () => {
    const a = envFor('alpha');
    const b = envFor('beta');
    // Concurrent first uses of two environments, then repeats (which carry no environment, only its number).
    const first = await Promise.all([author(a), author(b), author(a), author(b)]);
    expect(first).toEqual(['alpha', 'beta', 'alpha', 'beta']);
    expect(await author({ ...a })).toBe('alpha'); // an equal environment in a new object
    expect(await author(envFor('gamma'))).toBe('gamma');
    expect(await author(b)).toBe('beta');
  });

  it('keeps working past the number of environments it remembers', async () => {
    const names = Array.from({ length: 70 }, (_, i) => `user${i}`);
    for (const n of names) expect(await author(envFor(n))).toBe(n);
    expect(await author(envFor('user3'))).toBe('user3');
    expect(await author(envFor('user69'))).toBe('user69');
  });
});
