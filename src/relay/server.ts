import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  isEphemeralKind,
  KIND_GIFT_WRAP,
  KIND_SPSP_REQUEST,
  KIND_SPSP_RESPONSE,
  matchFilters,
  validateEventShape,
} from '../nostr/index.js';
import type { Filter, NostrEvent } from '../nostr/types.js';
import { loadFastVerifier, verifyWith } from '../nostr/verify-fast.js';
import { createPgLiveFeed, type PgLiveFeed } from '../store/live-feed.js';
import { PostgresEventStore } from '../store/postgres.js';
import type { SaveOutcome } from '../store/types.js';
import { decodeEvent } from '../toon/index.js';
import { countConnections } from '../transport/connection-limit.js';
import { createWebServer, loadServerTls } from '../transport/tls.js';
import { DEFAULT_LIMITS, type RelayLimits, type RelayOptions } from './config.js';
import { Connection, type Subscription } from './connection.js';
import { answerCount } from './count.js';
import { canDeliver, FrameCache } from './delivery.js';
import { createdAtProblem, createWriteGate, type HandlePrepare } from './gate.js';
import { GatePool } from './gate-pool.js';
import { claimedId, ProtocolError, parseClientMessage } from './messages.js';
import { ENCODINGS, type Encoding, infoDocument } from './nip11.js';
import { newChallenge, verifyAuth } from './nip42.js';
import type { PrepaidBalances } from './prepaid.js';
import { ipBudgetKey, RateLimiter } from './rate-limit.js';
import { refusedFrameEventId, refusedFrameSubscription } from './refused-frame.js';
import { certificateNames, type RelayUrlSeen, relayUrlSeenBy } from './relay-url.js';
import { prepaidFor, withStreamReceiver } from './stream-route.js';

export interface StartRelayOptions extends RelayOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  host?: string;
}

const HANDSHAKE_KINDS = new Set([KIND_SPSP_REQUEST, KIND_SPSP_RESPONSE]);
/**
 * How long a subscription remembers the stored events it sent before EOSE. With several processes, an event
 * committed elsewhere may be in the REQ's query result and still reach this process's live feed after EOSE;
 * remembering the ids keeps it from being sent twice. Feed delivery normally lags by milliseconds.
 */
const STORED_DEDUP_MS = 30_000;

/**
 * A NIP-01 relay: reads are free, writes arrive as paid ILP PREPAREs through `handlePrepare`. Over the
 * WebSocket only the SPSP handshake kinds and operator-configured free events may be written.
 * NIP-11 is served over HTTP on the same port.
 */
export class NostrRelay {
  readonly limits: RelayLimits;
  /** The write gate: give it a PREPARE whose data is a TOON event; it answers FULFILL or REJECT. */
  readonly handlePrepare: HandlePrepare;
  /** Balances topped up over STREAM (when the secret store names accounts), spent by underpaid writes. */
  readonly prepaid: PrepaidBalances | undefined;
  private readonly connections = new Set<Connection>();
  private readonly freeWrites = new Map<string, Set<number>>();
  private readonly perConnection: RateLimiter;
  private readonly perPubkey: RateLimiter;
  private readonly perIp: RateLimiter;
  private readonly global: RateLimiter;
  private readonly perConnectionFrames: RateLimiter;
  private readonly queryTime: RateLimiter;
  private readonly now: () => number;
  /** Over TLS, the names (DNS, IP) of our certificate: a Host header naming one is believed (relay-url.ts). */
  private readonly certNames: string[] | undefined;
  private readonly ilpAddress: string;
  private nextConnectionId = 1;
  /** Events other relay processes saved in the shared PostgreSQL database (undefined for other stores). */
  private feed: PgLiveFeed | undefined;
  /** The feed's own connections (one LISTENs), so that closing the store never waits for the relay's feed. */
  private feedPool: pg.Pool | undefined;

