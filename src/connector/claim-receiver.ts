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
   * claim and the removal of the packets it pays; a returned promise is awaited (the next claim of this receiver
   * waits too). If it throws or rejects, the claim is refused and nothing changes.
   */
  onAccept?: (claim: SignedClaim, pays: readonly string[]) => void | Promise<void>;
  /**
   * Longest a cached channel state may be trusted before a claim is credited against it (default 5000 ms);
   * older, the channel is read again first. Must stay far below the contract's shortest challenge window (1 h):
   * a channel seen open at most this long ago cannot be settled yet, so a claim accepted on it can still be
   * redeemed before its close ends (the closure watcher does that). See docs/connector.md "Receiver rules".
   */
  maxStateAgeMs?: number;
  /**
   * Runs before the channel is read again for a claim above the cached deposit (a top-up the cache has not seen);
   * throw to refuse the claim without the read. A peer could otherwise buy a chain read per over-deposit claim.
   */
  beforeDepositReread?: (channelId: Hex) => void;
  now?: () => number;
}

/** Default of ClaimReceiverOptions.maxStateAgeMs. */
export const DEFAULT_MAX_STATE_AGE_MS = 5000;
/** The bound must leave the closure watcher most of the shortest challenge window (1 h) to redeem. */
const MAX_STATE_AGE_LIMIT_MS = 10 * 60_000;

interface ChannelEntry {
  state: ChannelState;
  /** When `state` was read from the chain (ms, options.now). */
  readAt: number;
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

  private readonly now: () => number;
  private readonly maxStateAgeMs: number;

  constructor(private readonly options: ClaimReceiverOptions) {
    this.now = options.now ?? Date.now;
    this.maxStateAgeMs = options.maxStateAgeMs ?? DEFAULT_MAX_STATE_AGE_MS;
    if (!(this.maxStateAgeMs >= 0 && this.maxStateAgeMs <= MAX_STATE_AGE_LIMIT_MS)) {
      throw new ConnectorError(
        'BAD_CONFIG',
        `maxStateAgeMs ${this.maxStateAgeMs} must be between 0 and ${MAX_STATE_AGE_LIMIT_MS} ms (far below the 1 h challenge window)`,
      );
    }
  }

  /** Every channel this receiver knows: bound ones and those restored from a store but not read yet. */
  channelIds(): Hex[] {
    return [
      ...[...this.channels.values()].map((e) => e.state.channelId),
      ...[...this.restored.values()].map((c) => c.channelId),
    ];
  }

  /**
   * Watched state: the closure watcher saw ClosureStarted (or read the channel closing or settled). From now on
   * every claim on the channel is refused (CLAIM_CHANNEL_CLOSING), whatever the age of the cache.
   */
  markClosing(channelId: Hex, closesAt = 0n): void {
    const entry = this.channels.get(channelId.toLowerCase());
    if (!entry || entry.state.closing || entry.state.settled) return;
    entry.state = { ...entry.state, closing: true, closesAt: closesAt || entry.state.closesAt };
  }

  /** Updates what was redeemed on-chain for a channel (after our own claim transaction). */
  markClaimed(channelId: Hex, totalClaimed: bigint): void {
    const entry = this.channels.get(channelId.toLowerCase());
    if (entry && totalClaimed > entry.state.claimed) entry.state = { ...entry.state, claimed: totalClaimed };
  }

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
    // Never credit against a state older than the bound: the channel may have started closing (or, after a chain
    // reset, vanished) since it was read.
    if (this.now() - entry.readAt > this.maxStateAgeMs) await this.refresh(entry);
    try {
      await check(entry.state);
    } catch (err) {
      // The cached deposit may be stale after a top-up: re-read once. (Closing never goes back to open.)
      if (!(err instanceof ChainError) || err.code !== 'CLAIM_OVER_DEPOSIT') throw err;
      this.options.beforeDepositReread?.(msg.channelId);
      await this.refresh(entry);
      await check(entry.state);
    }
    await this.options.onAccept?.(claim, msg.pays);
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
    const readAt = this.now();
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
    const entry: ChannelEntry = { state, readAt, cumulative: state.claimed };
    const restored = this.restored.get(key);
    if (restored && restored.cumulativeAmount > state.claimed) {
      entry.cumulative = restored.cumulativeAmount;
      entry.best = restored;
    }
    this.restored.delete(key);
    this.channels.set(key, entry);
    return entry;
  }

  /** Reads the channel again; a closing mark from the watcher survives a read that does not see it yet. */
  private async refresh(entry: ChannelEntry): Promise<void> {
    const readAt = this.now();
    const state = await this.read(entry.state.channelId);
    const keepClosing = entry.state.closing && !state.closing && !state.settled;
    entry.state = keepClosing ? { ...state, closing: true, closesAt: entry.state.closesAt } : state;
    entry.readAt = readAt;
  }

  private read(channelId: Hex): Promise<ChannelState> {
    return readChannel(this.options.publicClient, {
      channels: this.options.domain.verifyingContract,
      channelId,
    });
  }
}
