// A node configuration for tests: a devnet chain's contracts, anvil account `account` as the settlement wallet,
// free ports on loopback, and the thresholds most tests want. Override what a test is about.
import type { DevChain } from '../../src/chain/index.js';
import type { NodeConfig } from '../../src/node/index.js';
import { generateSecretKey } from '../../src/nostr/index.js';

export function testNodeConfig(
  chain: DevChain,
  dataDir: string,
  overrides: Partial<NodeConfig> & { account?: number } = {},
): NodeConfig {
  const { account = 1, ...rest } = overrides;
  const name = rest.name ?? 'node1';
  return {
    name,
    ilpAddress: `g.crosstown.${name}`,
    host: '127.0.0.1',
    relayPort: 0,
    btpPort: 0,
    dataDir,
    basePricePerByte: 10n ** 13n,
    nostrSecretKey: generateSecretKey(),
    walletKey: chain.anvil.accounts[account]!.privateKey,
    chain: {
      rpcUrl: chain.network.rpcUrl,
      chainId: chain.network.chainId,
      token: chain.network.token,
      channels: chain.network.channels,
    },
    creditLimit: 10n ** 18n,
    settleThreshold: 0n,
    onChainThreshold: undefined,
    channelDeposit: 10n ** 18n,
    peers: [],
    logLevel: 'info',
    ...rest,
  };
}
