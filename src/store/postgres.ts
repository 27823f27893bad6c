import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Filter, NostrEvent } from '../nostr/types.js';
import { StoreError } from './errors.js';
import { addressKey, isEphemeral, isIndexedTagName, replaceKeyOf, supersedes } from './kinds.js';
import { filterToPgSelect, filterToPgWhere, pgVisibleWhere } from './postgres-filter.js';
import { migrate } from './postgres-schema.js';
import { queryFilters } from './query-filters.js';
import type { CountOptions, EventStore, QueryOptions, SaveOutcome } from './types.js';

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
const KIND_DELETION = 5;
/** Most saves written in one transaction: bounds how long one batch holds its locks. */
const MAX_BATCH = 500;

interface PendingSave {
  event: NostrEvent;
  resolve: (outcome: SaveOutcome) => void;
  reject: (err: unknown) => void;
}
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
  private queue: PendingSave[] = [];
  private drainScheduled = false;
  private writing = false;

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

  save(event: NostrEvent): Promise<SaveOutcome> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    if (isEphemeral(event.kind)) {
      return this.liveFeed
        ? this.publishEphemeral(event).then(() => ({ status: 'ephemeral' }))
        : Promise.resolve({ status: 'ephemeral' });
    }
    return new Promise<SaveOutcome>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        // setImmediate, not a microtask: saves issued by other I/O callbacks of this loop turn join the batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  /**
   * Group commit: the saves queued while the previous batch was being written go out together, in one transaction
   * on one connection, in the order they were made (so `save(newer)` then `save(older)` of one slot gives `stale`).
   * One batch at a time per store; each `save` resolves after its batch's COMMIT.
   */
  private async drain(): Promise<void> {
    this.drainScheduled = false;
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        await this.writeBatch(batch);
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeBatch(batch: PendingSave[]): Promise<void> {
    try {
      const outcomes = await this.transaction((client) =>
        this.applyBatch(
          client,
          batch.map((b) => b.event),
        ),
      );
      for (const [i, item] of batch.entries()) item.resolve(outcomes[i]!);
      return;
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(this.writeError(err));
        return;
      }
    }
    // Something in the batch failed and rolled it all back: write each save on its own so only the culprit fails.
    for (const item of batch) {
      try {
        const [outcome] = await this.transaction((client) => this.applyBatch(client, [item.event]));
        item.resolve(outcome!);
      } catch (err) {
        item.reject(this.writeError(err));
      }
    }
  }

  private writeError(err: unknown): Error {
    return err instanceof Error ? err : new Error(String(err));
  }

  /** Runs `work` in a transaction on one pooled connection; retries a deadlock or serialization failure. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        const code = (err as { code?: string }).code;
        if ((code === '40P01' || code === '40001') && attempt < 5) continue;
        throw err;
      } finally {
        // A connection whose ROLLBACK failed is in an unknown state: destroy it rather than return it to the pool.
        client.release(broken);
      }
    }
  }

  /**
   * The batch's saves, in order, inside the caller's transaction. First it takes a transaction advisory lock on
   * every key the batch touches (event ids, replaceable slots, NIP-09 targets), in one sorted order: a concurrent
   * batch of another process touching the same keys waits for our COMMIT (even when the slot is still empty, where
   * a row lock would have nothing to lock), and two batches cannot deadlock.
   */
  private async applyBatch(client: pg.PoolClient, events: NostrEvent[]): Promise<SaveOutcome[]> {
    const keys = new Set<string>();
    for (const event of events) {
      keys.add(event.id);
      const slot = replaceKeyOf(event);
      if (slot !== undefined) keys.add(slot);
      if (event.kind === KIND_DELETION) {
        const targets = deletionTargets(event);
        for (const id of targets.ids) keys.add(id);
        for (const key of targets.addresses) keys.add(key);
      }
    }
    await client.query(
      `SELECT count(pg_advisory_xact_lock(h)) FROM
         (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY h) AS sorted`,
      [[...keys]],
    );
    const outcomes: SaveOutcome[] = [];
    for (const event of events) outcomes.push(await this.saveOne(client, event));
    return outcomes;
  }

  /** One save under the batch's locks: the SQLite store's rules (duplicate, deleted, stale, replace, NIP-09). */
  private async saveOne(client: pg.PoolClient, event: NostrEvent): Promise<SaveOutcome> {
    const slot = replaceKeyOf(event) ?? null;
    const { rows } = await client.query<{
      dup: boolean;
      id_tomb: boolean;
      slot_tomb: string | null;
      seq: string | null;
      id: string | null;
      created_at: string | null;
    }>(
      `SELECT EXISTS (SELECT 1 FROM events WHERE id = $1) AS dup,
              EXISTS (SELECT 1 FROM deletions WHERE target = $1 AND pubkey = $2) AS id_tomb,
              (SELECT created_at FROM deletions WHERE target = $3 AND pubkey = $2) AS slot_tomb,
              cur.seq, cur.id, cur.created_at
       FROM (SELECT 1) AS one LEFT JOIN events cur ON cur.replace_key = $3`,
      [event.id, event.pubkey, slot],
    );
    const found = rows[0]!;
    if (found.dup) return { status: 'duplicate' };
    if (event.kind !== KIND_DELETION) {
      if (found.id_tomb) return { status: 'deleted' };
      if (found.slot_tomb !== null && event.created_at <= Number(found.slot_tomb))
        return { status: 'deleted' };
    }
    const replaced: string[] = [];
    if (found.id !== null) {
      if (!supersedes(event, { id: found.id, created_at: Number(found.created_at) })) {
        return { status: 'stale', newerId: found.id };
      }
      // Its tags go with it (ON DELETE CASCADE).
      await client.query('DELETE FROM events WHERE seq = $1', [found.seq]);
      replaced.push(found.id);
    }
    await client.query(this.insertSql(), this.insertParams(event, JSON.stringify(event), slot));
    if (event.kind !== KIND_DELETION) return { status: 'stored', replaced };
    return { status: 'stored', replaced, deleted: await this.applyDeletion(client, event) };
  }

  /**
   * NIP-09: removes the stored events a kind 5 names (`e`: ids, `a`: addresses, versions up to the request's
   * created_at), only the requester's own and never another deletion request, and remembers the request so the
   * events cannot be stored again. Returns the removed ids.
   */
  private async applyDeletion(client: pg.PoolClient, request: NostrEvent): Promise<string[]> {
    const { ids, addresses } = deletionTargets(request);
    if (ids.length + addresses.length === 0) return [];
    const { rows } = await client.query<{ id: string }>(
      `WITH tomb AS (
         INSERT INTO deletions (target, pubkey, created_at) SELECT t, $1, $2 FROM unnest($3::text[]) AS t
         ON CONFLICT (target, pubkey) DO UPDATE SET created_at = greatest(deletions.created_at, excluded.created_at)
       ), by_id AS (
         DELETE FROM events WHERE id = ANY($4::text[]) AND pubkey = $1 AND kind <> ${KIND_DELETION} RETURNING id
       ), by_address AS (
         DELETE FROM events WHERE replace_key = ANY($5::text[]) AND pubkey = $1 AND created_at <= $2 RETURNING id
       )
       SELECT id FROM by_id UNION ALL SELECT id FROM by_address`,
      [request.pubkey, request.created_at, [...ids, ...addresses], ids, addresses],
    );
    return rows.map((r) => r.id);
  }

  async query(filters: Filter[], options: QueryOptions = {}): Promise<NostrEvent[]> {
    this.assertOpen();
    const cap = Math.min(options.maxLimit ?? this.maxLimit, this.maxLimit);
    return queryFilters(filters, cap, async (filter, limit) => {
      const select = filterToPgSelect(filter, limit, options.hiddenUnlessTagged);
      return (await this.pool.query<{ raw: string }>(select.sql, select.params)).rows;
    });
  }

  async count(filters: Filter[], options: CountOptions = {}): Promise<number> {
    this.assertOpen();
    if (filters.length === 0) return 0;
    if (options.max !== undefined) {
      // Bounded: each filter's newest `max` matches by the query plan (an index walk that stops), deduplicated.
      const seen = new Set<string>();
      for (const filter of filters) {
        const select = filterToPgSelect(filter, options.max, options.hiddenUnlessTagged);
        const sql = select.sql.replace(/^SELECT e\.raw /, 'SELECT e.seq ');
        for (const row of (await this.pool.query<{ seq: string }>(sql, select.params)).rows)
          seen.add(String(row.seq));
      }
      return seen.size;
    }
    const params: unknown[] = [];
    const wheres = filters.map((f) => {
      const where = filterToPgWhere(f, params.length);
      params.push(...where.params);
      return `(${where.sql})`;
    });
    let visible = '';
    if (options.hiddenUnlessTagged) {
      const v = pgVisibleWhere(options.hiddenUnlessTagged, params.length);
      params.push(...v.params);
      visible = ` AND ${v.sql}`;
    }
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM events e WHERE (${wheres.join(' OR ')})${visible}`,
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
    // Saves already accepted are written before the pool closes.
    await this.drain();
    while (this.writing) await new Promise((r) => setTimeout(r, 5));
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

/** The ids (`e`) and slot keys (`a`, the author's own only) a NIP-09 request names, each once. */
function deletionTargets(request: NostrEvent): { ids: string[]; addresses: string[] } {
  const ids = new Set<string>();
  const addresses = new Set<string>();
  for (const [name, value] of request.tags) {
    if (name === 'e' && value && /^[0-9a-f]{64}$/.test(value)) ids.add(value);
    else if (name === 'a' && value) {
      const key = addressKey(value);
      // U+0000 cannot be stored in PostgreSQL text, so no stored address contains it.
      if (key !== undefined && key.pubkey === request.pubkey && !key.replaceKey.includes('\u0000')) {
        addresses.add(key.replaceKey);
      }
    }
  }
  return { ids: [...ids], addresses: [...addresses] };
}
