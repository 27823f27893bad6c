// First check: a PREPARE the connector can reason about. The codec already enforced the wire format; this
// applies the connector's own limits.
import { IlpError, IlpErrorCode } from '../../ilp/errors.js';
import type { Middleware } from '../pipeline.js';

export function validate(opts: { address: string; maxDataBytes: number }): Middleware {
  return (ctx, next) => {
    const p = ctx.incoming;
    if (p.data.length > opts.maxDataBytes) {
      throw new IlpError(
        IlpErrorCode.F01_INVALID_PACKET,
        `packet data is ${p.data.length} bytes; this connector forwards at most ${opts.maxDataBytes}`,
      );
    }
    if (p.destination === opts.address) {
      throw new IlpError(
        IlpErrorCode.F02_UNREACHABLE,
        `${p.destination} is the connector itself, which receives no payments; address an account below it`,
      );
    }
    return next();
  };
}
