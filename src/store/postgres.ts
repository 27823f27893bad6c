import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Filter, NostrEvent } from '../nostr/types.js';
import { StoreError } from './errors.js';
import { isEphemeral, isIndexedTagName, newestFirst, replaceKeyOf, supersedes } from './kinds.js';
import { filterToPgSelect, filterToPgWhere } from './postgres-filter.js';
import { migrate } from './postgres-schema.js';
import type { EventStore, QueryOptions, SaveOutcome } from './types.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (anything `pg` accepts). */
  url: string;
  /** Limit for filters without one, and the cap on larger limits. Default 500. */
  maxLimit?: number;
  /** Connections in the pool. Default 10. A live feed on the same pool holds one of them for LISTEN. */
  poolSize?: number;
  /** Written to the live feed with every event this store saves, so a process can skip its own events. Default: unique per store. */
  origin?: string;
  /** Write each saved (and ephemeral) event to the live feed table and NOTIFY. Default true. */
  liveFeed?: boolean;
  /** Feed rows older than this are pruned (at open and every few minutes). Default 3600 s. */
  feedRetentionSeconds?: number;
}

const DEFAULT_MAX_LIMIT = 500;
/** The NOTIFY channel the live feed listens on. Channels are per database, like the tables. */
export const FEED_CHANNEL = 'crosstown_feed';
const PRUNE_EVERY_MS = 5 * 60_000;

/**
 * EventStore on PostgreSQL, with the semantics of the SQLite store (test/store/conformance.ts is the contract).
 * `save` resolves after COMMIT returns; with PostgreSQL's default `synchronous_commit = on` the commit is on disk.
 * Several processes can share one database: replaceable slots are serialized by a per-slot advisory lock, and every
 * committed event is written to `event_feed` so the others learn of it (live-feed.ts).
 */
export class PostgresEventStore implements EventStore {
  readonly pool: pg.Pool;
  readonly origin: string;
  private readonly url: string;
  private readonly maxLimit: number;
  private readonly liveFeed: boolean;
  private readonly retentionSeconds: number;
  private pruneTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** Use `openPostgresStore`, which also migrates the schema. */
  constructor(options: PostgresStoreOptions) {
    this.url = redactUrl(options.url);
    this.maxLimit = options.maxLimit ?? DEFAULT_MAX_LIMIT;
    this.origin = options.origin ?? `${hostname()}:${process.pid}:${randomUUID()}`;
    this.liveFeed = options.liveFeed ?? true;
    this.retentionSeconds = options.feedRetentionSeconds ?? 3600;
    this.pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    // An idle connection that dies (server restart) emits 'error' on the pool; without a listener it would crash
    // the process. The pool drops it and opens a new one on the next query.
    this.pool.on('error', () => {});
  }

  /** Runs migrations and starts pruning the feed table. */
  async open(): Promise<void> {
    try {
      await migrate(this.pool);
    } catch (err) {
      await this.pool.end().catch(() => {});
      if (err instanceof StoreError) throw err;
      throw new StoreError(
        'STORE_OPEN_FAILED',
        `could not open the PostgreSQL event store at ${this.url}: ${(err as Error).message}; check the server is running and the URL (user, password, database) is right`,
        { cause: err },
      );
    }
    if (this.liveFeed) {
      await this.pruneFeed();
      this.pruneTimer = setInterval(() => void this.pruneFeed().catch(() => {}), PRUNE_EVERY_MS);
      this.pruneTimer.unref();
    }
  }

  async save(event: NostrEvent): Promise<SaveOutcome> {
    this.assertOpen();
    if (isEphemeral(event.kind)) {
      if (this.liveFeed) await this.publishEphemeral(event);
      return { status: 'ephemeral' };
    }
    const raw = JSON.stringify(event);
    const replaceKey = replaceKeyOf(event);
    if (replaceKey === undefined) {
      // A regular event replaces nothing: one statement, its own transaction, committed when it returns.
      const { rows } = await this.pool.query<{ seq: string }>(
        this.insertSql(),
        this.insertParams(event, raw, null),
      );
      return rows.length > 0 ? { status: 'stored', replaced: [] } : { status: 'duplicate' };
    }
    return this.saveReplaceable(event, raw, replaceKey);
  }

  async query(filters: Filter[], options: QueryOptions = {}): Promise<NostrEvent[]> {
    this.assertOpen();
    const cap = Math.min(options.maxLimit ?? this.maxLimit, this.maxLimit);
    const byId = new Map<string, NostrEvent>();
    for (const filter of filters) {
      const limit = Math.min(filter.limit ?? cap, cap);
      if (limit <= 0) continue;
      const select = filterToPgSelect(filter, limit);
      const { rows } = await this.pool.query<{ raw: string }>(select.sql, select.params);
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
    const params: unknown[] = [];
    const wheres = filters.map((f) => {
      const where = filterToPgWhere(f, params.length);
      params.push(...where.params);
      return `(${where.sql})`;
    });
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM events e WHERE ${wheres.join(' OR ')}`,
      params,
    );
    return Number(rows[0]!.n);
  }

  async get(id: string): Promise<NostrEvent | undefined> {
    this.assertOpen();
    if (id.includes('\u0000')) return undefined;
    const { rows } = await this.pool.query<{ raw: string }>('SELECT raw FROM events WHERE id = $1', [id]);
    return rows[0] ? (JSON.parse(rows[0].raw) as NostrEvent) : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pruneTimer);
    await this.pool.end();
  }

  /** Deletes feed rows older than the retention. A feed stopped for longer than that misses them. */
  async pruneFeed(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM event_feed WHERE created < now() - make_interval(secs => $1)`,
      [this.retentionSeconds],
    );
    return rowCount ?? 0;
  }

