import type { Filter } from '../nostr/types.js';
import { isIndexedTagName } from './kinds.js';

export interface SqlWhere {
  /** A boolean SQL expression over table alias `e`; '0' when the filter can match nothing. */
  sql: string;
  params: (string | number)[];
}

/**
 * Translates one NIP-01 filter into a WHERE clause. Array fields are OR within the field and AND across fields;
 * an empty array matches nothing (as in nostr-tools' matchFilter). Unknown keys that are not `#x` are ignored.
 */
export function filterToWhere(filter: Filter, skipTagKey?: string): SqlWhere {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  const inList = (column: string, values: readonly (string | number)[]) => {
    if (values.length === 0) return false;
    parts.push(`${column} IN (${values.map(() => '?').join(',')})`);
    params.push(...values);
    return true;
  };

  if (filter.ids && !inList('e.id', filter.ids)) return nothing();
  if (filter.authors && !inList('e.pubkey', filter.authors)) return nothing();
  if (filter.kinds && !inList('e.kind', filter.kinds)) return nothing();
  if (filter.since !== undefined) {
    parts.push('e.created_at >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    parts.push('e.created_at <= ?');
    params.push(filter.until);
  }
  for (const key of Object.keys(filter)) {
    if (!key.startsWith('#') || key === skipTagKey) continue;
    const name = key.slice(1);
    const values = filter[key as `#${string}`];
    if (!values) continue;
    // Only single-letter tags are indexed; NIP-01 filters on no others, so a longer name can match nothing.
    if (!isIndexedTagName(name) || values.length === 0) return nothing();
    parts.push(
      `e.seq IN (SELECT t.event_seq FROM tags t WHERE t.name = ? AND t.value IN (${values.map(() => '?').join(',')}))`,
    );
    params.push(name, ...values);
  }
  return { sql: parts.length > 0 ? parts.join(' AND ') : '1', params };
}

/**
 * The SELECT for one filter, newest first, `limit` rows. A filter with a one-value tag condition (`#t: [x]`,
 * the common case for job types, recipients and referenced ids) is driven from the tag index, which is in
 * created_at order, so SQLite stops after `limit` rows instead of sorting every tagged event. Tags are unique
 * per (event, name, value), so the join cannot return an event twice.
 */
export function filterToSelect(filter: Filter, limit: number, extra?: SqlWhere): SqlWhere {
  const driver = Object.keys(filter).find((key) => {
    const values = filter[key as `#${string}`];
    return key.startsWith('#') && isIndexedTagName(key.slice(1)) && values?.length === 1;
  });
  const and = (where: SqlWhere): SqlWhere =>
    extra ? { sql: `(${where.sql}) AND (${extra.sql})`, params: [...where.params, ...extra.params] } : where;
  if (driver === undefined) {
    const several = severalValues(filter);
    if (several) return perValue(filter, several, limit, and);
    const where = and(filterToWhere(filter));
    return {
      sql: `SELECT e.raw FROM events e WHERE ${where.sql} ORDER BY e.created_at DESC, e.id ASC LIMIT ?`,
      params: [...where.params, limit],
    };
  }
  const where = and(filterToWhere(filter, driver));
  return {
    sql:
      'SELECT e.raw FROM tags d JOIN events e ON e.seq = d.event_seq WHERE d.name = ? AND d.value = ? AND ' +
      `${where.sql} ORDER BY d.created_at DESC, e.id ASC LIMIT ?`,
    params: [driver.slice(1), filter[driver as `#${string}`]![0]!, ...where.params, limit],
  };
}

/** Most values of one tag walked one by one (a longer list is checked per event, as before). */
const MAX_WALKED_VALUES = 16;

/** The first indexed tag with 2..MAX_WALKED_VALUES values. */
function severalValues(filter: Filter): string | undefined {
  return Object.keys(filter).find((key) => {
    const n = filter[key as `#${string}`]?.length ?? 0;
    return key.startsWith('#') && isIndexedTagName(key.slice(1)) && n > 1 && n <= MAX_WALKED_VALUES;
  });
}

/**
 * A filter on several values of one tag (and no one-value tag): each value driven from the tag index in
 * created_at order, `limit` rows each, then merged. Checking every event of the filter's kinds against the
 * values instead walked all of them when the values match little (6.2 ms on 50,000 events, 0.35 ms this way),
 * for a REQ or COUNT that costs the client nothing.
 */
function perValue(filter: Filter, key: string, limit: number, and: (where: SqlWhere) => SqlWhere): SqlWhere {
  const values = [...new Set(filter[key as `#${string}`]!)];
  const where = and(filterToWhere(filter, key));
  const one =
    'SELECT * FROM (SELECT e.seq AS seq, e.raw AS raw, e.created_at AS created_at, e.id AS id FROM tags d ' +
    `JOIN events e ON e.seq = d.event_seq WHERE d.name = ? AND d.value = ? AND ${where.sql} ` +
    'ORDER BY d.created_at DESC, e.id ASC LIMIT ?)';
  return {
    sql:
      `SELECT raw AS raw, seq AS seq FROM (${values.map(() => one).join(' UNION ALL ')}) ` +
      'GROUP BY seq ORDER BY created_at DESC, id ASC LIMIT ?',
    params: [...values.flatMap((v) => [key.slice(1), v, ...where.params, limit]), limit],
  };
}

function nothing(): SqlWhere {
  return { sql: '0', params: [] };
}

/** The condition of QueryOptions.hiddenUnlessTagged: events of `kind` only when tagged with one of `values`. */
export function visibleWhere(rule: { kind: number; tag: string; values: string[] }): SqlWhere {
  if (rule.values.length === 0) return { sql: 'e.kind <> ?', params: [rule.kind] };
  return {
    sql: `(e.kind <> ? OR e.seq IN (SELECT v.event_seq FROM tags v WHERE v.name = ? AND v.value IN (${rule.values.map(() => '?').join(',')})))`,
    params: [rule.kind, rule.tag, ...rule.values],
  };
}
