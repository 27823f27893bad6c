// Claim signatures of a known sender, checked without recovering its key each time. The first valid claim of a sender
// recovers the key (as ecrecover does) and keeps it with precomputed multiples; later claims are checked against it:
// R = (h/s)·G + (r/s)·P must have x = r exactly and the y parity that v names. That is the same as
// ecrecover(h, v, r, s) == P (solve s·R = h·G + r·P for P), so what passes here passes the contract's check; about 3x
// less CPU than a recovery, which was the largest cost of a claim on the node's main thread (issue 17).
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { type Address, type Hex, isAddressEqual, recoverPublicKey } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import { type NativeEcdsa, nativeEcdsa } from './ecdsa-native.js';

type Point = InstanceType<typeof secp256k1.Point>;
const { Point } = secp256k1;
const Fn = Point.Fn;

/** Senders whose key is kept (least recently used dropped first); each costs a few tens of kB of precomputed points. */
const MAX_SENDERS = 256;
/** wNAF window of the kept keys: 4 is most of the speed-up for a small fraction of the precompute cost of 8. */
const WINDOW = 4;

const keys = new Map<string, Point>();

/**
 * Whether `signature` (65 bytes r || s || v, already checked canonical: s <= n/2, v 27 or 28) over `hash` recovers to
 * `expected`. Returns the recovered signer when it had to recover (first claim of a sender, or a signature that is
 * not the kept key's), so a refusal can name it; null when the signature recovers to no key.
 */
export async function claimSignedBy(
  hash: Hex,
  signature: Hex,
  expected: Address,
): Promise<{ valid: boolean; signer: Address | null }> {
  const native = nativeEcdsa();
  if (native) return nativeSignedBy(native, hash, signature, expected);
  const key = expected.toLowerCase();
  const kept = keys.get(key);
  if (kept && matchesKey(hash, signature, kept)) {
    keys.delete(key); // most recently used last
    keys.set(key, kept);
    return { valid: true, signer: expected };
  }
  let publicKey: Hex;
  try {
    publicKey = await recoverPublicKey({ hash, signature });
  } catch {
    return { valid: false, signer: null };
  }
  const signer = publicKeyToAddress(publicKey);
  const valid = isAddressEqual(signer, expected);
  if (valid && !kept) {
    const point = Point.fromHex(publicKey.slice(2));
    point.precompute(WINDOW, false);
    keys.set(key, point);
    if (keys.size > MAX_SENDERS) keys.delete(keys.keys().next().value!);
  }
  return { valid, signer };
}

/** Public keys recovered by the native library, by address: a known sender's claim then needs no keccak. */
const nativeKeys = new Map<string, string>();

/** ecrecover(hash, v, r, s) by the system's libsecp256k1 (ecdsa-native.ts): about 50 µs instead of noble's ms. */
function nativeSignedBy(
  native: NativeEcdsa,
  hash: Hex,
  signature: Hex,
  expected: Address,
): { valid: boolean; signer: Address | null } {
  const v = Number.parseInt(signature.slice(130, 132), 16) - 27;
  if (signature.length !== 132 || !/^0x[0-9a-fA-F]{64}$/.test(hash) || (v !== 0 && v !== 1))
    return { valid: false, signer: null };
  const pub = native.recover(
    Buffer.from(hash.slice(2), 'hex'),
    Buffer.from(signature.slice(2, 130), 'hex'),
    v,
  );
  if (!pub) return { valid: false, signer: null };
  const pubHex = Buffer.from(pub).toString('hex');
  const key = expected.toLowerCase();
  if (nativeKeys.get(key) === pubHex) {
    nativeKeys.delete(key); // most recently used last
    nativeKeys.set(key, pubHex);
    return { valid: true, signer: expected };
  }
  const signer = publicKeyToAddress(`0x${pubHex}`);
  const valid = isAddressEqual(signer, expected);
  if (valid) {
    nativeKeys.set(key, pubHex);
    if (nativeKeys.size > MAX_SENDERS) nativeKeys.delete(nativeKeys.keys().next().value!);
  }
  return { valid, signer };
}

/** ecrecover(hash, v, r, s) == P, computed forwards from P. */
function matchesKey(hash: Hex, signature: Hex, P: Point): boolean {
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const parity = BigInt(Number.parseInt(signature.slice(130, 132), 16) - 27);
  if (r <= 0n || r >= Fn.ORDER || s <= 0n || s >= Fn.ORDER || (parity !== 0n && parity !== 1n)) return false;
  const sInv = Fn.inv(s);
  const u1 = Fn.mul(Fn.create(BigInt(hash)), sInv);
  const u2 = Fn.mul(r, sInv);
  const R = Point.BASE.multiplyUnsafe(u1).add(P.multiplyUnsafe(u2));
  if (R.is0()) return false;
  const { x, y } = R.toAffine();
  return x === r && (y & 1n) === parity;
}

/** Forgets every kept key (tests). */
export function forgetClaimSigners(): void {
  keys.clear();
  nativeKeys.clear();
}
