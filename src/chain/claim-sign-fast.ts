// Claim signatures without viem's generic EIP-712 path: the digest from claimHash (same bytes as hashTypedData) and
// noble's RFC 6979 ECDSA on it, with low s, as viem's sign() does. Same signature bytes as account.signTypedData
// (test/chain/claim-sign-fast.test.ts checks random claims), at about a third of its CPU: a cost every claim paid on
// the thread moving packets (issue 17).
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { Hex, LocalAccount } from 'viem';
import { claimHash } from './claim-hash.js';
import { nativeEcdsa } from './ecdsa-native.js';
import type { Claim, ClaimDomain } from './types.js';

/** The private keys of accounts made from one (clients.ts), so their claims can be signed directly. */
const keys = new WeakMap<LocalAccount, Uint8Array>();

/** Lets claims of `account` (made from `privateKey`) take the direct path. */
export function rememberClaimKey(account: LocalAccount, privateKey: Hex): void {
  keys.set(account, hexToBytes(privateKey));
}

/** The key to sign with directly, or undefined when only the account can sign (e.g. a remote or custom signer). */
export function claimKeyOf(signer: LocalAccount | Hex): Uint8Array | undefined {
  return typeof signer === 'string' ? hexToBytes(signer) : keys.get(signer);
}

/** The 65-byte r || s || v (v = 27 + recovery) signature of `claim`, as viem's signTypedData returns it. */
export function signClaimWithKey(claim: Claim, domain: ClaimDomain, key: Uint8Array): Hex {
  const digest = hexToBytes(claimHash(claim, domain));
  // libsecp256k1 when it loads (same bytes, a thirtieth of the CPU: ecdsa-native.ts), else noble.
  const { sig, recovery } = nativeEcdsa(nobleSign)?.signRecoverable(digest, key) ?? nobleSign(digest, key);
  const v = (27 + recovery).toString(16);
  return `0x${Buffer.from(sig).toString('hex')}${v}`;
}

/** noble's RFC 6979 ECDSA with low s: r || s and the recovery id. */
export function nobleSign(digest: Uint8Array, key: Uint8Array): { sig: Uint8Array; recovery: number } {
  const sig = secp256k1.sign(digest, key, { prehash: false, lowS: true, format: 'recovered' });
  // 'recovered' is recovery || r || s.
  return { sig: sig.subarray(1), recovery: sig[0]! };
}

function hexToBytes(hex: Hex): Uint8Array {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex))
    throw new Error('a private key must be 32 bytes of hex (0x + 64 digits)');
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}
