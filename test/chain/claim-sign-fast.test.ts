// The direct claim signer (claimHash + noble RFC 6979) must give the very bytes viem's signTypedData gives, for any
// key, channel id, amount and domain: the contract checks that signature, and the payee compares claims byte for byte.
import { randomBytes } from 'node:crypto';
import { type Hex, type LocalAccount, recoverTypedDataAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { signClaim } from '../../src/chain/actions/signClaim.js';
import { claimKeyOf, signClaimWithKey } from '../../src/chain/claim-sign-fast.js';
import { CLAIM_TYPES, claimDomain } from '../../src/chain/claims.js';
import { createChainClients } from '../../src/chain/clients.js';

const hex = (n: number): Hex => `0x${randomBytes(n).toString('hex')}`;

describe('signClaimWithKey', () => {
  it('equals viem signTypedData for random keys, claims and domains', async () => {
    const amounts = [0n, 1n, 10n ** 18n, (1n << 255n) + 7n, (1n << 256n) - 1n];
    for (let i = 0; i < 60; i++) {
      const privateKey = hex(32);
      const account = privateKeyToAccount(privateKey);
      const domain = claimDomain(i % 3 === 0 ? 31337 : 8453 + i, hex(20));
      const claim = {
        channelId: hex(32),
        cumulativeAmount: i < amounts.length ? amounts[i]! : BigInt(hex(1 + (i % 31))),
      };
      const viemSig = await account.signTypedData({
        domain,
        types: CLAIM_TYPES,
        primaryType: 'Claim',
        message: claim,
      });
      expect(signClaimWithKey(claim, domain, claimKeyOf(privateKey)!)).toBe(viemSig);
      // And through signClaim, by key and by an account it was told the key of.
      expect((await signClaim({ signer: privateKey, domain, claim })).signature).toBe(viemSig);
      const recovered = await recoverTypedDataAddress({
        domain,
        types: CLAIM_TYPES,
        primaryType: 'Claim',
        message: claim,
        signature: viemSig,
      });
      expect(recovered).toBe(account.address);
    }
  });

  it('is used for the wallet account of chain clients, and gives viem bytes there too', async () => {
    const privateKey = hex(32);
    const clients = createChainClients({ rpcUrl: 'http://127.0.0.1:1', chainId: 31337, privateKey });
    const account = clients.wallet.account as LocalAccount;
    expect(claimKeyOf(account)).toBeDefined();
    const domain = claimDomain(31337, hex(20));
    const claim = { channelId: hex(32), cumulativeAmount: 123456789n };
    const signed = await signClaim({ signer: account, domain, claim });
    expect(signed.signature).toBe(
      await privateKeyToAccount(privateKey).signTypedData({
        domain,
        types: CLAIM_TYPES,
        primaryType: 'Claim',
        message: claim,
      }),
    );
  });

  it('leaves an account it has no key for to viem', async () => {
    const account = privateKeyToAccount(hex(32));
    expect(claimKeyOf(account)).toBeUndefined();
    const domain = claimDomain(31337, hex(20));
    const claim = { channelId: hex(32), cumulativeAmount: 5n };
    const signed = await signClaim({ signer: account, domain, claim });
    expect(
      await recoverTypedDataAddress({
        domain,
        types: CLAIM_TYPES,
        primaryType: 'Claim',
        message: claim,
        signature: signed.signature,
      }),
    ).toBe(account.address);
  });

  it('refuses a malformed key or channel id', () => {
    const domain = claimDomain(31337, hex(20));
    expect(() => claimKeyOf('0x1234')).toThrow(/32 bytes/);
    expect(() =>
      signClaimWithKey({ channelId: hex(31), cumulativeAmount: 1n }, domain, randomBytes(32)),
    ).toThrow(/32 bytes/);
  });
});
