// BTP 2.0 server on WebSocket. The first frame must be an auth Message (`auth` + `auth_token`) with a token
// `authenticate` knows; anything else (text frames, malformed frames, wrong token, silence) drops the peer
// with a close reason. After that the connection is a BtpSession bound to the peer id.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { BtpPacketType, deserializeBtpPacket, readBtpAuthToken, serializeBtpPacket } from '../ilp/btp.js';
import { ipBudgetKey } from '../relay/rate-limit.js';
import { countConnections } from '../transport/connection-limit.js';
import { createWebServer, type ServerTlsOptions } from '../transport/tls.js';
import { BtpSession, type BtpSessionHandlers } from './btp-session.js';

export interface BtpServerOptions {
  port?: number;
  host?: string;
  /** The peer id a token belongs to, or undefined to refuse it. */
  authenticate: (token: string) => string | undefined;
  /** Handlers of an authenticated peer's session. */
  handlersFor: (peerId: string) => BtpSessionHandlers;
  onSession?: (peerId: string, session: BtpSession) => void;
  onSessionClosed?: (peerId: string, session: BtpSession) => void;
  /** Close connections that have not authenticated within this many ms. Default 5000. */
  authTimeoutMs?: number;
  /** Largest frame accepted; bigger ones close the connection (1009). Default 64 KiB (32767 B of ILP data fit). */
  maxFrameBytes?: number;
  /** Our ILP address (triggeredBy of rejects made in the session). */
  address?: string;
  /** Extra HTTP handler on the same port (e.g. SPSP); return true when it answered. */
  http?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Serve `wss://` (and the extra HTTP handler over https) with this certificate; plain `ws://` without it. */
  tls?: ServerTlsOptions;
  /** Open connections in all (default 2,000) and from one address, IPv6 by /64 (default 64); more get HTTP 503. */
  maxConnections?: number;
  maxConnectionsPerIp?: number;
}

/** WebSocket close codes used when dropping a peer. */
export const BTP_CLOSE = { policy: 1008, unsupported: 1003, replaced: 4000 } as const;

export class BtpServer {
  private readonly sessions = new Map<string, BtpSession>();

  private constructor(
    private readonly options: BtpServerOptions,
    private readonly httpServer: Server,
    private readonly wss: WebSocketServer,
  ) {
    wss.on('connection', (ws) => this.onConnection(ws));
    httpServer.on('request', (req, res) => {
      if (options.http?.(req, res)) return;
      res.writeHead(426, { 'content-type': 'text/plain' }).end('BTP endpoint: connect with a WebSocket\n');
    });
  }

  static async start(options: BtpServerOptions): Promise<BtpServer> {
    const httpServer = createWebServer(options.tls);
    // Peers are few and authenticated, but anyone can open a socket and hold it until the auth timeout.
    const connections = countConnections(
      {
        maxConnections: options.maxConnections ?? 2_000,
        maxConnectionsPerAddress: options.maxConnectionsPerIp ?? 64,
      },
      (req) => ipBudgetKey(req.socket.remoteAddress ?? ''),
    );
    httpServer.maxConnections = (options.maxConnections ?? 2_000) + 256; // raw sockets too (SPSP over HTTP shares the port)
    const wss = new WebSocketServer({
      server: httpServer,
      maxPayload: options.maxFrameBytes ?? 64 * 1024,
      verifyClient: connections.verifyClient,
    });
    const server = new BtpServer(options, httpServer, wss);
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  get port(): number {
    return (this.httpServer.address() as AddressInfo).port;
  }

  /** The URL a local peer connects to (127.0.0.1: the test certificates and the default listener cover it). */
  get url(): string {
    return `${this.options.tls ? 'wss' : 'ws'}://127.0.0.1:${this.port}`;
  }

  /** The open session of a peer, if it is connected. */
  session(peerId: string): BtpSession | undefined {
    return this.sessions.get(peerId);
  }

  /** Drops a peer's connection (e.g. when its account is removed). */
  disconnect(peerId: string, reason: string): void {
    this.sessions.get(peerId)?.close(BTP_CLOSE.policy, reason);
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) s.close(1001, 'server shutting down');
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.httpServer.closeAllConnections();
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
  }

  private onConnection(ws: WebSocket): void {
    // Without an error listener ws rethrows protocol errors (oversized or invalid frames) and kills the process.
    ws.on('error', () => ws.terminate());
    const drop = (reason: string, code: number = BTP_CLOSE.policy) => {
      clearTimeout(timer);
      // Close reasons are limited to 123 bytes.
      ws.close(code, Buffer.from(reason).subarray(0, 123).toString());
    };
    const timer = setTimeout(
      () => drop('authentication timeout: send an auth Message first'),
      this.options.authTimeoutMs ?? 5000,
    );
    ws.once('close', () => clearTimeout(timer));
    ws.once('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary)
        return drop('BTP frames are binary; text frames are not accepted', BTP_CLOSE.unsupported);
      const bytes = toBytes(data);
      let packet: ReturnType<typeof deserializeBtpPacket>;
      try {
        packet = deserializeBtpPacket(bytes);
      } catch (err) {
        return drop(`malformed BTP frame: ${(err as Error).message}`);
      }
      const token = readBtpAuthToken(packet);
      if (token === undefined)
        return drop('unauthenticated: the first BTP message must be auth with auth_token');
      const peerId = this.options.authenticate(token);
      if (peerId === undefined) return drop('authentication failed: unknown auth_token');
      clearTimeout(timer);
      this.attach(ws, peerId);
      ws.send(
        serializeBtpPacket({ type: BtpPacketType.Response, requestId: packet.requestId, protocolData: [] }),
      );
    });
  }

  private attach(ws: WebSocket, peerId: string): void {
    const session = new BtpSession(ws, this.options.handlersFor(peerId), this.options.address);
    const old = this.sessions.get(peerId);
    if (old) old.close(BTP_CLOSE.replaced, 'replaced by a newer connection of the same peer');
    this.sessions.set(peerId, session);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) return; // ignore stray text frames after auth rather than tear down paid traffic
      void session.handleFrame(toBytes(data));
    });
    ws.on('close', () => {
      if (this.sessions.get(peerId) === session) this.sessions.delete(peerId);
      this.options.onSessionClosed?.(peerId, session);
    });
    this.options.onSession?.(peerId, session);
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export { toBytes as rawDataToBytes };
