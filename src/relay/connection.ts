import WebSocket from 'ws';
import type { Filter, NostrEvent } from '../nostr/types.js';
import { type Corkable, TickCork } from '../transport/tick-cork.js';
import type { RelayMessage } from './messages.js';
import type { Encoding } from './nip11.js';
import { newChallenge } from './nip42.js';

export interface Subscription {
  id: string;
  filters: Filter[];
  /** Live events that arrived while the stored ones were being sent; null once EOSE went out. */
  pending: NostrEvent[] | null;
  /** Ids of stored events sent before EOSE, kept briefly so a live copy from another process is not sent again. */
  sentStored?: Set<string>;
}

/** One client's WebSocket and what the relay knows about it. */
export class Connection {
  /** The NIP-42 challenge and when it was issued (ms): AUTH must answer a fresh one; a stale one is replaced. */
  challenge = newChallenge();
  challengeIssuedAt = 0;
  /** The relay URL this client reached (public URL setting, else scheme + Host header + path): AUTH must name it. */
  relayUrl = '';
  /** Set when the client's Host header names no address of ours (relay-url.ts): its AUTH is refused with this. */
  authRefusal: string | undefined;
  /** The client's IP address (the socket's peer): per-IP budgets of free writes. */
  ip = '';
  /** Pubkeys this connection proved with NIP-42 AUTH (a client may authenticate several). */
  readonly authed = new Set<string>();
  readonly subs = new Map<string, Subscription>();

  /** Set once the connection was dropped for reading too slowly. */
  dropped = false;
  /**
   * Fan-out sends many frames to one connection in the same tick (one per matching subscription, one per event
   * of a group commit): they leave in one socket write.
   */
  private readonly cork: TickCork;

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    readonly encoding: Encoding,
    /** Most bytes that may wait unsent in the socket before the reader counts as too slow. */
    readonly maxBufferedBytes = Number.POSITIVE_INFINITY,
    /** The TCP (or TLS) socket under `ws` (the upgrade request's socket): corked to batch frames. */
    socket?: Corkable,
  ) {
    this.cork = new TickCork(() => socket);
  }

  send(message: RelayMessage): void {
    this.sendText(JSON.stringify(message));
  }

  sendText(text: string): void {
    if (this.ws.readyState !== WebSocket.OPEN || this.dropped) return;
    if (this.ws.bufferedAmount + text.length > this.maxBufferedBytes) {
      this.dropSlowReader();
      return;
    }
    this.cork.hold();
    this.ws.send(text);
  }

  /**
   * A reader that does not keep up would make the relay buffer without bound. Close with 1008 and a reason;
   * the close frame waits behind the unsent data, so the socket is destroyed if it has not closed 2 s later.
   */
  private dropSlowReader(): void {
    this.dropped = true;
    this.ws.close(
      1008,
      `slow reader: more than ${this.maxBufferedBytes} bytes unsent; read faster or use smaller limits`,
    );
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }
}
