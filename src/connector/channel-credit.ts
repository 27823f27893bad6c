// A child peer's credit line when settlement is on (DESIGN §3: "no credit before a bound channel, and never
// beyond its unclaimed deposit"): the unclaimed deposit (deposit - best accepted cumulative) of the peer's
// largest bound channel that is open and not closing. A peer with no bound channel gets one bound here when
// the chain has an open channel from its settlement address to us that no other peer owns; otherwise none.
// Channel state is at most `maxAgeMs` old when it grants credit; a shortfall re-reads it (a top-up).

import type { Address, Hex } from 'viem';
import { isAddressEqual } from 'viem';
import { listChannels } from '../chain/actions/listChannels.js';
import { readChannel } from '../chain/actions/readChannel.js';
import type { ChainPublicClient } from '../chain/clients.js';
import type { ChannelState } from '../chain/types.js';
import { mark } from '../transport/trace.js';
import type { ChannelBindings } from './channel-bindings.js';

export interface ChannelCreditOptions {
  publicClient: ChainPublicClient;
  /** PaymentChannels contract. */
  channels: Address;
  token: Address;
  /** Our settlement address: the channels' receiver. */
  receiver: Address;
  bindings: ChannelBindings;
  /** The best accepted cumulative amount of a channel (undefined before its first claim). */
  acceptedOf: (channelId: Hex) => bigint | undefined;
  /** A channel was bound here (by discovery): persist it. */
  onBind: (peerId: string, channelId: Hex) => void;
  /** Oldest channel state that may grant credit (default 2000 ms). */
  maxAgeMs?: number;
  /** Least time between two chain scans for a peer's channels (default 2000 ms). */
  discoverEveryMs?: number;
  /** Takes a read a peer's packet asks for from a budget all peers share; false: use the cached state. */
  takeRead?: () => boolean;
  /** Why the credit stayed short when takeRead said no. */
  readsBusy?: () => string;
  now?: () => number;
}

export interface Credit {
  /** Most the peer may owe (fulfilled-unpaid + in flight). */
  amount: bigint;
  /** Why it is zero or small, in words (for the T04 message). */
  why: string;
}

interface Cached {
  state: ChannelState;
  readAt: number;
}

export class ChannelCredit {
  private readonly cache = new Map<string, Cached>();
  private readonly lastScan = new Map<string, number>();
  private readonly reading = new Map<string, { p: Promise<ChannelState>; startedAt: number }>();
  /** When each channel's cached state was last forgotten. */
  private readonly forgotten = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly o: ChannelCreditOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The peer's credit line; `need` (debt after this packet) triggers a re-read when the cache falls short. */
  async of(peerId: string, settlementAddress: Address | undefined, need: bigint): Promise<Credit> {
    if (!settlementAddress) {
      return {
        amount: 0n,
        why: 'no proven settlement address: do the SPSP handshake with settlementAddress and settlementProof',
      };
    }
    let credit = await this.best(peerId, settlementAddress, this.o.maxAgeMs ?? 2000);
    // Reads a peer's packets ask for (a top-up since the last read, a channel not bound yet) come from the budget
    // all peers share; without one the peer keeps the credit the cached state gives and is told why.
    const mayRead = () => this.o.takeRead?.() ?? true;
    if (credit.amount < need && this.staleFor(peerId, 250)) {
      if (!mayRead()) return { amount: credit.amount, why: this.o.readsBusy?.() ?? credit.why };
      credit = await this.best(peerId, settlementAddress, 250); // a top-up since the last read
    }
    if (credit.amount < need && this.scanDue(peerId)) {
      if (!mayRead()) return { amount: credit.amount, why: this.o.readsBusy?.() ?? credit.why };
      if (await this.discover(peerId, settlementAddress))
        credit = await this.best(peerId, settlementAddress, 250);
    }
    return credit;
  }

  /** Forgets cached state (e.g. after a claim or a redemption moved it). */
  forget(channelId: Hex): void {
    this.cache.delete(channelId.toLowerCase());
    this.forgotten.set(channelId.toLowerCase(), this.now());
  }

