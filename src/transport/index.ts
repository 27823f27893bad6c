export { TransportError, type TransportErrorCode } from './errors.js';
export { isLoopbackHost, resetPlaintextWarnings, type WarnLogger, warnIfPlaintext } from './plaintext.js';
export {
  type ClientTlsOptions,
  clientTlsOptions,
  connectError,
  createWebServer,
  isCertificateError,
  loadServerTls,
  type ServerTlsOptions,
} from './tls.js';
export { connectWebSocket, createWebSocket, type WebSocketClientOptions } from './websocket.js';
