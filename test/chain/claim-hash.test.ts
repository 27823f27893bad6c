// claimHash (the node's fast EIP-712 digest of a claim) must give the bytes viem's generic hashTypedData gives, for
// any channel id, amount and domain: a different digest would refuse good claims or accept ones the contract refuses.
import { randomBytes } from 'node:crypto';
import { type Hex, hashTypedData } from 'viem';
import { describe, expect, it } from 'vitest';
import { claimHash } from '../../src/chain/claim-hash.js';
import { CLAIM_TYPES, claimDomain } from '../../src/chain/claims.js';

const hex = (n: number): Hex => `0x${randomBytes(n).toString('hex')}`;
const viemHash = (channelId: Hex, cumulativeAmount: bigint, domain: ReturnType<typeof claimDomain>) =>
  hashTypedData({
    domain,
    types: CLAIM_TYPES,
    primaryType: 'Claim',
    message: { channelId, cumulativeAmount },
  });

describe('claimHash', () => {
  it('equals viem hashTypedData for random claims over several domains', () => {
    const domains = [
      claimDomain(31337, hex(20)),
      claimDomain(1, hex(20)),
      claimDomain(8453, '0x5FbDB2315678afecb367f032d93F642f64180aa3'),
    ];
    const amounts = [0n, 1n, 10n ** 18n, (1n << 255n) + 7n, (1n << 256n) - 1n];
    for (const domain of domains) {
      for (let i = 0; i < 40; i++) {
        const channelId = i % 2 ? hex(32) : (hex(32).toUpperCase().replace('0X', '0x') as Hex);
        const amount = i < amounts.length ? amounts[i]! : BigInt(hex(16));
        expect(claimHash({ channelId, cumulativeAmount: amount }, domain)).toBe(
          viemHash(channelId, amount, domain),
        );
      }
    }
  });

  it('differs when any field or the domain differs', () => {
    const domain = claimDomain(31337, hex(20));
    const channelId = hex(32);
    const base = claimHash({ channelId, cumulativeAmount: 5n }, domain);
    expect(claimHash({ channelId, cumulativeAmount: 6n }, domain)).not.toBe(base);
    expect(claimHash({ channelId: hex(32), cumulativeAmount: 5n }, domain)).not.toBe(base);
    expect(claimHash({ channelId, cumulativeAmount: 5n }, { ...domain, chainId: 31338 })).not.toBe(base);
  });

  it('refuses what viem refuses: a short channel id, a negative or too large amount', () => {
    const domain = claimDomain(31337, hex(20));
    expect(() => claimHash({ channelId: hex(31), cumulativeAmount: 1n }, domain)).toThrow(/32 bytes/);
    expect(() => claimHash({ channelId: hex(32), cumulativeAmount: -1n }, domain)).toThrow(/uint256/);
    expect(() => claimHash({ channelId: hex(32), cumulativeAmount: 1n << 256n }, domain)).toThrow(/uint256/);
    expect(() => viemHash(hex(31), 1n, domain)).toThrow();
  });
});