  /**
   * The most unclaimed deposit among the peer's bound channels that are from its proven address to us, in our token.
   * A binding alone is not trusted: a status request binds a channel to its asker while the chain read that proves
   * it runs, and the asker's packets meanwhile were given credit on someone else's deposit.
   */
  private async best(peerId: string, from: Address, maxAgeMs: number): Promise<Credit> {
    let amount = 0n;
    let why = `no open channel to ${this.o.receiver} is bound to you: open one (the node gives no credit without a channel)`;
    // Every state first, then the accepted claims, with no wait in between: a claim accepted on one channel while
    // another's state was read would otherwise be missed, and that channel's unclaimed deposit overstated by it.
    const states: [Hex, ChannelState][] = [];
    for (const channelId of this.o.bindings.channelsOf(peerId)) {
      try {
        states.push([channelId, await this.state(channelId, maxAgeMs)]);
      } catch (err) {
        why = `channel ${channelId} cannot be read: ${(err as Error).message}`;
      }
    }
    for (const [channelId, state] of states) {
      const same = (a: Address, b: Address) => a.toLowerCase() === b.toLowerCase();
      if (
        !same(state.sender, from) ||
        !same(state.receiver, this.o.receiver) ||
        !same(state.token, this.o.token)
      )
        continue;
      if (state.closing || state.settled) {
        why = `channel ${channelId} is ${state.settled ? 'settled' : 'closing'}: open a new one`;
        continue;
      }
      const accepted = this.o.acceptedOf(channelId) ?? 0n;
      const used = accepted > state.claimed ? accepted : state.claimed;
      const unclaimed = state.deposit > used ? state.deposit - used : 0n;
      if (unclaimed > amount) {
        amount = unclaimed;
        why = `the unclaimed deposit of channel ${channelId} is ${unclaimed}: top it up`;
      }
    }
    return { amount, why };
  }

  private async state(channelId: Hex, maxAgeMs: number): Promise<ChannelState> {
    const key = channelId.toLowerCase();
    const hit = this.cache.get(key);
    const age = hit ? this.now() - hit.readAt : Number.POSITIVE_INFINITY;
    if (hit && age <= maxAgeMs) {
      // Read again in the background once half its age is used: a busy peer's packets then never wait for the
      // chain (issue 17: a read every 2 s was on some packet's path), and credit is still never granted on state
      // older than maxAgeMs.
      if (age > maxAgeMs / 2) void this.read(channelId).catch(() => {});
      return hit.state;
    }
    mark('credit: chain read start');
    const state = await this.read(channelId);
    mark('credit: chain read done');
    return state;
  }

  /** One chain read per channel at a time; the cache takes its answer. */
  private read(channelId: Hex): Promise<ChannelState> {
    const key = channelId.toLowerCase();
    const running = this.reading.get(key);
    // Shared only if it started after the last forget(): its answer is then as fresh as a new read's.
    if (running && (this.forgotten.get(key) ?? -1) < running.startedAt) return running.p;
    const startedAt = this.now();
    const p = readChannel(this.o.publicClient, { channels: this.o.channels, channelId })
      .then((state) => {
        // A forget() (a claim moved the state) during the read: this answer may predate it, so it is not kept.
        if (this.forgotten.get(key) === undefined || this.forgotten.get(key)! < startedAt)
          this.cache.set(key, { state, readAt: startedAt });
        return state;
      })
      .finally(() => {
        if (this.reading.get(key)?.p === p) this.reading.delete(key);
      });
    this.reading.set(key, { p, startedAt });
    return p;
  }

  /** Whether one of the peer's bound channels has cached state older than `maxAgeMs` (or none): a read is due. */
  private staleFor(peerId: string, maxAgeMs: number): boolean {
    for (const channelId of this.o.bindings.channelsOf(peerId)) {
      const hit = this.cache.get(channelId.toLowerCase());
      if (!hit || this.now() - hit.readAt > maxAgeMs) return true;
    }
    return false;
  }

  /** Whether the peer may be scanned for an unbound channel now (at most once per `discoverEveryMs`). */
  private scanDue(peerId: string): boolean {
    const last = this.lastScan.get(peerId);
    return last === undefined || this.now() - last >= (this.o.discoverEveryMs ?? 2000);
  }

  /** Binds the peer's open unbound channel to us with the most unclaimed deposit; false if there is none. */
  private async discover(peerId: string, from: Address): Promise<boolean> {
    this.lastScan.set(peerId, this.now());
    const listed = await listChannels(this.o.publicClient, { channels: this.o.channels, wallet: from });
    const candidates = listed
      .filter(
        (c) =>
          c.role === 'sender' &&
          isAddressEqual(c.receiver, this.o.receiver) &&
          isAddressEqual(c.token, this.o.token) &&
          !c.closing &&
          !c.settled &&
          this.o.bindings.owner(c.channelId) === undefined,
      )
      .sort((a, b) => (b.deposit - b.claimed > a.deposit - a.claimed ? 1 : -1));
    const pick = candidates[0];
    try {
      if (!pick || !this.o.bindings.bind(pick.channelId, peerId)) return false;
    } catch {
      return false; // another peer bound it meanwhile
    }
    this.o.onBind(peerId, pick.channelId);
    return true;
  }
}
