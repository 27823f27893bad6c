// The devnet faucet: what the journeys' "funds it with testnet ETH and M2M from the faucet" is on this machine.
// ETH comes from anvil's `anvil_setBalance`; M2M is minted by the token's owner, the deployer, which is account 0
// of anvil's well-known default mnemonic (a devnet-only key: it guards nothing).
import { type Address, type Hex, toHex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { createChainClients, mintTokens, tokenBalance } from '../chain/index.js';

/** Anvil's default mnemonic; account 0 deploys the devnet's M2M token and owns its mint. */
const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export interface FundOptions {
  rpcUrl: string;
  chainId: number;
  token: Address;
  to: Address;
  /** M2M base units to mint. */
  m2m: bigint;
  /** Wei to add to the ETH balance (gas). */
  eth: bigint;
}

export interface FundResult {
  address: Address;
  m2m: bigint;
  eth: bigint;
}

/** Adds ETH and M2M to `to` on a devnet; refuses any chain whose token the devnet deployer does not own. */
export async function fundOnDevnet(options: FundOptions): Promise<FundResult> {
  const key = toHex(mnemonicToAccount(ANVIL_MNEMONIC).getHdKey().privateKey!) as Hex;
  const deployer = createChainClients({ rpcUrl: options.rpcUrl, chainId: options.chainId, privateKey: key });
  if (options.eth > 0n) {
    const current = await deployer.public.getBalance({ address: options.to });
    await deployer.public.request({
      method: 'anvil_setBalance' as never,
      params: [options.to, toHex(current + options.eth)] as never,
    });
  }
  if (options.m2m > 0n)
    await mintTokens(deployer, { token: options.token, to: options.to, amount: options.m2m });
  return {
    address: options.to,
    m2m: await tokenBalance(deployer.public, { token: options.token, owner: options.to }),
    eth: await deployer.public.getBalance({ address: options.to }),
  };
}
