import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { NostrError } from './errors.js';
import { nativeSchnorr } from './schnorr-native.js';

/** A fresh random secp256k1 secret key (32 bytes) from the platform CSPRNG. */
export function generateSecretKey(): Uint8Array {
  return schnorr.utils.randomSecretKey();
}

/** The x-only (BIP-340) public key of `secretKey`, as 64 lowercase hex characters. */
export function getPublicKey(secretKey: Uint8Array): string {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new NostrError('invalid_key', 'secret key must be a 32-byte Uint8Array');
  }
  // libsecp256k1 when it loads (schnorr-native.ts): about 30x the JS point multiplication.
  const native = nativeSchnorr()?.publicKey?.(secretKey);
  if (native) return bytesToHex(native);
  try {
    return bytesToHex(schnorr.getPublicKey(secretKey));
  } catch (err) {
    throw new NostrError('invalid_key', 'secret key is out of range: it must be in [1, n-1] of secp256k1', {
      cause: err,
    });
  }
}
