// The devnet chain: a fresh anvil with the M2M test token and PaymentChannels deployed and accounts funded.
import type { Address } from 'viem';
import { deployPaymentChannels } from './actions/deployPaymentChannels.js';
import { deployToken } from './actions/deployToken.js';
import { mintTokens } from './actions/token.js';
import { type Anvil, type StartAnvilOptions, startAnvil } from './anvil.js';
import { type ChainClients, createChainClients } from './clients.js';
import { type Network, resolveNetwork } from './networks.js';

export interface DevChain {
  anvil: Anvil;
  network: Network & { rpcUrl: string; token: Address; channels: Address };
  /** Clients of account 0, the deployer and token owner. */
  deployer: ChainClients;
  /** Block the contracts were deployed in (use as fromBlock for event scans). */
  deployBlock: bigint;
  stop(): Promise<void>;
}

export interface StartDevChainOptions extends StartAnvilOptions {
  /** M2M base units minted to every anvil account (default 1000 M2M). */
  fund?: bigint;
}

export async function startDevChain(options: StartDevChainOptions = {}): Promise<DevChain> {
  const anvil = await startAnvil(options);
  try {
    const deployer = createChainClients({
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      privateKey: anvil.accounts[0]!.privateKey,
    });
    const token = await deployToken(deployer);
    const channels = await deployPaymentChannels(deployer);
    const fund = options.fund ?? 1000n * 10n ** 18n;
    for (const account of anvil.accounts) {
      await mintTokens(deployer, { token: token.address, to: account.address, amount: fund });
    }
    const base = resolveNetwork('devnet', {
      rpcUrl: anvil.rpcUrl,
      token: token.address,
      channels: channels.address,
    });
    return {
      anvil,
      network: {
        ...base,
        chainId: anvil.chainId,
        rpcUrl: anvil.rpcUrl,
        token: token.address,
        channels: channels.address,
      },
      deployer,
      deployBlock: token.receipt.blockNumber,
      stop: () => anvil.stop(),
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}
