/**
 * The one error type every ILP, OER and BTP decoder (and encoder) throws.
 * Callers can `catch (e) { if (e instanceof IlpCodecError) ... }` and answer F01 / drop the peer;
 * anything else escaping a decoder is a bug.
 */
export class IlpCodecError extends Error {
  override readonly name = 'IlpCodecError';
  /** Machine-readable reason, e.g. 'OER_TRUNCATED', 'BAD_ADDRESS', 'BTP_UNKNOWN_TYPE'. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