  /**
   * A replaceable/addressable save: lock the slot (a transaction advisory lock on its key, so a concurrent saver of
   * the same slot in any process waits here, even when the slot is still empty), then compare with the holder,
   * replace or refuse, and commit.
   */
  private async saveReplaceable(event: NostrEvent, raw: string, replaceKey: string): Promise<SaveOutcome> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [replaceKey]);
        const dup = await client.query('SELECT 1 FROM events WHERE id = $1', [event.id]);
        if (dup.rows.length > 0) {
          await client.query('ROLLBACK');
          return { status: 'duplicate' };
        }
        const { rows } = await client.query<{ seq: string; id: string; created_at: string }>(
          'SELECT seq, id, created_at FROM events WHERE replace_key = $1',
          [replaceKey],
        );
        const current = rows[0];
        const replaced: string[] = [];
        if (current) {
          if (!supersedes(event, { id: current.id, created_at: Number(current.created_at) })) {
            await client.query('ROLLBACK');
            return { status: 'stale', newerId: current.id };
          }
          // Tags go with it (ON DELETE CASCADE).
          await client.query('DELETE FROM events WHERE seq = $1', [current.seq]);
          replaced.push(current.id);
        }
        const inserted = await client.query(this.insertSql(), this.insertParams(event, raw, replaceKey));
        await client.query('COMMIT');
        // No row: another process stored this very id between our check and our insert.
        return inserted.rows.length > 0 ? { status: 'stored', replaced } : { status: 'duplicate' };
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw err;
      }
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: destroy it rather than return it to the pool.
      client.release(broken);
    }
  }

  /**
   * One statement that inserts the event (nothing if the id exists), its single-letter tags and, when the live feed
   * is on, the feed row plus a NOTIFY (delivered at commit). It returns a row only when the event was inserted.
   */
  private insertSql(): string {
    const feed = this.liveFeed
      ? `, feed AS (INSERT INTO event_feed (origin, ephemeral, raw) SELECT $9, false, $6 FROM ins)
         SELECT ins.seq, pg_notify('${FEED_CHANNEL}', '') FROM ins`
      : ' SELECT ins.seq FROM ins';
    return `WITH ins AS (
        INSERT INTO events (id, pubkey, created_at, kind, replace_key, raw) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (id) DO NOTHING RETURNING seq
      ), tag AS (
        INSERT INTO tags (event_seq, name, value, created_at)
        SELECT ins.seq, t.name, t.value, $3 FROM ins, unnest($7::text[], $8::text[]) AS t(name, value)
        ON CONFLICT DO NOTHING
      )${feed}`;
  }

  private insertParams(event: NostrEvent, raw: string, replaceKey: string | null): unknown[] {
    const names: string[] = [];
    const values: string[] = [];
    for (const [name, value] of event.tags) {
      // PostgreSQL text cannot hold U+0000: such a value is not indexed (and no filter value can match it).
      if (isIndexedTagName(name) && typeof value === 'string' && !value.includes('\u0000')) {
        names.push(name);
        values.push(value);
      }
    }
    const params: unknown[] = [
      event.id,
      event.pubkey,
      event.created_at,
      event.kind,
      replaceKey,
      raw,
      names,
      values,
    ];
    if (this.liveFeed) params.push(this.origin);
    return params;
  }

  /**
   * Ephemeral events are never stored, but other processes must deliver them too: they go to the feed table only.
   * `synchronous_commit = off`: an ephemeral event is best-effort by definition, so it need not wait for the disk.
   */
  private async publishEphemeral(event: NostrEvent): Promise<void> {
    await this.pool.query(
      `WITH feed AS (INSERT INTO event_feed (origin, ephemeral, raw) VALUES ($1, true, $2) RETURNING seq)
       SELECT set_config('synchronous_commit', 'off', true), pg_notify('${FEED_CHANNEL}', '') FROM feed`,
      [this.origin, JSON.stringify(event)],
    );
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new StoreError(
        'STORE_CLOSED',
        `the PostgreSQL event store at ${this.url} is closed; open a new one with openPostgresStore`,
      );
    }
  }
}

/** Opens a PostgreSQL event store: connects, migrates the schema (under an advisory lock) and returns it. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresEventStore> {
  const store = new PostgresEventStore(options);
  await store.open();
  return store;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable database URL>';
  }
}
