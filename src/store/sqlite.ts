import Database from 'better-sqlite3';
import type { Filter, NostrEvent } from '../nostr/types.js';
import { StoreError } from './errors.js';
import {
  isAddressable,
  isEphemeral,
  isIndexedTagName,
  isReplaceable,
  replaceKeyOf,
  supersedes,
} from './kinds.js';
import { queryFilters } from './query-filters.js';
import { SCHEMA } from './schema.js';
import { filterToSelect, filterToWhere, visibleWhere } from './sql-filter.js';
import type { EventStore, QueryOptions, SaveOutcome } from './types.js';

export interface SqliteStoreOptions {
  /** Database file, or ':memory:' for a throwaway store. */
  path: string;
  /** Limit for filters without one, and the cap on larger limits. Default 500. */
  maxLimit?: number;
}

const DEFAULT_MAX_LIMIT = 500;
const KIND_DELETION = 5;

interface PendingSave {
  event: NostrEvent;
  resolve: (outcome: SaveOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * EventStore on SQLite (better-sqlite3). With WAL and `synchronous = FULL` a commit survives a crash of the process
 * or the machine. Group commit: saves made while a commit is being prepared wait for the next turn of the event
 * loop and are written together in one transaction (one fsync); each `save` resolves only after that commit.
 */
export class SqliteEventStore implements EventStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly maxLimit: number;
  private closed = false;
  private readonly insertEvent: Database.Statement;
  private readonly insertTag: Database.Statement;
  private readonly selectById: Database.Statement;
  private readonly selectByReplaceKey: Database.Statement;
  private readonly deleteEvent: Database.Statement;
  private readonly deleteTags: Database.Statement;
  private readonly saveTx: Database.Transaction<(event: NostrEvent) => SaveOutcome>;
  private readonly commitBatch: Database.Transaction<(batch: PendingSave[]) => (SaveOutcome | Error)[]>;
  private readonly selectTombstone: Database.Statement;
  private readonly insertTombstone: Database.Statement;
  private readonly selectMeta: Database.Statement;
  private readonly selectAddressVersions: Database.Statement;
  private queue: PendingSave[] = [];
  private flushScheduled = false;

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
    this.insertEvent = this.db.prepare(
      'INSERT INTO events (id, pubkey, created_at, kind, replace_key, raw) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertTag = this.db.prepare(
      'INSERT OR IGNORE INTO tags (event_seq, name, value, created_at) VALUES (?, ?, ?, ?)',
    );
    this.selectById = this.db.prepare('SELECT raw FROM events WHERE id = ?');
    this.selectByReplaceKey = this.db.prepare('SELECT seq, id, created_at FROM events WHERE replace_key = ?');
    this.deleteEvent = this.db.prepare('DELETE FROM events WHERE seq = ?');
    this.deleteTags = this.db.prepare('DELETE FROM tags WHERE event_seq = ?');
    this.selectTombstone = this.db.prepare(
      'SELECT created_at FROM deletions WHERE target = ? AND pubkey = ?',
    );
    this.insertTombstone = this.db.prepare(
      'INSERT INTO deletions (target, pubkey, created_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (target, pubkey) DO UPDATE SET created_at = max(created_at, excluded.created_at)',
    );
    this.selectMeta = this.db.prepare('SELECT seq, pubkey, kind FROM events WHERE id = ?');
    this.selectAddressVersions = this.db.prepare(
      'SELECT seq, id FROM events WHERE replace_key = ? AND pubkey = ? AND created_at <= ?',
    );
    // Nested inside commitBatch, each event runs in its own SAVEPOINT: one failing event does not undo the others.
    this.saveTx = this.db.transaction((event: NostrEvent) => this.saveSync(event));
    this.commitBatch = this.db.transaction((batch: PendingSave[]) =>
      batch.map(({ event }) => {
        try {
          return this.saveTx(event);
        } catch (err) {
          return err instanceof Error ? err : new Error(String(err));
        }
      }),
    );
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
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate, not a microtask: saves issued by other I/O callbacks of this loop turn join the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Writes every queued save in one transaction; resolves each only once the commit (and its fsync) is done. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (this.closed) {
      const err = this.closedError();
      for (const item of batch) item.reject(err);
      return;
    }
    let results: (SaveOutcome | Error)[];
    try {
      results = this.commitBatch.immediate(batch);
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const result = results[i]!;
      if (result instanceof Error) item.reject(result);
      else item.resolve(result);
    });
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

