// After a verified FULFILL from a peer we forwarded to, we owe that peer the amount: record the packet and
// let the settlement side sign a claim when the owed amount reaches the threshold.
import { IlpPacketType } from '../../ilp/types.js';
import type { Middleware } from '../pipeline.js';

export function settle(
  onFulfilledByPeer: (peerId: string, condition: string, amount: bigint) => void | Promise<void>,
): Middleware {
  return async (ctx, next) => {
    const reply = await next();
    const hop = ctx.nextHop;
    if (reply.type === IlpPacketType.Fulfill && hop?.kind === 'peer' && ctx.outgoing.amount > 0n) {
      await onFulfilledByPeer(
        hop.peerId,
        Buffer.from(ctx.outgoing.executionCondition).toString('hex'),
        ctx.outgoing.amount,
      );
    }
    return reply;
  };
}
