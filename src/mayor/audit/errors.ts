/** Why a payment audit operation failed. `code` is stable; the message says what to do. */
export type AuditErrorCode = 'INVALID_PAYMENT' | 'INVALID_RANGE' | 'LOG_CORRUPT';

export class AuditError extends Error {
  override name = 'AuditError';
  readonly code: AuditErrorCode;
  constructor(code: AuditErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
