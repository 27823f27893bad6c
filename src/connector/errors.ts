// Errors of the connector outside the ILP packet path (packet failures are IlpError -> REJECT).
export type ConnectorErrorCode =
  | 'BTP_AUTH_FAILED'
  | 'BTP_CLOSED'
  | 'BTP_TIMEOUT'
  | 'BTP_REMOTE_ERROR'
  | 'BTP_BAD_FRAME'
  | 'PEER_EXISTS'
  | 'UNKNOWN_PEER'
  | 'BAD_CONFIG'
  | 'CLAIM_MALFORMED'
  | 'CLAIM_UNKNOWN_PACKET'
  | 'CLAIM_NO_SETTLEMENT'
  | 'CLAIM_WRONG_CHANNEL'
  | 'CLAIM_REJECTED'
  | 'SETTLEMENT_FAILED'
  | 'CHAIN_MISMATCH'
  | 'REDEEM_INCOMPLETE'
  | 'STATUS_MALFORMED'
  | 'STATUS_REFUSED'
  | 'OWED_MALFORMED'
  | 'RESYNC_BAD_STATUS'
  | 'RESYNC_OWED_TOO_HIGH'
  | 'RATE_LIMITED';

export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
