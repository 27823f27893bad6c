import type { Address, Hex } from 'viem';

/** A sender's promise: the receiver may take up to `cumulativeAmount` (base units) from the channel in total. */
export interface Claim {
  channelId: Hex;
  cumulativeAmount: bigint;
}

export interface SignedClaim extends Claim {
  signature: Hex;
}

/** EIP-712 domain of a PaymentChannels deployment. All four fields bind a claim to one contract on one chain. */
export interface ClaimDomain {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: Address;
}

/** On-chain state of a channel, as `readChannel` returns it and `listChannels` rebuilds it from events. */
export interface ChannelState {
  channelId: Hex;
  sender: Address;
  receiver: Address;
  token: Address;
  /** Total locked, base units (grows with top-ups). */
  deposit: bigint;
  /** Total already paid out to the receiver. Always <= deposit. */
  claimed: bigint;
  /** Seconds between startClose and the earliest withdraw. */
  challengeWindow: bigint;
  /** Unix seconds of startClose, 0n while open. */
  closeRequestedAt: bigint;
  /** Unix seconds after which the sender may withdraw; 0n while open. */
  closesAt: bigint;
  /** startClose was called and the channel is not settled yet. */
  closing: boolean;
  /** Nothing left in the channel: withdrawn, or claimed with close. */
  settled: boolean;
}