  async count(filters: Filter[], options: Pick<QueryOptions, 'hiddenUnlessTagged'> = {}): Promise<number> {
    this.assertOpen();
    if (filters.length === 0) return 0;
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
    this.flush(); // saves already accepted are written before the database closes
    this.closed = true;
    this.db.close();
  }

  private saveSync(event: NostrEvent): SaveOutcome {
    if (this.selectById.get(event.id)) return { status: 'duplicate' };
    const replaceKey = replaceKeyOf(event);
    if (event.kind !== KIND_DELETION && this.isDeleted(event, replaceKey)) return { status: 'deleted' };
    const replaced: string[] = [];
    if (replaceKey !== undefined) {
      const current = this.selectByReplaceKey.get(replaceKey) as
        | { seq: number; id: string; created_at: number }
        | undefined;
      if (current) {
        if (!supersedes(event, current)) return { status: 'stale', newerId: current.id };
        this.deleteTags.run(current.seq);
        this.deleteEvent.run(current.seq);
        replaced.push(current.id);
      }
    }
    const { lastInsertRowid } = this.insertEvent.run(
      event.id,
      event.pubkey,
      event.created_at,
      event.kind,
      replaceKey ?? null,
      JSON.stringify(event),
    );
    for (const tag of event.tags) {
      const [name, value] = tag;
      if (isIndexedTagName(name) && typeof value === 'string') {
        this.insertTag.run(lastInsertRowid, name, value, event.created_at);
      }
    }
    if (event.kind === KIND_DELETION)
      return { status: 'stored', replaced, deleted: this.applyDeletion(event) };
    return { status: 'stored', replaced };
  }

  /** True when the author asked (NIP-09) to delete this id, or this address up to this event's created_at. */
  private isDeleted(event: NostrEvent, replaceKey: string | undefined): boolean {
    if (this.selectTombstone.get(event.id, event.pubkey)) return true;
    if (replaceKey === undefined) return false;
    const row = this.selectTombstone.get(replaceKey, event.pubkey) as { created_at: number } | undefined;
    return row !== undefined && event.created_at <= row.created_at;
  }

  /**
   * NIP-09: removes the stored events a kind 5 names (`e`: ids, `a`: addresses, versions up to the request's
   * created_at), only the requester's own and never another deletion request, and remembers the request so the
   * events cannot be stored again. Returns the removed ids.
   */
  private applyDeletion(request: NostrEvent): string[] {
    const removed: string[] = [];
    const remove = (seq: number, id: string) => {
      this.deleteTags.run(seq);
      this.deleteEvent.run(seq);
      removed.push(id);
    };
    for (const [name, value] of request.tags) {
      if (name === 'e' && value && /^[0-9a-f]{64}$/.test(value)) {
        this.insertTombstone.run(value, request.pubkey, request.created_at);
        const row = this.selectMeta.get(value) as { seq: number; pubkey: string; kind: number } | undefined;
        if (row && row.pubkey === request.pubkey && row.kind !== KIND_DELETION) remove(row.seq, value);
      } else if (name === 'a' && value) {
        const key = addressKey(value);
        if (key === undefined || key.pubkey !== request.pubkey) continue;
        this.insertTombstone.run(key.replaceKey, request.pubkey, request.created_at);
        const rows = this.selectAddressVersions.all(key.replaceKey, request.pubkey, request.created_at) as {
          seq: number;
          id: string;
        }[];
        for (const row of rows) remove(row.seq, row.id);
      }
    }
    return removed;
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

/** Parses a NIP-09 `a` value `kind:pubkey:d` into the store's replace key; undefined when it names no slot. */
function addressKey(value: string): { pubkey: string; replaceKey: string } | undefined {
  const match = /^(\d{1,5}):([0-9a-f]{64}):?(.*)$/s.exec(value);
  if (!match) return undefined;
  const kind = Number(match[1]);
  const pubkey = match[2]!;
  if (isReplaceable(kind)) return { pubkey, replaceKey: `${kind}:${pubkey}` };
  if (isAddressable(kind)) return { pubkey, replaceKey: `${kind}:${pubkey}:${match[3] ?? ''}` };
  return undefined;
}

/** Opens (creating if needed) a SQLite event store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteEventStore> {
  return new SqliteEventStore(options);
}
