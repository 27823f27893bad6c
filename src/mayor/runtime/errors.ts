// Errors of the Mayor runtime: a code a program can switch on, and a message that says what went wrong
// and what to do about it.
export type MayorErrorCode =
  | 'RELAY_UNAVAILABLE'
  | 'RELAY_REFUSED'
  | 'SPSP_TIMEOUT'
  | 'NODE_UNKNOWN'
  | 'PRICE_TOO_HIGH'
  | 'DEPOSIT_TOO_HIGH'
  | 'CHAIN_MISMATCH'
  | 'SETTLEMENT_MISMATCH'
  | 'SETTLEMENT_UNKNOWN'
  | 'CHAIN_RESET'
  | 'REDEEM_INCOMPLETE'
  | 'NOT_ATTACHED'
  | 'POST_REJECTED'
  | 'PAYMENT_REJECTED'
  | 'JOB_UNKNOWN'
  | 'STOPPED'
  | 'BAD_OPTIONS';

export class MayorError extends Error {
  readonly code: MayorErrorCode;
  constructor(code: MayorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MayorError';
    this.code = code;
  }
}
