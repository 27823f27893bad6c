import type { Hex, LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { claimKeyOf, signClaimWithKey } from '../claim-sign-fast.js';
import { CLAIM_TYPES } from '../claims.js';
import type { Claim, ClaimDomain, SignedClaim } from '../types.js';

/** Signs `Claim(channelId, cumulativeAmount)` over the contract's EIP-712 domain (the channel's sender signs). */
export async function signClaim(params: {
  signer: LocalAccount | Hex;
  domain: ClaimDomain;
  claim: Claim;
}): Promise<SignedClaim> {
  const { channelId, cumulativeAmount } = params.claim;
  // A known key signs directly (same bytes, a third of the CPU); any other account through viem.
  const key = claimKeyOf(params.signer);
  if (key)
    return { channelId, cumulativeAmount, signature: signClaimWithKey(params.claim, params.domain, key) };
  const account = typeof params.signer === 'string' ? privateKeyToAccount(params.signer) : params.signer;
  const signature = await account.signTypedData({
    domain: params.domain,
    types: CLAIM_TYPES,
    primaryType: 'Claim',
    message: { channelId, cumulativeAmount },
  });
  return { channelId, cumulativeAmount, signature };
}
