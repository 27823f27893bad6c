// BIP-340 signature verification by the system's libsecp256k1 (its schnorrsig module; Debian: `libsecp256k1-1`),
// called through koffi (an FFI whose prebuilt binaries ship in its npm package). About 5x nostr-wasm per event on
// this machine (issue 17): the largest CPU item of a paid write. When koffi or the library cannot be loaded, or the
// library fails the self-test below, openNativeSchnorr answers undefined and callers keep nostr-wasm
// (verify-fast.ts), so a machine without the library works as before, only slower.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

export interface NativeSchnorr {
  /** The library file that was loaded (e.g. `libsecp256k1.so.1`). */
  readonly library: string;
  /** True when `sig64` is a valid BIP-340 signature of `msg` by the x-only public key `pub32`. Never throws. */
  verify(sig64: Uint8Array, msg: Uint8Array, pub32: Uint8Array): boolean;
  /**
   * The BIP-340 signature of `msg32` by `seckey32` (with `aux32`, fresh randomness unless a test fixes it), checked
   * against the signer's key before it is returned; undefined for an invalid key, or when this library cannot sign
   * (an older release: the JS or wasm signer then signs). Never throws.
   */
  sign?(msg32: Uint8Array, seckey32: Uint8Array, aux32?: Uint8Array): Uint8Array | undefined;
  /** The x-only public key of `seckey32`; undefined for an invalid key. Never throws. */
  publicKey?(seckey32: Uint8Array): Uint8Array | undefined;
  /**
   * ECDH for NIP-44: the x coordinate of `seckey32` times the point of x-only key `x32` (even y; x does not depend
   * on it), by the library's constant-time multiplication. Undefined for an invalid key or point. Never throws.
   */
  sharedX?(seckey32: Uint8Array, x32: Uint8Array): Uint8Array | undefined;
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
  load(path: string): {
    func(definition: string): (...args: unknown[]) => unknown;
    func(name: string, result: string, args: unknown[]): (...args: unknown[]) => unknown;
  };
  proto(definition: string): unknown;
  pointer(type: unknown): unknown;
  out(type: unknown): unknown;
  decode(ptr: unknown, type: string, len: number): Uint8Array;
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
      addSigning(lib, schnorr);
      addEcdh(koffi, lib, schnorr);
      return schnorr;
    } catch {
      // not found, or a build without the schnorrsig / extrakeys module (missing symbol)
    }
  }
  return undefined;
}

// BIP-340 test vector 0: secret key 3, aux and message all zero.
const SIGN_TEST = {
  sec: '0000000000000000000000000000000000000000000000000000000000000003',
  pub: 'f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9',
  sig: 'e907831f80848d1069a5371b402410364bdf1c5f8307b0084c55f1ce2dca821525f66a4a85ea8b71e482a74f382d2ce5ebeee8fdb2172f477df4900d310536c0',
};

/**
 * Signing (issue 17): the signer's own schnorr signature costs about 1 ms in wasm and 2 ms in JS per event, several
 * times per job (a request, a result, the seal and wrap of a private one). Added only when the library has the
 * functions and reproduces BIP-340 test vector 0 exactly; every signature it makes is verified before it is used.
 */
