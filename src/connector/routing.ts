// Prefix -> next hop, longest match on address segment boundaries (g.a matches g.a and g.a.b, not g.ab).
import { isValidIlpAddress } from '../ilp/address.js';
import { ConnectorError } from './errors.js';
import type { NextHop } from './types.js';

export class RoutingTable {
  private readonly routes = new Map<string, NextHop>();

  set(prefix: string, hop: NextHop): void {
    if (!isValidIlpAddress(prefix)) {
      throw new ConnectorError('BAD_CONFIG', `route prefix '${prefix}' is not a valid ILP address`);
    }
    this.routes.set(prefix, hop);
  }

  delete(prefix: string): boolean {
    return this.routes.delete(prefix);
  }

  /** Removes every route to a peer (when it is removed). */
  deletePeer(peerId: string): void {
    for (const [prefix, hop] of this.routes)
      if (hop.kind === 'peer' && hop.peerId === peerId) this.routes.delete(prefix);
  }

  lookup(destination: string): NextHop | undefined {
    // Walk up the segments: at most as many map lookups as the address has dots.
    let prefix = destination;
    for (;;) {
      const hop = this.routes.get(prefix);
      if (hop) return hop;
      const dot = prefix.lastIndexOf('.');
      if (dot < 0) return undefined;
      prefix = prefix.slice(0, dot);
    }
  }

  entries(): [string, NextHop][] {
    return [...this.routes];
  }
}