  private constructor(
    private readonly options: RelayOptions,
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    /** Verifies an event (recomputing its id): wasm on this thread, or a worker pool. */
    private readonly verify: (event: NostrEvent) => Promise<boolean>,
    private readonly pool: GatePool | undefined,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
    this.certNames = options.tls ? certificateNames(loadServerTls(options.tls).cert) : undefined;
    this.ilpAddress = options.ilpAddress ?? '';
    for (const { pubkey, kinds } of options.freeWrites ?? []) {
      const set = this.freeWrites.get(pubkey) ?? new Set<number>();
      for (const k of kinds) set.add(k);
      this.freeWrites.set(pubkey, set);
    }
    this.perConnection = new RateLimiter(
      options.handshakeLimits?.perConnection ?? { capacity: 20, perSecond: 1 },
      this.now,
    );
    this.perPubkey = new RateLimiter(
      options.handshakeLimits?.perPubkey ?? { capacity: 30, perSecond: 0.5 },
      this.now,
    );
    this.perIp = new RateLimiter(options.handshakeLimits?.perIp ?? { capacity: 60, perSecond: 1 }, this.now);
    this.global = new RateLimiter(
      options.handshakeLimits?.global ?? { capacity: 500, perSecond: 50 },
      this.now,
    );
    this.perConnectionFrames = new RateLimiter(
      options.messageRate ?? { capacity: 1000, perSecond: 500 },
      this.now,
    );
    this.queryTime = new RateLimiter(options.queryTime ?? { capacity: 5000, perSecond: 500 }, this.now);
    this.prepaid = prepaidFor(options.secrets, options.prepaidStore);
    const gate = createWriteGate({
      store: options.store,
      verify,
      ...(pool ? { decodeAndVerify: (data: Uint8Array) => pool.decodeAndVerify(data) } : {}),
      maxFutureSeconds: this.limits.maxFutureSeconds,
      maxPastSeconds: this.limits.maxPastSeconds,
      secrets: options.secrets,
      basePricePerByte: options.basePricePerByte,
      maxEventBytes: this.limits.maxEventBytes,
      ilpAddress: this.ilpAddress,
      deliver: (event) => this.publish(event),
      now: this.now,
      ...(options.onStoreError && { onStoreError: options.onStoreError }),
      ...(this.prepaid && { prepaid: this.prepaid }),
    });
    this.handlePrepare = withStreamReceiver(gate, {
      secrets: options.secrets,
      prepaid: this.prepaid,
      address: this.ilpAddress,
      asset: options.asset ?? { code: 'M2M', scale: 18 },
      now: this.now,
    });
    http.on('request', (req, res) => this.onHttp(req, res));
    wss.on('connection', (ws, req) => this.onConnection(ws, req));
  }

