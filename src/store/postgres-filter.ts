// NIP-01 filters as PostgreSQL. Same semantics as sql-filter.ts (the SQLite translation), written for PostgreSQL:
// numbered parameters, one array parameter per field (`= ANY($n)`), real booleans.
import type { Filter } from '../nostr/types.js';
import { isIndexedTagName } from './kinds.js';

export interface PgSql {
  /** SQL text over table alias `e`; `false` when the filter can match nothing. */
  sql: string;
  params: unknown[];
}

// PostgreSQL text cannot hold U+0000, so no stored value contains it: a filter value with it matches nothing
// (and sending it would be an error).
const storable = (values: readonly string[]) => values.filter((v) => !v.includes('\u0000'));

/**
 * One filter as a WHERE expression. Array fields are OR within the field and AND across fields; an empty array
 * matches nothing. `params` continues from `offset` (so several filters can share one statement).
 */
export function filterToPgWhere(filter: Filter, offset = 0, skipTagKey?: string): PgSql {
  const parts: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown, type: string) => {
    params.push(value);
    return `$${offset + params.length}::${type}`;
  };
  const nothing: PgSql = { sql: 'false', params: [] };

  if (filter.ids) {
    const ids = storable(filter.ids);
    if (ids.length === 0) return nothing;
    parts.push(`e.id = ANY(${param(ids, 'text[]')})`);
  }
  if (filter.authors) {
    const authors = storable(filter.authors);
    if (authors.length === 0) return nothing;
    parts.push(`e.pubkey = ANY(${param(authors, 'text[]')})`);
  }
  if (filter.kinds) {
    // A kind outside int4 cannot be stored (NIP-01 kinds are 0-65535), so it matches nothing.
    const kinds = filter.kinds.filter((k) => Number.isInteger(k) && Math.abs(k) < 2 ** 31);
    if (kinds.length === 0) return nothing;
    parts.push(`e.kind = ANY(${param(kinds, 'int[]')})`);
  }
  if (filter.since !== undefined) parts.push(`e.created_at >= ${param(Math.ceil(filter.since), 'bigint')}`);
  if (filter.until !== undefined) parts.push(`e.created_at <= ${param(Math.floor(filter.until), 'bigint')}`);
  for (const key of Object.keys(filter)) {
    if (!key.startsWith('#') || key === skipTagKey) continue;
    const values = filter[key as `#${string}`];
    if (!values) continue;
    const name = key.slice(1);
    // Only single-letter tags are indexed; NIP-01 filters on no others, so a longer name matches nothing.
    const wanted = storable(values);
    if (!isIndexedTagName(name) || wanted.length === 0) return nothing;
    parts.push(
      `e.seq IN (SELECT t.event_seq FROM tags t WHERE t.name = ${param(name, 'text')} AND t.value = ANY(${param(wanted, 'text[]')}))`,
    );
  }
  return { sql: parts.length > 0 ? parts.join(' AND ') : 'true', params };
}

/**
 * The condition of QueryOptions.hiddenUnlessTagged: events of `kind` only when tagged with one of `values`.
 * Parameters start after `offset`.
 */
export function pgVisibleWhere(rule: { kind: number; tag: string; values: string[] }, offset: number): PgSql {
  const values = storable(rule.values);
  if (values.length === 0) return { sql: `e.kind <> $${offset + 1}::int`, params: [rule.kind] };
  return {
    sql:
      `(e.kind <> $${offset + 1}::int OR e.seq IN (SELECT v.event_seq FROM tags v ` +
      `WHERE v.name = $${offset + 2}::text AND v.value = ANY($${offset + 3}::text[])))`,
    params: [rule.kind, rule.tag, values],
  };
}

/**
 * The SELECT for one filter, newest first (ties: lowest id), at most `limit` rows, optionally hiding a kind
 * (QueryOptions.hiddenUnlessTagged) before the limit. A one-value tag condition (the common `#t`/`#p`/`#e` case)
 * drives the query from the tag index, which is in created_at order, so PostgreSQL can stop after `limit` rows.
 * Tags are unique per (event, name, value): the join cannot return an event twice.
 */
export function filterToPgSelect(
  filter: Filter,
  limit: number,
  hidden?: { kind: number; tag: string; values: string[] },
): PgSql {
  const driver = Object.keys(filter).find((key) => {
    const values = filter[key as `#${string}`];
    return (
      key.startsWith('#') &&
      isIndexedTagName(key.slice(1)) &&
      values?.length === 1 &&
      !values[0]!.includes('\u0000')
    );
  });
  const offset = driver === undefined ? 0 : 2;
  const where = filterToPgWhere(filter, offset, driver);
  if (hidden) {
    const visible = pgVisibleWhere(hidden, offset + where.params.length);
    where.sql = `(${where.sql}) AND ${visible.sql}`;
    where.params.push(...visible.params);
  }
  const limitParam = `$${offset + where.params.length + 1}`;
  if (driver === undefined) {
    return {
      sql: `SELECT e.raw FROM events e WHERE ${where.sql} ORDER BY e.created_at DESC, e.id ASC LIMIT ${limitParam}`,
      params: [...where.params, limit],
    };
  }
  return {
    sql:
      'SELECT e.raw FROM tags d JOIN events e ON e.seq = d.event_seq WHERE d.name = $1 AND d.value = $2 AND ' +
      `${where.sql} ORDER BY d.created_at DESC, e.id ASC LIMIT ${limitParam}`,
    params: [driver.slice(1), filter[driver as `#${string}`]![0]!, ...where.params, limit],
  };
}
