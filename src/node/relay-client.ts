// A minimal NIP-01 client the node uses on its own relay: publish an event (await OK) and hold one
// subscription. Going through the real WebSocket keeps the relay's own rules (free-write list, verification).
import WebSocket from 'ws';
import type { Filter, NostrEvent } from '../nostr/types.js';

export class RelayClient {
  private readonly pendingOk = new Map<string, (ok: { ok: boolean; reason: string }) => void>();
  private readonly subs = new Map<string, (event: NostrEvent) => void>();
  private readonly pendingEose = new Map<string, () => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.onMessage(String(data)));
    ws.on('error', () => {});
  }

  static async connect(
    url: string,
    timeoutMs = 5000,
    tls: { rejectUnauthorized?: boolean } = {},
  ): Promise<RelayClient> {
    const ws = new WebSocket(url, tls);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no connection to ${url} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return new RelayClient(ws);
  }

  /** Calls `fn` when the connection closes (not after `close()`). */
  onClose(fn: () => void): void {
    this.ws.once('close', () => fn());
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends `["EVENT", event]` and resolves with the relay's OK. */
  publish(event: NostrEvent, timeoutMs = 5000): Promise<{ ok: boolean; reason: string }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingOk.delete(event.id);
        reject(new Error(`no OK for event ${event.id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingOk.set(event.id, (ok) => {
        clearTimeout(timer);
        resolve(ok);
      });
      this.ws.send(JSON.stringify(['EVENT', event]));
    });
  }

  /** Opens a subscription; resolves at EOSE, when the relay is sure to deliver every later match. */
  subscribe(
    id: string,
    filters: Filter[],
    onEvent: (event: NostrEvent) => void,
    timeoutMs = 5000,
  ): Promise<void> {
    this.subs.set(id, onEvent);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingEose.delete(id);
        reject(new Error(`no EOSE for subscription ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingEose.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.send(JSON.stringify(['REQ', id, ...filters]));
    });
  }

  async close(): Promise<void> {
    this.ws.removeAllListeners('close');
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
      setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 1000).unref();
    });
  }

  private onMessage(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (!Array.isArray(msg)) return;
    if (msg[0] === 'OK' && typeof msg[1] === 'string') {
      this.pendingOk.get(msg[1])?.({ ok: msg[2] === true, reason: String(msg[3] ?? '') });
      this.pendingOk.delete(msg[1]);
    } else if (msg[0] === 'EOSE' && typeof msg[1] === 'string') {
      this.pendingEose.get(msg[1])?.();
      this.pendingEose.delete(msg[1]);
    } else if (msg[0] === 'CLOSED' && typeof msg[1] === 'string') {
      this.subs.delete(msg[1]);
    } else if (msg[0] === 'EVENT' && typeof msg[1] === 'string') {
      this.subs.get(msg[1])?.(msg[2] as NostrEvent);
    }
  }
}
