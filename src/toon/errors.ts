/**
 * What went wrong with a TOON payload:
 * - `TOON_SYNTAX`: the text is not valid TOON (the library's decoder rejected it).
 * - `TOON_SHAPE`: valid TOON, but not the expected value (not a NIP-01 event, no usable top-level `kind`).
 * - `TOON_TOO_LARGE`: the input is over the size limit, or nested too deeply to decode.
 * - `TOON_ENCODING`: bytes that are not valid UTF-8, or a value the encoder cannot represent.
 */
export type ToonErrorCode = 'TOON_SYNTAX' | 'TOON_SHAPE' | 'TOON_TOO_LARGE' | 'TOON_ENCODING';

export class ToonError extends Error {
  readonly code: ToonErrorCode;

  constructor(code: ToonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ToonError';
    this.code = code;
  }
}
