// The one commit queue of a state repository. Callers enqueue file operations and return at once. Two
// loops follow:
// - the write loop applies each batch to the working tree (atomic writes, appends, all fsynced): once that is
//   done the batch is **durable**, and `durable()` waiters resume. A crash after this point loses nothing:
//   opening the repository commits whatever the working tree holds that git does not (recovery.ts).
// - the commit loop then runs `git add` + `git commit` for every batch made durable so far (group commit), in
//   the background, so neither a FULFILL nor a job transition ever waits on git. `flush()` waits for it.
//   It first lets batches gather for `commitDelayMs` (unless someone waits in flush()): a job makes about seven
//   batches within a few hundred milliseconds, and each commit forks two git processes, which cost the
//   Mayor's cores far more than the fsyncs themselves (issue 17).
// A second, unordered lane (enqueueUnordered) takes the channel records: nothing waits for them to be durable and no
// other change depends on them being so first (a Mayor that lost one resyncs with its node at start). Its batches
// are written one at a time beside the main lane's, so a job's transition is never queued behind a channel record's
// two fsync rounds (issue 17); durable() and logged() do not wait for them, flush() and close() do.
// Writes never wait for git: a batch may be written while `git add` reads the tree, so a commit can hold part of
// a batch whose messages go with the next commit (committed even if empty, so no transition's line is lost).
// That is harmless: the working tree, not git, is what recovery trusts. A `git add` that fails because a file
// changed under it is retried once.
import { closeSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mark, tracing } from '../../transport/trace.js';
import { appendMore, appendNoSync, ensureDir, fsyncAll, fsyncDirs, writeFilesAtomic } from './atomic.js';
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
  /** Changes enqueued but not yet durable (written and fsynced). */
  notDurable: number;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A durable batch waiting for its git commit. */
interface Written {
  seq: number;
  messages: string[];
  /** Set when writing the batch failed: its commit waiters get this error. */
  err?: unknown;
}

/** Git commit messages stay readable: a batch lists at most this many changes. */
const MAX_BODY_LINES = 200;

/** How long durable batches gather before they are committed together (flush() does not wait for it). */
export const DEFAULT_COMMIT_DELAY_MS = 1000;

