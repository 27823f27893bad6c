// BIP-340 signature verification by the system's libsecp256k1 (its schnorrsig module; Debian: `libsecp256k1-1`),
// called through koffi (an FFI whose prebuilt binaries ship in its npm package). About 5x nostr-wasm per event on
// this machine (issue 17): the largest CPU item of a paid write. When koffi or the library cannot be loaded, or the
// library fails the self-test below, openNativeSchnorr answers undefined and callers keep nostr-wasm
// (verify-fast.ts), so a machine without the library works as before, only slower.
import { createRequire } from 'node:module';

export interface NativeSchnorr {
  /** The library file that was loaded (e.g. `libsecp256k1.so.1`). */
  readonly library: string;
  /** True when `sig64` is a valid BIP-340 signature of `msg` by the x-only public key `pub32`. Never throws. */
  verify(sig64: Uint8Array, msg: Uint8Array, pub32: Uint8Array): boolean;
}

/** Library names tried in order: the sonames of libsecp256k1 >= 0.2 (the first release with schnorrsig). */
export const NATIVE_SECP256K1_LIBRARIES = [
  'libsecp256k1.so.2',
  'libsecp256k1.so.1',
  'libsecp256k1.so',
  'libsecp256k1.2.dylib',
  'libsecp256k1.dylib',
];

/** Set to `0` to never load the native library (nostr-wasm verifies every signature). */
export const NATIVE_SECP256K1_ENV = 'CROSSTOWN_NATIVE_SECP256K1';

const SECP256K1_CONTEXT_VERIFY = 0x101; // accepted by every release (deprecated, equal to NONE, from 0.2 on)

// BIP-340 test vector 1 (bitcoin/bips bip-0340/test-vectors.csv): a library that does not verify it, or verifies it
// with one bit of the signature flipped, has another ABI or is broken, and is not used.
const SELF_TEST = {
  pub: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
  msg: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
  sig: '6896bd60eeae296db48a229ff71dfe071bde413e6d43f917dc8dcf8c78de33418906d11ac976abccb20b091292bff4ea897efcb639ea871cfa95f6de339e4b0a',
};

interface Koffi {
  load(path: string): { func(definition: string): (...args: unknown[]) => unknown };
}

/** Loads the first of `libraries` that has the schnorrsig module and passes the self-test; undefined if none. */
export function openNativeSchnorr(
  libraries: readonly string[] = NATIVE_SECP256K1_LIBRARIES,
): NativeSchnorr | undefined {
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch {
    return undefined; // no prebuilt binary for this platform
  }
  for (const library of libraries) {
    try {
      const lib = koffi.load(library);
      const create = lib.func('void *secp256k1_context_create(unsigned int flags)');
      const parse = lib.func(
        'int secp256k1_xonly_pubkey_parse(void *ctx, _Out_ uint8_t *pubkey, const uint8_t *input32)',
      );
      const verify = lib.func(
        'int secp256k1_schnorrsig_verify(void *ctx, const uint8_t *sig64, const uint8_t *msg, size_t msglen, const uint8_t *pubkey)',
      );
      const ctx = create(SECP256K1_CONTEXT_VERIFY);
      if (!ctx) continue;
      // secp256k1_xonly_pubkey: 64 opaque bytes, reused by every call on this thread (JS runs one call at a time).
      const parsed = new Uint8Array(64);
      const schnorr: NativeSchnorr = {
        library,
        verify(sig64, msg, pub32) {
          if (sig64.length !== 64 || pub32.length !== 32) return false;
          if (parse(ctx, parsed, pub32) !== 1) return false; // not an x coordinate on the curve
          return verify(ctx, sig64, msg, msg.length, parsed) === 1;
        },
      };
      if (!passesSelfTest(schnorr)) continue;
      return schnorr;
    } catch {
      // not found, or a build without the schnorrsig / extrakeys module (missing symbol)
    }
  }
  return undefined;
}

function passesSelfTest(s: NativeSchnorr): boolean {
  const sig = Buffer.from(SELF_TEST.sig, 'hex');
  const msg = Buffer.from(SELF_TEST.msg, 'hex');
  const pub = Buffer.from(SELF_TEST.pub, 'hex');
  if (!s.verify(sig, msg, pub)) return false;
  sig[63]! ^= 1;
  return !s.verify(sig, msg, pub);
}

let opened: NativeSchnorr | undefined | null = null;

/**
 * The native verifier of this thread, opened on first use (undefined when unavailable, or disabled with
 * CROSSTOWN_NATIVE_SECP256K1=0).
 */
export function nativeSchnorr(): NativeSchnorr | undefined {
  if (opened === null) {
    opened = process.env[NATIVE_SECP256K1_ENV] === '0' ? undefined : openNativeSchnorr();
  }
  return opened;
}
