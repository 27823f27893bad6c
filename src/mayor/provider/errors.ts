export type ProviderErrorCode =
  | 'invalid_config'
  | 'invalid_input'
  | 'unsafe_archive'
  | 'git_failed'
  | 'no_sandbox'
  | 'no_engine'
  | 'state_corrupt'
  | 'result_too_large';

/** Every provider failure: `code` for programs, a message that says what was wrong and what to do. */
export class ProviderError extends Error {
  readonly code: ProviderErrorCode;
  constructor(code: ProviderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderError';
    this.code = code;
  }
}
