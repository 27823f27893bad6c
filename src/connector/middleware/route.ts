// Routing: longest-prefix match in the table (child Mayors, static routes to other connectors, local relay).
import { IlpError, IlpErrorCode } from '../../ilp/errors.js';
import type { Middleware } from '../pipeline.js';
import type { RoutingTable } from '../routing.js';

export function route(table: RoutingTable): Middleware {
  return (ctx, next) => {
    const hop = table.lookup(ctx.incoming.destination);
    if (!hop) {
      throw new IlpError(
        IlpErrorCode.F02_UNREACHABLE,
        `no route to ${ctx.incoming.destination}; check the address (SPSP gives the destination to pay)`,
      );
    }
    if (hop.kind === 'peer' && hop.peerId === ctx.fromPeer) {
      throw new IlpError(
        IlpErrorCode.F02_UNREACHABLE,
        `route to ${ctx.incoming.destination} leads back to the sending peer; refusing to loop`,
      );
    }
    ctx.nextHop = hop;
    return next();
  };
}
