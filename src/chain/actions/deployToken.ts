import { type Address, getAddress, type TransactionReceipt } from 'viem';
import type { ChainClients } from '../clients.js';
import { ChainError, toChainError } from '../errors.js';
import { m2MTokenAbi, m2MTokenBytecode } from '../generated/M2MToken.js';

export interface DeployResult {
  address: Address;
  receipt: TransactionReceipt;
}

/** Deploys the devnet M2M test token; `owner` (default: the deployer) is the only account that may mint. */
export async function deployToken(
  clients: ChainClients,
  params: { owner?: Address } = {},
): Promise<DeployResult> {
  const owner = params.owner ?? clients.wallet.account.address;
  try {
    const hash = await clients.wallet.deployContract({
      abi: m2MTokenAbi,
      bytecode: m2MTokenBytecode,
      args: [owner],
    });
    return deployed(await clients.public.waitForTransactionReceipt({ hash }), 'deployToken');
  } catch (err) {
    throw toChainError(err, 'deployToken');
  }
}

export function deployed(receipt: TransactionReceipt, action: string): DeployResult {
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new ChainError(
      'DEPLOY_FAILED',
      `${action}: deployment ${receipt.transactionHash} failed on-chain.`,
    );
  }
  return { address: getAddress(receipt.contractAddress), receipt }; // checksummed, as events decode them
}
