// Claims signed and checked by the system's libsecp256k1 (src/chain/ecdsa-native.ts) must be exactly what noble and
// viem give: the same signature bytes (the payee compares claims byte for byte, the contract checks them), the same
// recovered key for every signature, and the same refusals for a hostile payer's malformed ones (r or s zero or out of
// range, r not on the curve, v flipped, another key). The library is a system package (`libsecp256k1-1`, as for the
// relay's BIP-340 checks): the native cases need it, and the noble fallback is checked with it disabled.
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { type Address, type Hex, hashTypedData, recoverPublicKey } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { claimDomain } from '../../src/chain/claims.js';
import { nativeEcdsa, reopenNativeEcdsa } from '../../src/chain/ecdsa-native.js';

const N = secp256k1.Point.Fn.ORDER;
const hex32 = (n: bigint) => n.toString(16).padStart(64, '0');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'));

/** What viem (noble) recovers, as an uncompressed key, or undefined when it refuses. */
async function viemRecovers(
  digest: Uint8Array,
  sig64: Uint8Array,
  recid: number,
): Promise<string | undefined> {
  const signature = `0x${Buffer.from(sig64).toString('hex')}${(27 + recid).toString(16)}` as Hex;
  try {
    return (await recoverPublicKey({ hash: `0x${Buffer.from(digest).toString('hex')}`, signature })).slice(2);
  } catch {
    return undefined;
  }
}

describe('native recoverable ECDSA (libsecp256k1)', () => {
  const native = nativeEcdsa();

  it('loads on this machine (libsecp256k1-1 with its recovery module)', () => {
    expect(native?.library).toMatch(/libsecp256k1/);
  });

  it('signs the very bytes noble signs (RFC 6979, low s) for random keys and digests', () => {
    for (let i = 0; i < 100; i++) {
      const key = bytes(generatePrivateKey());
      const digest = new Uint8Array(randomBytes(32));
      const noble = secp256k1.sign(digest, key, { prehash: false, lowS: true, format: 'recovered' });
      const mine = native!.sign(digest, key)!;
      expect(Buffer.from(mine.subarray(0, 64)).toString('hex')).toBe(
        Buffer.from(noble.subarray(1)).toString('hex'),
      );
      expect(mine[64]).toBe(noble[0]);
    }
  });

  it('refuses to sign with an invalid key (zero, the order, above it)', () => {
    const digest = new Uint8Array(32).fill(1);
    for (const k of [0n, N, N + 5n, (1n << 256n) - 1n])
      expect(native!.sign(digest, bytes(hex32(k)))).toBeUndefined();
  });

  it('recovers the key viem recovers, and refuses what viem refuses, on honest and hostile signatures', async () => {
    const cases: [string, Uint8Array, Uint8Array, number][] = [];
    for (let i = 0; i < 20; i++) {
      const key = bytes(generatePrivateKey());
      const digest = new Uint8Array(randomBytes(32));
      const sig = native!.sign(digest, key)!;
      const r = BigInt(`0x${Buffer.from(sig.subarray(0, 32)).toString('hex')}`);
      const s = BigInt(`0x${Buffer.from(sig.subarray(32, 64)).toString('hex')}`);
      const rs = (rr: bigint, ss: bigint) => bytes(hex32(rr) + hex32(ss));
      cases.push(
        ['honest', digest, sig.subarray(0, 64), sig[64]!],
        ['flipped v', digest, sig.subarray(0, 64), 1 - sig[64]!],
        ['high s (malleated)', digest, rs(r, N - s), 1 - sig[64]!],
        ['other digest', new Uint8Array(randomBytes(32)), sig.subarray(0, 64), sig[64]!],
        ['r = 0', digest, rs(0n, s), 0],
        ['s = 0', digest, rs(r, 0n), 0],
        ['r = n', digest, rs(N, s), 0],
        ['s = n', digest, rs(r, N), 0],
        ['r > n', digest, rs(N + r / 2n, s), 1],
        ['random r, s', digest, new Uint8Array(randomBytes(64)), i % 2],
      );
    }
    // r = 5: no point of the curve has x = 5 (5^3 + 7 = 132 is not a square mod p).
    cases.push(['r not on the curve', new Uint8Array(32).fill(9), bytes(hex32(5n) + hex32(7n)), 0]);
    for (const [what, digest, sig64, recid] of cases) {
      const want = await viemRecovers(digest, sig64, recid);
      const got = native!.recover(digest, sig64, recid);
      expect({ what, key: got && Buffer.from(got).toString('hex') }).toEqual({ what, key: want });
    }
  });

  it('refuses a recovery id other than 0 or 1 and wrong lengths', () => {
    const digest = new Uint8Array(32).fill(3);
    const sig = native!.sign(digest, bytes(generatePrivateKey()))!;
    expect(native!.recover(digest, sig.subarray(0, 64), 2)).toBeUndefined();
    expect(native!.recover(digest, sig.subarray(0, 63), sig[64]!)).toBeUndefined();
    expect(native!.recover(digest.subarray(1), sig.subarray(0, 64), sig[64]!)).toBeUndefined();
  });
});

