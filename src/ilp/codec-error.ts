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

/**
 * BTP decoding reuses IlpCodecError (codes 'BTP_*' for BTP-specific faults, 'OER_*' for framing),
 * so one `instanceof` check covers a whole BTP+ILP receive path. The alias exists for readability.
 */
export { IlpCodecError as BtpCodecError };
