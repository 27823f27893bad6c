// The BTP client Mayors and connector-to-connector links use: connect, authenticate, send PREPAREs (many in
// flight, matched by requestId), answer incoming PREPAREs, send and receive claims, reconnect, close.
import type { Hex } from 'viem';
import WebSocket, { type RawData } from 'ws';
import {
  BtpPacketType,
  btpAuthMessage,
  deserializeBtpPacket,
  randomRequestId,
  serializeBtpPacket,
} from '../ilp/btp.js';
import type { IlpPrepare, IlpReply } from '../ilp/types.js';
import type { WarnLogger } from '../transport/plaintext.js';
import type { ClientTlsOptions } from '../transport/tls.js';
import { connectError } from '../transport/tls.js';
import { createWebSocket } from '../transport/websocket.js';
import { BTP_CLOSE, rawDataToBytes } from './btp-server.js';
import { BtpSession, type BtpSessionHandlers } from './btp-session.js';
import { toWebSocketUrl } from './btp-url.js';
import type { ClaimMessage } from './claim-message.js';
import { ConnectorError } from './errors.js';
import type { OwedStatus } from './owed-message.js';
import type { ChannelStatus } from './status-message.js';

export interface BtpClientOptions extends BtpSessionHandlers {
  /** btp+ws://, btp+wss://, ws:// or wss:// URL of the connector's BTP endpoint. */
  url: string;
  /** Certificate checks for wss://: verified by default; `ca` (PEM) or `caPath` for a private CA. */
  tls?: ClientTlsOptions;
  /** Receives the warning about plain ws:// to a non-loopback host. Default: console. */
  logger?: WarnLogger;
  authToken: string;
  /** Default timeout of a PREPARE when the caller gives none (ms). Default 30000. */
  timeoutMs?: number;
  /** Reconnect after an unexpected close, waiting this long (ms) between attempts. Off when undefined. */
  reconnectDelayMs?: number;
  /**
   * After the server closed us as replaced by a newer connection of the same peer (BTP_CLOSE.replaced), reconnect
   * only after this long (ms, default REPLACED_RETRY_MS), not after reconnectDelayMs.
   */
  replacedRetryMs?: number;
  onConnect?: () => void;
  onDisconnect?: (code: number, reason: string) => void;
  /** Our ILP address, triggeredBy of rejects made up locally. */
  address?: string;
}

/**
 * Wait before reconnecting after being replaced: another process connected with our credentials (the same Mayor or
 * node started twice). Reconnecting at once would replace it in turn, and the two would take turns every reconnect
 * delay, failing each other's packets; slowly, the link still comes back once the other process is gone.
 */
export const REPLACED_RETRY_MS = 60_000;

/** How long close() lets the requests being answered finish (a claim's ledger write, a PREPARE's handler). */
const CLOSE_ANSWER_MS = 2_000;

export class BtpClient {
  private session: BtpSession | undefined;
  private closing = false;

  private constructor(private readonly options: BtpClientOptions) {}

  /** Connects and authenticates; rejects with ConnectorError BTP_AUTH_FAILED if the server refuses. */
  static async connect(options: BtpClientOptions): Promise<BtpClient> {
    const client = new BtpClient(options);
    await client.open();
    return client;
  }

  get connected(): boolean {
    return this.session?.isOpen ?? false;
  }

  async sendPrepare(prepare: IlpPrepare, timeoutMs?: number): Promise<IlpReply> {
    return this.current().sendPrepare(prepare, timeoutMs ?? this.options.timeoutMs ?? 30_000);
  }

  async sendClaim(msg: ClaimMessage, timeoutMs?: number): Promise<void> {
    return this.current().sendClaim(msg, timeoutMs);
  }

  /** Asks the connector what it accepted on our channel and what we owe (see ClaimSender.resync). */
  async requestStatus(channelId: Hex, timeoutMs?: number): Promise<ChannelStatus> {
    return this.current().requestStatus(channelId, timeoutMs);
  }

  /** Asks the connector which of these packets (fulfilled by us) it holds as owed to us (`payment-owed-status`). */
  async requestOwed(conditions: string[], timeoutMs?: number): Promise<OwedStatus> {
    return this.current().requestOwed(conditions, timeoutMs);
  }

  async close(): Promise<void> {
    this.closing = true;
    const s = this.session;
    if (!s || s.ws.readyState === WebSocket.CLOSED) return;
    await s.answered(CLOSE_ANSWER_MS);
    await new Promise<void>((resolve) => {
      if (s.ws.readyState === WebSocket.CLOSED) return resolve();
      s.ws.once('close', () => resolve());
      s.close(1000, 'client closing');
    });
  }

  private current(): BtpSession {
    if (!this.session?.isOpen) throw new ConnectorError('BTP_CLOSED', `not connected to ${this.options.url}`);
    return this.session;
  }

  private async open(): Promise<void> {
    const o = this.options;
    const ws = createWebSocket(toWebSocketUrl(o.url), {
      ws: { maxPayload: 64 * 1024 },
      ...(o.tls && { tls: o.tls }),
      ...(o.logger && { logger: o.logger }),
    });
    ws.binaryType = 'nodebuffer';
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err) => {
        // The message says whether the certificate or the network failed; the TransportError is the cause.
        const why = connectError(o.url, err);
        reject(new ConnectorError('BTP_CLOSED', why.message, { cause: why }));
      });
    });
    ws.on('error', () => ws.terminate());
    // Authenticate before anything else: the server drops peers whose first frame is not auth.
    const requestId = randomRequestId();
    // Frames right behind the auth answer (e.g. the node asking payment-channel-status at once) arrive before
    // the session exists: keep them from the moment auth succeeds and hand them to the session.
    const early: Uint8Array[] = [];
    const keep = (data: RawData, isBinary: boolean) => {
      if (isBinary) early.push(rawDataToBytes(data));
    };
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => reject(new ConnectorError('BTP_AUTH_FAILED', why));
      ws.once('close', (code, reason) =>
        fail(`server closed the connection (${code}): ${reason.toString()}`),
      );
      ws.once('message', (data) => {
        try {
          const p = deserializeBtpPacket(rawDataToBytes(data));
          if (p.type === BtpPacketType.Response && p.requestId === requestId) {
            ws.on('message', keep);
            return resolve();
          }
          fail(`server answered auth with BTP type ${p.type}`);
        } catch (err) {
          fail(`malformed answer to auth: ${(err as Error).message}`);
        }
      });
      ws.send(serializeBtpPacket(btpAuthMessage(o.authToken, requestId)));
    }).catch((err: unknown) => {
      ws.terminate();
      throw err;
    });
    ws.removeAllListeners('close');
    const session = new BtpSession(ws, o, o.address);
    this.session = session;
    ws.off('message', keep);
    for (const frame of early) void session.handleFrame(frame);
    ws.on('message', (data, isBinary) => {
      if (isBinary) void session.handleFrame(rawDataToBytes(data));
    });
    ws.on('close', (code, reason) => {
      o.onDisconnect?.(code, reason.toString());
      if (this.closing || o.reconnectDelayMs === undefined) return;
      if (code === BTP_CLOSE.replaced) this.scheduleReconnect(o.replacedRetryMs ?? REPLACED_RETRY_MS);
      else this.scheduleReconnect();
    });
    o.onConnect?.();
  }

  private scheduleReconnect(delayMs = this.options.reconnectDelayMs): void {
    setTimeout(() => {
      if (this.closing) return;
      this.open().catch(() => this.scheduleReconnect());
    }, delayMs).unref();
  }
}
