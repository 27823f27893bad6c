// The Mayor's relay client: one WebSocket per configured relay. Publishes to all, subscribes on all,
// deduplicates events by id, opts in to TOON delivery (skills get the raw TOON bytes), answers NIP-42 AUTH,
// and reconnects with backoff, resubscribing with `since` so events missed while down are caught up.
// A relay being down never throws out of the pool: status shows it and work waits for it to return.
// Sockets are opened through src/transport: `wss://` verified against Node's CA store or a custom CA, and a
// warning for plain `ws://` to another machine.

import WebSocket from 'ws';
import { finalizeEvent } from '../../nostr/event.js';
import { KIND_CLIENT_AUTH } from '../../nostr/kinds.js';
import type { Filter, NostrEvent } from '../../nostr/types.js';
import { decodeEvent, encodeEventBytes } from '../../toon/index.js';
import {
  type ClientTlsOptions,
  connectError,
  createWebSocket,
  type WarnLogger,
} from '../../transport/index.js';
import { mark, tracing } from '../../transport/trace.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { MayorError } from './errors.js';

export type RelayStatus = 'connected' | 'connecting' | 'disconnected' | 'error';

export interface RelayState {
  url: string;
  status: RelayStatus;
  lastError?: string;
  /** Open subscriptions on this relay. */
  subscriptions: number;
  /** Connections made so far (1 after the first, 2 after a reconnect...). */
  connects: number;
  /** When the current connection opened (ms since epoch), while connected. */
  connectedAt?: number;
  /** When the last connection was lost (ms since epoch), while not connected. */
  downSince?: number;
}

/** An event as the pool hands it on: the decoded event plus the TOON bytes as they arrived. */
export interface PoolEvent {
  event: NostrEvent;
  toon: Uint8Array;
  relayUrl: string;
  subscription: string;
}

export interface RelayPoolOptions {
  urls: string[];
  /** Key used to answer NIP-42 AUTH challenges (the Mayor's Nostr key). */
  secretKey?: Uint8Array;
  /** Ask relays for TOON delivery (`?encoding=toon`). Default true. */
  toon?: boolean;
  backoff?: BackoffOptions;
  /** Seconds subtracted from the newest seen created_at when resubscribing (clock skew, same-second events). Default 60. */
  catchUpMarginSeconds?: number;
  /** Called on every status change of a relay. */
  onStatus?: (state: RelayState) => void;
  /** Remembered ids for deduplication (default 50000). */
  dedupSize?: number;
  /** How `wss://` relays are verified: Node's CA store by default, or `ca`/`caPath` for a private CA. */
  tls?: ClientTlsOptions;
  /** Receives the plain-ws:// warning (non-loopback hosts). Default: console. */
  logger?: WarnLogger;
}

interface Sub {
  id: string;
  filters: Filter[];
  onEvent: (e: PoolEvent) => void;
  onEose?: (relayUrl: string) => void;
  /** Newest created_at seen on this subscription (Unix seconds), from any relay. */
  since?: number;
  /** The `since` the subscription was opened with (a saved resume point), for relays not followed yet. */
  startSince?: number;
  /**
   * Per relay URL: up to when (Unix seconds) this relay's stream was followed, i.e. when its connection dropped.
   * A relay's catch-up starts there, not at the newest event seen elsewhere: with several relays the others
   * keep `since` moving while this one is down, and events only it holds would otherwise be skipped.
   */
  covered: Map<string, number>;
  /** Relays this subscription's REQ is open on. */
  openOn: Set<string>;
}

interface Conn {
  url: string;
  ws?: WebSocket;
  state: RelayState;
  attempt: number;
  timer?: NodeJS.Timeout;
  pendingOk: Map<string, (r: { ok: boolean; reason: string }) => void>;
}

export class RelayPool {
  readonly #options: RelayPoolOptions;
  readonly #conns: Conn[];
  readonly #subs = new Map<string, Sub>();
  readonly #seen = new Set<string>();
  readonly #waiters: (() => void)[] = [];
  #closed = false;

