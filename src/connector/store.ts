// What the connector must remember across restarts (docs/connector.md "Restarts"): per peer the fulfilled-unpaid
// packets in both directions, the best accepted claim of each incoming channel, the outgoing channel we pay the
// peer through, and the configuration of child peers (so their BTP tokens still work). Every method is durable
// when it returns (addUnpaid: when its promise resolves, if it returns one), so the connector writes first and
// acts after.
import type { Hex } from 'viem';
import type { SignedClaim } from '../chain/types.js';
import type { PeerConfig } from './types.js';

/** `in`: the peer owes us (its packets we fulfilled); `out`: we owe the peer (packets it fulfilled for us). */
export type UnpaidDirection = 'in' | 'out';

export interface UnpaidPacket {
  /** executionCondition, 64 lowercase hex characters. */
  condition: string;
  amount: bigint;
  /**
   * Its fulfillment (64 lowercase hex characters), when known: the proof that the packet went through, which a payer
   * that lost the packet's answer asks before it pays it (a payment-channel-status). Packets recorded before it was
   * kept have none.
   */
  fulfillment?: string;
}

/** The channel we pay a peer through and how much we signed on it. */
export interface OutgoingChannel {
  channelId: Hex;
  deposit: bigint;
  cumulative: bigint;
}

export interface ConnectorStore {
  /** Child peers saved by savePeer, to be added again on start. */
  peers(): PeerConfig[];
  savePeer(config: PeerConfig): void;
  deletePeer(id: string): void;
  /** Unpaid packets of a peer in one direction, oldest first. */
  unpaid(peerId: string, direction: UnpaidDirection): UnpaidPacket[];
  /**
   * Records a fulfilled packet. Durable when it returns, or, if it returns a promise, when that resolves (a store
   * may group-commit the packets of one event-loop turn). Later reads and transactions see it either way.
   */
  addUnpaid(peerId: string, direction: UnpaidDirection, packet: UnpaidPacket): void | Promise<void>;
  /**
   * In one transaction: removes the paid `in` packets (oldest first per condition) and makes `claim` the channel's
   * best. Durable when it returns, or when its promise resolves (a store may group-commit it with the packets
   * recorded before it); the claim is answered only then.
   */
  acceptClaim(peerId: string, claim: SignedClaim, pays: readonly string[]): void | Promise<void>;
  /** Best accepted claims of the peer's incoming channels. */
  acceptedClaims(peerId: string): SignedClaim[];
  /** The best accepted claim of a channel, whoever the peer. */
  acceptedClaim(channelId: Hex): SignedClaim | undefined;
  /**
   * In one transaction: removes the paid `out` packets and records the outgoing channel state. May be queued behind
   * earlier writes: durable when the returned promise resolves.
   */
  saveOutgoing(peerId: string, channel: OutgoingChannel, pays: readonly string[]): void | Promise<void>;
  outgoing(peerId: string): OutgoingChannel | undefined;
  /** Releases the store (files, threads); a promise when that finishes later. */
  close(): void | Promise<void>;
}

/** Keeps everything in memory: for tests and for nodes that accept losing settlement state on restart. */
export class MemoryConnectorStore implements ConnectorStore {
  private readonly peerConfigs = new Map<string, PeerConfig>();
  private readonly packets = new Map<string, UnpaidPacket[]>();
  private readonly claims = new Map<string, { peerId: string; claim: SignedClaim }>();
  private readonly out = new Map<string, OutgoingChannel>();

  peers(): PeerConfig[] {
    return [...this.peerConfigs.values()].map((c) => ({ ...c }));
  }
  savePeer(config: PeerConfig): void {
    this.peerConfigs.set(config.id, { ...config });
  }
  deletePeer(id: string): void {
    this.peerConfigs.delete(id);
  }
  unpaid(peerId: string, direction: UnpaidDirection): UnpaidPacket[] {
    return (this.packets.get(`${direction}:${peerId}`) ?? []).map((p) => ({ ...p }));
  }
  addUnpaid(peerId: string, direction: UnpaidDirection, packet: UnpaidPacket): void {
    const key = `${direction}:${peerId}`;
    const list = this.packets.get(key) ?? [];
    list.push({ ...packet });
    this.packets.set(key, list);
  }
  acceptClaim(peerId: string, claim: SignedClaim, pays: readonly string[]): void {
    this.removeEach(`in:${peerId}`, pays);
    this.claims.set(claim.channelId.toLowerCase(), { peerId, claim: { ...claim } });
  }
  acceptedClaims(peerId: string): SignedClaim[] {
    return [...this.claims.values()].filter((c) => c.peerId === peerId).map((c) => ({ ...c.claim }));
  }
  acceptedClaim(channelId: Hex): SignedClaim | undefined {
    const c = this.claims.get(channelId.toLowerCase());
    return c && { ...c.claim };
  }
  saveOutgoing(peerId: string, channel: OutgoingChannel, pays: readonly string[]): void {
    this.removeEach(`out:${peerId}`, pays);
    this.out.set(peerId, { ...channel });
  }
  outgoing(peerId: string): OutgoingChannel | undefined {
    const c = this.out.get(peerId);
    return c && { ...c };
  }
  close(): void {}

  private removeEach(key: string, pays: readonly string[]): void {
    const list = this.packets.get(key) ?? [];
    for (const c of pays) {
      const i = list.findIndex((p) => p.condition === c);
      if (i >= 0) list.splice(i, 1);
    }
  }
}