  /** Starts HTTP + WebSocket on `host:port` (default 127.0.0.1, a free port). */
  static async start(options: StartRelayOptions): Promise<NostrRelay> {
    if (options.basePricePerByte < 0n) throw new RangeError('basePricePerByte must be >= 0');
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    if (limits.hardMaxMessageBytes < limits.maxMessageBytes) {
      throw new RangeError('limits.hardMaxMessageBytes must be >= limits.maxMessageBytes');
    }
    const http = createWebServer(options.tls);
    // Frames up to the hard cap reach our handler (which answers NOTICE above maxMessageBytes); ws closes
    // the connection with 1009 beyond it rather than buffer an unbounded frame.
    const connections = countConnections(
      {
        maxConnections: limits.maxConnections ?? DEFAULT_LIMITS.maxConnections!,
        maxConnectionsPerAddress: limits.maxConnectionsPerIp ?? DEFAULT_LIMITS.maxConnectionsPerIp!,
      },
      (req) => ipBudgetKey(options.clientAddress?.(req) ?? req.socket.remoteAddress ?? ''),
    );
    // Raw sockets too (idle HTTP, half-open upgrades): a little above the WebSocket cap, which answers 503 first.
    http.maxConnections = (limits.maxConnections ?? DEFAULT_LIMITS.maxConnections!) + 256;
    const wss = new WebSocketServer({
      server: http,
      maxPayload: limits.hardMaxMessageBytes,
      verifyClient: connections.verifyClient,
    });
    const threads = options.verifyThreads ?? 0;
    const pool = threads > 0 ? new GatePool(threads) : undefined;
    await pool?.ready();
    const verifier = await loadFastVerifier();
    const verify = pool
      ? (event: NostrEvent) => pool.verify(event)
      : async (event: NostrEvent) => verifyWith(verifier, event);
    const relay = new NostrRelay(options, http, wss, verify, pool);
    const store = options.store;
    if (store instanceof PostgresEventStore && options.liveFeed !== false) {
      // One feed per process; our own saves are skipped: this process already delivered them after the commit.
      const feedOptions = options.liveFeed ?? {};
      // pg keeps the password as a non-enumerable property: copy it explicitly.
      const { password } = store.pool.options;
      relay.feedPool = new pg.Pool({
        ...store.pool.options,
        ...(password !== undefined && { password }),
        max: 2,
      });
      relay.feedPool.on('error', () => {}); // a dropped idle connection is replaced on the next query
      relay.feed = createPgLiveFeed(relay.feedPool, {
        skipOrigin: store.origin,
        onEvent: (event) => relay.publish(event),
        ...(feedOptions.pollIntervalMs !== undefined && { pollIntervalMs: feedOptions.pollIntervalMs }),
        ...(feedOptions.onError && { onError: feedOptions.onError }),
      });
      try {
        await relay.feed.start();
      } catch (err) {
        await relay.close();
        throw err;
      }
    }
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
    return relay;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    const { address, port } = this.http.address() as AddressInfo;
    const scheme = this.options.tls ? 'wss' : 'ws';
    return `${scheme}://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Delivers an accepted event to every open subscription it matches (and may be shown to). */
  publish(event: NostrEvent): void {
    const frames = new FrameCache(event);
    for (const conn of this.connections) {
      if (!canDeliver(event, conn)) continue;
      for (const sub of conn.subs.values()) {
        if (!matchFilters(sub.filters, event)) continue;
        if (sub.pending) sub.pending.push(event);
        else if (sub.sentStored?.has(event.id)) continue;
        else conn.sendText(frames.frame(sub.id, conn.encoding));
      }
    }
  }

  /** Closes every connection and the listener. The store stays open: its owner closes it. */
  async close(): Promise<void> {
    await this.feed?.stop();
    await this.feedPool?.end();
    for (const conn of this.connections) conn.ws.terminate();
    this.connections.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    await this.pool?.close();
  }

  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': '*',
      'access-control-allow-methods': 'GET, OPTIONS',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    if ((req.headers.accept ?? '').includes('application/nostr+json')) {
      const doc = infoDocument(
        this.options.info ?? {},
        this.limits,
        this.options.basePricePerByte,
        this.ilpAddress,
      );
      res.writeHead(200, { ...cors, 'content-type': 'application/nostr+json' }).end(JSON.stringify(doc));
      return;
    }
    res
      .writeHead(200, { ...cors, 'content-type': 'text/plain; charset=utf-8' })
      .end(
        'crosstown relay: connect with a Nostr client over WebSocket, or GET with Accept: application/nostr+json\n',
      );
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const requested = new URL(req.url ?? '/', 'ws://relay').searchParams.get('encoding') ?? 'json';
    const known = (ENCODINGS as readonly string[]).includes(requested);
    const conn = new Connection(
      `c${this.nextConnectionId++}`,
      ws,
      known ? (requested as Encoding) : 'json',
      this.limits.maxBufferedBytes,
      req.socket,
    );
    this.connections.add(conn);
    // Without an error listener ws would rethrow protocol errors (oversized or invalid frames) and kill the process.
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.connections.delete(conn);
      this.perConnectionFrames.forget(conn.id);
    });
    ws.on('message', (data, isBinary) => {
      this.onMessage(conn, data as Buffer, isBinary).catch((err: unknown) => {
        conn.send(['NOTICE', `error: ${(err as Error).message}`]);
      });
    });
    if (!known)
      conn.send([
        'NOTICE',
        `unknown encoding '${requested}'; using json (available: ${ENCODINGS.join(', ')})`,
      ]);
    const seen: RelayUrlSeen = this.options.relayUrl
      ? { url: this.options.relayUrl }
      : relayUrlSeenBy(req, this.certNames);
    if ('url' in seen) conn.relayUrl = seen.url;
    else conn.authRefusal = seen.refused;
    conn.ip = this.options.clientAddress?.(req) ?? req.socket.remoteAddress ?? '';
    conn.challengeIssuedAt = this.now();
    conn.send(['AUTH', conn.challenge]);
  }

  private async onMessage(conn: Connection, data: Buffer, isBinary: boolean): Promise<void> {
    if (!this.perConnectionFrames.take(conn.id)) {
      const { capacity, perSecond } = this.perConnectionFrames.limit;
      this.refuseFrame(
        conn,
        data,
        `rate-limited: more than ${perSecond} messages/s (burst ${capacity}) on this connection; frame ignored`,
      );
      return;
    }
    if (isBinary) {
      conn.send(['NOTICE', 'invalid: binary frames are not accepted; send JSON text']);
      return;
    }
    if (data.length > this.limits.maxMessageBytes) {
      this.refuseFrame(
        conn,
        data,
        `invalid: message of ${data.length} bytes exceeds max_message_length ${this.limits.maxMessageBytes}`,
      );
      return;
    }
    let message: ReturnType<typeof parseClientMessage>;
    try {
      message = parseClientMessage(data.toString('utf8'), this.limits);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      if (err.reply[0] === 'CLOSED') conn.subs.delete(err.reply[1]);
      conn.send(err.reply);
      return;
    }
    switch (message.type) {
      case 'EVENT':
        return this.onEvent(conn, message.event);
      case 'REQ':
        // Only ephemeral kinds (an SPSP handshake's answer, the node's own SPSP listener): nothing stored to read, and
        // a budget used up by others on its address must not cut a handshake.
        if (message.filters.every(onlyEphemeral)) return this.onReq(conn, message.subId, message.filters);
        return this.timed(conn, message.subId, () => this.onReq(conn, message.subId, message.filters));
      case 'COUNT':
        return this.timed(conn, message.subId, () =>
          answerCount(conn, this.options.store, message.subId, message.filters, this.limits.maxCountRows),
        );
      case 'CLOSE':
        conn.subs.delete(message.subId);
        return;
      case 'AUTH':
        return this.onAuth(conn, message.event);
    }
  }

  /**
   * Runs a REQ or COUNT within its client address's query time (`queryTime`), charging what it took; an address
   * that used its budget is answered CLOSED until it refills.
   */
  private async timed(conn: Connection, subId: string, query: () => Promise<void>): Promise<void> {
    const key = ipBudgetKey(conn.ip);
    if (!this.queryTime.available(key)) {
      const { capacity, perSecond } = this.queryTime.limit;
      conn.subs.delete(subId);
      conn.send([
        'CLOSED',
        subId,
        `rate-limited: queries from your address used their time (${capacity} ms at once, ${perSecond} ms more per second); retry in a few seconds`,
      ]);
      return;
    }
    const started = performance.now();
    try {
      await query();
    } finally {
      this.queryTime.charge(key, performance.now() - started);
    }
  }

  /** A frame refused unparsed: a REQ or COUNT is CLOSED with its id (clients wait on it), anything else NOTICEd. */
  private refuseFrame(conn: Connection, data: Buffer, reason: string): void {
    const sub = refusedFrameSubscription(data, this.limits.maxSubIdLength);
    if (!sub) {
      const eventId = refusedFrameEventId(data);
      conn.send(eventId ? ['OK', eventId, false, reason] : ['NOTICE', reason]);
      return;
    }
    // The client drops a subscription it sees CLOSED: so does the relay (a REQ may have replaced an open one).
    if (sub.verb === 'REQ') conn.subs.delete(sub.subId);
    conn.send(['CLOSED', sub.subId, reason]);
  }

  private async onEvent(conn: Connection, raw: unknown): Promise<void> {
    let event: NostrEvent;
    try {
      // A string is a TOON-encoded event, the mirror of TOON delivery.
      event = typeof raw === 'string' ? decodeEvent(raw) : validateEventShape(raw);
    } catch (err) {
      const id = claimedId(raw);
      const reason = `invalid: ${(err as Error).message}`;
      conn.send(id ? ['OK', id, false, reason] : ['NOTICE', reason]);
      return;
    }
    const reply = (ok: boolean, reason = '') => conn.send(['OK', event.id, ok, reason]);
    const isHandshake = HANDSHAKE_KINDS.has(event.kind);
    const isFree = this.freeWrites.get(event.pubkey)?.has(event.kind) ?? false;
    // Policy before verification: refusing an unpaid write must not cost a signature check.
    if (!isHandshake && !isFree) {
      reply(
        false,
        `restricted: payment required; send the TOON-encoded event in an ILP PREPARE to ${this.ilpAddress || 'this relay'} paying ${this.options.basePricePerByte} per byte`,
      );
      return;
    }
    const size = Buffer.byteLength(JSON.stringify(event));
    if (size > this.limits.maxFreeEventBytes) {
      reply(
        false,
        `restricted: free events are at most ${this.limits.maxFreeEventBytes} bytes (this one is ${size}); pay for larger writes over ILP`,
      );
      return;
    }
    const tooFar = createdAtProblem(
      event,
      this.now(),
      this.limits.maxFutureSeconds,
      this.limits.maxPastSeconds,
    );
    if (tooFar) {
      reply(false, tooFar);
      return;
    }
    if (!(await this.verify(event))) {
      reply(false, 'invalid: event id is not the hash of its fields or the signature does not verify');
      return;
    }
    if (isHandshake) {
      const limited = handshakeLimited([
        [this.perConnection, conn.id, 'on this connection'],
        [this.perPubkey, event.pubkey, 'from this pubkey'],
        [this.perIp, ipBudgetKey(conn.ip), 'from this IP address'],
        [this.global, '*', 'on this relay (all clients)'],
      ]);
      if (limited) {
        reply(false, `rate-limited: too many SPSP handshake events ${limited}; slow down and retry`);
        return;
      }
      this.publish(event);
      // Through the store so that a shared (PostgreSQL) store hands it to the other relay processes, where the
      // recipient may be listening; other stores do nothing with an ephemeral event.
      try {
        await this.options.store.save(event);
      } catch (err) {
        reply(
          false,
          `error: delivered on this relay process only; could not share it with the others: ${(err as Error).message}`,
        );
        return;
      }
      reply(true);
      return;
    }
    let outcome: SaveOutcome;
    try {
      outcome = await this.options.store.save(event);
    } catch (err) {
      this.options.onStoreError?.(err as Error, event);
      reply(false, `error: could not store the event: ${(err as Error).message}`);
      return;
    }
    switch (outcome.status) {
      case 'stored':
      case 'ephemeral':
        this.publish(event);
        reply(true);
        return;
      case 'duplicate':
        reply(true, 'duplicate: already have this event');
        return;
      case 'stale':
        reply(false, `duplicate: a newer version of this replaceable event is stored (${outcome.newerId})`);
        return;
      case 'deleted':
        reply(false, 'blocked: the author asked to delete this event (NIP-09); it is not stored again');
        return;
    }
  }

  private async onReq(conn: Connection, subId: string, filters: Filter[]): Promise<void> {
    if (!conn.subs.has(subId) && conn.subs.size >= this.limits.maxSubscriptions) {
      conn.send([
        'CLOSED',
        subId,
        `restricted: at most ${this.limits.maxSubscriptions} open subscriptions; CLOSE one first`,
      ]);
      return;
    }
    if (
      conn.authed.size === 0 &&
      filters.every((f) => f.kinds?.length && f.kinds.every((k) => k === KIND_GIFT_WRAP))
    ) {
      conn.subs.delete(subId);
      conn.send([
        'CLOSED',
        subId,
        'auth-required: gift wraps are served only to their AUTHenticated recipient',
      ]);
      return;
    }
    // Registered before the query so events published meanwhile are buffered, not lost.
    const sub: Subscription = { id: subId, filters, pending: [] };
    conn.subs.set(subId, sub);
    let stored: NostrEvent[];
    try {
      // Gift wraps for other recipients are excluded inside the query, so they cannot eat into a filter's limit.
      stored = await this.options.store.query(filters, {
        maxLimit: this.limits.maxLimit,
        hiddenUnlessTagged: { kind: KIND_GIFT_WRAP, tag: 'p', values: [...conn.authed] },
      });
    } catch (err) {
      if (conn.subs.get(subId) === sub) conn.subs.delete(subId);
      conn.send(['CLOSED', subId, `error: could not query stored events: ${(err as Error).message}`]);
      return;
    }
    if (conn.subs.get(subId) !== sub) return; // closed or replaced while querying
    const sent = new Set<string>();
    for (const event of stored) {
      if (!canDeliver(event, conn)) continue;
      conn.sendText(new FrameCache(event).frame(subId, conn.encoding));
      sent.add(event.id);
    }
    conn.send(['EOSE', subId]);
    const pending = sub.pending ?? [];
    sub.pending = null;
    if (this.feed && sent.size > 0) {
      sub.sentStored = sent;
      setTimeout(() => {
        if (sub.sentStored === sent) sub.sentStored = undefined;
      }, STORED_DEDUP_MS).unref();
    }
    for (const event of pending) {
      if (!sent.has(event.id) && canDeliver(event, conn)) {
        conn.sendText(new FrameCache(event).frame(subId, conn.encoding));
      }
    }
  }

  private onAuth(conn: Connection, raw: unknown): void {
    try {
      if (this.now() - conn.challengeIssuedAt > this.limits.authWindowSeconds * 1000) {
        // A challenge is good for authWindowSeconds; the client answers the new one.
        conn.challenge = newChallenge();
        conn.challengeIssuedAt = this.now();
        conn.send(['AUTH', conn.challenge]);
        throw new Error(
          `restricted: AUTH challenge is older than ${this.limits.authWindowSeconds}s; answer the new challenge just sent`,
        );
      }
      if (conn.authRefusal) throw new Error(conn.authRefusal);
      const event = verifyAuth(
        raw,
        conn.challenge,
        conn.relayUrl,
        Math.floor(this.now() / 1000),
        this.limits.authWindowSeconds,
      );
      conn.authed.add(event.pubkey);
      conn.send(['OK', event.id, true, '']);
    } catch (err) {
      const message = (err as Error).message;
      conn.send(['OK', claimedId(raw) ?? '', false, message.includes(':') ? message : `invalid: ${message}`]);
    }
  }
}

/**
 * Takes one token from each budget in order and names the first that is empty (undefined: all had room). A
 * refusal by a later budget does not give back the earlier tokens: a client that hits any limit pays for trying.
 */
function handshakeLimited(budgets: [RateLimiter, string, string][]): string | undefined {
  for (const [limiter, key, what] of budgets) if (!limiter.take(key)) return what;
  return undefined;
}

/** Starts a relay; see NostrRelay. */
export function startRelay(options: StartRelayOptions): Promise<NostrRelay> {
  return NostrRelay.start(options);
}

/** A filter that names only ephemeral kinds (20000-29999): the store holds none of them. */
function onlyEphemeral(filter: Filter): boolean {
  return filter.kinds !== undefined && filter.kinds.length > 0 && filter.kinds.every(isEphemeralKind);
}