  constructor(options: RelayPoolOptions) {
    if (options.urls.length === 0) {
      throw new MayorError(
        'BAD_OPTIONS',
        'No relay configured: set relay-urls (CROSSTOWN_RELAY_URL or --relay-urls) to at least one ws:// URL.',
      );
    }
    this.#options = options;
    this.#conns = [...new Set(options.urls)].map((url) => ({
      url,
      state: { url, status: 'disconnected', subscriptions: 0, connects: 0 },
      attempt: 0,
      pendingOk: new Map(),
    }));
  }

  /** Starts connecting to every relay; returns at once (see `waitConnected`). */
  start(): void {
    for (const c of this.#conns) this.#connect(c);
  }

  get urls(): string[] {
    return this.#conns.map((c) => c.url);
  }

  states(): RelayState[] {
    return this.#conns.map((c) => ({ ...c.state }));
  }

  get connected(): boolean {
    return this.#conns.some((c) => c.state.status === 'connected');
  }

  /** Resolves once at least one relay is connected; rejects after `timeoutMs`. */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const errors = this.#conns.map((c) => `${c.url}: ${c.state.lastError ?? c.state.status}`).join('; ');
        reject(
          new MayorError(
            'RELAY_UNAVAILABLE',
            `No relay reachable within ${timeoutMs} ms (${errors}). Check relay-urls and that the relay runs.`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Keeps a subscription open on every relay (and re-opens it after reconnects with `since`). Events are
   * delivered once per id across relays and reconnects. Returns a function that closes it.
   */
  subscribe(
    id: string,
    filters: Filter[],
    onEvent: (e: PoolEvent) => void,
    options: { since?: number; onEose?: (relayUrl: string) => void } = {},
  ): () => void {
    const sub: Sub = { id, filters, onEvent, covered: new Map(), openOn: new Set() };
    if (options.since !== undefined) {
      sub.since = options.since;
      sub.startSince = options.since;
    }
    if (options.onEose) sub.onEose = options.onEose;
    this.#subs.set(id, sub);
    for (const c of this.#conns) if (c.state.status === 'connected') this.#sendReq(c, sub, false);
    this.#countSubs();
    return () => {
      if (this.#subs.get(id) !== sub) return;
      this.#subs.delete(id);
      for (const c of this.#conns) this.#send(c, ['CLOSE', id]);
      this.#countSubs();
    };
  }

  /**
   * Where a restart should resume a subscription (to persist it): the newest created_at seen, or earlier when a
   * relay that was followed is down now (its stream is only complete up to when it dropped).
   */
  sinceOf(id: string): number | undefined {
    const sub = this.#subs.get(id);
    if (sub?.since === undefined) return sub?.since;
    let since = sub.since;
    for (const c of this.#conns) {
      const covered = sub.covered.get(c.url);
      if (c.state.status !== 'connected' && covered !== undefined) since = Math.min(since, covered);
    }
    return since;
  }

  /** Sends an EVENT to every connected relay; resolves with each relay's OK (free writes only: paid ones go over ILP). */
  async publish(
    event: NostrEvent,
    timeoutMs = 5000,
  ): Promise<{ url: string; ok: boolean; reason: string }[]> {
    const live = this.#conns.filter((c) => c.state.status === 'connected');
    if (live.length === 0) {
      throw new MayorError(
        'RELAY_UNAVAILABLE',
        `No relay is connected, so event ${event.id} was not published; it will be possible once a relay is back.`,
      );
    }
    return Promise.all(
      live.map(
        (c) =>
          new Promise<{ url: string; ok: boolean; reason: string }>((resolve) => {
            const timer = setTimeout(() => {
              c.pendingOk.delete(event.id);
              resolve({ url: c.url, ok: false, reason: `no OK within ${timeoutMs} ms` });
            }, timeoutMs);
            c.pendingOk.set(event.id, (r) => {
              clearTimeout(timer);
              resolve({ url: c.url, ...r });
            });
            this.#send(c, ['EVENT', event]);
          }),
      ),
    );
  }

  /** One-shot query on every connected relay until EOSE (or timeout); events deduplicated by id. */
  query(filters: Filter[], timeoutMs = 5000): Promise<PoolEvent[]> {
    const live = this.#conns.filter((c) => c.state.status === 'connected');
    if (live.length === 0) return Promise.resolve([]);
    const id = `q${Math.random().toString(36).slice(2, 10)}`;
    const found = new Map<string, PoolEvent>();
    // Relays still to answer: an EOSE, a CLOSED or a dropped connection each count as an answer.
    const waiting = new Set(live.map((c) => c.url));
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#subs.delete(id);
        for (const c of live) this.#send(c, ['CLOSE', id]);
        resolve([...found.values()]);
      };
      const timer = setTimeout(done, timeoutMs);
      const sub: Sub = {
        id,
        filters,
        onEvent: () => {},
        onEose: (url) => {
          if (waiting.delete(url) && waiting.size === 0) done();
        },
        covered: new Map(),
        openOn: new Set(),
      };
      // Queries bypass deduplication: the caller wants what the relay holds, seen before or not.
      sub.onEvent = (e) => found.set(e.event.id, e);
      this.#subs.set(id, sub);
      for (const c of live) this.#sendReq(c, sub, false);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      this.#conns.map(async (c) => {
        if (c.timer) clearTimeout(c.timer);
        const ws = c.ws;
        if (!ws || ws.readyState === WebSocket.CLOSED) return;
        await new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          ws.close();
          setTimeout(() => {
            ws.terminate();
            resolve();
          }, 1000).unref();
        });
      }),
    );
  }

  #setStatus(c: Conn, status: RelayStatus, error?: string): void {
    const { connectedAt: _connectedAt, downSince, ...rest } = c.state;
    c.state = {
      ...rest,
      status,
      ...(error !== undefined ? { lastError: error } : {}),
      ...(status === 'connected'
        ? { connectedAt: Date.now() }
        : downSince !== undefined
          ? { downSince }
          : {}),
    };
    this.#options.onStatus?.({ ...c.state });
  }

  #countSubs(): void {
    const n = [...this.#subs.keys()].filter((k) => !k.startsWith('q')).length;
    for (const c of this.#conns)
      c.state = { ...c.state, subscriptions: c.state.status === 'connected' ? n : 0 };
  }

  #connect(c: Conn): void {
    if (this.#closed) return;
    this.#setStatus(c, 'connecting');
    const url = this.#options.toon === false ? c.url : withToon(c.url);
    let ws: WebSocket;
    try {
      ws = createWebSocket(url, {
        ...(this.#options.tls ? { tls: this.#options.tls } : {}),
        ...(this.#options.logger ? { logger: this.#options.logger } : {}),
      });
    } catch (err) {
      // A bad URL or an unreadable CA file: shown on the relay's status; the pool keeps retrying (a file may
      // appear) rather than throwing out of a reconnect timer.
      this.#setStatus(c, 'error', (err as Error).message);
      this.#retry(c);
      return;
    }
    c.ws = ws;
    let failed = false;
    let opened = false;
    ws.on('open', () => {
      opened = true;
      c.attempt = 0;
      c.state = { ...c.state, connects: c.state.connects + 1 };
      this.#setStatus(c, 'connected');
      for (const sub of this.#subs.values()) this.#sendReq(c, sub, true);
      this.#countSubs();
      for (const w of this.#waiters.splice(0)) w();
    });
    ws.on('message', (data) => {
      mark('pool ws message');
      this.#onMessage(c, String(data));
    });
    ws.on('error', (err) => {
      failed = true;
      // connectError says whether the certificate (and which CA option to set) or the network failed.
      this.#setStatus(c, 'error', connectError(c.url, err).message);
    });
    ws.on('close', () => {
      for (const resolve of c.pendingOk.values()) resolve({ ok: false, reason: 'connection closed' });
      c.pendingOk.clear();
      if (opened) c.state = { ...c.state, downSince: Date.now() };
      const now = Math.floor(Date.now() / 1000);
      for (const sub of [...this.#subs.values()]) {
        if (!sub.openOn.delete(c.url)) continue;
        sub.covered.set(c.url, now);
        // A query waiting for this relay's EOSE gets nothing more from it.
        if (sub.id.startsWith('q')) sub.onEose?.(c.url);
      }
      if (this.#closed) {
        this.#setStatus(c, 'disconnected');
        return;
      }
      if (!failed) this.#setStatus(c, 'disconnected', c.state.lastError);
      this.#countSubs();
      this.#retry(c);
    });
  }

  #retry(c: Conn): void {
    if (this.#closed) return;
    const delay = backoffDelay(c.attempt++, this.#options.backoff);
    c.timer = setTimeout(() => this.#connect(c), delay);
  }

  #send(c: Conn, msg: unknown[]): void {
    if (c.ws?.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(msg));
  }

  #sendReq(c: Conn, sub: Sub, reconnect: boolean): void {
    const margin = this.#options.catchUpMarginSeconds ?? 60;
    // After a (re)connect, ask only for what may have been missed on this relay: since it dropped (or, for a
    // relay not followed yet, since the saved resume point), minus a margin for clock skew and late writes.
    const from = sub.covered.get(c.url) ?? sub.startSince;
    const since = from !== undefined ? Math.max(0, from - (reconnect ? margin : 0)) : undefined;
    // A filter's own `since` stays a lower bound: the caller never asked for anything older.
    const filters =
      since === undefined
        ? sub.filters
        : sub.filters.map((f) => ({ ...f, since: Math.max(f.since ?? 0, since) }));
    if (c.ws?.readyState === WebSocket.OPEN) sub.openOn.add(c.url);
    this.#send(c, ['REQ', sub.id, ...filters]);
  }

  #onMessage(c: Conn, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (!Array.isArray(msg)) return;
    const [type] = msg;
    if (type === 'EVENT' && typeof msg[1] === 'string') {
      const sub = this.#subs.get(msg[1]);
      if (!sub) return;
      let event: NostrEvent;
      let toon: Uint8Array;
      try {
        if (typeof msg[2] === 'string') {
          toon = new TextEncoder().encode(msg[2]);
          event = decodeEvent(msg[2]);
        } else {
          // A relay without TOON delivery sends JSON: encode it so skills always get TOON.
          event = msg[2] as NostrEvent;
          toon = encodeEventBytes(event);
        }
      } catch {
        return;
      }
      // `since` follows the events, but never past this clock: an event dated ahead (a provider's fast clock, or
      // anyone who pays for one write) would make the next REQ (a reconnect, a restart) skip everything until then.
      const at = Math.min(event.created_at, Math.floor(Date.now() / 1000));
      if ((sub.since === undefined || at > sub.since) && !sub.id.startsWith('q')) sub.since = at;
      if (!sub.id.startsWith('q')) {
        const key = `${sub.id}:${event.id}`;
        if (this.#seen.has(key)) return;
        this.#remember(key);
      }
      if (tracing) mark(`pool recv kind ${event.kind} sub ${sub.id} ${event.id.slice(0, 7)}`);
      sub.onEvent({ event, toon, relayUrl: c.url, subscription: sub.id });
    } else if (type === 'EOSE' && typeof msg[1] === 'string') {
      this.#subs.get(msg[1])?.onEose?.(c.url);
    } else if (type === 'OK' && typeof msg[1] === 'string') {
      const resolve = c.pendingOk.get(msg[1]);
      if (resolve) {
        c.pendingOk.delete(msg[1]);
        resolve({ ok: msg[2] === true, reason: String(msg[3] ?? '') });
      }
    } else if (type === 'AUTH' && typeof msg[1] === 'string' && this.#options.secretKey) {
      const auth = finalizeEvent(
        {
          kind: KIND_CLIENT_AUTH,
          tags: [
            ['relay', c.url],
            ['challenge', msg[1]],
          ],
          content: '',
        },
        this.#options.secretKey,
      );
      this.#send(c, ['AUTH', auth]);
    } else if (type === 'CLOSED' && typeof msg[1] === 'string') {
      const sub = this.#subs.get(msg[1]);
      if (sub?.onEose) sub.onEose(c.url);
      if (sub && !sub.id.startsWith('q') && /auth-required/.test(String(msg[2] ?? ''))) {
        // Typically the AUTH answer is still in flight: ask again shortly.
        setTimeout(() => this.#subs.get(sub.id) === sub && this.#sendReq(c, sub, false), 200);
      }
    }
  }

  #remember(key: string): void {
    this.#seen.add(key);
    const max = this.#options.dedupSize ?? 50_000;
    if (this.#seen.size > max) {
      // Sets iterate in insertion order: drop the oldest.
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }
}

function withToon(url: string): string {
  const u = new URL(url);
  u.searchParams.set('encoding', 'toon');
  return u.toString();
}
