// The claim signer through the system's libsecp256k1 (ecdsa-native.ts) must give noble's exact bytes (RFC 6979,
// low s, recovery id) for any key and digest, refuse what is not a secret key, and step aside when told to.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nobleSign } from '../../src/chain/claim-sign-fast.js';
import { nativeEcdsa, openNativeEcdsa } from '../../src/chain/ecdsa-native.js';

const N = Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'hex');

describe('native ECDSA claim signing', () => {
  const native = nativeEcdsa(nobleSign);

  it('loads here (libsecp256k1 is installed on this machine and in CI)', () => {
    expect(native?.library).toMatch(/libsecp256k1/);
  });

  it('gives noble bytes and recovery ids for random keys and digests', () => {
    for (let i = 0; i < 300; i++) {
      const digest = randomBytes(32);
      const key = randomBytes(32);
      const got = native!.signRecoverable(digest, key)!;
      const want = nobleSign(digest, key);
      expect(Buffer.from(got.sig).toString('hex')).toBe(Buffer.from(want.sig).toString('hex'));
      expect(got.recovery).toBe(want.recovery);
    }
  });

  it('refuses a zero key, the group order, and wrong lengths (the caller falls back to noble)', () => {
    const digest = randomBytes(32);
    expect(native!.signRecoverable(digest, new Uint8Array(32))).toBeUndefined();
    expect(native!.signRecoverable(digest, N)).toBeUndefined();
    expect(native!.signRecoverable(digest.subarray(1), randomBytes(32))).toBeUndefined();
    expect(native!.signRecoverable(digest, randomBytes(31))).toBeUndefined();
  });

  it('is not used when the reference signer disagrees, or when no library loads', () => {
    const wrong = (d: Uint8Array, k: Uint8Array) => {
      const s = nobleSign(d, k);
      return { sig: s.sig, recovery: s.recovery ^ 1 };
    };
    expect(openNativeEcdsa(undefined, wrong)).toBeUndefined();
    expect(openNativeEcdsa(['libsecp256k1-not-here.so'], nobleSign)).toBeUndefined();
  });
});
