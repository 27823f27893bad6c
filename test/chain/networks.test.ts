import { describe, expect, it } from 'vitest';
import { ChainError, M2M_BASE_SEPOLIA, resolveNetwork } from '../../src/chain/index.js';

describe('networks', () => {
  it('base-sepolia: chain 84532, the M2M token, RPC from GASTOWN_BASE_SEPOLIA_RPC or the public default', () => {
    const n = resolveNetwork('base-sepolia', { env: {} });
    expect(n).toMatchObject({
      chainId: 84532,
      token: M2M_BASE_SEPOLIA,
      rpcUrl: 'https://sepolia.base.org',
      mainnet: false,
    });
    expect(M2M_BASE_SEPOLIA).toBe('0x39eaF99Cd4965A28DFe8B1455DD42aB49D0836B9');
    const custom = resolveNetwork('base-sepolia', {
      env: { GASTOWN_BASE_SEPOLIA_RPC: 'https://rpc.example/abc' },
    });
    expect(custom.rpcUrl).toBe('https://rpc.example/abc');
    expect(
      resolveNetwork('base-sepolia', { env: { GASTOWN_BASE_SEPOLIA_RPC: 'x' }, rpcUrl: 'https://flag' })
        .rpcUrl,
    ).toBe('https://flag');
  });

  it('devnet is local and gets its addresses when started', () => {
    expect(resolveNetwork('devnet')).toMatchObject({
      local: true,
      mainnet: false,
      rpcUrl: undefined,
      token: undefined,
    });
  });

  it('base mainnet is refused unless allowMainnet, naming the flag', () => {
    let err: unknown;
    try {
      resolveNetwork('base', { env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChainError);
    expect((err as ChainError).code).toBe('MAINNET_NOT_ALLOWED');
    expect((err as ChainError).message).toMatch(/allowMainnet: true/);
    expect((err as ChainError).message).toMatch(/--allow-mainnet/);
    expect(resolveNetwork('base', { allowMainnet: true, env: {} })).toMatchObject({
      chainId: 8453,
      mainnet: true,
    });
  });

  it('unknown names list the valid ones', () => {
    expect(() => resolveNetwork('goerli')).toThrow(/devnet, base-sepolia or base/);
  });
});
