// Packet pipeline, ilp-connector / Rafiki style: each middleware gets the context and `next`, may reject by
// throwing IlpError, and may look at (or replace) the reply on the way back. Order matters: see docs/connector.md.
import { IlpError, IlpErrorCode } from '../ilp/errors.js';
import type { IlpPrepare, IlpReply } from '../ilp/types.js';
import type { NextHop } from './types.js';

export interface PacketContext {
  /** The PREPARE as the peer sent it. */
  readonly incoming: IlpPrepare;
  /** Id of the peer it came from. */
  readonly fromPeer: string;
  /** Milliseconds when the packet arrived. */
  readonly receivedAt: number;
  /** The PREPARE to forward (expiry shortened by the hop margin); set by the expiry middleware. */
  outgoing: IlpPrepare;
  /** Set by the route middleware. */
  nextHop?: NextHop;
  /**
   * Set by the balance middleware: queues the durable record of the sending peer's debt for a FULFILL (resolves
   * once on disk; rejects if that failed). settle calls it right after queuing the next hop's record, in the same
   * turn, so a forwarded packet's two records are one commit: a crash keeps both or neither (issue 17).
   */
  recordIncoming?: (fulfillment: string) => Promise<void>;
}

export type Next = () => Promise<IlpReply>;
export type Middleware = (ctx: PacketContext, next: Next) => Promise<IlpReply>;

/** Composes middlewares into one handler; the last one must not call next (it would get F02). */
export function compose(middlewares: readonly Middleware[]): (ctx: PacketContext) => Promise<IlpReply> {
  return (ctx) => {
    const run = (i: number): Promise<IlpReply> => {
      const mw = middlewares[i];
      if (!mw) {
        return Promise.reject(
          new IlpError(
            IlpErrorCode.F02_UNREACHABLE,
            'no middleware handled the packet (pipeline misconfigured)',
          ),
        );
      }
      return mw(ctx, () => run(i + 1));
    };
    return run(0);
  };
}
