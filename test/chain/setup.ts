// Shared fixture for chain tests: a real anvil with the contracts deployed and funded accounts.
import { createTestClient, http } from 'viem';
import {
  type ChainClients,
  claimDomain,
  createChainClients,
  type DevChain,
  startDevChain,
  tokenBalance,
} from '../../src/chain/index.js';

export const M2M = 10n ** 18n;
export const HOUR = 3600n;

export interface Fixture {
  dev: DevChain;
  channels: `0x${string}`;
  token: `0x${string}`;
  /** Clients for anvil account i (0 is the deployer). */
  clients: (i: number) => ChainClients;
  sender: ChainClients;
  receiver: ChainClients;
  stranger: ChainClients;
  test: ReturnType<typeof makeTestClient>;
  domain: ReturnType<typeof claimDomain>;
  balance: (who: `0x${string}`) => Promise<bigint>;
  stop: () => Promise<void>;
}

function makeTestClient(rpcUrl: string) {
  return createTestClient({ mode: 'anvil', transport: http(rpcUrl) });
}

export async function startFixture(chainId = 31337): Promise<Fixture> {
  const dev = await startDevChain({ chainId, accounts: 6 });
  const cache = new Map<number, ChainClients>();
  const clients = (i: number) => {
    let c = cache.get(i);
    if (!c) {
      c = createChainClients({
        rpcUrl: dev.anvil.rpcUrl,
        chainId: dev.anvil.chainId,
        privateKey: dev.anvil.accounts[i]!.privateKey,
      });
      cache.set(i, c);
    }
    return c;
  };
  const { token, channels } = dev.network;
  return {
    dev,
    channels,
    token,
    clients,
    sender: clients(1),
    receiver: clients(2),
    stranger: clients(3),
    test: makeTestClient(dev.anvil.rpcUrl),
    domain: claimDomain(dev.anvil.chainId, channels),
    balance: (who) => tokenBalance(clients(0).public, { token, owner: who }),
    stop: () => dev.stop(),
  };
}

/** Moves the chain clock forward and mines a block so the next transaction sees the new time. */
export async function travel(f: Fixture, seconds: bigint): Promise<void> {
  await f.test.increaseTime({ seconds: Number(seconds) });
  await f.test.mine({ blocks: 1 });
}
