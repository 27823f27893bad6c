// Each job gets its own git worktree and branch `polecat/<jobid>` in the provider's work repository
// (<home>/work), checked out under <home>/worktrees/<jobid>. Ref-changing git calls go through one queue:
// git locks shared files (packed-refs, worktree admin dirs) and parallel calls would fail on them.
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ProviderError } from './errors.js';
import { git } from './git.js';

const JOB_ID = /^[0-9a-f]{64}$/;

export class WorkRepo {
  readonly repoDir: string;
  readonly worktreesDir: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(home: string) {
    this.repoDir = path.join(home, 'work');
    this.worktreesDir = path.join(home, 'worktrees');
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
   * `git worktree add -b polecat/<jobid>`: a fresh, empty checkout for the job. `--no-checkout`: the base
   * commit is empty, so there is nothing to check out, and skipping it halves the time git takes.
   */
  add(jobId: string): Promise<string> {
    const dir = this.pathFor(jobId);
    return this.serial(async () => {
      await git(['worktree', 'add', '-q', '--no-checkout', '-b', `polecat/${jobId}`, dir, 'main'], {
        cwd: this.repoDir,
      });
      return dir;
    });
  }

  /** Removes the worktree directory, its git admin entry and the branch; idempotent. */
  remove(jobId: string): Promise<void> {
    const dir = this.pathFor(jobId);
    return this.serial(async () => {
      await rm(dir, { recursive: true, force: true });
      await git(['worktree', 'prune'], { cwd: this.repoDir });
      try {
        await git(['branch', '-q', '-D', `polecat/${jobId}`], { cwd: this.repoDir });
      } catch {
        // No branch: already removed.
      }
    });
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
    const removed: string[] = [];
    for (const id of await this.list()) {
      if (keep.has(id)) continue;
      if (JOB_ID.test(id)) await this.remove(id);
      else await rm(path.join(this.worktreesDir, id), { recursive: true, force: true });
      removed.push(id);
    }
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
