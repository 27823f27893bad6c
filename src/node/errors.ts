/** Why the node cannot start or run. The message names the setting or part, what was wrong, and what to do. */
export type NodeErrorCode = 'BAD_CONFIG' | 'MISSING_KEY' | 'BAD_KEY' | 'START_FAILED';

export class NodeError extends Error {
  override name = 'NodeError';
  constructor(
    readonly code: NodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
