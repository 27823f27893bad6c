import type { NostrEvent } from '../nostr/types.js';

// NIP-01 kind ranges. Kept here (not imported from src/nostr) so a store has no dependency beyond the shared types.
export const isEphemeral = (kind: number): boolean => kind >= 20000 && kind < 30000;
export const isReplaceable = (kind: number): boolean =>
  kind === 0 || kind === 3 || (kind >= 10000 && kind < 20000);
export const isAddressable = (kind: number): boolean => kind >= 30000 && kind < 40000;

/** Value of the first `d` tag, '' when absent (NIP-01: addressable events are keyed by it). */
export function dTagOf(event: NostrEvent): string {
  for (const tag of event.tags) if (tag[0] === 'd') return tag[1] ?? '';
  return '';
}

/**
 * The slot a replaceable or addressable event occupies: only one event per slot is kept.
 * `undefined` for regular events, which never replace anything.
 */
export function replaceKeyOf(event: NostrEvent): string | undefined {
  if (isReplaceable(event.kind)) return `${event.kind}:${event.pubkey}`;
  if (isAddressable(event.kind)) return `${event.kind}:${event.pubkey}:${dTagOf(event)}`;
  return undefined;
}

/** NIP-01 tie-break: the newer event wins; at equal `created_at`, the lowest id wins. */
export function supersedes(candidate: NostrEvent, current: { id: string; created_at: number }): boolean {
  if (candidate.created_at !== current.created_at) return candidate.created_at > current.created_at;
  return candidate.id < current.id;
}

/** Order for query results: newest first, then lowest id (so results are deterministic). */
export function newestFirst(a: NostrEvent, b: NostrEvent): number {
  if (a.created_at !== b.created_at) return b.created_at - a.created_at;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A single-letter tag name (a-z, A-Z): the only tags NIP-01 filters can select on, so the only ones indexed. */
export const isIndexedTagName = (name: string | undefined): name is string =>
  name !== undefined && name.length === 1 && /^[a-zA-Z]$/.test(name);

/** Parses a NIP-09 `a` value `kind:pubkey:d` into the store's replace key; undefined when it names no slot. */
export function addressKey(value: string): { pubkey: string; replaceKey: string } | undefined {
  const match = /^(\d{1,5}):([0-9a-f]{64}):?(.*)$/s.exec(value);
  if (!match) return undefined;
  const kind = Number(match[1]);
  const pubkey = match[2]!;
  if (isReplaceable(kind)) return { pubkey, replaceKey: `${kind}:${pubkey}` };
  if (isAddressable(kind)) return { pubkey, replaceKey: `${kind}:${pubkey}:${match[3] ?? ''}` };
  return undefined;
}
