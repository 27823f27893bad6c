// viem clients bundled the way every write action needs them: one to read and wait, one to sign and send.
import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { rememberClaimKey } from './claim-sign-fast.js';

export type ChainPublicClient = PublicClient<Transport, Chain>;
export type ChainWalletClient = WalletClient<Transport, Chain, Account>;

export interface ChainClients {
  public: ChainPublicClient;
  wallet: ChainWalletClient;
}

export interface CreateClientsOptions {
  rpcUrl: string;
  chainId: number;
  privateKey: Hex;
  /** A viem chain to use as is; otherwise a minimal one is defined from chainId and rpcUrl. */
  chain?: Chain;
  /** Polling interval in ms for receipts and event watching. Local chains mine at once: poll fast. */
  pollingInterval?: number;
}

/** A minimal viem chain for an RPC URL (anvil, or a remote chain without a viem preset). */
export function chainFor(chainId: number, rpcUrl: string, name = `chain-${chainId}`): Chain {
  return defineChain({
    id: chainId,
    name,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

export function createChainClients(options: CreateClientsOptions): ChainClients {
  const chain = options.chain ?? chainFor(options.chainId, options.rpcUrl);
  const isLocal = /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(options.rpcUrl);
  const pollingInterval = options.pollingInterval ?? (isLocal ? 25 : 2000);
  const transport = http(options.rpcUrl, { retryCount: isLocal ? 0 : 3 });
  const account = privateKeyToAccount(options.privateKey);
  rememberClaimKey(account, options.privateKey);
  return {
    public: createPublicClient({ chain, transport, pollingInterval }),
    wallet: createWalletClient({ chain, transport, account, pollingInterval }),
  };
}
