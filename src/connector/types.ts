import type { IlpPrepare, IlpReply } from '../ilp/types.js';

/** What the connector knows about one BTP peer (a Mayor attached as a child, or another connector). */
export interface PeerConfig {
  /** Unique id, also the last address segment of a child (e.g. `alice` for `g.crosstown.node.alice`). */
  id: string;
  /** `child`: a Mayor under this node's address; `peer`: another connector reached by static routes. */
  relation: 'child' | 'peer';
  /** The token the peer authenticates with on BTP (first message `auth` + `auth_token`). */
  authToken?: string;
  /** The Nostr pubkey the peer identity is bound to (from SPSP), if any. */
  nostrPubkey?: string;
  /** The peer's on-chain address: sender of its channel to us, receiver of ours to it. */
  settlementAddress?: `0x${string}`;
  /** Incoming channels bound to this peer (a channel pays one peer only); kept so the binding survives restarts. */
  channels?: `0x${string}`[];
  /** Most the peer may owe (fulfilled, not yet covered by a claim) plus hold in flight. Undefined: no limit. */
  creditLimit?: bigint;
  /** Largest single PREPARE accepted from this peer (F08 above it). Undefined: the connector default. */
  maxPacketAmount?: bigint;
  /** Owed to this peer at or above which the connector signs a claim to it. Undefined: settlement default. */
  settleThreshold?: bigint;
  /** Packets per second the peer may send (token bucket, burst = 2 s worth). Undefined: connector default. */
  rateLimitPerSecond?: number;
}

/** Money state of one peer, base units. */
export interface PeerBalance {
  /** Fulfilled for the peer's packets and not yet covered by an accepted claim. */
  owedByPeer: bigint;
  /** In flight from the peer: reserved against its credit limit until FULFILL or REJECT. */
  inFlight: bigint;
  /** Fulfilled by the peer for packets we forwarded to it, not yet covered by a claim we sent. */
  owedToPeer: bigint;
  /** Total covered by accepted incoming claims (all channels). */
  paidByPeer: bigint;
  /** Total covered by claims we signed to the peer. */
  paidToPeer: bigint;
}

/** Where a PREPARE goes next. */
export type NextHop =
  | { kind: 'peer'; peerId: string }
  | { kind: 'local'; name: string; handle: LocalHandler };

/** An in-process receiver, e.g. the relay's write gate. */
export type LocalHandler = (prepare: IlpPrepare) => Promise<IlpReply>;

/** Anything that can carry a PREPARE to a peer and bring back its answer. */
export interface PacketSender {
  sendPrepare(prepare: IlpPrepare, timeoutMs: number): Promise<IlpReply>;
}
