import type { IncomingMessage } from 'node:http';
import type { NostrEvent } from '../nostr/types.js';
import type { PrepaidPersistence } from '../store/prepaid-sqlite.js';
import type { EventStore } from '../store/types.js';
import type { ServerTlsOptions } from '../transport/tls.js';
import type { RateLimit } from './rate-limit.js';
import type { SecretStore } from './secrets.js';

/** Limits a relay enforces and advertises in its NIP-11 document. */
export interface RelayLimits {
  /** Frames larger than this get a NOTICE and are not processed. */
  maxMessageBytes: number;
  /** Frames larger than this close the connection (code 1009): the socket never buffers more. */
  hardMaxMessageBytes: number;
  /** Open subscriptions per connection. */
  maxSubscriptions: number;
  /** Filters per REQ. */
  maxFilters: number;
  /** Values in one filter field (ids, authors, kinds, #x); bounds the SQL a filter turns into. */
  maxFilterValues: number;
  /** Most events one filter returns from storage (also the limit when a filter has none). */
  maxLimit: number;
  maxSubIdLength: number;
  /** Most bytes of TOON data a paid write may carry (ILPv4 caps PREPARE data at 32767). */
  maxEventBytes: number;
  /** NIP-42: how far an AUTH event's created_at may be from now. */
  authWindowSeconds: number;
  /** Events dated more than this many seconds after now are refused (`invalid:`), paid or free. */
  maxFutureSeconds: number;
  /** Events dated more than this many seconds before now are refused; Infinity (default) accepts any past date. */
  maxPastSeconds: number;
  /** A connection whose unsent output (ws.bufferedAmount) exceeds this is a slow reader and is dropped. */
  maxBufferedBytes: number;
  /** Largest free event (SPSP handshake kinds, operator free writes), JSON bytes; bigger ones must be paid. */
  maxFreeEventBytes: number;
  /**
   * NIP-45: a COUNT counts at most this many events per filter (the newest, by the same bounded plan as REQ) and says
   * `approximate: true` when it reaches it. An exact count of a broad filter scans every row on the main thread.
   */
  maxCountRows?: number;
  /** Open WebSocket connections in all; more are refused at the upgrade (HTTP 503). */
  maxConnections?: number;
  /** Open WebSocket connections from one client address (IPv6 by /64); more are refused at the upgrade. */
  maxConnectionsPerIp?: number;
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxMessageBytes: 128 * 1024,
  hardMaxMessageBytes: 1024 * 1024,
  maxSubscriptions: 20,
  maxFilters: 10,
  maxFilterValues: 500,
  maxLimit: 500,
  maxSubIdLength: 64,
  maxEventBytes: 32767,
  authWindowSeconds: 600,
  maxFutureSeconds: 900,
  maxPastSeconds: Number.POSITIVE_INFINITY,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxFreeEventBytes: 8 * 1024,
  maxCountRows: 1_000,
  maxConnections: 10_000,
  maxConnectionsPerIp: 256,
};

/** Events the operator lets through without payment, e.g. the node's own kind 10032 peer info. */
export interface FreeWrite {
  pubkey: string;
  kinds: number[];
}

export interface RelayInfo {
  name?: string;
  description?: string;
  /** The operator's Nostr pubkey (hex). */
  pubkey?: string;
  contact?: string;
  /** NIP-11 `payments_url`: where a client learns how to pay (the node's SPSP URL). Read at each request. */
  paymentsUrl?: string;
  /** NIP-11 `software`: the project's homepage URL. */
  software?: string;
}

export interface RelayOptions {
  store: EventStore;
  /** Price of one byte of TOON event data, in base units of the asset the PREPAREs carry. */
  basePricePerByte: bigint;
  /** Shared secrets handed out by SPSP, looked up by PREPARE destination. */
  secrets: SecretStore;
  /** This relay's ILP address: `triggeredBy` of its rejects. */
  ilpAddress?: string;
  /** Where STREAM top-ups survive restarts (openPrepaidStore); default: memory only. The caller closes it. */
  prepaidStore?: PrepaidPersistence;
  /** The asset PREPAREs carry, told to STREAM senders (default M2M, scale 18). */
  asset?: { code: string; scale: number };
  info?: RelayInfo;
  limits?: Partial<RelayLimits>;
  freeWrites?: FreeWrite[];
  /** Frames per connection (any type); beyond it a frame is answered NOTICE "rate-limited:" and ignored. */
  messageRate?: RateLimit;
  /**
   * Query time of REQ and COUNT per client address (IPv6 by /64), in milliseconds: `capacity` at once, refilled
   * at `perSecond`. Reads are free but take the main thread (SQLite answers synchronously); an address that used
   * its budget is answered CLOSED "rate-limited:" until it refills. Default 5,000 ms at once, 500 ms per second.
   */
  queryTime?: RateLimit;
  /**
   * TOON decoding and signature verification (nostr-wasm, libsecp256k1) of writes on this many worker threads;
   * 0 does them on the main thread. Default: 0. Workers pay off when a core is free for them.
   */
  verifyThreads?: number;
  /**
   * Budgets of the free SPSP handshake kinds 23194/23195 (docs/node.md "Limits"): per connection, per pubkey, per
   * client IP and for the whole relay; fresh connections and keys share the IP and global ones.
   */
  handshakeLimits?: {
    perConnection?: RateLimit;
    perPubkey?: RateLimit;
    perIp?: RateLimit;
    global?: RateLimit;
  };
  /**
   * The URL clients use to reach the relay (behind a proxy: wss://relay.example.org); NIP-42 AUTH events must name
   * it in their `relay` tag. Default: per connection, the scheme, the Host header and the path the client used.
   */
  relayUrl?: string;
  /** The client's address for the per-IP budgets (default: the socket's peer; the node trusts configured proxies). */
  clientAddress?: (req: IncomingMessage) => string;
  /** Clock in milliseconds (tests move it). */
  now?: () => number;
  /** Serve `wss://` (and NIP-11 over https) with this certificate; plain `ws://` without it. */
  tls?: ServerTlsOptions;
  /**
   * With a PostgreSQL store, the relay follows the database's live feed so that events written through other
   * relay processes on the same database reach this process's subscribers. On by default for such a store;
   * `false` turns it off (one process only). Ignored for other stores.
   */
  liveFeed?: false | { pollIntervalMs?: number; onError?: (error: Error) => void };
  /** Told when the store fails to save an event (disk full, I/O error): the node logs it at error level. */
  onStoreError?: (error: Error, event: NostrEvent) => void;
}
