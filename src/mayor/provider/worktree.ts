// Each job gets its own git worktree (detached HEAD at the empty base commit) in the provider's work
// repository (<home>/work), at <home>/worktrees/<jobid>. `git worktree add` is the slow part (20-40 ms), so a
// few worktrees are created ahead of time under <home>/warm, off the critical path; a job takes one by
// renaming it to its own path. A warm worktree has never been handed out, so it is as clean as a new one.
// Ref-changing git calls go through one queue: git locks shared files (packed-refs, worktree admin dirs)
// and parallel calls would fail on them.
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ProviderError } from './errors.js';
import { git } from './git.js';

const JOB_ID = /^[0-9a-f]{64}$/;

export class WorkRepo {
  readonly repoDir: string;
  readonly worktreesDir: string;
  /** Worktrees created ahead of time, not yet given to any job. */
  readonly warmDir: string;
  private queue: Promise<unknown> = Promise.resolve();
  /** Names (under warmDir) of finished warm worktrees; only ever handed out once. */
  private readonly ready: string[] = [];
  private warming = 0;
  /** Job id -> name of its git admin dir (.git/worktrees/<name>), for removal without `git worktree prune`. */
  private readonly admin = new Map<string, string>();

  constructor(home: string) {
    this.repoDir = path.join(home, 'work');
    this.worktreesDir = path.join(home, 'worktrees');
    this.warmDir = path.join(home, 'warm');
  }

  /** Warm worktrees ready to be taken. */
  get warmCount(): number {
    return this.ready.length;
  }

  /** Creates the work repository with one empty commit, once. */
  async init(): Promise<void> {
    await mkdir(this.worktreesDir, { recursive: true });
    await mkdir(this.repoDir, { recursive: true });
    try {
      await git(['rev-parse', '--verify', '-q', 'HEAD'], { cwd: this.repoDir });
    } catch {
      await git(['init', '-q', '-b', 'main'], { cwd: this.repoDir });
      await git(['commit', '-q', '--allow-empty', '-m', 'polecat work repository'], { cwd: this.repoDir });
    }
  }

  pathFor(jobId: string): string {
    return path.join(this.worktreesDir, checkId(jobId));
  }

  /**
   * A fresh, empty worktree for the job at <home>/worktrees/<jobid>: a warm one renamed there when one is
   * ready, else `git worktree add` now. `--no-checkout`: the base commit is empty, so there is nothing to
   * check out, and skipping it halves the time git takes. `--detach`: no branch to create and delete.
   */
  async add(jobId: string): Promise<string> {
    const dir = this.pathFor(jobId);
    const warm = this.ready.shift();
    if (warm !== undefined) {
      // Synchronous on purpose: two sub-millisecond calls. Awaiting them lets whatever else is queued on the
      // event loop (in a Mayor: relay traffic, the job's own `processing` feedback) run first, which measured
      // 30-40 ms on the job's critical path.
      renameSync(path.join(this.warmDir, warm), dir);
      // Point git's admin entry at the new place (what `git worktree move`/`repair` does): its `gitdir` file
      // holds the absolute path of the worktree's .git file (gitrepository-layout(5)). The worktree's own
      // .git file names the admin dir, which does not move.
      writeFileSync(path.join(this.adminDir(warm), 'gitdir'), `${path.join(dir, '.git')}\n`);
      this.admin.set(jobId, warm);
      return dir;
    }
    return this.serial(async () => {
      await git(['worktree', 'add', '-q', '--no-checkout', '--detach', dir, 'main'], { cwd: this.repoDir });
      this.admin.set(jobId, jobId);
      return dir;
    });
  }

  /**
   * Creates warm worktrees until `target` are ready (or being made). Never rejects: a failure only means the
   * next job creates its worktree itself.
   */
  async warm(target: number): Promise<void> {
    while (this.ready.length + this.warming < target) {
      this.warming++;
      const name = `w${randomBytes(8).toString('hex')}`;
      try {
        await this.serial(async () => {
          await mkdir(this.warmDir, { recursive: true });
          await git(
            ['worktree', 'add', '-q', '--no-checkout', '--detach', path.join(this.warmDir, name), 'main'],
            {
              cwd: this.repoDir,
            },
          );
        });
        this.ready.push(name);
      } catch {
        return;
      } finally {
        this.warming--;
      }
    }
  }

