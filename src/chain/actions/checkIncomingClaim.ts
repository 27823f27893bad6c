import { ChainError } from '../errors.js';
import type { ChannelState, ClaimDomain, SignedClaim } from '../types.js';
import { nonCanonicalSignature, verifyClaim } from './verifyClaim.js';

/**
 * The receiver's acceptance rule for a new claim (what a connector runs before crediting a payment):
 * same channel, channel still open, a canonical signature (65 bytes, s <= n/2, v 27 or 28: what the contract
 * accepts) by the channel's on-chain sender over the real domain,
 * exactly `expectedIncrease` above the last accepted claim, and within the deposit.
 * `channel` should come from `readChannel` (the chain is the source of truth). Throws ChainError.
 */
export async function checkIncomingClaim(params: {
  claim: SignedClaim;
  channel: ChannelState;
  domain: ClaimDomain;
  /** Cumulative amount of the last claim accepted on this channel (0n for the first). */
  previousCumulative: bigint;
  /** What was just fulfilled and must be paid for by this claim. */
  expectedIncrease: bigint;
}): Promise<void> {
  const { claim, channel } = params;
  if (claim.channelId.toLowerCase() !== channel.channelId.toLowerCase()) {
    throw new ChainError(
      'CLAIM_WRONG_CHANNEL',
      `Claim is for channel ${claim.channelId}, expected ${channel.channelId}.`,
    );
  }
  if (channel.settled || channel.closing) {
    throw new ChainError(
      'CLAIM_CHANNEL_CLOSING',
      `Channel ${channel.channelId} is ${channel.settled ? 'settled' : 'closing'}: accept no new claims on it; ask the sender to open a new channel.`,
    );
  }
  const problem = nonCanonicalSignature(claim.signature);
  if (problem) {
    throw new ChainError(
      'CLAIM_NON_CANONICAL_SIGNATURE',
      `Claim signature refused: ${problem}. The contract would revert with InvalidClaimSignature, so this claim could never be redeemed.`,
    );
  }
  const { valid, signer } = await verifyClaim({
    claim,
    signature: claim.signature,
    domain: params.domain,
    expectedSigner: channel.sender,
  });
  if (!valid) {
    throw new ChainError(
      'CLAIM_BAD_SIGNATURE',
      `Claim signature recovers to ${signer ?? 'nothing (malformed)'}, not the channel sender ${channel.sender}: it was signed for another signer, channel, contract or chain id.`,
    );
  }
  const increase = claim.cumulativeAmount - params.previousCumulative;
  if (increase !== params.expectedIncrease) {
    throw new ChainError(
      'CLAIM_WRONG_INCREMENT',
      `Claim raises the cumulative amount by ${increase}, but ${params.expectedIncrease} was fulfilled: the sender must sign previous + fulfilled exactly.`,
    );
  }
  if (claim.cumulativeAmount > channel.deposit) {
    throw new ChainError(
      'CLAIM_OVER_DEPOSIT',
      `Claim of ${claim.cumulativeAmount} exceeds the channel deposit ${channel.deposit}: the sender must top up before paying more.`,
    );
  }
}
