// The writer thread of SqliteConnectorStore: commits the fulfilled-unpaid packets and the accepted claims (with the
// removal of the packets they pay), in the order they came, on its own connection to connector.db, one transaction
// (and one fsync) per batch. With the fsync off the main thread the connector keeps
// moving packets while a commit is on its way to the disk: the next batch fills meanwhile (group commit, pipelined).
// Plain JavaScript from a string (starts the same under tsx, vitest and node); better-sqlite3 is passed by path.
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { startEvalWorker } from '../transport/eval-worker.js';

const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare('INSERT INTO unpaid (peer, direction, condition, amount, fulfillment) VALUES (?, ?, ?, ?, ?)');
const removeOne = db.prepare(
  "DELETE FROM unpaid WHERE seq = (SELECT min(seq) FROM unpaid WHERE peer = ? AND direction = 'in' AND condition = ?)",
);
const removeOut = db.prepare(
  "DELETE FROM unpaid WHERE seq = (SELECT min(seq) FROM unpaid WHERE peer = ? AND direction = 'out' AND condition = ?)",
);
const putOut = db.prepare(
  'INSERT INTO channels_out (peer, channel_id, deposit, cumulative) VALUES (?, ?, ?, ?) ON CONFLICT(peer) DO UPDATE SET channel_id = excluded.channel_id, deposit = excluded.deposit, cumulative = excluded.cumulative',
);
const putClaim = db.prepare(
  'INSERT INTO claims_in (channel_id, peer, cumulative, signature) VALUES (?, ?, ?, ?) ON CONFLICT(channel_id) DO UPDATE SET peer = excluded.peer, cumulative = excluded.cumulative, signature = excluded.signature',
);
// Ops in arrival order: ['u', peer, direction, condition, amount, fulfillment or null], ['c', peer, channelId, cumulative, signature, pays]
// or ['o', peer, channelId, deposit, cumulative, pays] (our outgoing channel after the payee accepted a claim).
const commit = db.transaction((ops) => {
  for (const o of ops) {
    if (o[0] === 'u') insert.run(o[1], o[2], o[3], o[4], o[5]);
    else if (o[0] === 'o') {
      for (const c of o[5]) removeOut.run(o[1], c);
      putOut.run(o[1], o[2], o[3], o[4]);
    } else {
      for (const c of o[5]) removeOne.run(o[1], c);
      putClaim.run(o[2], o[1], o[3], o[4]);
    }
  }
});
const shared = new Int32Array(workerData.shared);
parentPort.on('message', (msg) => {
  if (msg.close) { db.close(); parentPort.close(); return; }
  // Frames the main thread committed, copied into the database file here while it goes on (PASSIVE never waits).
  // More than one pass when the main thread holds its commits back (they come behind this message), so that the WAL
  // can start again from its beginning. Answers whether every frame it saw is copied.
  if (msg.checkpoint) {
    let complete = false;
    try {
      for (let pass = 0; pass < msg.checkpoint && !complete; pass++) {
        const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
        complete = !r || r.checkpointed >= r.log;
      }
    } catch {}
    parentPort.postMessage({ checkpoint: complete });
    return;
  }
  let error;
  try { commit.immediate(msg.ops); } catch (e) { error = String((e && e.message) || e); }
  // Read by a main thread that waits synchronously (Atomics.wait) before a claim or close.
  Atomics.store(shared, 1, error === undefined ? 0 : 1);
  Atomics.store(shared, 0, msg.id);
  Atomics.notify(shared, 0);
  parentPort.postMessage({ id: msg.id, error });
});
`;

/**
 * One write of the writer thread: a row of the `unpaid` table (peer, direction, condition, amount in decimal, the
 * fulfillment in hex or null when not known), or an
 * accepted claim (peer, channel id in lower case, cumulative in decimal, signature, the `in` conditions it pays), or
 * our outgoing channel's state (peer, channel id, deposit and cumulative in decimal, the `out` conditions it paid).
 */
export type WriterOp =
  | ['u', string, string, string, string, string | null]
  | ['c', string, string, string, string, readonly string[]]
  | ['o', string, string, string, string, readonly string[]];

export interface WriterEvents {
  /** A batch committed (error undefined) or failed. */
  onDone(id: number, error: string | undefined): void;
  /** The thread stopped or could not start: what it held is not known to be written. */
  onDead(reason: string): void;
  /** A checkpoint asked by `checkpoint()` ran; `complete`: every WAL frame there was when it began is copied. */
  onCheckpoint?(complete: boolean): void;
}

export class UnpaidWriter {
  private readonly worker: Worker;
  /** [0]: id of the last batch finished; [1]: 1 if it failed. */
  private readonly shared = new Int32Array(new SharedArrayBuffer(8));
  private dead = false;
  private readonly exited: Promise<void>;

  constructor(path: string, events: WriterEvents) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = startEvalWorker(WRITER_SOURCE, {
      workerData: { path, sqlite, shared: this.shared.buffer },
    });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; error?: string } | { checkpoint: boolean }) => {
      if ('checkpoint' in m) events.onCheckpoint?.(m.checkpoint);
      else events.onDone(m.id, m.error);
    });
    const die = (reason: string) => {
      if (this.dead) return;
      this.dead = true;
      events.onDead(reason);
    };
    this.worker.on('error', (err) => die(err.message));
    this.exited = new Promise<void>((resolve) =>
      this.worker.once('exit', (code) => {
        die(`exit ${code}`);
        resolve();
      }),
    );
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Sends a batch; keeps the process alive until it is answered. */
  write(id: number, ops: WriterOp[]): void {
    this.worker.ref();
    this.worker.postMessage({ id, ops });
  }

  /** Asks the thread for up to `passes` PASSIVE checkpoints (after commits made on the main thread), behind its batches. */
  checkpoint(passes: number): void {
    if (!this.dead) this.worker.postMessage({ checkpoint: passes });
  }

  idle(): void {
    this.worker.unref();
  }

  /**
   * Blocks this thread until batch `id` is finished (a claim or close must not pass a commit on its way).
   * Returns whether it committed; undefined if it did not finish within `timeoutMs` or the thread is dead.
   */
  waitFor(id: number, timeoutMs = 10_000): boolean | undefined {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(this.shared, 0);
      if (done >= id) return Atomics.load(this.shared, 1) === 0; // one batch in flight at a time: done === id
      if (this.dead) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      Atomics.wait(this.shared, 0, done, Math.min(left, 50));
    }
  }

  /**
   * Closes the thread's connection to the file; resolves once the thread has ended (its file descriptors are closed).
   * A thread that does not end within 5 s (stuck in an fsync) is terminated.
   */
  async close(): Promise<void> {
    if (!this.dead) {
      this.dead = true;
      this.worker.postMessage({ close: true });
    }
    this.worker.ref(); // until it has ended: an awaited close() must finish
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    timer.unref();
    await this.exited;
    clearTimeout(timer);
  }

  /** Resolves once the thread has ended (after close(), or when it died). */
  closed(): Promise<void> {
    return this.exited;
  }
}
