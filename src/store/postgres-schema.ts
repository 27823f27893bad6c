// Schema of the PostgreSQL event store, as numbered migrations. Each runs once, in its own transaction, and is
// recorded in `schema_migrations`. Never edit a released migration: add the next one.
import type pg from 'pg';
import { StoreError } from './errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, tags, deletions, event_feed',
    // ids and tag values use COLLATE "C": byte order, so "lowest id" means what it means in JavaScript, and the
    // indexes need no locale. `raw` keeps the exact JSON we return (jsonb would reorder keys).
    sql: `
CREATE TABLE events (
  seq         bigserial PRIMARY KEY,
  id          text COLLATE "C" NOT NULL UNIQUE,
  pubkey      text COLLATE "C" NOT NULL,
  created_at  bigint NOT NULL,
  kind        integer NOT NULL,
  replace_key text COLLATE "C",
  raw         text NOT NULL
);
CREATE INDEX events_created_at ON events (created_at DESC, id);
CREATE INDEX events_pubkey ON events (pubkey, created_at DESC);
CREATE INDEX events_kind ON events (kind, created_at DESC);
CREATE INDEX events_pubkey_kind ON events (pubkey, kind, created_at DESC);
-- One event per replaceable/addressable slot; the per-slot lock in save() makes this a backstop, not the mechanism.
CREATE UNIQUE INDEX events_replace_key ON events (replace_key) WHERE replace_key IS NOT NULL;

CREATE TABLE tags (
  event_seq  bigint NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
  name       text COLLATE "C" NOT NULL,
  value      text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (event_seq, name, value)
);
CREATE INDEX tags_name_value ON tags (name, value, created_at DESC);

-- NIP-09 deletion requests: target is an event id, or an address ('kind:pubkey' for replaceable kinds,
-- 'kind:pubkey:d' for addressable ones). Only the author's own events are deleted, so the pubkey is part of the key.
-- For an address, versions with created_at <= created_at are deleted and refused.
CREATE TABLE deletions (
  target     text COLLATE "C" NOT NULL,
  pubkey     text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (target, pubkey)
);

-- The live feed (see live-feed.ts): one row per committed event, stored or ephemeral, read in (xid, seq) order.
-- xid is the writing transaction's id: a reader only takes rows whose transaction is older than every transaction
-- still running, so a row can never appear behind the reader's cursor later (which ordering by seq alone allows:
-- seq is drawn at INSERT, rows become visible at COMMIT, in another order).
CREATE TABLE event_feed (
  seq        bigserial NOT NULL,
  xid        bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
  origin     text NOT NULL,
  ephemeral  boolean NOT NULL,
  raw        text NOT NULL,
  created    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (xid, seq)
);
CREATE INDEX event_feed_created ON event_feed (created);
`,
  },
];

/** Key of the session advisory lock that serializes migrations across processes (two-int form: its own key space). */
export const MIGRATION_LOCK: readonly [number, number] = [0x63727374, 1]; // 'crst', 1

/**
 * Brings the database to the latest schema. Safe to call from several processes at once: the first takes the
 * advisory lock and migrates, the others wait for it and then find nothing left to do. Returns the versions
 * this call applied.
 */
export async function migrate(
  pool: pg.Pool,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const done = new Set(rows.map((r) => r.version));
      const latest = Math.max(0, ...migrations.map((m) => m.version));
      const newer = [...done].filter((v) => v > latest);
      if (newer.length > 0) {
        throw new StoreError(
          'STORE_OPEN_FAILED',
          `the database has schema version ${Math.max(...newer)} but this crosstown knows up to ${latest}; ` +
            'upgrade crosstown (a newer version migrated this database)',
        );
      }
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            m.version,
            m.name,
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new StoreError(
            'STORE_OPEN_FAILED',
            `schema migration ${m.version} (${m.name}) failed: ${(err as Error).message}; the database was left at the previous version`,
            { cause: err },
          );
        }
        applied.push(m.version);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
  return applied;
}
