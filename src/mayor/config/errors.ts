/** Why configuration is not usable. The message names the setting, the bad value, and how to fix it. */
export type ConfigErrorCode = 'INVALID_VALUE' | 'UNKNOWN_KEY' | 'NOT_SETTABLE' | 'BAD_FILE' | 'CONFLICT';

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code: ConfigErrorCode;
  /** The setting concerned, when there is one. */
  readonly key: string | undefined;
  constructor(code: ConfigErrorCode, message: string, key?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.key = key;
  }
}
