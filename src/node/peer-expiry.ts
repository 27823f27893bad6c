// Peers made by SPSP for a Nostr key that never used them are forgotten: anyone can make a fresh key and
// handshake, and each handshake adds a persisted child peer with a credit line (issue 14). A peer counts as used
// while it is connected over BTP or has any money state (balances, unpaid packets, accepted claims, a channel we
// pay it through); one unused for `unusedTtlMs` of this process's life is removed with its relay account. A
// Mayor whose peer was removed gets a new one from its next SPSP handshake (attach does one on every start).
import type { Connector } from '../connector/connector.js';
import type { ConnectorStore } from '../connector/store.js';
import type { AccountSecretStore } from '../relay/secrets.js';

export interface PeerExpiryOptions {
  connector: Connector;
  store: ConnectorStore;
  secrets: AccountSecretStore;
  unusedTtlMs: number;
  /**
   * Most unused peers kept (default 10,000): beyond it the longest idle go first, whatever the TTL. At 1 fresh-key
   * handshake per second one IP would otherwise leave 86,400 peers within a day's TTL.
   */
  maxUnused?: number;
  /** How often to look (default a quarter of the TTL, at most a minute). */
  sweepEveryMs?: number;
  now?: () => number;
  onExpired?: (peerId: string, why: 'unused' | 'over the cap') => void;
}

export const DEFAULT_MAX_UNUSED_PEERS = 10_000;

export interface PeerExpiry {
  /** One pass; returns the ids removed. */
  sweep(): string[];
  stop(): void;
}

export function startPeerExpiry(options: PeerExpiryOptions): PeerExpiry {
  const { connector, store, secrets } = options;
  const now = options.now ?? Date.now;
  /** Since when (ms) each peer has been seen unused. */
  const idleSince = new Map<string, number>();
  const used = (id: string): boolean => {
    if (connector.isConnected(id)) return true;
    const b = connector.balance(id);
    if (b.owedByPeer || b.inFlight || b.owedToPeer || b.paidByPeer || b.paidToPeer) return true;
    return (
      store.acceptedClaims(id).length > 0 ||
      store.outgoing(id) !== undefined ||
      store.unpaid(id, 'in').length > 0 ||
      store.unpaid(id, 'out').length > 0
    );
  };
  const maxUnused = options.maxUnused ?? DEFAULT_MAX_UNUSED_PEERS;
  const remove = (id: string, why: 'unused' | 'over the cap', removed: string[]) => {
    connector.removePeer(id);
    secrets.delete(id);
    idleSince.delete(id);
    removed.push(id);
    options.onExpired?.(id, why);
  };
  const sweep = (): string[] => {
    const removed: string[] = [];
    const t = now();
    const current = new Set<string>();
    for (const peer of store.peers()) {
      // Only peers SPSP made for a Nostr key: configured peers and links are the operator's.
      if (peer.relation !== 'child' || !peer.nostrPubkey || !connector.peer(peer.id)) continue;
      current.add(peer.id);
      if (used(peer.id)) {
        idleSince.delete(peer.id);
        continue;
      }
      const since = idleSince.get(peer.id) ?? t;
      idleSince.set(peer.id, since);
      if (t - since >= options.unusedTtlMs) remove(peer.id, 'unused', removed);
    }
    for (const id of idleSince.keys()) if (!current.has(id)) idleSince.delete(id);
    // Over the cap: the longest idle first (a Mayor that just did its handshake is the last to go).
    const excess = idleSince.size - maxUnused;
    if (excess > 0) {
      const oldest = [...idleSince].sort((a, b) => a[1] - b[1]).slice(0, excess);
      for (const [id] of oldest) remove(id, 'over the cap', removed);
    }
    return removed;
  };
  sweep(); // start the clocks of the peers restored from the store
  const every = options.sweepEveryMs ?? Math.min(60_000, Math.max(1000, options.unusedTtlMs / 4));
  const timer = setInterval(() => {
    try {
      sweep();
    } catch {
      // A store closing under us (shutdown): the next start looks again.
    }
  }, every);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
