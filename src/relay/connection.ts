import WebSocket from 'ws';
import type { Filter, NostrEvent } from '../nostr/types.js';
import type { RelayMessage } from './messages.js';
import type { Encoding } from './nip11.js';
import { newChallenge } from './nip42.js';

export interface Subscription {
  id: string;
  filters: Filter[];
  /** Live events that arrived while the stored ones were being sent; null once EOSE went out. */
  pending: NostrEvent[] | null;
}

/** One client's WebSocket and what the relay knows about it. */
export class Connection {
  readonly challenge = newChallenge();
  /** Pubkeys this connection proved with NIP-42 AUTH (a client may authenticate several). */
  readonly authed = new Set<string>();
  readonly subs = new Map<string, Subscription>();

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    readonly encoding: Encoding,
  ) {}

  send(message: RelayMessage): void {
    this.sendText(JSON.stringify(message));
  }

  sendText(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }
}
