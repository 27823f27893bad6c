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
  // The system's libsecp256k1 when it loads (same RFC 6979 bytes, checked before use), noble otherwise.
  const native = nativeEcdsa()?.sign(digest, key);
  if (native)
    return `0x${Buffer.from(native.subarray(0, 64)).toString('hex')}${(27 + native[64]!).toString(16)}`;
  const sig = secp256k1.sign(digest, key, { prehash: false, lowS: true, format: 'recovered' });
  // 'recovered' is recovery || r || s.
  const v = (27 + sig[0]!).toString(16);
  return `0x${Buffer.from(sig.subarray(1)).toString('hex')}${v}`;
}

function hexToBytes(hex: Hex): Uint8Array {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex))
    throw new Error('a private key must be 32 bytes of hex (0x + 64 digits)');
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}
