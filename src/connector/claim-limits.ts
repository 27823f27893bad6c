// Budgets for a peer's settlement messages over BTP (payment-channel claims and status requests). The PREPARE rate
// limit does not see them, yet some cost the node an RPC read: one on a channel not yet bound to the peer (is the
// channel from the peer to us?), a claim above the deposit the node last read (was it topped up?). Without a budget
// a peer burns the node's RPC quota for free. Over budget, the message is refused before any chain read.
import type { Hex } from 'viem';
import { type RateLimit, RateLimiter } from '../relay/rate-limit.js';
import { ConnectorError } from './errors.js';

export interface ClaimLimits {
  /** Every claim and status request of one peer (signature checks, the store). */
  perPeer: RateLimit;
  /**
   * Those that cost a chain read: on a channel not yet bound to any peer, or a claim above the cached deposit. An
   * honest peer needs one to bind its channel and one per top-up.
   */
  chainReads: RateLimit;
  /**
   * Chain reads that all peers together may cause: those above, and the credit path's (a scan for an unbound
   * channel of a peer that has none, a re-read when a packet needs more than the cached deposit). Per-peer budgets
   * alone do not bound them: SPSP makes a peer for any fresh key, and 2,000 connected peers each scanning every 2 s
   * would spend a public RPC endpoint's quota, and the node's own settlement with it.
   */
  allPeersChainReads: RateLimit;
}

export const DEFAULT_CLAIM_LIMITS: ClaimLimits = {
  perPeer: { capacity: 200, perSecond: 50 },
  chainReads: { capacity: 5, perSecond: 0.1 },
  allPeersChainReads: { capacity: 100, perSecond: 20 },
};

const ALL_PEERS = '*';

export class ClaimBudgets {
  private readonly perPeer: RateLimiter;
  private readonly chainReads: RateLimiter;
  private readonly allPeersReads: RateLimiter;

  constructor(limits: Partial<ClaimLimits> = {}, now: () => number = Date.now) {
    this.perPeer = new RateLimiter(limits.perPeer ?? DEFAULT_CLAIM_LIMITS.perPeer, now);
    this.chainReads = new RateLimiter(limits.chainReads ?? DEFAULT_CLAIM_LIMITS.chainReads, now);
    this.allPeersReads = new RateLimiter(
      limits.allPeersChainReads ?? DEFAULT_CLAIM_LIMITS.allPeersChainReads,
      now,
    );
  }

  /** Takes a chain read from the budget all peers share; false when it is empty (read nothing, refuse or wait). */
  takeSharedRead(): boolean {
    return this.allPeersReads.take(ALL_PEERS);
  }

  /** Why a read was refused by the shared budget, for the peer's error message. */
  sharedReadsBusy(): string {
    const { capacity, perSecond } = this.allPeersReads.limit;
    return `this node is at its chain-read limit for all peers (${perSecond}/s, burst ${capacity}): retry in a few seconds`;
  }

  /**
   * Takes one message of `peerId` about `channelId` from its budgets (`bound`: the channel is bound to a peer
   * already, so no read is needed to prove whose it is); throws RATE_LIMITED, having read nothing, when one is empty.
   */
  admit(peerId: string, channelId: Hex, bound: boolean, what: 'claim' | 'status request'): void {
    if (!this.perPeer.take(peerId)) {
      const { capacity, perSecond } = this.perPeer.limit;
      throw new ConnectorError(
        'RATE_LIMITED',
        `rate-limited: more than ${perSecond} claims and status requests per second (burst ${capacity}) from this peer; ${what} on ${channelId} ignored, retry shortly`,
      );
    }
    if (bound) return;
    if (this.chainReads.take(peerId)) {
      this.admitShared(what, channelId);
      return;
    }
    throw new ConnectorError(
      'RATE_LIMITED',
      `rate-limited: ${this.readBudget()} on channels not yet bound to you (each costs this node a chain read); ${what} on ${channelId} ignored: use a channel from your settlement address to this node`,
    );
  }

  /** Takes one `payment-owed-status` request of `peerId` from its per-peer budget (it reads no chain). */
  admitOwedQuery(peerId: string): void {
    if (this.perPeer.take(peerId)) return;
    const { capacity, perSecond } = this.perPeer.limit;
    throw new ConnectorError(
      'RATE_LIMITED',
      `rate-limited: more than ${perSecond} claims and status requests per second (burst ${capacity}) from this peer; owed-status request ignored, retry shortly`,
    );
  }

  /** Takes a chain read for a claim above the cached deposit of `channelId`; throws RATE_LIMITED when none is left. */
  admitReread(peerId: string, channelId: Hex): void {
    if (this.chainReads.take(peerId)) {
      this.admitShared('claim', channelId);
      return;
    }
    throw new ConnectorError(
      'RATE_LIMITED',
      `rate-limited: ${this.readBudget()} above the deposit last read (each costs this node a chain read); claim on ${channelId} ignored: claim within the deposit, or retry after your top-up`,
    );
  }

  private admitShared(what: string, channelId: Hex): void {
    if (this.takeSharedRead()) return;
    throw new ConnectorError(
      'RATE_LIMITED',
      `rate-limited: ${this.sharedReadsBusy()}; ${what} on ${channelId} ignored`,
    );
  }

  private readBudget(): string {
    const { capacity, perSecond } = this.chainReads.limit;
    const rate = perSecond >= 1 ? `${perSecond}/s` : `1 per ${Math.round(1 / perSecond)} s`;
    return `at most ${capacity} claims or status requests, then ${rate},`;
  }
}
