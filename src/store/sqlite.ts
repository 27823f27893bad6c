import Database from 'better-sqlite3';
import type { Filter, NostrEvent } from '../nostr/types.js';
import { StoreError } from './errors.js';
import { isEphemeral, isIndexedTagName, newestFirst, replaceKeyOf, supersedes } from './kinds.js';
import { SCHEMA } from './schema.js';
import { filterToSelect, filterToWhere } from './sql-filter.js';
import type { EventStore, QueryOptions, SaveOutcome } from './types.js';

export interface SqliteStoreOptions {
  /** Database file, or ':memory:' for a throwaway store. */
  path: string;
  /** Limit for filters without one, and the cap on larger limits. Default 500. */
  maxLimit?: number;
}

const DEFAULT_MAX_LIMIT = 500;

/**
 * EventStore on SQLite (better-sqlite3). better-sqlite3 is synchronous, so when `save` resolves the transaction
 * has committed; with WAL and `synchronous = FULL` that commit survives a crash of the process or the machine.
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
    this.saveTx = this.db.transaction((event: NostrEvent) => this.saveSync(event));
  }

  async save(event: NostrEvent): Promise<SaveOutcome> {
    this.assertOpen();
    if (isEphemeral(event.kind)) return { status: 'ephemeral' };
    return this.saveTx.immediate(event);
  }

  async query(filters: Filter[], options: QueryOptions = {}): Promise<NostrEvent[]> {
    this.assertOpen();
    const cap = Math.min(options.maxLimit ?? this.maxLimit, this.maxLimit);
    const byId = new Map<string, NostrEvent>();
    for (const filter of filters) {
      const limit = Math.min(filter.limit ?? cap, cap);
      if (limit <= 0) continue;
      const select = filterToSelect(filter, limit);
      const rows = this.db.prepare(select.sql).all(...select.params) as { raw: string }[];
      for (const row of rows) {
        const event = JSON.parse(row.raw) as NostrEvent;
        byId.set(event.id, event);
      }
    }
    return [...byId.values()].sort(newestFirst);
  }

  async count(filters: Filter[]): Promise<number> {
    this.assertOpen();
    if (filters.length === 0) return 0;
    const wheres = filters.map((f) => filterToWhere(f));
    const sql = `SELECT COUNT(*) AS n FROM events e WHERE ${wheres.map((w) => `(${w.sql})`).join(' OR ')}`;
    const row = this.db.prepare(sql).get(...wheres.flatMap((w) => w.params)) as { n: number };
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
    this.db.close();
  }

  private saveSync(event: NostrEvent): SaveOutcome {
    if (this.selectById.get(event.id)) return { status: 'duplicate' };
    const replaceKey = replaceKeyOf(event);
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
    return { status: 'stored', replaced };
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new StoreError(
        'STORE_CLOSED',
        `the event store at ${this.path} is closed; open a new SqliteEventStore`,
      );
    }
  }
}

/** Opens (creating if needed) a SQLite event store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteEventStore> {
  return new SqliteEventStore(options);
}
