// The one commit queue of a state repository. Callers enqueue file operations and return at once; a single
// loop applies them and commits. Whatever arrives while a commit runs goes into the next one (group commit),
// so git's cost is paid per batch, not per transition, and a FULFILL handler never waits on git.
import { closeSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { appendMore, appendNoSync, ensureDir, fsyncAll, fsyncDir, writeFilesAtomic } from './atomic.js';
import { StateError } from './errors.js';
import { git } from './git.js';

/** A file change, paths relative to the repository root. */
export type FileOp =
  /** Replace the file with whatever `render` returns at commit time (null deletes it). Coalesced per path. */
  | { type: 'write'; path: string; render: () => string | null }
  | { type: 'append'; path: string; data: string }
  | { type: 'rename'; from: string; to: string }
  | { type: 'remove'; path: string };

export interface CommitStats {
  /** Commits made by the queue. */
  commits: number;
  /** Changes (enqueue calls) those commits carried. */
  changes: number;
  /** changes / commits. */
  meanBatchSize: number;
  /** Changes enqueued but not yet committed. */
  pending: number;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Git commit messages stay readable: a batch lists at most this many changes. */
const MAX_BODY_LINES = 200;

export class CommitQueue {
  private ops: FileOp[] = [];
  private writePaths = new Set<string>();
  private messages: string[] = [];
  private enqueued = 0;
  private committed = 0;
  private running = false;
  private waiters: Waiter[] = [];
  private commits = 0;
  private changes = 0;

  constructor(
    private readonly dir: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queues one change (any number of file ops, one message line). Returns immediately. */
  enqueue(ops: FileOp[], message: string): void {
    for (const op of ops) {
      if (op.type === 'write') {
        // The render reads the latest in-memory record, so one pending write per path is enough.
        if (this.writePaths.has(op.path)) continue;
        this.writePaths.add(op.path);
      }
      this.ops.push(op);
    }
    this.messages.push(message);
    this.enqueued++;
    if (!this.running) {
      this.running = true;
      // Defer to the next turn so a synchronous burst of changes lands in one commit.
      setImmediate(() => void this.loop());
    }
  }

  /** Resolves once every change enqueued before the call is committed; rejects if that commit failed. */
  flush(): Promise<void> {
    const seq = this.enqueued;
    if (this.committed >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  stats(): CommitStats {
    return {
      commits: this.commits,
      changes: this.changes,
      meanBatchSize: this.commits === 0 ? 0 : this.changes / this.commits,
      pending: this.enqueued - this.committed,
    };
  }

  private async loop(): Promise<void> {
    while (this.messages.length > 0) {
      const ops = this.ops;
      const messages = this.messages;
      const seq = this.enqueued;
      this.ops = [];
      this.writePaths = new Set();
      this.messages = [];
      try {
        await this.apply(ops);
        const made = await commitAll(this.dir, commitMessage(messages));
        if (made) this.commits++;
        this.changes += messages.length;
        this.committed = seq;
        this.settle(seq, undefined);
      } catch (err) {
        // Files already written stay on disk: the next commit (or recovery on open) picks them up.
        this.committed = seq;
        this.settle(seq, err);
        this.onError(err);
      }
    }
    this.running = false;
  }

  private settle(seq: number, err: unknown): void {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq > seq) keep.push(w);
      else if (err === undefined) w.resolve();
      else w.reject(err);
    }
    this.waiters = keep;
  }

  private async apply(ops: FileOp[]): Promise<void> {
    // Appends, renames and removes happen in order; their fsyncs and the record writes are then done
    // together, in parallel, so a batch pays roughly one fsync latency instead of one per file.
    const dirs = new Set<string>();
    const records: { path: string; data: string }[] = [];
    const appendFds: number[] = [];
    const openAppends = new Map<string, number>();
    try {
      for (const op of ops) {
        if (op.type === 'write') {
          const abs = join(this.dir, op.path);
          const content = op.render();
          if (content === null) {
            rmSync(abs, { force: true });
            dirs.add(dirname(abs));
          } else {
            ensureDir(dirname(abs));
            records.push({ path: abs, data: content });
          }
        } else if (op.type === 'append') {
          // One descriptor per file per batch, however many lines a batch appends.
          const abs = join(this.dir, op.path);
          let fd = openAppends.get(abs);
          if (fd === undefined) {
            ensureDir(dirname(abs));
            fd = appendNoSync(abs, op.data);
            openAppends.set(abs, fd);
            appendFds.push(fd);
          } else appendMore(fd, op.data);
          dirs.add(dirname(abs));
        } else if (op.type === 'rename') {
          const from = join(this.dir, op.from);
          // Later appends to the old name start a new file; the open descriptor still fsyncs the renamed one.
          openAppends.delete(from);
          if (existsSync(from)) renameSync(from, join(this.dir, op.to));
          dirs.add(dirname(from));
        } else {
          openAppends.delete(join(this.dir, op.path));
          rmSync(join(this.dir, op.path), { force: true });
          dirs.add(dirname(join(this.dir, op.path)));
        }
      }
      await Promise.all([fsyncAll(appendFds), writeFilesAtomic(records)]);
    } finally {
      for (const fd of appendFds) closeSync(fd);
    }
    // Renames, creations and deletions are durable only once their directory entry is.
    for (const d of dirs) if (existsSync(d)) fsyncDir(d);
  }
}

function commitMessage(messages: string[]): string {
  if (messages.length === 1) return messages[0]!;
  const body = messages.slice(0, MAX_BODY_LINES);
  if (messages.length > MAX_BODY_LINES) body.push(`… and ${messages.length - MAX_BODY_LINES} more`);
  return `${messages.length} changes\n\n${body.join('\n')}`;
}

/** Stages everything and commits. Returns false when there was nothing to commit. */
export async function commitAll(dir: string, message: string): Promise<boolean> {
  await git(dir, ['add', '-A', '.']);
  const res = await git(dir, ['commit', '-q', '--no-verify', '-m', message], { allowFail: true });
  if (res.code === 0) return true;
  if (/nothing (added )?to commit/.test(res.stdout)) return false;
  throw new StateError(
    'GIT_FAILED',
    `git commit failed in ${dir}: ${res.stderr.trim() || res.stdout.trim()}. Check the disk and the repository (git -C ${dir} status).`,
  );
}
