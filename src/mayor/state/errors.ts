/** Why a state repository operation failed. `code` is stable; the message says what was wrong and what to do. */
export type StateErrorCode =
  | 'INVALID_TRANSITION'
  | 'INVALID_RECORD'
  | 'UNKNOWN_JOB'
  | 'UNKNOWN_CHAIN'
  | 'REPO_LOCKED'
  | 'REPO_CORRUPT'
  | 'GIT_FAILED'
  | 'CLOSED';

export class StateError extends Error {
  override name = 'StateError';
  readonly code: StateErrorCode;
  constructor(code: StateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
