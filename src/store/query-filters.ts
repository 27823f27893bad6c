import type { Filter, NostrEvent } from '../nostr/types.js';
import { newestFirst } from './kinds.js';

/**
 * The part of `EventStore.query` every backend shares: each filter runs with its own limit (capped at `cap`;
 * a limit of 0 runs nothing), results are merged by id and returned newest first. `runFilter` returns the stored
 * JSON of the matching events.
 */
export async function queryFilters(
  filters: Filter[],
  cap: number,
  runFilter: (filter: Filter, limit: number) => Promise<{ raw: string }[]> | { raw: string }[],
): Promise<NostrEvent[]> {
  const byId = new Map<string, NostrEvent>();
  for (const filter of filters) {
    const limit = Math.min(filter.limit ?? cap, cap);
    if (limit <= 0) continue;
    for (const row of await runFilter(filter, limit)) {
      const event = JSON.parse(row.raw) as NostrEvent;
      byId.set(event.id, event);
    }
  }
  return [...byId.values()].sort(newestFirst);
}
