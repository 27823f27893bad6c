// Schema for the SQLite store. Tag values live in their own table so `#e`/`#p`/`#t` filters use an index
// instead of scanning JSON text.
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  pubkey      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  kind        INTEGER NOT NULL,
  replace_key TEXT,
  raw         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_created_at ON events (created_at DESC, id);
CREATE INDEX IF NOT EXISTS events_pubkey ON events (pubkey, created_at DESC);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, created_at DESC);
CREATE INDEX IF NOT EXISTS events_pubkey_kind ON events (pubkey, kind, created_at DESC);
CREATE UNIQUE INDEX IF NOT EXISTS events_replace_key ON events (replace_key) WHERE replace_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS tags (
  event_seq  INTEGER NOT NULL,
  name       TEXT NOT NULL,
  value      TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tags_name_value ON tags (name, value, created_at DESC);
CREATE UNIQUE INDEX IF NOT EXISTS tags_event ON tags (event_seq, name, value);

-- NIP-09 deletion requests: target is an event id, or an address ('kind:pubkey' for replaceable kinds,
-- 'kind:pubkey:d' for addressable ones). Only the author's own events are deleted, so the pubkey is part of the key.
-- For an address, versions with created_at <= created_at are deleted and refused.
CREATE TABLE IF NOT EXISTS deletions (
  target     TEXT NOT NULL,
  pubkey     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (target, pubkey)
);
`;