function addSigning(lib: ReturnType<Koffi['load']>, schnorr: NativeSchnorr): void {
  try {
    const create = lib.func('void *secp256k1_context_create(unsigned int flags)');
    const keypairCreate = lib.func(
      'int secp256k1_keypair_create(void *ctx, _Out_ uint8_t *keypair, const uint8_t *seckey)',
    );
    const keypairPub = lib.func(
      'int secp256k1_keypair_xonly_pub(void *ctx, _Out_ uint8_t *pubkey, _Out_ int *parity, const uint8_t *keypair)',
    );
    const serialize = lib.func(
      'int secp256k1_xonly_pubkey_serialize(void *ctx, _Out_ uint8_t *out32, const uint8_t *pubkey)',
    );
    const sign32 = lib.func(
      'int secp256k1_schnorrsig_sign32(void *ctx, _Out_ uint8_t *sig64, const uint8_t *msg32, const uint8_t *keypair, const uint8_t *aux32)',
    );
    // SIGN | VERIFY: what releases before 0.2 need to sign; later ones accept it (deprecated, the same as NONE).
    const ctx = create(0x301);
    if (!ctx) return;
    const keypair = new Uint8Array(96);
    const xonly = new Uint8Array(64);
    const parity = [0];
    const pubOf = (seckey32: Uint8Array): Uint8Array | undefined => {
      if (seckey32.length !== 32 || keypairCreate(ctx, keypair, seckey32) !== 1) return undefined;
      if (keypairPub(ctx, xonly, parity, keypair) !== 1) return undefined;
      const out = new Uint8Array(32);
      return serialize(ctx, out, xonly) === 1 ? out : undefined;
    };
    const sign = (msg32: Uint8Array, seckey32: Uint8Array, aux32?: Uint8Array) => {
      if (msg32.length !== 32) return undefined;
      const pub = pubOf(seckey32); // also fills `keypair` for this key
      if (!pub) return undefined;
      const sig = new Uint8Array(64);
      const aux = aux32 ?? new Uint8Array(randomBytes(32));
      const signed = sign32(ctx, sig, msg32, keypair, aux) === 1;
      keypair.fill(0);
      if (!signed) return undefined;
      // A fault (or a library bug) must never publish a bad signature, which could also leak the key.
      return schnorr.verify(sig, msg32, pub) ? sig : undefined;
    };
    const sec = Buffer.from(SIGN_TEST.sec, 'hex');
    const sig = sign(new Uint8Array(32), sec, new Uint8Array(32));
    const pub = pubOf(sec);
    if (!sig || !pub || Buffer.from(sig).toString('hex') !== SIGN_TEST.sig) return;
    if (Buffer.from(pub).toString('hex') !== SIGN_TEST.pub) return;
    schnorr.sign = sign;
    schnorr.publicKey = (seckey32) => {
      const p = pubOf(seckey32);
      keypair.fill(0);
      return p;
    };
  } catch {
    // a release without the extrakeys / schnorrsig signing functions: verification only
  }
}

/** The ECDH hash callback's type: declared once per copy of this module (koffi refuses a second type of one name). */
let ecdhHashType: unknown;

/**
 * ECDH (issue 17): OpenSSL's secp256k1 takes about 2 ms per conversation key here, the library about 0.07 ms; every
 * gift wrap and unwrap needs one with a one-time key. secp256k1_ecdh hashes the shared point with a function we
 * pass: ours keeps the x coordinate (what NIP-44 feeds to HKDF) and writes nothing.
 */
function addEcdh(koffi: Koffi, lib: ReturnType<Koffi['load']>, schnorr: NativeSchnorr): void {
  try {
    const create = lib.func('void *secp256k1_context_create(unsigned int flags)');
    const parse = lib.func(
      'int secp256k1_ec_pubkey_parse(void *ctx, _Out_ uint8_t *pubkey, const uint8_t *input, size_t inputlen)',
    );
    // Named per copy of this module: a process can load two (dist/ and src/ under tsx), and koffi's names are global.
    ecdhHashType ??= koffi.proto(
      `int crosstown_ecdh_keep_x_${randomBytes(6).toString('hex')}(uint8_t *output, const uint8_t *x32, const uint8_t *y32, void *data)`,
    );
    const ecdh = lib.func('secp256k1_ecdh', 'int', [
      'void *',
      koffi.out(koffi.pointer('uint8_t')),
      'const uint8_t *',
      'const uint8_t *',
      koffi.pointer(ecdhHashType),
      'void *',
    ]);
    const ctx = create(0x301);
    if (!ctx) return;
    const point = new Uint8Array(64);
    const compressed = new Uint8Array(33);
    const unused = new Uint8Array(32);
    compressed[0] = 2;
    const sharedX = (seckey32: Uint8Array, x32: Uint8Array): Uint8Array | undefined => {
      if (seckey32.length !== 32 || x32.length !== 32) return undefined;
      compressed.set(x32, 1);
      if (parse(ctx, point, compressed, 33) !== 1) return undefined;
      let x: Uint8Array | undefined;
      const ok = ecdh(
        ctx,
        unused,
        point,
        seckey32,
        (_out: unknown, xPtr: unknown) => {
          x = new Uint8Array(koffi.decode(xPtr, 'uint8_t', 32));
          return 1;
        },
        null,
      );
      return ok === 1 && x?.length === 32 ? x : undefined;
    };
    // 2 * G: its x coordinate is known; the secret 2 times the generator must give it.
    const g = Buffer.from('79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex');
    const two = new Uint8Array(32);
    two[31] = 2;
    const x = sharedX(two, g);
    if (
      !x ||
      Buffer.from(x).toString('hex') !== 'c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5'
    )
      return;
    schnorr.sharedX = sharedX;
  } catch {
    // no ECDH module in this build: OpenSSL does it
  }
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
