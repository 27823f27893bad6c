// The last middleware: hands the packet to the next hop (an in-process handler or a BTP peer) and waits no
// longer than the outgoing expiry.

import { IlpError, IlpErrorCode } from '../../ilp/errors.js';
import { ConnectorError } from '../errors.js';
import type { Middleware } from '../pipeline.js';
import type { PacketSender } from '../types.js';

export function forward(opts: {
  senderFor: (peerId: string) => PacketSender | undefined;
  now: () => number;
}): Middleware {
  return async (ctx) => {
    const hop = ctx.nextHop;
    if (!hop) throw new IlpError(IlpErrorCode.F02_UNREACHABLE, 'no next hop was chosen');
    if (hop.kind === 'local') return hop.handle(ctx.outgoing);
    const sender = opts.senderFor(hop.peerId);
    if (!sender) {
      throw new IlpError(
        IlpErrorCode.T01_PEER_UNREACHABLE,
        `peer ${hop.peerId} is not connected; retry later`,
      );
    }
    const timeoutMs = ctx.outgoing.expiresAt.getTime() - opts.now();
    try {
      return await sender.sendPrepare(ctx.outgoing, Math.max(1, timeoutMs));
    } catch (err) {
      if (err instanceof ConnectorError && err.code === 'BTP_TIMEOUT') {
        throw new IlpError(
          IlpErrorCode.R00_TRANSFER_TIMED_OUT,
          `peer ${hop.peerId} did not answer before the packet expired`,
        );
      }
      throw new IlpError(IlpErrorCode.T01_PEER_UNREACHABLE, `peer ${hop.peerId}: ${(err as Error).message}`);
    }
  };
}