export class CommitQueue {
  private ops: FileOp[] = [];
  private writePaths = new Set<string>();
  private messages: string[] = [];
  private enqueued = 0;
  private durableSeq = 0;
  /** Changes whose appends, new files, renames and removals are durable (records may still be on their way). */
  private loggedSeq = 0;
  private loggedWaiters: Waiter[] = [];
  private committed = 0;
  private writing = false;
  private committing = false;
  private written: Written[] = [];
  private durableWaiters: Waiter[] = [];
  private commitWaiters: Waiter[] = [];
  /** Batches whose writing started / ended: tells the commit loop whether a write overlapped its `git add`. */
  private applyStarts = 0;
  private applyEnds = 0;
  private commits = 0;
  private changes = 0;
  /** Directories of a batch whose writing failed before they were fsynced: the next batch fsyncs them. */
  private dirsOwed = new Set<string>();
  /** Ends the commit loop's gathering pause early (a flush() is waiting). */
  private wake: (() => void) | undefined;
  /** The unordered lane: changes not yet written, and its loop while it runs. */
  private unorderedOps: FileOp[] = [];
  private unorderedPaths = new Set<string>();
  private unorderedMessages: string[] = [];
  private unorderedLoop: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly onError: (err: unknown) => void,
    private readonly commitDelayMs = DEFAULT_COMMIT_DELAY_MS,
  ) {}

  /** Queues one change (any number of file ops, one message line). Returns immediately. */
  enqueue(ops: FileOp[], message: string): void {
    addOps(ops, this.ops, this.writePaths);
    this.messages.push(message);
    this.enqueued++;
    if (!this.writing) {
      this.writing = true;
      // Defer to the next turn so a synchronous burst of changes lands in one batch.
      setImmediate(() => void this.writeLoop());
    }
  }

  /**
   * Queues a change in the unordered lane: written and fsynced by its own loop, one batch at a time, so it neither
   * waits for nor delays the main lane. durable() and logged() do not cover it; flush() does. Only for files no
   * main-lane change touches (the lanes never write one path at the same time), whose loss in a crash that kept
   * later main-lane changes is recovered otherwise.
   */
  enqueueUnordered(ops: FileOp[], message: string): void {
    addOps(ops, this.unorderedOps, this.unorderedPaths);
    this.unorderedMessages.push(message);
    // Next turn, as the main lane: a synchronous burst lands in one batch.
    this.unorderedLoop ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.writeUnordered(),
    );
  }

  private async writeUnordered(): Promise<void> {
    while (this.unorderedMessages.length > 0) {
      const ops = this.unorderedOps;
      const messages = this.unorderedMessages;
      this.unorderedOps = [];
      this.unorderedPaths = new Set();
      this.unorderedMessages = [];
      if (tracing)
        mark(
          `state ${this.dir.split('/').slice(-2).join('/')} unordered start ${messages[0]!.slice(0, 100)}`,
        );
      this.applyStarts++;
      try {
        // Directories a failed main-lane batch owes stay the main lane's (its durable() waiters count on them).
        await this.apply(ops, () => {}, false);
      } catch (e) {
        // Files already written stay on disk: the next commit (or recovery on open) picks them up.
        this.onError(e);
      } finally {
        this.applyEnds++;
      }
      // Its lines reach git through the main lane (a change with no file of its own), committed with its next batch.
      for (const m of messages) this.enqueue([], m);
    }
    this.unorderedLoop = undefined;
  }

  /**
   * Resolves once every change enqueued before the call is durable: written and fsynced in the working tree,
   * so a crash cannot lose it (its git commit may still be running). Rejects if writing it failed.
   */
  durable(): Promise<void> {
    const seq = this.enqueued;
    if (this.durableSeq >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => this.durableWaiters.push({ seq, resolve, reject }));
  }

  /**
   * Like durable(), but does not wait for record files (jobs/, chains/, channels/, subscriptions.json): resolves
   * once every append, new file, rename and removal enqueued before the call is durable. For an effect guarded by
   * an appended line (an intent) whose record transition a restart does not need (issue 17: one fsync round, not
   * two). The records of the same batch follow; a later durable() waits for them.
   */
  logged(): Promise<void> {
    const seq = this.enqueued;
    if (this.loggedSeq >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => this.loggedWaiters.push({ seq, resolve, reject }));
  }

  /**
   * Resolves once every change enqueued before the call, in either lane, is committed to git; rejects if that
   * commit failed.
   */
  async flush(): Promise<void> {
    // The unordered lane hands its lines to the main lane once written: wait for that first.
    while (this.unorderedLoop) await this.unorderedLoop;
    const seq = this.enqueued;
    if (this.committed >= seq) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.commitWaiters.push({ seq, resolve, reject }));
    this.wake?.();
    return p;
  }

  stats(): CommitStats {
    return {
      commits: this.commits,
      changes: this.changes,
      meanBatchSize: this.commits === 0 ? 0 : this.changes / this.commits,
      pending: this.enqueued - this.committed,
      notDurable: this.enqueued - this.durableSeq,
    };
  }

  private async writeLoop(): Promise<void> {
    while (this.messages.length > 0) {
      const ops = this.ops;
      const messages = this.messages;
      const seq = this.enqueued;
      this.ops = [];
      this.writePaths = new Set();
      this.messages = [];
      let err: unknown;
      this.applyStarts++;
      const logged = (e?: unknown) => {
        this.loggedSeq = seq;
        settle(this.loggedWaiters, seq, e, (keep) => {
          this.loggedWaiters = keep;
        });
      };
      const who = tracing ? this.dir.split('/').slice(-2).join('/') : '';
      if (tracing) mark(`state ${who} apply start ${messages.join(' | ').slice(0, 160)}`);
      try {
        await this.apply(ops, () => {
          if (tracing) mark(`state ${who} logged`);
          logged();
        });
      } catch (e) {
        // Files already written stay on disk: the next commit (or recovery on open) picks them up.
        err = e;
      } finally {
        this.applyEnds++;
      }
      if (this.loggedSeq < seq) logged(err);
      if (tracing) mark(`state ${who} durable`);
      this.written.push({ seq, messages, ...(err !== undefined ? { err } : {}) });
      this.durableSeq = seq;
      settle(this.durableWaiters, seq, err, (keep) => {
        this.durableWaiters = keep;
      });
      if (err !== undefined) this.onError(err);
      if (!this.committing) {
        this.committing = true;
        void this.commitLoop();
      }
    }
    this.writing = false;
  }

  private async commitLoop(): Promise<void> {
    let allowEmpty = false;
    while (this.written.length > 0) {
      // Let the batches of the next few hundred milliseconds join this commit (one git add + commit for all).
      if (this.commitDelayMs > 0 && this.commitWaiters.length === 0) await this.gather();
      // Every batch written so far; batches written while git runs go to the next round.
      const batches = this.written;
      this.written = [];
      const message = commitMessage(batches.flatMap((b) => b.messages));
      let err: unknown;
      let made = false;
      let overlapped = false;
      for (let attempt = 1; ; attempt++) {
        try {
          const started = this.applyStarts;
          const writingAlready = started > this.applyEnds;
          try {
            if (tracing) mark(`git add start ${this.dir.split('/').slice(-2).join('/')}`);
            await git(this.dir, ['add', '-A', '.']);
          } finally {
            overlapped = writingAlready || this.applyStarts > started;
          }
          made = await commitStaged(this.dir, message, allowEmpty);
          err = undefined;
          break;
        } catch (e) {
          err = e;
          // A file renamed or removed while git read the tree fails `git add`: once more, then report.
          if (attempt >= 2) break;
        }
      }
      // The previous add may have staged part of a later batch: its lines still deserve a commit.
      allowEmpty = overlapped;
      if (err !== undefined) this.onError(err);
      if (tracing) mark(`git commit done ${this.dir.split('/').slice(-2).join('/')}`);
      if (made) this.commits++;
      this.changes += batches.reduce((n, b) => n + b.messages.length, 0);
      const seq = batches.at(-1)!.seq;
      this.committed = seq;
      settle(this.commitWaiters, seq, err ?? batches.find((b) => b.err !== undefined)?.err, (keep) => {
        this.commitWaiters = keep;
      });
    }
    this.committing = false;
  }

  /** Waits commitDelayMs, or less if a flush() comes. The timer keeps a CLI process alive until its commit. */
  private gather(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.commitDelayMs);
      this.wake = done;
    });
  }

  private async apply(ops: FileOp[], onLogged: () => void, takeOwed = true): Promise<void> {
    // Appends, renames and removes happen in order; their fsyncs and the record writes are then done
    // together, in parallel, so a batch pays roughly one fsync latency instead of one per file.
    // `dirs`: directories whose entries changed already (a new appended file, a rename, a removal): fsynced in
    // that same parallel round. `recordDirs`: directories of records, whose rename comes only after the record's
    // own fsync: fsynced in a second round. A batch without records (a key, an intent line, an audit line) pays
    // one fsync latency, not two (issue 17).
    const dirs = new Set<string>(takeOwed ? this.dirsOwed : []);
    const recordDirs = new Set<string>();
    if (takeOwed) this.dirsOwed.clear();
    const records: { path: string; data: string }[] = [];
    const appendFds: number[] = [];
    const openAppends = new Map<string, number>();
    let synced = false;
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
            // Appending to an existing file changes no directory entry: only a new file needs its directory
            // fsynced (a log line is appended to intents.jsonl or the audit in every batch).
            if (!existsSync(abs)) dirs.add(dirname(abs));
            fd = appendNoSync(abs, op.data);
            openAppends.set(abs, fd);
            appendFds.push(fd);
          } else appendMore(fd, op.data);
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
      // Renames, creations and deletions are durable only once their directory entry is: every directory
      // of the batch at once, off the event loop.
      await Promise.all([
        Promise.all([fsyncAll(appendFds), fsyncDirs(dirs)]).then(onLogged),
        records.length > 0
          ? writeFilesAtomic(records, recordDirs).then(() => fsyncDirs(recordDirs))
          : undefined,
      ]);
      synced = true;
    } finally {
      for (const fd of appendFds) closeSync(fd);
      if (!synced) for (const d of [...dirs, ...recordDirs]) this.dirsOwed.add(d);
    }
  }
}

