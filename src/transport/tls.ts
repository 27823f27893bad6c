// TLS settings shared by the relay and the connector (server side) and by their clients (Mayor side).
// PEM text or file paths, so an operator can point at the files certbot writes and tests can pass generated PEM.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { TransportError } from './errors.js';

type Pem = string | Buffer;

/** A server certificate: PEM text (`cert`, `key`) or files (`certPath`, `keyPath`). The cert may hold the chain. */
export interface ServerTlsOptions {
  cert?: Pem;
  key?: Pem;
  certPath?: string;
  keyPath?: string;
}

/**
 * How a client checks the server. Certificates are verified by default against Node's CA store; `ca` (PEM) or
 * `caPath` replaces that store with your own CA (e.g. a private network's). `rejectUnauthorized: false` turns
 * verification off, for debugging only.
 */
export interface ClientTlsOptions {
  ca?: Pem | Pem[];
  caPath?: string;
  rejectUnauthorized?: boolean;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TransportError(
      'TLS_CONFIG',
      `cannot read the TLS ${what} file ${path}: ${(err as Error).message}; check the path and its permissions`,
      { cause: err },
    );
  }
}

/** The PEM cert and key of a server TLS option, read from files when paths are given. */
export function loadServerTls(tls: ServerTlsOptions): { cert: Pem; key: Pem } {
  const cert = tls.cert ?? (tls.certPath ? readPem(tls.certPath, 'certificate') : undefined);
  const key = tls.key ?? (tls.keyPath ? readPem(tls.keyPath, 'private key') : undefined);
  if (!cert || !key) {
    throw new TransportError(
      'TLS_CONFIG',
      `TLS needs both a certificate and its private key; missing: ${[!cert && 'cert (or certPath)', !key && 'key (or keyPath)'].filter(Boolean).join(', ')}`,
    );
  }
  return { cert, key };
}

/** The ws/https options a client TLS option turns into (undefined fields are left out). */
export function clientTlsOptions(tls: ClientTlsOptions | undefined): {
  ca?: Pem | Pem[];
  rejectUnauthorized?: boolean;
} {
  if (!tls) return {};
  const ca = tls.ca ?? (tls.caPath ? readPem(tls.caPath, 'CA certificate') : undefined);
  return {
    ...(ca !== undefined && { ca }),
    ...(tls.rejectUnauthorized !== undefined && { rejectUnauthorized: tls.rejectUnauthorized }),
  };
}

/** An HTTP server, or HTTPS when `tls` is given; WebSocket servers attach to it (`ws://` or `wss://`). */
export function createWebServer(tls: ServerTlsOptions | undefined): Server {
  if (!tls) return createHttpServer();
  // An https.Server is an http.Server with TLS underneath: the same listen/close/request API.
  return createHttpsServer(loadServerTls(tls)) as unknown as Server;
}

/** Node's error codes for a certificate that did not verify. */
const CERT_ERROR_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True when `err` is Node's refusal of a server certificate. */
export function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && CERT_ERROR_CODES.has(code);
}

/** Turns a connection error into a TransportError whose message says what to do. */
export function connectError(url: string, err: unknown): TransportError {
  const e = err as Error & { code?: string };
  if (isCertificateError(e)) {
    return new TransportError(
      'TLS_CERTIFICATE',
      `the TLS certificate of ${url} was refused (${e.code}: ${e.message}); if the server uses a private CA, configure it as the client's tls.ca (PEM) or tls.caPath`,
      { cause: err },
    );
  }
  return new TransportError('CONNECT_FAILED', `cannot connect to ${url}: ${e.message}`, { cause: err });
}
