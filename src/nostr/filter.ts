import { NostrError } from './errors.js';
import type { Filter, NostrEvent } from './types.js';
import { isHex64, isPlainObject } from './validate.js';

const TAG_KEY = /^#[a-zA-Z]$/;

/**
 * NIP-01 matching: every field present must match (AND); values inside a field are alternatives (OR).
 * `since` and `until` are inclusive. An empty list matches nothing. `limit` is not a matching condition.
 */
export function matchFilter(filter: Filter, event: NostrEvent): boolean {
  if (filter.ids && !filter.ids.includes(event.id)) return false;
  if (filter.authors && !filter.authors.includes(event.pubkey)) return false;
  if (filter.kinds && !filter.kinds.includes(event.kind)) return false;
  if (filter.since !== undefined && event.created_at < filter.since) return false;
  if (filter.until !== undefined && event.created_at > filter.until) return false;
  for (const key of Object.keys(filter)) {
    if (!TAG_KEY.test(key)) continue;
    const values = filter[key as `#${string}`];
    if (values === undefined) continue;
    const name = key.slice(1);
    const hit = event.tags.some((t) => t[0] === name && t[1] !== undefined && values.includes(t[1]));
    if (!hit) return false;
  }
  return true;
}

/** True when any filter matches (the filters of one REQ are alternatives). */
export function matchFilters(filters: Filter[], event: NostrEvent): boolean {
  return filters.some((f) => matchFilter(f, event));
}

/**
 * Checks a filter received from a client and returns a clean copy. Unknown fields are rejected (for example
 * NIP-50 `search`, which this relay does not implement) rather than silently widening the subscription.
 */
export function validateFilter(x: unknown): Filter {
  if (!isPlainObject(x)) throw new NostrError('invalid_filter', 'filter must be a JSON object');
  const out: Filter = {};
  for (const [key, value] of Object.entries(x)) {
    switch (key) {
      case 'ids':
      case 'authors':
        out[key] = hexList(key, value);
        break;
      case 'kinds':
        if (!Array.isArray(value) || !value.every((k) => Number.isInteger(k) && k >= 0 && k <= 65535)) {
          throw new NostrError(
            'invalid_filter',
            'filter kinds must be an array of integers between 0 and 65535',
          );
        }
        out.kinds = [...value];
        break;
      case 'since':
      case 'until':
      case 'limit':
        if (!Number.isSafeInteger(value) || (value as number) < 0) {
          throw new NostrError('invalid_filter', `filter ${key} must be a non-negative integer`);
        }
        out[key] = value as number;
        break;
      default:
        if (!TAG_KEY.test(key)) {
          throw new NostrError(
            'invalid_filter',
            `unknown filter field '${key}': expected ids, authors, kinds, since, until, limit or #<letter>`,
          );
        }
        // NIP-01: #e and #p hold event ids and pubkeys, exact 64-character lowercase hex.
        if (key === '#e' || key === '#p') {
          out[key] = hexList(key, value);
          break;
        }
        if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
          throw new NostrError('invalid_filter', `filter ${key} must be an array of strings`);
        }
        out[key as `#${string}`] = [...value];
    }
  }
  return out;
}

function hexList(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every(isHex64)) {
    throw new NostrError(
      'invalid_filter',
      `filter ${key} must be an array of 64-character lowercase hex strings`,
    );
  }
  return [...value];
}

/**
 * Orders events newest first (ties: lowest id first, as NIP-01 says) and keeps the first `limit`.
 * Returns a new array; `limit` undefined keeps all.
 */
export function applyLimit(events: readonly NostrEvent[], limit?: number): NostrEvent[] {
  const sorted = [...events].sort((a, b) =>
    a.created_at !== b.created_at ? b.created_at - a.created_at : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  return limit === undefined ? sorted : sorted.slice(0, Math.max(0, limit));
}