describe('claims with and without the native library', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    reopenNativeEcdsa();
  });

  const domain = claimDomain(31337, '0x00000000000000000000000000000000000000c1');
  const channelId = `0x${'cd'.repeat(32)}` as Hex;
  const hashOf = (cumulativeAmount: bigint) =>
    hashTypedData({
      domain,
      types: {
        Claim: [
          { name: 'channelId', type: 'bytes32' },
          { name: 'cumulativeAmount', type: 'uint256' },
        ],
      },
      primaryType: 'Claim',
      message: { channelId, cumulativeAmount },
    });

  /**
   * signClaim and claimSignedBy with the native library on or off: the setting is read again at the next use (not a
   * fresh module graph: vi.resetModules would drop every module the worker's later test files share).
   */
  async function load(nativeOn: boolean) {
    vi.stubEnv('CROSSTOWN_NATIVE_SECP256K1', nativeOn ? '1' : '0');
    reopenNativeEcdsa();
    const { signClaim } = await import('../../src/chain/actions/signClaim.js');
    const { claimSignedBy } = await import('../../src/chain/claim-signers.js');
    expect(nativeEcdsa() !== undefined).toBe(nativeOn);
    return {
      sign: async (key: Hex, amount: bigint) =>
        (await signClaim({ signer: key, domain, claim: { channelId, cumulativeAmount: amount } })).signature,
      check: claimSignedBy,
    };
  }

  it('signs the same claim bytes and gives the same verdicts on honest, flipped-v and foreign signatures', async () => {
    const senderKey = generatePrivateKey();
    const sender: Address = privateKeyToAccount(senderKey).address;
    const otherKey = generatePrivateKey();
    const verdicts: Record<string, unknown[]> = {};
    for (const nativeOn of [true, false]) {
      const { sign, check } = await load(nativeOn);
      const out: unknown[] = [];
      for (let i = 1n; i <= 3n; i++) {
        const honest = await sign(senderKey, i);
        const flipped = `${honest.slice(0, 130)}${honest.endsWith('1b') ? '1c' : '1b'}` as Hex;
        const foreign = await sign(otherKey, i);
        out.push(honest, await check(hashOf(i), honest, sender), await check(hashOf(i), flipped, sender));
        out.push(await check(hashOf(i), foreign, sender), await check(hashOf(i + 1n), honest, sender));
      }
      verdicts[String(nativeOn)] = out;
    }
    expect(verdicts.true).toEqual(verdicts.false);
    // And they are the right verdicts: honest valid, the others not (a foreign key named as the signer).
    expect(verdicts.true![1]).toEqual({ valid: true, signer: sender });
    expect((verdicts.true![2] as { valid: boolean }).valid).toBe(false);
    expect(verdicts.true![3]).toEqual({ valid: false, signer: privateKeyToAccount(otherKey).address });
    expect((verdicts.true![4] as { valid: boolean }).valid).toBe(false);
  });
});
