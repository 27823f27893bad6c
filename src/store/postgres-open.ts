// Picks the event store from one configuration string, so the relay needs no code per backend:
//   postgres://… or postgresql://…   PostgreSQL (several relay processes may share it)
//   sqlite:<path>, sqlite::memory:, or a bare file path   SQLite, the embedded default
import { StoreError } from './errors.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { EventStore } from './types.js';

export const DATABASE_URL_ENV = 'CROSSTOWN_RELAY_DATABASE_URL';

export interface OpenEventStoreOptions {
  maxLimit?: number;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** Used when neither the argument nor CROSSTOWN_RELAY_DATABASE_URL is set: the embedded SQLite file. */
  defaultPath?: string;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** SQLite: commit on a writer thread (see SqliteStoreOptions.writerThread). */
  writerThread?: boolean;
  /** SQLite with a writer thread: when a lone save commits on the calling thread (SqliteStoreOptions.commitInline). */
  commitInline?: () => boolean;
}

export type StoreLocation = { kind: 'postgres'; url: string } | { kind: 'sqlite'; path: string };

/** Where `openEventStore` would go for this configuration; exported so the choice can be tested and shown. */
export function resolveStoreLocation(
  url: string | undefined,
  options: OpenEventStoreOptions = {},
): StoreLocation {
  const env = options.env ?? process.env;
  const chosen = url || env[DATABASE_URL_ENV] || options.defaultPath;
  if (!chosen) {
    throw new StoreError(
      'STORE_OPEN_FAILED',
      `no event store configured: pass a database URL or file path, or set ${DATABASE_URL_ENV} (postgres://… or a SQLite file path)`,
    );
  }
  if (/^postgres(ql)?:\/\//i.test(chosen)) return { kind: 'postgres', url: chosen };
  if (/^sqlite:/i.test(chosen)) {
    // sqlite:/abs/path, sqlite:relative/path, sqlite:///abs/path, sqlite::memory:
    const path = chosen.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '')
      throw new StoreError('STORE_OPEN_FAILED', `"${chosen}" names no file; write sqlite:<path>`);
    return { kind: 'sqlite', path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(chosen)) {
    throw new StoreError(
      'STORE_OPEN_FAILED',
      `unsupported event store URL scheme in "${chosen.replace(/\/\/[^@/]*@/, '//***@')}"; use postgres://, postgresql://, sqlite: or a file path`,
    );
  }
  return { kind: 'sqlite', path: chosen };
}

/** Opens the event store named by `url` (else CROSSTOWN_RELAY_DATABASE_URL, else `defaultPath`). */
export async function openEventStore(url?: string, options: OpenEventStoreOptions = {}): Promise<EventStore> {
  const location = resolveStoreLocation(url, options);
  if (location.kind === 'postgres') {
    return openPostgresStore({
      url: location.url,
      ...(options.maxLimit !== undefined && { maxLimit: options.maxLimit }),
      ...(options.poolSize !== undefined && { poolSize: options.poolSize }),
    });
  }
  return openSqliteStore({
    path: location.path,
    ...(options.maxLimit !== undefined && { maxLimit: options.maxLimit }),
    ...(options.writerThread !== undefined && { writerThread: options.writerThread }),
    ...(options.commitInline && { commitInline: options.commitInline }),
  });
}
