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
`;
