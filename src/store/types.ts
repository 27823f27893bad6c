import type { Filter, NostrEvent } from '../nostr/types.js';

/**
 * What `save` did with an event. Only `stored` changed the database; every other outcome left it untouched.
 * - `stored`: written (and durable: the promise resolves after the commit). `replaced` lists ids it superseded;
 *   for a NIP-09 deletion request (kind 5), `deleted` lists the stored ids it removed.
 * - `deleted`: the author already asked (NIP-09) to delete this event (or this version of an address): refused.
 * - `duplicate`: an event with this id is already stored.
 * - `stale`: a replaceable/addressable event older than the version already stored (`newerId`).
 * - `ephemeral`: kinds 20000-29999 are never stored; the caller only delivers them.
 */
export type SaveOutcome =
  | { status: 'stored'; replaced: string[]; deleted?: string[] }
  | { status: 'duplicate' }
  | { status: 'deleted' }
  | { status: 'stale'; newerId: string }
  | { status: 'ephemeral' };

export interface QueryOptions {
  /** Cap on each filter's `limit`, and the limit for filters that have none. */
  maxLimit?: number;
  /**
   * Events of `kind` match only when they carry a `tag` whose value is one of `values` (none: never). Applied inside
   * the query, before `limit`, so that hidden events (gift wraps for other recipients) do not eat into a limit.
   */
  hiddenUnlessTagged?: { kind: number; tag: string; values: string[] };
}

/**
 * Event storage behind the relay. Methods are async so that a networked store (PostgreSQL) can implement the
 * same contract; `test/store/conformance.ts` is the contract's executable definition.
 */
export interface EventStore {
  /**
   * Stores `event` under NIP-01 kind semantics and NIP-09 deletion (kind 5 `e`/`a` tags remove the author's own
   * events and keep them from being stored again). Resolves only once the write is durable. Concurrent saves may
   * share one commit. The event must already be verified.
   */
  save(event: NostrEvent): Promise<SaveOutcome>;
  /** Events matching any of `filters`, newest first (ties: lowest id first), each filter's `limit` applied to that filter. */
  query(filters: Filter[], options?: QueryOptions): Promise<NostrEvent[]>;
  /**
   * How many stored events match any of `filters` (limits ignored), hidden kinds excluded as in `query`. With
   * `max`, each filter counts at most `max` events, newest first, by the same bounded plan as `query` (a count of
   * `max` or more is then a lower bound): an exact count of a broad filter scans every row.
   */
  count(filters: Filter[], options?: CountOptions): Promise<number>;
  /** The stored event with this id, if any. */
  get(id: string): Promise<NostrEvent | undefined>;
  close(): Promise<void>;
}

export interface CountOptions extends Pick<QueryOptions, 'hiddenUnlessTagged'> {
  /** Count at most this many events per filter (see EventStore.count). */
  max?: number;
}
