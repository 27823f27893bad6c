// Every hop checks SHA-256(fulfillment) == condition before passing a FULFILL back or crediting anyone.
import { IlpErrorCode, rejectOf } from '../../ilp/errors.js';
import { verifyFulfillment as matches } from '../../ilp/fulfillment.js';
import { IlpPacketType } from '../../ilp/types.js';
import type { Middleware } from '../pipeline.js';

export function verifyFulfillment(address: string): Middleware {
  return async (ctx, next) => {
    const reply = await next();
    if (
      reply.type === IlpPacketType.Fulfill &&
      !matches(reply.fulfillment, ctx.incoming.executionCondition)
    ) {
      return rejectOf(
        IlpErrorCode.F05_WRONG_CONDITION,
        'the next hop returned a fulfillment that does not hash to the execution condition; nothing was credited',
        address,
      );
    }
    return reply;
  };
}
