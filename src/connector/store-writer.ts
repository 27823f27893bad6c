// The writer thread of SqliteConnectorStore: commits the fulfilled-unpaid packets on its own connection to
// connector.db, one transaction (and one fsync) per batch. With the fsync off the main thread the connector keeps
// moving packets while a commit is on its way to the disk: the next batch fills meanwhile (group commit, pipelined).
// Plain JavaScript from a string (starts the same under tsx, vitest and node); better-sqlite3 is passed by path.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare('INSERT INTO unpaid (peer, direction, condition, amount) VALUES (?, ?, ?, ?)');
const commit = db.transaction((rows) => { for (const r of rows) insert.run(r[0], r[1], r[2], r[3]); });
const shared = new Int32Array(workerData.shared);
parentPort.on('message', (msg) => {
  if (msg.close) { db.close(); parentPort.close(); return; }
  let error;
  try { commit.immediate(msg.rows); } catch (e) { error = String((e && e.message) || e); }
  // Read by a main thread that waits synchronously (Atomics.wait) before a claim or close.
  Atomics.store(shared, 1, error === undefined ? 0 : 1);
  Atomics.store(shared, 0, msg.id);
  Atomics.notify(shared, 0);
  parentPort.postMessage({ id: msg.id, error });
});
`;

/** A row of the `unpaid` table: peer, direction, condition, amount (decimal). */
export type UnpaidRow = [string, string, string, string];

export interface WriterEvents {
  /** A batch committed (error undefined) or failed. */
  onDone(id: number, error: string | undefined): void;
  /** The thread stopped or could not start: what it held is not known to be written. */
  onDead(reason: string): void;
}

export class UnpaidWriter {
  private readonly worker: Worker;
  /** [0]: id of the last batch finished; [1]: 1 if it failed. */
  private readonly shared = new Int32Array(new SharedArrayBuffer(8));
  private dead = false;

  constructor(path: string, events: WriterEvents) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: { path, sqlite, shared: this.shared.buffer },
    });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; error?: string }) => events.onDone(m.id, m.error));
    const die = (reason: string) => {
      if (this.dead) return;
      this.dead = true;
      events.onDead(reason);
    };
    this.worker.on('error', (err) => die(err.message));
    this.worker.on('exit', (code) => die(`exit ${code}`));
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Sends a batch; keeps the process alive until it is answered. */
  write(id: number, rows: UnpaidRow[]): void {
    this.worker.ref();
    this.worker.postMessage({ id, rows });
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

  close(): void {
    if (this.dead) return;
    this.dead = true;
    this.worker.postMessage({ close: true });
    this.worker.unref();
  }
}