  /**
   * Removes the job's worktree directory and its git admin entry; idempotent. Without git when we made the
   * worktree in this process (we know its admin entry); `git worktree prune` otherwise (after a crash).
   * Leftover `polecat/<jobid>` branches (older versions made one per job) are deleted too.
   */
  async remove(jobId: string): Promise<void> {
    const dir = this.pathFor(jobId);
    const admin = this.admin.get(jobId);
    if (admin !== undefined) {
      await rm(dir, { recursive: true, force: true });
      // In the queue, like git's own changes to .git/worktrees: a `git worktree add` made alongside once failed
      // with "Invalid path '.git/worktrees/<its id>'" (its new admin dir gone between its mkdir and realpath).
      await this.serial(() => rm(this.adminDir(admin), { recursive: true, force: true }));
      this.admin.delete(jobId);
      return;
    }
    return this.serial(async () => {
      await rm(dir, { recursive: true, force: true });
      await git(['worktree', 'prune'], { cwd: this.repoDir });
      try {
        await git(['branch', '-q', '-D', `polecat/${jobId}`], { cwd: this.repoDir });
      } catch {
        // No branch: already removed, or never made.
      }
    });
  }

  /** Drops every warm worktree (after a crash one may be half made); `prune` then clears git's entries. */
  private async dropWarm(): Promise<void> {
    this.ready.length = 0;
    await rm(this.warmDir, { recursive: true, force: true });
  }

  private adminDir(name: string): string {
    return path.join(this.repoDir, '.git', 'worktrees', name);
  }

  /** Job ids that have a worktree directory or a polecat branch. */
  async list(): Promise<string[]> {
    const ids = new Set<string>();
    for (const name of await readdir(this.worktreesDir).catch(() => [] as string[])) ids.add(name);
    const refs = await git(['for-each-ref', '--format=%(refname:strip=3)', 'refs/heads/polecat/'], {
      cwd: this.repoDir,
    });
    for (const line of refs.split('\n')) if (line) ids.add(line);
    return [...ids].sort();
  }

  /** Removes every worktree and branch whose job is not in `keep` (stale ones after a crash). */
  async prune(keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    await this.dropWarm();
    const removed: string[] = [];
    for (const id of await this.list()) {
      if (keep.has(id)) continue;
      if (JOB_ID.test(id)) await this.remove(id);
      else await rm(path.join(this.worktreesDir, id), { recursive: true, force: true });
      removed.push(id);
    }
    await this.serial(() => git(['worktree', 'prune'], { cwd: this.repoDir }));
    return removed;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}

function checkId(jobId: string): string {
  if (!JOB_ID.test(jobId))
    throw new ProviderError('invalid_input', `job id ${JSON.stringify(jobId)} is not 64 lowercase hex`);
  return jobId;
}

/**
 * Fetches `commit` from `url` into the job's worktree and checks it out on the job's branch. Runs outside
 * the sandbox (it needs the network), so the URL and commit are checked first and the protocol allowlisted.
 */
export async function checkoutGit(
  worktree: string,
  url: string,
  commit: string,
  allowProtocols: readonly string[],
  timeoutMs = 120_000,
): Promise<void> {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit))
    throw new ProviderError(
      'invalid_input',
      `commit ${JSON.stringify(commit)} must be a full 40- or 64-hex object id`,
    );
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(url)?.[1];
  if (!scheme || !allowProtocols.includes(scheme))
    throw new ProviderError(
      'invalid_input',
      `git URL ${JSON.stringify(url)} uses a protocol this provider does not fetch (allowed: ${allowProtocols.join(', ')})`,
    );
  const opts = { cwd: worktree, allowProtocols, timeoutMs };
  try {
    await git(['fetch', '-q', '--no-tags', '--', url, commit], opts);
  } catch {
    // Servers that refuse fetching by object id: fetch their branches and tags, then look for the commit.
    await git(
      [
        'fetch',
        '-q',
        '--',
        url,
        '+refs/heads/*:refs/polecat-fetch/heads/*',
        '+refs/tags/*:refs/polecat-fetch/tags/*',
      ],
      opts,
    );
  }
  await git(['reset', '-q', '--hard', commit], opts);
}
