import Database from 'better-sqlite3';
import type { Filter, NostrEvent } from '../nostr/types.js';
import { mark, tracing } from '../transport/trace.js';
import { StoreError } from './errors.js';
import { InlineCheckpoints } from './inline-checkpoints.js';
import { isEphemeral } from './kinds.js';
import { queryFilters } from './query-filters.js';
import { SCHEMA } from './schema.js';
import { filterToSelect, filterToWhere, visibleWhere } from './sql-filter.js';
import { createEventSaver, type EventSaver } from './sqlite-save.js';
import { EventWriter } from './sqlite-writer.js';
import type { WireError, WireResult } from './sqlite-writer-worker.js';
import type { CountOptions, EventStore, QueryOptions, SaveOutcome } from './types.js';

export interface SqliteStoreOptions {
  /** Database file, or ':memory:' for a throwaway store. */
  path: string;
  /** Limit for filters without one, and the cap on larger limits. Default 500. */
  maxLimit?: number;
  /**
   * Commit on a writer thread with its own connection (the node turns it on): the main thread does not block on the
   * transaction and its fsync, and the saves made while one batch commits form the next one. Ignored for ':memory:'.
   */
  writerThread?: boolean;
  /**
   * With `writerThread`: asked when a save comes alone to an idle writer thread; true commits it on this thread
   * instead (same transaction, same fsync before it resolves), without the two thread hand-offs, which cost more
   * than the commit when nothing else is waiting. The node answers true while at most one packet is in its
   * connector (a payer 1 in flight); under load the saves keep going to the writer thread, group-committed.
   */
  commitInline?: () => boolean;
}

const DEFAULT_MAX_LIMIT = 500;
/** Commits made on this thread (commitInline) between two checkpoints: about 10 WAL frames per lone event. */
const INLINE_COMMITS_PER_CHECKPOINT = 64;

interface PendingSave {
  event: NostrEvent;
  resolve: (outcome: SaveOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * EventStore on SQLite (better-sqlite3). With WAL and `synchronous = FULL` a commit survives a crash of the process
 * or the machine. Group commit: saves made while a commit is being prepared (or, with `writerThread`, while the
 * previous batch is being committed) are written together in one transaction (one fsync); each `save` resolves only
 * after that commit.
 */
export class SqliteEventStore implements EventStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly maxLimit: number;
  private closed = false;
  private readonly selectById: Database.Statement;
  private readonly saver: EventSaver;
  private readonly writer: EventWriter | undefined;
  private queue: PendingSave[] = [];
  private flushScheduled = false;
  /** The batch the writer thread is committing (one at a time). */
  private inFlight: { id: number; batch: PendingSave[] } | undefined;
  private nextBatchId = 1;
  private drained: (() => void) | undefined;
  private readonly commitInline: (() => boolean) | undefined;
  /** Checkpoints of what this thread commits (inline-checkpoints.ts). */
  private readonly checkpoints = new InlineCheckpoints(
    INLINE_COMMITS_PER_CHECKPOINT,
    (passes) => this.writer?.checkpoint(passes),
    'relay.db',
  );
  private inline = 0;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.maxLimit = options.maxLimit ?? DEFAULT_MAX_LIMIT;
    try {
      this.db = new Database(options.path);
      this.db.pragma('journal_mode = WAL');
      // FULL: the WAL is fsynced at every commit, so an acknowledged write survives power loss, not only a crash.
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw new StoreError(
        'STORE_OPEN_FAILED',
        `could not open the SQLite event store at ${options.path}: ${(err as Error).message}; check the path exists and is writable`,
        { cause: err },
      );
    }
    this.selectById = this.db.prepare('SELECT raw FROM events WHERE id = ?');
    this.saver = createEventSaver(this.db);
    if (options.writerThread && options.path !== ':memory:' && options.path !== '') {
      this.commitInline = options.commitInline;
      // This connection's commits (commitInline) never checkpoint: the writer thread does, off the packet's path.
      this.db.pragma('wal_autocheckpoint = 0');
      this.writer = new EventWriter(options.path, {
        onDone: (id, results, failed) => this.batchDone(id, results, failed),
        // `complete` counts the frames there were when the pass began: commits made here meanwhile are not in it.
        onCheckpoint: (complete) => this.checkpoints.passDone(complete),
        // The batch it held may or may not be on disk: refused (the node carries the loss of a write that is stored
        // but unanswered, never the payer). Later saves commit on this thread.
        onDead: (reason) => {
          const lost = this.inFlight?.batch ?? [];
          this.inFlight = undefined;
          this.checkpoints.reset();
          const err = new Error(
            `the event store writer thread for ${this.path} stopped (${reason}); later writes commit on the main thread`,
          );
          for (const item of lost) item.reject(err);
          if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000'); // this connection checkpoints from now on
          this.scheduleFlush();
          this.drained?.();
        },
      });
    }
  }

  /** Batches committed on this thread although a writer thread runs (commitInline said the process was idle). */
  get ranInline(): number {
    return this.inline;
  }

  /** Resolves once the writer thread (if any) has opened the file. */
  ready(): Promise<void> {
    return this.writer?.ready ?? Promise.resolve();
  }

