// WorkRepo's warm worktrees: created ahead of time, renamed to the job's path when taken. Real git.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkRepo } from '../../../src/mayor/provider/worktree.js';
import { tempHome } from './helpers.js';

const id = (n: number) => n.toString(16).padStart(64, '0');
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_GLOBAL: '/dev/null' },
  })
    .toString()
    .trim();
const worktreePaths = (repo: WorkRepo) =>
  git(repo.repoDir, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length))
    .sort();

describe('WorkRepo warm worktrees', () => {
  it('hands a warm worktree to a job at its own path, git-valid, clean, and never twice', async () => {
    const repo = new WorkRepo(tempHome());
    await repo.init();
    await repo.warm(2);
    expect(repo.warmCount).toBe(2);
    expect(readdirSync(repo.warmDir)).toHaveLength(2);

    const a = await repo.add(id(1));
    expect(a).toBe(path.join(repo.worktreesDir, id(1)));
    expect(repo.warmCount).toBe(1);
    expect(readdirSync(a)).toEqual(['.git']);
    // git knows the worktree at its new place: commands inside it work and the list shows the job's path.
    expect(git(a, 'rev-parse', 'HEAD')).toBe(git(repo.repoDir, 'rev-parse', 'main'));
    expect(git(a, 'rev-parse', '--show-toplevel')).toBe(a);
    expect(worktreePaths(repo)).toContain(a);
    expect(git(repo.repoDir, 'branch', '--list', 'polecat/*')).toBe('');

    // A job's files stay in its worktree; the next job's (warm) worktree does not see them.
    writeFileSync(path.join(a, 'mine.txt'), 'job 1');
    const b = await repo.add(id(2));
    expect(b).not.toBe(a);
    expect(readdirSync(b)).toEqual(['.git']);
    expect(repo.warmCount).toBe(0);
    // With none warm, the next one is made on the spot.
    const c = await repo.add(id(3));
    expect(readdirSync(c)).toEqual(['.git']);
    expect(git(c, 'status', '--porcelain')).toBe('');

    await repo.remove(id(1));
    await repo.remove(id(2));
    await repo.remove(id(3));
    expect(existsSync(a)).toBe(false);
    expect(readdirSync(repo.worktreesDir)).toEqual([]);
    expect(worktreePaths(repo)).toEqual([repo.repoDir]);
    // Removing again is harmless.
    await repo.remove(id(1));
  });

  it('prune (on restart) drops warm worktrees, stale job worktrees and their git entries', async () => {
    const home = tempHome();
    const before = new WorkRepo(home);
    await before.init();
    await before.warm(2);
    await before.add(id(7)); // left behind, as by a crash
    // A new process knows nothing of the previous one's worktrees.
    const repo = new WorkRepo(home);
    await repo.init();
    expect(await repo.prune()).toEqual([id(7)]);
    expect(existsSync(repo.warmDir)).toBe(false);
    expect(readdirSync(repo.worktreesDir)).toEqual([]);
    expect(worktreePaths(repo)).toEqual([repo.repoDir]);
    await repo.warm(1);
    expect(repo.warmCount).toBe(1);
  });
});
