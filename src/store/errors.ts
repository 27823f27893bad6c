/** Why a store operation failed. `code` is stable; the message says what to do. */
export type StoreErrorCode = 'STORE_CLOSED' | 'STORE_OPEN_FAILED' | 'STORE_BAD_FILTER';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
