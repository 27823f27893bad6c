import type { Address, Hex } from 'viem';
import { claimHash } from '../claim-hash.js';
import { checkClaimSignature } from '../claim-signer-thread.js';
import type { Claim, ClaimDomain } from '../types.js';

export interface VerifyClaimResult {
  valid: boolean;
  /** Who signed it (null if the signature is malformed or not in the contract's canonical form). */
  signer: Address | null;
  /** Why a signature the contract would refuse is refused before recovery (malformed, high s, v not 27/28). */
  problem?: string;
}

/** Order of secp256k1: a canonical signature has s <= n / 2 (EIP-2, OpenZeppelin ECDSA). */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N / 2n;

/**
 * The form OpenZeppelin's ECDSA.tryRecover (the contract's check) accepts: exactly 65 bytes r || s || v,
 * 0 < s <= n/2 and v in {27, 28}. Anything else reverts on-chain with InvalidClaimSignature even when an
 * off-chain recovery (which tolerates high s and v = 0/1) finds the right signer, so it must be refused here.
 * Returns the reason it is not canonical, or undefined.
 */
export function nonCanonicalSignature(signature: Hex): string | undefined {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) {
    return `the signature must be 65 bytes (r, s, v) in hex, got ${Math.max(0, (signature.length - 2) / 2)} bytes`;
  }
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (s === 0n || s > HALF_N) {
    return 'the signature has a high s value (s > n/2, a malleated signature): the contract only accepts s <= n/2; sign with a standard EIP-712 signer';
  }
  if (v !== 27 && v !== 28) {
    return `the signature's v is ${v}: the contract only accepts v = 27 or 28; sign with a standard EIP-712 signer`;
  }
  return undefined;
}

/**
 * Off-chain check of a claim signature with the contract's rules: canonical form (see nonCanonicalSignature),
 * then recovers the signer over `domain` and compares it with `expectedSigner` (the channel's on-chain sender).
 * Never throws for a bad signature.
 */
export async function verifyClaim(params: {
  claim: Claim;
  signature: Hex;
  domain: ClaimDomain;
  expectedSigner: Address;
}): Promise<VerifyClaimResult> {
  const problem = nonCanonicalSignature(params.signature);
  if (problem) return { valid: false, signer: null, problem };
  // The same digest as viem's hashTypedData over CLAIM_TYPES, without its per-call validation and ABI encoding.
  const hash = claimHash(params.claim, params.domain);
  // The signer's key is kept after its first valid claim: later claims are checked against it (claim-signers.ts), on
  // the claim-signer thread when the process started one (the node does).
  const { valid, signer } = await checkClaimSignature(hash, params.signature, params.expectedSigner);
  if (signer === null)
    return { valid: false, signer: null, problem: 'the signature does not recover to any key' };
  return { valid, signer };
}
