// Budgets for a peer's settlement messages over BTP (payment-channel claims and status requests). The PREPARE rate
// limit does not see them, yet each one on a channel the node has not bound to the peer costs an RPC read (is the
// channel from the peer to us?): without a budget a peer burns the node's RPC quota for free. Over budget, the
// message is refused before any chain read.
import type { Hex } from 'viem';
import { type RateLimit, RateLimiter } from '../relay/rate-limit.js';
import { ConnectorError } from './errors.js';

export interface ClaimLimits {
  /** Every claim and status request of one peer (signature checks, the store). */
  perPeer: RateLimit;
  /** Those naming a channel not yet bound to the peer: each costs one RPC read. */
  unboundChannels: RateLimit;
}

/** An honest peer binds a channel or two in its life and claims one at a time; a flood gets little. */
export const DEFAULT_CLAIM_LIMITS: ClaimLimits = {
  perPeer: { capacity: 200, perSecond: 50 },
  unboundChannels: { capacity: 5, perSecond: 0.1 },
};

export class ClaimBudgets {
  private readonly perPeer: RateLimiter;
  private readonly unbound: RateLimiter;

  constructor(limits: Partial<ClaimLimits> = {}, now: () => number = Date.now) {
    this.perPeer = new RateLimiter(limits.perPeer ?? DEFAULT_CLAIM_LIMITS.perPeer, now);
    this.unbound = new RateLimiter(limits.unboundChannels ?? DEFAULT_CLAIM_LIMITS.unboundChannels, now);
  }

  /**
   * Takes one message of `peerId` about `channelId` from its budgets (`bound`: the channel is already bound to the
   * peer, so no chain read is needed to prove it); throws RATE_LIMITED, having read nothing, when one is empty.
   */
  admit(peerId: string, channelId: Hex, bound: boolean, what: 'claim' | 'status request'): void {
    if (!this.perPeer.take(peerId)) {
      const { capacity, perSecond } = this.perPeer.limit;
      throw new ConnectorError(
        'RATE_LIMITED',
        `rate-limited: more than ${perSecond} claims and status requests per second (burst ${capacity}) from this peer; ${what} on ${channelId} ignored, retry shortly`,
      );
    }
    if (bound || this.unbound.take(peerId)) return;
    const { capacity, perSecond } = this.unbound.limit;
    throw new ConnectorError(
      'RATE_LIMITED',
      `rate-limited: at most ${capacity} claims or status requests on channels not yet bound to you, then 1 per ${Math.round(1 / perSecond)} s (each costs this node a chain read); ${what} on ${channelId} ignored: use a channel from your settlement address to this node`,
    );
  }
}