function commitMessage(messages: string[]): string {
  if (messages.length === 1) return messages[0]!;
  const body = messages.slice(0, MAX_BODY_LINES);
  if (messages.length > MAX_BODY_LINES) body.push(`… and ${messages.length - MAX_BODY_LINES} more`);
  return `${messages.length} changes\n\n${body.join('\n')}`;
}

/** Resolves (or rejects) the waiters whose changes are covered by `seq`; hands back the others. */
function settle(waiters: Waiter[], seq: number, err: unknown, keep: (rest: Waiter[]) => void): void {
  const rest: Waiter[] = [];
  for (const w of waiters) {
    if (w.seq > seq) rest.push(w);
    else if (err === undefined) w.resolve();
    else w.reject(err);
  }
  keep(rest);
}

/** Commits what is staged. Returns false when there was nothing to commit (and `allowEmpty` is not set). */
async function commitStaged(dir: string, message: string, allowEmpty = false): Promise<boolean> {
  const args = ['commit', '-q', '--no-verify', ...(allowEmpty ? ['--allow-empty'] : []), '-m', message];
  const res = await git(dir, args, { allowFail: true });
  if (res.code === 0) return true;
  if (/nothing (added )?to commit/.test(res.stdout)) return false;
  throw new StateError(
    'GIT_FAILED',
    `git commit failed in ${dir}: ${res.stderr.trim() || res.stdout.trim()}. Check the disk and the repository (git -C ${dir} status).`,
  );
}

/** Stages everything and commits. Returns false when there was nothing to commit. */
export async function commitAll(dir: string, message: string): Promise<boolean> {
  await git(dir, ['add', '-A', '.']);
  return commitStaged(dir, message);
}

/** Adds a change's ops to a lane's pending ones. A write renders the latest in-memory record when it runs, so one
 * pending write per path (`writePaths`) is enough. */
function addOps(ops: FileOp[], pending: FileOp[], writePaths: Set<string>): void {
  for (const op of ops) {
    if (op.type === 'write') {
      if (writePaths.has(op.path)) continue;
      writePaths.add(op.path);
    }
    pending.push(op);
  }
}
