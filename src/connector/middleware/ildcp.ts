// ILDCP (RFC 0031): a child asks `peer.config` for its ILP address and asset, e.g. ilp-protocol-stream before it
// pays. Answered here, for the authenticated child peer the packet came from, with `<connector>.<peer id>`; other
// packets pass on. Connector peers have their own addresses, so they are told F02.
import { IlpError, IlpErrorCode } from '../../ilp/errors.js';
import { ILDCP_CONDITION, ILDCP_DESTINATION, serializeIldcpResponse } from '../../ilp/ildcp.js';
import { deserializeIlpFulfill } from '../../ilp/packet.js';
import { IlpPacketType } from '../../ilp/types.js';
import type { PeerAccount } from '../accounts.js';
import type { Middleware } from '../pipeline.js';

export function ildcp(opts: {
  address: string;
  asset: { code: string; scale: number };
  accountOf: (peerId: string) => PeerAccount | undefined;
}): Middleware {
  return async (ctx, next) => {
    const p = ctx.incoming;
    if (p.destination !== ILDCP_DESTINATION) return next();
    const peer = opts.accountOf(ctx.fromPeer)?.config;
    if (peer?.relation !== 'child') {
      throw new IlpError(
        IlpErrorCode.F02_UNREACHABLE,
        `ILDCP (peer.config) is answered only for child peers; ${ctx.fromPeer} is a connector peer with its own address`,
      );
    }
    if (p.amount !== 0n || !Buffer.from(p.executionCondition).equals(Buffer.from(ILDCP_CONDITION))) {
      throw new IlpError(
        IlpErrorCode.F01_INVALID_PACKET,
        'an ILDCP request has amount 0 and the condition SHA-256 of 32 zero bytes',
      );
    }
    const fulfill = deserializeIlpFulfill(
      serializeIldcpResponse({
        clientAddress: `${opts.address}.${peer.id}`,
        assetScale: opts.asset.scale,
        assetCode: opts.asset.code,
      }),
    );
    return { type: IlpPacketType.Fulfill, fulfillment: fulfill.fulfillment, data: fulfill.data };
  };
}
