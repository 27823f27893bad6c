export { StoreError, type StoreErrorCode } from './errors.js';
export {
  dTagOf,
  isAddressable,
  isEphemeral,
  isIndexedTagName,
  isReplaceable,
  newestFirst,
  replaceKeyOf,
  supersedes,
} from './kinds.js';
export {
  createPgLiveFeed,
  type FeedCursor,
  type FeedEventInfo,
  type PgLiveFeed,
  type PgLiveFeedOptions,
} from './live-feed.js';
export {
  FEED_CHANNEL,
  openPostgresStore,
  PostgresEventStore,
  type PostgresStoreOptions,
} from './postgres.js';
export {
  DATABASE_URL_ENV,
  type OpenEventStoreOptions,
  openEventStore,
  resolveStoreLocation,
  type StoreLocation,
} from './postgres-open.js';
export { MIGRATIONS, type Migration, migrate } from './postgres-schema.js';
export { openPrepaidStore, type PrepaidPersistence, type PrepaidRow } from './prepaid-sqlite.js';
export { filterToSelect, filterToWhere, type SqlWhere } from './sql-filter.js';
export { openSqliteStore, SqliteEventStore, type SqliteStoreOptions } from './sqlite.js';
export type { CountOptions, EventStore, QueryOptions, SaveOutcome } from './types.js';