  save(event: NostrEvent): Promise<SaveOutcome> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    if (isEphemeral(event.kind)) return Promise.resolve({ status: 'ephemeral' });
    return new Promise<SaveOutcome>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.inFlight) this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate, not a microtask: saves issued by other I/O callbacks of this loop turn join the batch.
    setImmediate(() => this.flush());
  }

  /** Writes every queued save in one transaction; resolves each only once the commit (and its fsync) is done. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.inFlight) return; // batchDone sends the queue when the commit in progress returns
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const inline = batch.length === 1 && !this.checkpoints.toWriter && this.db.open && this.commitInline?.();
    if (this.writer?.alive && !inline) {
      const id = this.nextBatchId++;
      this.inFlight = { id, batch };
      if (tracing) mark(`relay.db commit start ${batch.length} events`);
      this.writer.write(
        id,
        batch.map((item) => item.event),
      );
      return;
    }
    this.commitHere(batch);
  }

  /** Commits a batch on this thread (no writer thread, or a lone save on an idle node). */
  private commitHere(batch: PendingSave[]): void {
    if (!this.db.open) {
      const err = this.closedError();
      for (const item of batch) item.reject(err);
      return;
    }
    if (tracing) mark(`relay.db commit inline ${batch.length} events`);
    let results: (SaveOutcome | Error)[];
    try {
      results = this.saver.saveBatch(batch.map((item) => item.event));
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    if (tracing) mark('relay.db commit done');
    if (this.writer?.alive) {
      this.inline++;
      this.checkpoints.committed();
    }
    batch.forEach((item, i) => {
      const result = results[i]!;
      if (result instanceof Error) item.reject(result);
      else item.resolve(result);
    });
  }

  private batchDone(id: number, results: WireResult[] | undefined, failed: WireError | undefined): void {
    if (this.inFlight?.id !== id) return;
    if (tracing) mark('relay.db commit done');
    const { batch } = this.inFlight;
    this.inFlight = undefined;
    batch.forEach((item, i) => {
      const result = results?.[i];
      if (failed || !result)
        item.reject(errorOf(failed ?? { name: 'Error', message: 'no result from the writer' }));
      else if ('error' in result) item.reject(errorOf(result.error));
      else item.resolve(result);
    });
    // What queued up during that commit goes now, as the next group.
    if (this.queue.length > 0) this.flush();
    else this.writer?.idle();
    this.drained?.();
  }

  async query(filters: Filter[], options: QueryOptions = {}): Promise<NostrEvent[]> {
    this.assertOpen();
    const cap = Math.min(options.maxLimit ?? this.maxLimit, this.maxLimit);
    return queryFilters(filters, cap, (filter, limit) => {
      const select = filterToSelect(
        filter,
        limit,
        options.hiddenUnlessTagged ? visibleWhere(options.hiddenUnlessTagged) : undefined,
      );
      return this.db.prepare(select.sql).all(...select.params) as { raw: string }[];
    });
  }

  async count(filters: Filter[], options: CountOptions = {}): Promise<number> {
    this.assertOpen();
    if (filters.length === 0) return 0;
    if (options.max !== undefined) {
      // Bounded: each filter's newest `max` matches by the query plan (an index walk that stops), deduplicated.
      const hiddenWhere = options.hiddenUnlessTagged ? visibleWhere(options.hiddenUnlessTagged) : undefined;
      const seen = new Set<number>();
      for (const filter of filters) {
        const select = filterToSelect(filter, options.max, hiddenWhere);
        const sql = select.sql.replace(/^SELECT e\.raw /, 'SELECT e.seq ');
        for (const row of this.db.prepare(sql).all(...select.params) as { seq: number }[]) seen.add(row.seq);
      }
      return seen.size;
    }
    const wheres = filters.map((f) => filterToWhere(f));
    const hidden = options.hiddenUnlessTagged ? visibleWhere(options.hiddenUnlessTagged) : undefined;
    const any = wheres.map((w) => `(${w.sql})`).join(' OR ');
    const sql = `SELECT COUNT(*) AS n FROM events e WHERE (${any})${hidden ? ` AND ${hidden.sql}` : ''}`;
    const params = [...wheres.flatMap((w) => w.params), ...(hidden?.params ?? [])];
    const row = this.db.prepare(sql).get(...params) as { n: number };
    return row.n;
  }

  async get(id: string): Promise<NostrEvent | undefined> {
    this.assertOpen();
    const row = this.selectById.get(id) as { raw: string } | undefined;
    return row ? (JSON.parse(row.raw) as NostrEvent) : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Saves already accepted are written before the database closes.
    while (this.inFlight || this.queue.length > 0) {
      if (!this.inFlight) {
        this.flush(); // commits here, or hands the queue to the writer thread
        continue;
      }
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
      this.drained = undefined;
    }
    await this.writer?.close();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): StoreError {
    return new StoreError(
      'STORE_CLOSED',
      `the event store at ${this.path} is closed; open a new SqliteEventStore`,
    );
  }
}

/** Opens (creating if needed) a SQLite event store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteEventStore> {
  const store = new SqliteEventStore(options);
  await store.ready();
  return store;
}

/** An error from the writer thread as an Error of this thread, its SQLite code kept. */
function errorOf(w: WireError): Error {
  const err = new Error(w.message) as Error & { code?: string };
  err.name = w.name;
  if (w.code !== undefined) err.code = w.code;
  return err;
}
