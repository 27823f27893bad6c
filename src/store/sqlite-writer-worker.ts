// The writer thread of a SqliteEventStore: its own connection to the file, one transaction (one fsync) per batch the
// main thread sends. Answers each batch with an outcome (or error) per event, or with the commit's failure.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createEventSaver } from './sqlite-save.js';
import type { SaveOutcome } from './types.js';

export type WireError = { name: string; message: string; code?: string };
export type WireResult = SaveOutcome | { error: WireError };
export type WriterReply =
  | { ready: true }
  | { ready: false; error: WireError }
  | { id: number; results: WireResult[] }
  | { id: number; failed: WireError }
  /** A checkpoint was run; `complete`: every WAL frame is in the database file now. */
  | { checkpoint: boolean };

const wire = (err: unknown): WireError => {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) };
};

const port = parentPort!;
let saver: ReturnType<typeof createEventSaver>;
let db: Database.Database;
try {
  db = new Database((workerData as { path: string }).path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL'); // an acknowledged write survives power loss
  db.pragma('busy_timeout = 5000');
  saver = createEventSaver(db);
  port.postMessage({ ready: true } satisfies WriterReply);
} catch (err) {
  port.postMessage({ ready: false, error: wire(err) } satisfies WriterReply);
  port.close();
}

/**
 * Copies the frames the main thread committed into the database file while it goes on (PASSIVE never waits for a
 * reader or a writer). `passes` > 1 when the main thread holds its commits back (they come here behind this
 * message): then the last pass finds nothing new and the WAL can start again from its beginning. Returns whether every
 * frame is copied; an error (busy, I/O) leaves the rest to the next request.
 */
function checkpoint(passes: number): boolean {
  try {
    for (let pass = 0; pass < passes; pass++) {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)') as {
        busy: number;
        log: number;
        checkpointed: number;
      }[];
      if (!r || r.checkpointed >= r.log) return true;
    }
  } catch {
    // the next request tries again; this thread's own commits still autocheckpoint
  }
  return false;
}

port.on('message', (msg: { close: true } | { checkpoint: number } | { id: number; events: never[] }) => {
  if ('close' in msg) {
    db.close();
    port.close();
    return;
  }
  if ('checkpoint' in msg) {
    port.postMessage({ checkpoint: checkpoint(msg.checkpoint) } satisfies WriterReply);
    return;
  }
  let reply: WriterReply;
  try {
    const results = saver.saveBatch(msg.events);
    reply = { id: msg.id, results: results.map((r) => (r instanceof Error ? { error: wire(r) } : r)) };
  } catch (err) {
    reply = { id: msg.id, failed: wire(err) };
  }
  port.postMessage(reply);
});
