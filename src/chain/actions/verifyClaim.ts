import { type Address, type Hex, isAddressEqual, recoverTypedDataAddress } from 'viem';
import { CLAIM_TYPES } from '../claims.js';
import type { Claim, ClaimDomain } from '../types.js';

export interface VerifyClaimResult {
  valid: boolean;
  /** Who signed it (null if the signature is malformed). */
  signer: Address | null;
}

/**
 * Off-chain check of a claim signature: recovers the signer over `domain` and compares it with
 * `expectedSigner` (the channel's on-chain sender). Never throws for a bad signature.
 */
export async function verifyClaim(params: {
  claim: Claim;
  signature: Hex;
  domain: ClaimDomain;
  expectedSigner: Address;
}): Promise<VerifyClaimResult> {
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({
      domain: params.domain,
      types: CLAIM_TYPES,
      primaryType: 'Claim',
      message: { channelId: params.claim.channelId, cumulativeAmount: params.claim.cumulativeAmount },
      signature: params.signature,
    });
  } catch {
    return { valid: false, signer: null };
  }
  return { valid: isAddressEqual(signer, params.expectedSigner), signer };
}
