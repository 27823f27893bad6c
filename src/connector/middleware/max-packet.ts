// Largest single packet per peer (RFC 0027 F08; data = received and maximum amounts, uint64 big-endian each).
import { IlpError, IlpErrorCode } from '../../ilp/errors.js';
import type { Middleware } from '../pipeline.js';

export function maxPacketAmount(limitFor: (peerId: string) => bigint | undefined): Middleware {
  return (ctx, next) => {
    const max = limitFor(ctx.fromPeer);
    if (max !== undefined && ctx.incoming.amount > max) {
      const data = new Uint8Array(16);
      const view = new DataView(data.buffer);
      view.setBigUint64(0, ctx.incoming.amount);
      view.setBigUint64(8, max);
      throw new IlpError(
        IlpErrorCode.F08_AMOUNT_TOO_LARGE,
        `packet amount ${ctx.incoming.amount} exceeds the maximum ${max} per packet; split the payment`,
        { data },
      );
    }
    return next();
  };
}
