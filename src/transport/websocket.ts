// Opening a client WebSocket the same way everywhere: certificates verified (custom CA possible), the plain-ws
// warning, and errors that say whether the certificate or the network failed.
import WebSocket, { type ClientOptions } from 'ws';
import { TransportError } from './errors.js';
import { type WarnLogger, warnIfPlaintext } from './plaintext.js';
import { type ClientTlsOptions, clientTlsOptions, connectError } from './tls.js';

export interface WebSocketClientOptions {
  tls?: ClientTlsOptions;
  /** Receives the plain-ws warning. Default: console. */
  logger?: WarnLogger;
  /** Extra ws options (maxPayload, headers…). */
  ws?: ClientOptions;
}

/** A ws WebSocket (not yet open) with the TLS options applied; warns about plain ws:// to a remote host. */
export function createWebSocket(url: string, options: WebSocketClientOptions = {}): WebSocket {
  warnIfPlaintext(url, options.logger);
  return new WebSocket(url, { ...options.ws, ...clientTlsOptions(options.tls) });
}

/**
 * Opens a WebSocket and resolves once it is open. Rejects with a TransportError: TLS_CERTIFICATE when the server's
 * certificate was refused, CONNECT_FAILED otherwise (including the timeout).
 */
export async function connectWebSocket(
  url: string,
  options: WebSocketClientOptions & { timeoutMs?: number } = {},
): Promise<WebSocket> {
  const ws = createWebSocket(url, options);
  const timeoutMs = options.timeoutMs ?? 10_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new TransportError('CONNECT_FAILED', `no connection to ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(connectError(url, err));
    });
  });
  return ws;
}
