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
export { filterToSelect, filterToWhere, type SqlWhere } from './sql-filter.js';
export { openSqliteStore, SqliteEventStore, type SqliteStoreOptions } from './sqlite.js';
export type { EventStore, QueryOptions, SaveOutcome } from './types.js';
