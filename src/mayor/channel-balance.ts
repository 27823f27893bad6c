// What is left in the Mayor's outgoing payment channel. One function, so the dashboard, `mayor status` and
// `channel status` always give the same number: what the chain holds minus what was spent off-chain.

export interface ChannelBalance {
  channelId: string;
  /** Total deposited (on-chain), base units. */
  deposit: bigint;
  /** Spent so far: the highest cumulative claim signed off-chain, or redeemed on-chain if that is more. */
  spent: bigint;
  /** deposit - spent, never below zero. */
  remaining: bigint;
}

/**
 * `signed` is the Mayor's highest signed cumulative claim (off-chain spending); `claimed` is what the receiver
 * already redeemed on-chain. Normally claimed <= signed; a claim redeemed from a state the Mayor lost still
 * counts, so the larger of the two is spent.
 */
export function channelBalance(input: {
  channelId: string;
  deposit: bigint;
  signed: bigint;
  claimed?: bigint;
}): ChannelBalance {
  const claimed = input.claimed ?? 0n;
  const spent = input.signed > claimed ? input.signed : claimed;
  const remaining = input.deposit > spent ? input.deposit - spent : 0n;
  return { channelId: input.channelId, deposit: input.deposit, spent, remaining };
}
