// Expiry with a safety margin per hop: the packet we forward expires `marginMs` before the one we received,
// so a FULFILL that arrives just in time downstream still reaches the sender before its PREPARE expires.
import { IlpError, IlpErrorCode } from '../../ilp/errors.js';
import type { Middleware } from '../pipeline.js';

export function expiry(opts: { marginMs: number; maxHoldMs: number; now: () => number }): Middleware {
  return (ctx, next) => {
    const now = opts.now();
    const expiresAt = ctx.incoming.expiresAt.getTime();
    if (expiresAt <= now) {
      throw new IlpError(
        IlpErrorCode.R00_TRANSFER_TIMED_OUT,
        `packet expired at ${ctx.incoming.expiresAt.toISOString()}; send it again with a later expiry`,
      );
    }
    if (expiresAt - now <= opts.marginMs) {
      throw new IlpError(
        IlpErrorCode.R02_INSUFFICIENT_TIMEOUT,
        `packet expires in ${expiresAt - now} ms; each hop needs more than ${opts.marginMs} ms`,
      );
    }
    const outgoing = Math.min(expiresAt - opts.marginMs, now + opts.maxHoldMs);
    ctx.outgoing = { ...ctx.outgoing, expiresAt: new Date(outgoing) };
    return next();
  };
}
