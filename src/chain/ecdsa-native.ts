// Recoverable ECDSA (the signatures of payment-channel claims) by the system's libsecp256k1, through koffi, as
// src/nostr/schnorr-native.ts does for BIP-340. A claim signed by noble took ~1-2 ms of the paying Mayor's thread and
// its check on the node ~1-4 ms of noble arithmetic (claims come ~40 times a second at most, so that code never gets
// optimized); the library does each in well under 0.1 ms (issue 17). Used only when the library loads with its
// recovery module and reproduces a known signature and key exactly; every signature it makes is recovered to the
// signer's key before it is returned. Otherwise (or with CROSSTOWN_NATIVE_SECP256K1=0) noble signs and checks.
import { createRequire } from 'node:module';
import { NATIVE_SECP256K1_ENV, NATIVE_SECP256K1_LIBRARIES } from '../nostr/schnorr-native.js';

export interface NativeEcdsa {
  /** The library file that was loaded. */
  readonly library: string;
  /**
   * RFC 6979 ECDSA of `digest32` by `seckey32`, low s: r (32) || s (32) || recovery id (1), the very bytes noble's
   * `sign(…, { prehash: false, lowS: true })` gives. Checked by recovering the signer's key before it is returned;
   * undefined for an invalid key or a failed check. Never throws.
   */
  sign(digest32: Uint8Array, seckey32: Uint8Array): Uint8Array | undefined;
  /**
   * The uncompressed public key (65 bytes, 0x04 || x || y) that signed `digest32` with r || s (`sig64`) and `recid`
   * (0 or 1), as ecrecover computes it; undefined when none does (r or s zero or out of range, r not on the curve).
   * Never throws.
   */
  recover(digest32: Uint8Array, sig64: Uint8Array, recid: number): Uint8Array | undefined;
}

interface Koffi {
  load(path: string): { func(definition: string): (...args: unknown[]) => unknown };
}

// Secret key 3 signing 32 bytes of 0x5a: signature and key as noble 2.0 computes them (RFC 6979, low s).
const SELF_TEST = {
  sig: '5538e45f36005d34ce79f1dec7420a56217d95792f2dd0a80e8587db41db3cdf202b6c94a18464d3116f4dac90179e103d029460fa850ab62963d380cff36dca00',
  pub: '04f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9388f7b0f632de8140fe337e62a37f3566500a99934c2231b6cb9fd7584b8e672',
};

/** Loads the first of `libraries` with the recovery module that passes the self-test; undefined if none. */
export function openNativeEcdsa(
  libraries: readonly string[] = NATIVE_SECP256K1_LIBRARIES,
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
      const signRecoverable = lib.func(
        'int secp256k1_ecdsa_sign_recoverable(void *ctx, _Out_ uint8_t *sig65, const uint8_t *msg32, const uint8_t *seckey, void *noncefp, void *ndata)',
      );
      const serializeCompact = lib.func(
        'int secp256k1_ecdsa_recoverable_signature_serialize_compact(void *ctx, _Out_ uint8_t *output64, _Out_ int *recid, const uint8_t *sig65)',
      );
      const parseCompact = lib.func(
        'int secp256k1_ecdsa_recoverable_signature_parse_compact(void *ctx, _Out_ uint8_t *sig65, const uint8_t *input64, int recid)',
      );
      const recover = lib.func(
        'int secp256k1_ecdsa_recover(void *ctx, _Out_ uint8_t *pubkey64, const uint8_t *sig65, const uint8_t *msg32)',
      );
      const pubkeyCreate = lib.func(
        'int secp256k1_ec_pubkey_create(void *ctx, _Out_ uint8_t *pubkey64, const uint8_t *seckey)',
      );
      const serializePubkey = lib.func(
        'int secp256k1_ec_pubkey_serialize(void *ctx, _Out_ uint8_t *output, _Inout_ size_t *outputlen, const uint8_t *pubkey64, unsigned int flags)',
      );
      // SIGN | VERIFY: what releases before 0.2 need; later ones accept it (deprecated, the same as NONE).
      const ctx = create(0x301);
      if (!ctx) continue;
      // The library's opaque structs (65-byte recoverable signature, 64-byte public key), reused: JS runs one call
      // at a time on a thread.
      const opaqueSig = new Uint8Array(65);
      const opaqueKey = new Uint8Array(64);
      const recid = [0];
      const length = [65];
      const serialized = (): Uint8Array | undefined => {
        const out = new Uint8Array(65);
        length[0] = 65;
        // SECP256K1_EC_UNCOMPRESSED = 2
        return serializePubkey(ctx, out, length, opaqueKey, 2) === 1 && length[0] === 65 ? out : undefined;
      };
      const native: NativeEcdsa = {
        library,
        recover(digest32, sig64, id) {
          if (digest32.length !== 32 || sig64.length !== 64 || (id !== 0 && id !== 1)) return undefined;
          if (parseCompact(ctx, opaqueSig, sig64, id) !== 1) return undefined;
          if (recover(ctx, opaqueKey, opaqueSig, digest32) !== 1) return undefined;
          return serialized();
        },
        sign(digest32, seckey32) {
          if (digest32.length !== 32 || seckey32.length !== 32) return undefined;
          if (pubkeyCreate(ctx, opaqueKey, seckey32) !== 1) return undefined;
          const own = serialized();
          // Null nonce function: the library's default, RFC 6979 (deterministic, as noble and viem).
          if (!own || signRecoverable(ctx, opaqueSig, digest32, seckey32, null, null) !== 1) return undefined;
          const out = new Uint8Array(65);
          if (serializeCompact(ctx, out, recid, opaqueSig) !== 1) return undefined;
          out[64] = recid[0]!;
          // A fault (or a library bug) must never hand out a bad signature, which could also leak the key.
          const back = native.recover(digest32, out.subarray(0, 64), out[64]!);
          return back && Buffer.compare(back, own) === 0 ? out : undefined;
        },
      };
      const key = new Uint8Array(32);
      key[31] = 3;
      const sig = native.sign(new Uint8Array(32).fill(0x5a), key);
      if (!sig || Buffer.from(sig).toString('hex') !== SELF_TEST.sig) continue;
      const pub = native.recover(new Uint8Array(32).fill(0x5a), sig.subarray(0, 64), sig[64]!);
      if (!pub || Buffer.from(pub).toString('hex') !== SELF_TEST.pub) continue;
      return native;
    } catch {
      // not found, or a build without the recovery module (missing symbol)
    }
  }
  return undefined;
}

let opened: NativeEcdsa | undefined | null = null;

/** This thread's native ECDSA, opened on first use (undefined when unavailable or CROSSTOWN_NATIVE_SECP256K1=0). */
export function nativeEcdsa(): NativeEcdsa | undefined {
  if (opened === null) opened = process.env[NATIVE_SECP256K1_ENV] === '0' ? undefined : openNativeEcdsa();
  return opened;
}

/** Forgets what nativeEcdsa() found: the next use reads CROSSTOWN_NATIVE_SECP256K1 again (tests turn it on and off). */
export function reopenNativeEcdsa(): void {
  opened = null;
}
