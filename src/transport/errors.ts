export type TransportErrorCode =
  /** The server's certificate did not verify (unknown CA, wrong host name, expired, self-signed). */
  | 'TLS_CERTIFICATE'
  /** A TLS option is missing, unreadable or incomplete (cert without key, unreadable file). */
  | 'TLS_CONFIG'
  /** The connection could not be opened (refused, timeout, DNS). */
  | 'CONNECT_FAILED';

/** A failure to set up or open a WebSocket transport. The message says what was wrong and what to do. */
export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}
