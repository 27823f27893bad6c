// The chains crosstown can settle on. The devnet is a local anvil; Base Sepolia is production;
// Base mainnet moves real money and is refused unless explicitly enabled.
import type { Address } from 'viem';
import { ChainError } from './errors.js';

export type NetworkName = 'devnet' | 'base-sepolia' | 'base';

export interface Network {
  name: NetworkName;
  chainId: number;
  /** Undefined for the devnet until it is started (anvil picks a free port). */
  rpcUrl: string | undefined;
  /** M2M token address; the devnet deploys its own on start. */
  token: Address | undefined;
  /** PaymentChannels contract, when known (on public chains it comes from configuration or SPSP). */
  channels: Address | undefined;
  /** True when the devnet is started (anvil) and contracts are deployed at start. */
  local: boolean;
  /** True for chains where tokens have real value. */
  mainnet: boolean;
  explorer: string | undefined;
}

export const M2M_BASE_SEPOLIA: Address = '0x39eaF99Cd4965A28DFe8B1455DD42aB49D0836B9';
export const DEFAULT_BASE_SEPOLIA_RPC = 'https://sepolia.base.org';

/**
 * What each network's settlement is known to be: an SPSP answer naming another chain, token or channel contract
 * is refused before any approve or open (an impostor node would name its own contract). Undefined: not known in
 * code; it must then come from configuration (`--token`/`--channels`, CROSSTOWN_TOKEN/CROSSTOWN_CHANNELS) or, on
 * the devnet, from devnet.json (anvil picks its chain id and the contracts are deployed at start).
 */
export const KNOWN_SETTLEMENT: Record<
  NetworkName,
  { chainId: number | undefined; token: Address | undefined; channels: Address | undefined }
> = {
  devnet: { chainId: undefined, token: undefined, channels: undefined },
  // The PaymentChannels contract is deployed by each connector operator: it is configured, not known here.
  'base-sepolia': { chainId: 84532, token: M2M_BASE_SEPOLIA, channels: undefined },
  base: { chainId: 8453, token: undefined, channels: undefined },
};

export interface ResolveNetworkOptions {
  /** Base mainnet is refused without this (CLI: --allow-mainnet). */
  allowMainnet?: boolean;
  /** Environment to read GASTOWN_BASE_SEPOLIA_RPC / GASTOWN_BASE_RPC from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Overrides, e.g. from flags or crosstown.toml. */
  rpcUrl?: string;
  token?: Address;
  channels?: Address;
}

export function resolveNetwork(name: string, options: ResolveNetworkOptions = {}): Network {
  const env = options.env ?? process.env;
  const pick = <T>(override: T | undefined, fallback: T | undefined) => override ?? fallback;
  switch (name) {
    case 'devnet':
      return {
        name: 'devnet',
        chainId: 31337,
        rpcUrl: options.rpcUrl,
        token: options.token,
        channels: options.channels,
        local: true,
        mainnet: false,
        explorer: undefined,
      };
    case 'base-sepolia':
      return {
        name: 'base-sepolia',
        chainId: 84532,
        rpcUrl: pick(options.rpcUrl, env.GASTOWN_BASE_SEPOLIA_RPC || DEFAULT_BASE_SEPOLIA_RPC),
        token: pick(options.token, M2M_BASE_SEPOLIA),
        channels: options.channels,
        local: false,
        mainnet: false,
        explorer: 'https://sepolia.basescan.org',
      };
    case 'base':
      if (options.allowMainnet !== true) {
        throw new ChainError(
          'MAINNET_NOT_ALLOWED',
          'Network "base" is Base mainnet (chain id 8453) and moves real money; it is refused unless explicitly enabled: pass allowMainnet: true (CLI flag --allow-mainnet).',
        );
      }
      return {
        name: 'base',
        chainId: 8453,
        rpcUrl: pick(options.rpcUrl, env.GASTOWN_BASE_RPC || 'https://mainnet.base.org'),
        token: options.token, // no M2M deployment on mainnet yet: must be configured
        channels: options.channels,
        local: false,
        mainnet: true,
        explorer: 'https://basescan.org',
      };
    default:
      throw new ChainError(
        'UNKNOWN_NETWORK',
        `Unknown network "${name}": use devnet, base-sepolia or base (mainnet, needs --allow-mainnet).`,
      );
  }
}
