// The receiving side of a payment channel: accepts a peer's claims only as DESIGN §3 says (real domain, the
// channel's on-chain sender, an increase equal to what was fulfilled, within the deposit) and keeps the best one.
// Used by the connector for Mayor -> node channels and by a Mayor for node -> Mayor channels.
import type { Address, Hex } from 'viem';
import { checkIncomingClaim } from '../chain/actions/checkIncomingClaim.js';
import { readChannel } from '../chain/actions/readChannel.js';
import type { ChainPublicClient } from '../chain/clients.js';
import { ChainError } from '../chain/errors.js';
import type { ChannelState, ClaimDomain, SignedClaim } from '../chain/types.js';
import type { ClaimMessage } from './claim-message.js';
import { ConnectorError } from './errors.js';
import type { ChannelStatus } from './status-message.js';
import type { UnpaidPackets } from './unpaid.js';

export interface ClaimReceiverOptions {
  publicClient: ChainPublicClient;
  domain: ClaimDomain;
  token: Address;
  /** Our own settlement address: the channel's receiver must be this. */
  receiver: Address;
  /** The peer's settlement address (from SPSP): the channel's sender must be this. */
  sender: Address;
  /**
   * Runs after a claim passed every check and before anything changes in memory, e.g. a durable write of the
   * claim and the removal of the packets it pays. If it throws, the claim is refused and nothing changes.
   */
  onAccept?: (claim: SignedClaim, pays: readonly string[]) => void;
}

interface ChannelEntry {
  state: ChannelState;
  /** Last accepted cumulative amount (0n before the first claim). */
  cumulative: bigint;
  best?: SignedClaim;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class ClaimReceiver {
  private readonly channels = new Map<string, ChannelEntry>();
  /** Claims accepted before a restart (from a store), applied when their channel is bound. */
  private readonly restored = new Map<string, SignedClaim>();
  /** Claims are checked one at a time, so two claims can never both use the same previous cumulative. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Total paid through accepted claims, all channels. */
  paid = 0n;

  constructor(private readonly options: ClaimReceiverOptions) {}

  /** The best (highest) accepted claim of a channel, for on-chain redemption and the closure watcher. */
  bestClaim(channelId: Hex): SignedClaim | undefined {
    const key = channelId.toLowerCase();
    return this.channels.get(key)?.best ?? this.restored.get(key);
  }

  /**
   * Takes back the best claims accepted before a restart: the next claim on such a channel must continue from
   * its cumulative amount (not from the on-chain `claimed`), and redemption submits it. Counts them in `paid`.
   */
  restore(claims: readonly SignedClaim[]): void {
    for (const c of claims) {
      const key = c.channelId.toLowerCase();
      if (this.channels.has(key) || this.restored.has(key)) continue;
      this.restored.set(key, c);
      this.paid += c.cumulativeAmount;
    }
  }

  /** Reads and binds every restored channel, so list() (and redemption) sees them. */
  bindRestored(): Promise<void> {
    const run = this.queue.then(async () => {
      for (const c of [...this.restored.values()]) await this.bind(c.channelId);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * What the peer may learn about one of its channels: the last accepted cumulative and, when that is a claim we
   * hold, its signature; and the peer's unpaid packets (`unpaid`). A channel that is not from the peer to us throws STATUS_REFUSED with the same message
   * whatever the reason, so a peer learns nothing about channels that are not its own.
   */
  status(channelId: Hex, unpaid: UnpaidPackets): Promise<ChannelStatus> {
    const run = this.queue.then(async () => {
      let entry: ChannelEntry;
      try {
        entry = await this.bind(channelId);
      } catch {
        throw new ConnectorError(
          'STATUS_REFUSED',
          `channel ${channelId} is not a channel from your settlement address to this node`,
        );
      }
      const best = entry.best?.cumulativeAmount === entry.cumulative ? entry.best : undefined;
      // Read in the queue, so no claim lands between the cumulative and the list of owed packets.
      return {
        channelId,
        cumulativeAmount: entry.cumulative,
        signature: best?.signature ?? null,
        owed: unpaid.entries(),
      };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Every channel bound to this peer with its cached state and best claim. */
  list(): { channelId: Hex; state: ChannelState; best?: SignedClaim }[] {
    return [...this.channels.values()].map((e) => ({
      channelId: e.state.channelId,
      state: e.state,
      ...(e.best ? { best: e.best } : {}),
    }));
  }

  /**
   * Checks `msg` against the unpaid packets and the chain; on success removes the paid packets and returns
   * the amount paid. On failure throws (ConnectorError or ChainError) and changes nothing.
   */
  accept(msg: ClaimMessage, unpaid: UnpaidPackets): Promise<bigint> {
    const run = this.queue.then(() => this.acceptNow(msg, unpaid));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async acceptNow(msg: ClaimMessage, unpaid: UnpaidPackets): Promise<bigint> {
    const expectedIncrease = unpaid.sumOf(msg.pays);
    const entry = await this.bind(msg.channelId);
    const claim: SignedClaim = {
      channelId: msg.channelId,
      cumulativeAmount: msg.cumulativeAmount,
      signature: msg.signature,
    };
    const check = (state: ChannelState) =>
      checkIncomingClaim({
        claim,
        channel: state,
        domain: this.options.domain,
        previousCumulative: entry.cumulative,
        expectedIncrease,
      });
    try {
      await check(entry.state);
    } catch (err) {
      // The cached deposit may be stale after a top-up (or the channel may have started closing): re-read once.
      if (!(err instanceof ChainError) || !['CLAIM_OVER_DEPOSIT', 'CLAIM_CHANNEL_CLOSING'].includes(err.code))
        throw err;
      entry.state = await this.read(msg.channelId);
      await check(entry.state);
    }
    this.options.onAccept?.(claim, msg.pays);
    unpaid.take(msg.pays);
    entry.cumulative = msg.cumulativeAmount;
    entry.best = claim;
    this.paid += expectedIncrease;
    return expectedIncrease;
  }

  /** The channel entry, reading and checking the channel on first use. */
  private async bind(channelId: Hex): Promise<ChannelEntry> {
    const key = channelId.toLowerCase();
    const known = this.channels.get(key);
    if (known) return known;
    const state = await this.read(channelId);
    const bound = this.channels.get(key); // bound meanwhile by another caller
    if (bound) return bound;
    const o = this.options;
    const wrong = (what: string, got: string, want: string) =>
      new ConnectorError(
        'CLAIM_WRONG_CHANNEL',
        `channel ${channelId} has ${what} ${got}, expected ${want}: open a channel from your settlement address to the node's, in the negotiated token`,
      );
    if (!same(state.receiver, o.receiver)) throw wrong('receiver', state.receiver, o.receiver);
    if (!same(state.token, o.token)) throw wrong('token', state.token, o.token);
    if (!same(state.sender, o.sender)) throw wrong('sender', state.sender, o.sender);
    // Starts from what was already redeemed on-chain (a fresh process cannot be paid twice for old claims), or
    // from the claim accepted before a restart when that is higher.
    const entry: ChannelEntry = { state, cumulative: state.claimed };
    const restored = this.restored.get(key);
    if (restored && restored.cumulativeAmount > state.claimed) {
      entry.cumulative = restored.cumulativeAmount;
      entry.best = restored;
    }
    this.restored.delete(key);
    this.channels.set(key, entry);
    return entry;
  }

  private read(channelId: Hex): Promise<ChannelState> {
    return readChannel(this.options.publicClient, {
      channels: this.options.domain.verifyingContract,
      channelId,
    });
  }
}
