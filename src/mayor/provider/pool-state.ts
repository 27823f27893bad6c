// The pool's memory across restarts: <home>/polecats.json lists every accepted job that has not finished,
// with the process groups it started. Written atomically (temp file, fsync, rename) on every change, so a
// crash leaves either the old or the new file, never half of one. The running pool writes it through a
// PoolStateWriter, on the thread pool: its fsync no longer stops the Mayor's main thread (issue 17).
import { closeSync, fsyncSync, openSync, readFileSync, rename, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { validateEventShape } from '../../nostr/event.js';
import type { NostrEvent } from '../../nostr/types.js';
import { fsyncAll } from '../state/atomic.js';
import { ProviderError } from './errors.js';

export interface ProcessRef {
  pid: number;
  /** Start time from /proc/<pid>/stat (clock ticks since boot): tells our process from a later one with the same pid. */
  startTime?: string;
}

export interface PersistedJob {
  request: NostrEvent;
  state: 'queued' | 'running';
  acceptedAt: number;
  attempt: number;
  processes: ProcessRef[];
}

export interface PoolStateFile {
  version: 1;
  jobs: Record<string, PersistedJob>;
}

export const STATE_FILE = 'polecats.json';

export function readPoolState(home: string): PoolStateFile {
  const file = path.join(home, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, jobs: {} };
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as PoolStateFile;
    if (parsed.version !== 1 || typeof parsed.jobs !== 'object' || parsed.jobs === null)
      throw new Error('unknown layout');
    for (const job of Object.values(parsed.jobs)) validateEventShape(job.request);
    return parsed;
  } catch (err) {
    throw new ProviderError(
      'state_corrupt',
      `${file} is not a valid pool state (${(err as Error).message}); move it aside to start with no remembered jobs`,
      { cause: err },
    );
  }
}

/**
 * `durable`: fsync before the rename. Needed when a job is accepted (a power cut must not lose it); later
 * updates (process ids) only matter while this machine stays up, so a plain atomic rename is enough.
 */
export function writePoolState(home: string, state: PoolStateFile, durable = true): void {
  const file = path.join(home, STATE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(state));
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/**
 * Writes polecats.json off the main thread, one write at a time; each write takes the state as it is when it
 * starts, so calls made while one runs share the next one. `write(true)` resolves once a file holding every change
 * made before the call is fsynced and renamed in place; `write(false)` once it is renamed (no fsync: process ids,
 * which only matter while this machine stays up).
 */
export class PoolStateWriter {
  private running: Promise<void> | undefined;
  private next: { durable: boolean; done: Promise<void>; start: () => void } | undefined;

  constructor(
    private readonly home: string,
    private readonly snapshot: () => PoolStateFile,
  ) {}

  write(durable: boolean): Promise<void> {
    if (!this.running) return this.run(durable);
    if (this.next) {
      this.next.durable ||= durable;
      return this.next.done;
    }
    let start!: () => void;
    const done = new Promise<void>((resolve, reject) => {
      start = () => {
        const n = this.next!;
        this.next = undefined;
        this.run(n.durable).then(resolve, reject);
      };
    });
    this.next = { durable, done, start };
    return done;
  }

  /** Resolves when no write is running or queued (never rejects). */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  private run(durable: boolean): Promise<void> {
    const text = JSON.stringify(this.snapshot());
    const run = writeFileAtomicAsync(path.join(this.home, STATE_FILE), text, durable);
    this.running = run;
    const after = () => {
      this.running = undefined;
      this.next?.start();
    };
    run.then(after, after);
    return run;
  }
}

/**
 * The write goes to the page cache on this thread (microseconds); the fsync and the rename, which wait for the
 * disk and its journal, on the thread pool: two hops, so a busy pool delays it little.
 */
async function writeFileAtomicAsync(file: string, text: string, durable: boolean): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    if (durable) await fsyncAll([fd]);
  } finally {
    closeSync(fd);
  }
  await new Promise<void>((res, rej) => rename(tmp, file, (err) => (err ? rej(err) : res())));
}

/** Field 22 of /proc/<pid>/stat, or undefined off Linux / when the process is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
