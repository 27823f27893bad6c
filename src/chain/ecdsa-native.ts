// Claim signatures (ECDSA, RFC 6979, low s, with the recovery id) by the system's libsecp256k1, through koffi, as
// src/nostr/schnorr-native.ts does for BIP-340. noble's JS ECDSA took about 1.5 ms of the main thread per claim on
// this machine (issue 17), the library about 0.05 ms; a job makes about five claims (each Mayor's paid writes, the
// key payment, the node paying the provider), and in a node every claim to a peer is signed on the thread moving
// packets. libsecp256k1's default nonce is RFC 6979 (HMAC-SHA256), as noble's, so the bytes are the same: checked
// at load on fixed keys against noble's signature, and every signature is recovered to the signer's public key
// before it is used (a fault must never hand out a bad signature). Without koffi or the library, with a release
// lacking the recovery module, or with CROSSTOWN_NATIVE_SECP256K1=0, callers keep noble.
import { createRequire } from 'node:module';
import { NATIVE_SECP256K1_ENV, NATIVE_SECP256K1_LIBRARIES } from '../nostr/schnorr-native.js';

export interface NativeEcdsa {
  /** The library file that was loaded. */
  readonly library: string;
  /**
   * The compact signature r || s (64 bytes) and recovery id of the 32-byte `digest` by `seckey32`, checked by
   * recovering the signer's key; undefined for an invalid key or a signature that does not check. Never throws.
   */
  signRecoverable(
    digest: Uint8Array,
    seckey32: Uint8Array,
  ): { sig: Uint8Array; recovery: number } | undefined;
}

interface Koffi {
  load(path: string): { func(definition: string): (...args: unknown[]) => unknown };
}

/** Loads the first of `libraries` that signs recoverable ECDSA exactly as noble does; undefined if none. */
export function openNativeEcdsa(
  libraries: readonly string[] = NATIVE_SECP256K1_LIBRARIES,
  reference?: (digest: Uint8Array, seckey32: Uint8Array) => { sig: Uint8Array; recovery: number },
): NativeEcdsa | undefined {
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch {
    return undefined;
  }
  for (const library of libraries) {
    try {
      const lib = koffi.load(library);
      const create = lib.func('void *secp256k1_context_create(unsigned int flags)');
      const sign = lib.func(
        'int secp256k1_ecdsa_sign_recoverable(void *ctx, _Out_ uint8_t *sig65, const uint8_t *msghash32, const uint8_t *seckey, void *noncefp, void *ndata)',
      );
      const serialize = lib.func(
        'int secp256k1_ecdsa_recoverable_signature_serialize_compact(void *ctx, _Out_ uint8_t *output64, _Out_ int *recid, const uint8_t *sig65)',
      );
      const recover = lib.func(
        'int secp256k1_ecdsa_recover(void *ctx, _Out_ uint8_t *pubkey64, const uint8_t *sig65, const uint8_t *msghash32)',
      );
      const pubkeyCreate = lib.func(
        'int secp256k1_ec_pubkey_create(void *ctx, _Out_ uint8_t *pubkey64, const uint8_t *seckey)',
      );
      // SIGN | VERIFY: what releases before 0.2 need; later ones accept it (deprecated, the same as NONE).
      const ctx = create(0x301);
      if (!ctx) continue;
      // Opaque library structs, reused by every call on this thread (JS runs one call at a time).
      const rsig = new Uint8Array(65);
      const recovered = new Uint8Array(64);
      const expected = new Uint8Array(64);
      const recid = [0];
      const ecdsa: NativeEcdsa = {
        library,
        signRecoverable(digest, seckey32) {
          if (digest.length !== 32 || seckey32.length !== 32) return undefined;
          if (pubkeyCreate(ctx, expected, seckey32) !== 1) return undefined;
          if (sign(ctx, rsig, digest, seckey32, null, null) !== 1) return undefined;
          if (recover(ctx, recovered, rsig, digest) !== 1) return undefined;
          // Both are the library's own 64-byte representation of a point: equal bytes, equal keys.
          if (Buffer.compare(Buffer.from(recovered), Buffer.from(expected)) !== 0) return undefined;
          const sig = new Uint8Array(64);
          if (serialize(ctx, sig, recid, rsig) !== 1) return undefined;
          return { sig, recovery: recid[0]! };
        },
      };
      if (reference && !sameAsReference(ecdsa, reference)) continue;
      return ecdsa;
    } catch {
      // not found, or a build without the recovery module (missing symbol)
    }
  }
  return undefined;
}

/** The library must give the reference signer's exact bytes (RFC 6979, low s) on fixed keys and digests. */
function sameAsReference(
  ecdsa: NativeEcdsa,
  reference: (digest: Uint8Array, seckey32: Uint8Array) => { sig: Uint8Array; recovery: number },
): boolean {
  // Fixed digests and keys (the smallest and the largest secret key among them).
  const cases = [
    [
      '5d5e3c8e0a8ab2e7e1cd6c5d6e0a2d2f0c7d6b3e9b1f4f6f1a8c2b7d3e4f5a6b',
      '0000000000000000000000000000000000000000000000000000000000000001',
    ],
    [
      'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
      'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140',
    ],
    [
      '0000000000000000000000000000000000000000000000000000000000000000',
      '7a3c1b9e5d2f8064c3a1e9b7d5f2038a6c4e1b9d7f5a3c2e1d0b9f8e7d6c5b4a',
    ],
  ];
  for (const [d, k] of cases) {
    const digest = Buffer.from(d!, 'hex');
    const key = Buffer.from(k!, 'hex');
    const got = ecdsa.signRecoverable(digest, key);
    const want = reference(digest, key);
    if (!got || got.recovery !== want.recovery || Buffer.compare(got.sig, want.sig) !== 0) return false;
  }
  return true;
}

let opened: NativeEcdsa | undefined | null = null;

/**
 * The native claim signer of this thread, opened on first use with `reference` as its self-test (undefined when
 * unavailable, failing that test, or disabled with CROSSTOWN_NATIVE_SECP256K1=0).
 */
export function nativeEcdsa(
  reference: (digest: Uint8Array, seckey32: Uint8Array) => { sig: Uint8Array; recovery: number },
): NativeEcdsa | undefined {
  if (opened === null) {
    opened = process.env[NATIVE_SECP256K1_ENV] === '0' ? undefined : openNativeEcdsa(undefined, reference);
  }
  return opened;
}
