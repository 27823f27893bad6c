import type { Hex, LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { CLAIM_TYPES } from '../claims.js';
import type { Claim, ClaimDomain, SignedClaim } from '../types.js';

/** Signs `Claim(channelId, cumulativeAmount)` over the contract's EIP-712 domain (the channel's sender signs). */
export async function signClaim(params: {
  signer: LocalAccount | Hex;
  domain: ClaimDomain;
  claim: Claim;
}): Promise<SignedClaim> {
  const account = typeof params.signer === 'string' ? privateKeyToAccount(params.signer) : params.signer;
  const { channelId, cumulativeAmount } = params.claim;
  const signature = await account.signTypedData({
    domain: params.domain,
    types: CLAIM_TYPES,
    primaryType: 'Claim',
    message: { channelId, cumulativeAmount },
  });
  return { channelId, cumulativeAmount, signature };
}
