// What `openStateRepo` does before loading: create or adopt the repository, take the owner lock, and undo
// what a crash can leave behind (stale git locks, temporary files, a half-written log line, uncommitted files).

import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  ftruncateSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { DIR_MODE, ensureDir, FILE_MODE, fsyncDir, TMP_SUFFIX, writeFileAtomic } from './atomic.js';
import { StateError } from './errors.js';
import { git } from './git.js';
import { commitAll } from './queue.js';

export const RECORD_DIRS = ['jobs', 'chains', 'channels'] as const;
const LOCK_FILE = 'crosstown.lock';
/** The payer's record of the packets it pays for (runtime/payer-log.ts): local, never committed. */
export const PAYER_LOG_FILE = 'payments-out.jsonl';
/**
 * Kept out of commits: temporary files, and the payer's record, which changes with every paid write (commits
 * would only copy it; the file itself is what a restart reads).
 */
const GITIGNORE = `*${TMP_SUFFIX}\n/${PAYER_LOG_FILE}\n`;

/** Creates the repository (0700, files 0600, first commit) if `dir` holds none. */
export async function initRepo(dir: string): Promise<boolean> {
  ensureDir(dir);
  chmodSync(dir, DIR_MODE);
  if (!existsSync(join(dir, '.git'))) {
    const entries = readdirSync(dir);
    if (entries.length > 0) {
      throw new StateError(
        'REPO_CORRUPT',
        `${dir} is not empty and is not a git repository (${entries.slice(0, 3).join(', ')}…): choose an empty or new directory for the Mayor's state.`,
      );
    }
    // --shared=0600: git writes its own objects 0600 too, whatever the umask.
    await git(dir, ['init', '-q', '--shared=0600', '-b', 'main']);
    chmodSync(join(dir, '.git'), DIR_MODE);
  }
  const head = await git(dir, ['rev-parse', '--verify', '-q', 'HEAD'], { allowFail: true });
  if (head.code === 0) return false;
  // No commit yet (new, or a crash during the first open): write the ignore file and commit.
  writeFileAtomic(join(dir, '.gitignore'), GITIGNORE);
  await commitAll(dir, 'init: crosstown mayor state');
  return true;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process owns a state repository. A lock left by a dead process (or empty: torn by a crash) is taken over.
 * The lock appears with its owner's pid already in it: written to a file of our own, then hard-linked into place
 * (link fails when the lock exists), so nobody sees a live owner's lock empty and takes it. A lock released between
 * our two looks is tried again, and a stale one is moved aside before it is removed, so a lock another process took
 * over meanwhile is not removed by mistake.
 */
export function acquireLock(dir: string): () => void {
  const path = join(dir, '.git', LOCK_FILE);
  const own = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(own, `${process.pid}\n`, { mode: FILE_MODE });
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        linkSync(own, path);
        return () => rmSync(path, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const text = readIfThere(path);
      if (text === undefined) continue; // released meanwhile
      const pid = Number.parseInt(text, 10);
      if (Number.isSafeInteger(pid) && pid > 0 && pidAlive(pid)) {
        throw new StateError(
          'REPO_LOCKED',
          `State repository ${dir} is in use by process ${pid}: stop that Mayor first (or delete ${path} if it is not a Mayor).`,
        );
      }
      takeOverStale(path, text);
    }
  } finally {
    rmSync(own, { force: true });
  }
  throw new StateError('REPO_LOCKED', `Could not take the lock ${path}: another process keeps creating it.`);
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Removes the stale lock that read `stale`; a lock that is no longer that one (taken over meanwhile) goes back. */
function takeOverStale(path: string, stale: string): void {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (readFileSync(aside, 'utf8') !== stale) {
    try {
      linkSync(aside, path);
    } catch {
      // Yet another lock is in place: its owner holds the repository.
    }
  }
  rmSync(aside, { force: true });
}

/**
 * Git lock files left by a killed git. A git started by a Mayor that was just killed may still be running
 * (killing a process does not kill its children), so a lock gets `waitMs` to disappear on its own before
 * it is judged stale and deleted. Safe because we hold the owner lock: no new git of ours can start.
 */
export async function removeStaleGitLocks(dir: string, waitMs = 3000): Promise<string[]> {
  const removed: string[] = [];
  const gitDir = join(dir, '.git');
  const candidates = () => {
    const list = [join(gitDir, 'index.lock'), join(gitDir, 'HEAD.lock'), join(gitDir, 'packed-refs.lock')];
    const heads = join(gitDir, 'refs', 'heads');
    if (existsSync(heads))
      for (const f of readdirSync(heads)) if (f.endsWith('.lock')) list.push(join(heads, f));
    return list.filter((p) => existsSync(p));
  };
  const deadline = Date.now() + waitMs;
  while (candidates().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const p of candidates()) {
    rmSync(p, { force: true });
    removed.push(p);
  }
  return removed;
}

/** Deletes temporary files of an interrupted atomic write (the target still holds the previous version). */
export function removeTmpFiles(dir: string): string[] {
  const removed: string[] = [];
  for (const sub of ['.', ...RECORD_DIRS]) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      if (f.endsWith(TMP_SUFFIX)) {
        rmSync(join(d, f), { force: true });
        removed.push(join(sub, f));
      }
    }
    if (removed.length > 0) fsyncDir(d);
  }
  return removed;
}

/** A `.jsonl` file at the root cut by a crash mid-append ends without a newline: drop the partial line. */
export function truncatePartialLines(dir: string): string[] {
  const fixed: string[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.jsonl')) continue;
    const path = join(dir, f);
    const size = statSync(path).size;
    if (size === 0) continue;
    const data = readFileSync(path);
    if (data[size - 1] === 0x0a) continue;
    const keep = data.lastIndexOf(0x0a) + 1;
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, keep);
    } finally {
      closeSync(fd);
    }
    fixed.push(f);
  }
  return fixed;
}

/**
 * Adds what `.gitignore` lacks (a repository made by an older version lacks the payer's record), keeping the lines an
 * operator added: true if it changed.
 */
export function updateGitignore(dir: string): boolean {
  const path = join(dir, '.gitignore');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const have = new Set(current.split('\n').map((l) => l.trim()));
  const missing = GITIGNORE.split('\n').filter((l) => l && !have.has(l));
  if (missing.length === 0) return false;
  const sep = current === '' || current.endsWith('\n') ? '' : '\n';
  writeFileAtomic(path, `${current}${sep}${missing.join('\n')}\n`);
  return true;
}

/** Commits whatever a crash left uncommitted. Returns true if there was something. */
export async function commitLeftovers(dir: string, attempts = 3): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      const st = await git(dir, ['status', '--porcelain', '--untracked-files=all']);
      if (st.stdout.trim() === '') return false;
      return await commitAll(dir, 'recover: commit changes left by an interrupted run');
    } catch (err) {
      // A git of the killed Mayor that had not yet taken its lock when we looked may still be running and race
      // ours for the index: let it finish (its locks go), then try again.
      if (attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
      await removeStaleGitLocks(dir);
    }
  }
}
