/** A signed NIP-01 event. Hex strings are lowercase. */
export interface NostrEvent {
  id: string;
  pubkey: string;
  created_at: number;
  kind: number;
  tags: string[][];
  content: string;
  sig: string;
}

/** The fields a caller fills in before signing. `created_at` defaults to now. */
export interface EventTemplate {
  kind: number;
  tags: string[][];
  content: string;
  created_at?: number;
}

/** A NIP-01 subscription filter. `#x` keys filter on single-letter tags. */
export interface Filter {
  ids?: string[];
  authors?: string[];
  kinds?: number[];
  since?: number;
  until?: number;
  limit?: number;
  [tag: `#${string}`]: string[] | undefined;
}
