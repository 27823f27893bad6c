// How many WebSockets a server holds open, in all and per client address. Each open socket costs a file descriptor
// and buffers; without a cap one client could open connections until the process runs out of descriptors, and the
// node then could not open its own files or accept honest peers. Checked at the upgrade, before the WebSocket
// handshake: a refused client gets an HTTP 503 that says why.
import type { IncomingMessage } from 'node:http';
import type { VerifyClientCallbackAsync } from 'ws';

export interface ConnectionLimits {
  /** Open connections in all. */
  maxConnections: number;
  /** Open connections from one client address (the key `addressOf` gives). */
  maxConnectionsPerAddress: number;
}

export interface ConnectionCounter {
  /** For `new WebSocketServer({ verifyClient })`. */
  verifyClient: VerifyClientCallbackAsync<IncomingMessage>;
  /** Open connections now, in all. */
  readonly open: number;
}

/**
 * Counts a connection from the moment its upgrade is accepted until its socket closes (so upgrades accepted
 * together cannot overshoot). `addressOf` names the client: the socket's address, or what a trusted proxy says,
 * with IPv6 grouped by /64 where the caller wants it.
 */
export function countConnections(
  limits: ConnectionLimits,
  addressOf: (req: IncomingMessage) => string,
): ConnectionCounter {
  const perAddress = new Map<string, number>();
  let open = 0;
  const verifyClient: VerifyClientCallbackAsync<IncomingMessage> = ({ req }, done) => {
    if (open >= limits.maxConnections) {
      done(false, 503, `too many connections (${limits.maxConnections}): try again later`);
      return;
    }
    const address = addressOf(req);
    const mine = perAddress.get(address) ?? 0;
    if (mine >= limits.maxConnectionsPerAddress) {
      done(
        false,
        503,
        `too many connections from your address (${limits.maxConnectionsPerAddress}): close some or try again later`,
      );
      return;
    }
    open++;
    perAddress.set(address, mine + 1);
    req.socket.once('close', () => {
      open--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
    done(true);
  };
  return {
    verifyClient,
    get open() {
      return open;
    },
  };
}
