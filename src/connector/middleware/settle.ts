// After a verified FULFILL from a peer we forwarded to, we owe that peer the amount: record the packet and
// let the settlement side sign a claim when the owed amount reaches the threshold. The sending peer's debt for the
// same packet (balance, further out) is queued in the same turn, so both records share one commit.
import { IlpPacketType } from '../../ilp/types.js';
import type { Middleware } from '../pipeline.js';

export function settle(
  onFulfilledByPeer: (
    peerId: string,
    condition: string,
    amount: bigint,
    fulfillment: string,
  ) => void | Promise<void>,
): Middleware {
  return async (ctx, next) => {
    const reply = await next();
    const hop = ctx.nextHop;
    if (reply.type === IlpPacketType.Fulfill && hop?.kind === 'peer' && ctx.outgoing.amount > 0n) {
      const fulfillment = Buffer.from(reply.fulfillment).toString('hex');
      const owed = onFulfilledByPeer(
        hop.peerId,
        Buffer.from(ctx.outgoing.executionCondition).toString('hex'),
        ctx.outgoing.amount,
        fulfillment,
      );
      // Its outcome is balance's to handle; if ours fails (the same commit), this throws as before.
      ctx.recordIncoming?.(fulfillment).catch(() => {});
      await owed;
    }
    return reply;
  };
}
