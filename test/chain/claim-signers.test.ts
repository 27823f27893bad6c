// The kept-key check of claim signatures (src/chain/claim-signers.ts) must agree with a full recovery (what the
// contract's ecrecover does) on every signature, above all once the sender's key is kept: a hostile payer who flips
// v, signs with another key, or reuses a signature over other data must be refused exactly as by a recovery.
import { type Address, type Hex, hashTypedData, recoverAddress } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkClaimSignature, startClaimSignerThread } from '../../src/chain/claim-signer-thread.js';
import { claimSignedBy, forgetClaimSigners } from '../../src/chain/claim-signers.js';
import { claimDomain } from '../../src/chain/claims.js';
import { signClaim } from '../../src/chain/index.js';

const domain = claimDomain(31337, '0x00000000000000000000000000000000000000c1');
const channelId = `0x${'ab'.repeat(32)}` as Hex;
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
const sign = async (key: Hex, cumulativeAmount: bigint) =>
  (await signClaim({ signer: key, domain, claim: { channelId, cumulativeAmount } })).signature;
/** v 27 <-> 28: the same r and s, the other candidate key. */
const flipV = (sig: Hex) => `${sig.slice(0, 130)}${sig.endsWith('1b') ? '1c' : '1b'}` as Hex;

/** The oracle: a full recovery, as ecrecover does on-chain. */
async function recovers(hash: Hex, sig: Hex, expected: Address): Promise<boolean> {
  try {
    return (await recoverAddress({ hash, signature: sig })).toLowerCase() === expected.toLowerCase();
  } catch {
    return false;
  }
}

describe('claimSignedBy (kept keys)', () => {
  beforeEach(() => forgetClaimSigners());

  it('agrees with a full recovery on honest, flipped-v, foreign-key and replayed signatures, before and after the key is kept', async () => {
    for (let round = 0; round < 4; round++) {
      const senderKey = generatePrivateKey();
      const sender = privateKeyToAccount(senderKey).address;
      const otherKey = generatePrivateKey();
      for (let i = 1n; i <= 4n; i++) {
        const amount = i * 1_000n + BigInt(round);
        const hash = hashOf(amount);
        const honest = await sign(senderKey, amount);
        const cases: [string, Hex, Hex][] = [
          ['honest', hash, honest],
          ['flipped v', hash, flipV(honest)],
          ['another key', hash, await sign(otherKey, amount)],
          ['signature of another amount', hashOf(amount + 1n), honest],
        ];
        for (const [what, h, sig] of cases) {
          const want = await recovers(h, sig, sender);
          const got = await claimSignedBy(h, sig, sender);
          expect({ what, valid: got.valid }).toEqual({ what, valid: want });
          if (!got.valid && got.signer) expect(got.signer.toLowerCase()).not.toBe(sender.toLowerCase());
        }
        // The honest one is the only valid case.
        expect(await recovers(hash, honest, sender)).toBe(true);
      }
    }
  });

  it('never takes a key from a refused signature: a foreign key tried first does not make it the sender', async () => {
    const senderKey = generatePrivateKey();
    const sender = privateKeyToAccount(senderKey).address;
    const attackerKey = generatePrivateKey();
    const hash = hashOf(7n);
    expect((await claimSignedBy(hash, await sign(attackerKey, 7n), sender)).valid).toBe(false);
    expect((await claimSignedBy(hash, await sign(attackerKey, 7n), sender)).valid).toBe(false);
    expect((await claimSignedBy(hash, await sign(senderKey, 7n), sender)).valid).toBe(true);
    expect((await claimSignedBy(hashOf(8n), await sign(attackerKey, 8n), sender)).valid).toBe(false);
  });

  it('gives the same verdicts on the claim-signer thread (as the node runs it), and inline after the thread stops', async () => {
    const senderKey = generatePrivateKey();
    const sender = privateKeyToAccount(senderKey).address;
    const otherKey = generatePrivateKey();
    const stop = await startClaimSignerThread();
    try {
      for (let i = 1n; i <= 3n; i++) {
        const honest = await sign(senderKey, i);
        expect((await checkClaimSignature(hashOf(i), honest, sender)).valid).toBe(true);
        expect((await checkClaimSignature(hashOf(i), flipV(honest), sender)).valid).toBe(false);
        const foreign = await checkClaimSignature(hashOf(i), await sign(otherKey, i), sender);
        expect(foreign.valid).toBe(false);
        expect(foreign.signer).toBe(privateKeyToAccount(otherKey).address);
      }
    } finally {
      await stop();
    }
    const honest = await sign(senderKey, 9n);
    expect((await checkClaimSignature(hashOf(9n), honest, sender)).valid).toBe(true);
    expect((await checkClaimSignature(hashOf(9n), flipV(honest), sender)).valid).toBe(false);
  });
});
