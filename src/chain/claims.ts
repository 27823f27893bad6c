// EIP-712 definitions shared by signing, verification and the contract (must match PaymentChannels.sol).
import type { Address } from 'viem';
import type { ClaimDomain } from './types.js';

export const CLAIM_DOMAIN_NAME = 'PaymentChannels';
export const CLAIM_DOMAIN_VERSION = '1';

export const CLAIM_TYPES = {
  Claim: [
    { name: 'channelId', type: 'bytes32' },
    { name: 'cumulativeAmount', type: 'uint256' },
  ],
} as const;

/** The domain a claim for channels on `verifyingContract` at `chainId` must be signed over. */
export function claimDomain(chainId: number, verifyingContract: Address): ClaimDomain {
  return { name: CLAIM_DOMAIN_NAME, version: CLAIM_DOMAIN_VERSION, chainId, verifyingContract };
}
