// The chain module's error type, apart from the viem-based decoding in errors.ts: units and the CLI use it
// without loading viem (start-up time, docs/cli.md "Start-up").

export class ChainError extends Error {
  override name = 'ChainError';
  constructor(
    /** Stable code: a Solidity error name (e.g. `ChallengeWindowActive`) or a client-side code. */
    readonly code: string,
    message: string,
    /** Decoded arguments of the Solidity error, when there was one. */
    readonly args: readonly unknown[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
