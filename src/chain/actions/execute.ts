// Shared path of every write action: simulate (so a revert is decoded with the ABI before anything is
// sent), send, wait for the receipt. Failures come out as ChainError with the Solidity error's name.
import type {
  Abi,
  Address,
  ContractFunctionArgs,
  ContractFunctionName,
  SimulateContractParameters,
  TransactionReceipt,
} from 'viem';
import type { ChainClients } from '../clients.js';
import { ChainError, toChainError } from '../errors.js';
import { m2MTokenAbi } from '../generated/M2MToken.js';
import { withSendLock } from '../send-lock.js';

// Token reverts bubble up through the channel contract (e.g. transferFrom without allowance); knowing the
// standard ERC-20 errors lets viem decode them too.
const tokenErrors = m2MTokenAbi.filter((item) => item.type === 'error');

export interface ExecuteParams<
  abi extends Abi,
  functionName extends ContractFunctionName<abi, 'nonpayable' | 'payable'>,
> {
  address: Address;
  abi: abi;
  functionName: functionName;
  args: ContractFunctionArgs<abi, 'nonpayable' | 'payable', functionName>;
}

export async function execute<
  const abi extends Abi,
  functionName extends ContractFunctionName<abi, 'nonpayable' | 'payable'>,
>(
  clients: ChainClients,
  params: ExecuteParams<abi, functionName>,
  action: string,
): Promise<TransactionReceipt> {
  let receipt: TransactionReceipt;
  try {
    const { request } = await clients.public.simulateContract({
      ...params,
      abi: [...params.abi, ...tokenErrors],
      account: clients.wallet.account,
    } as unknown as SimulateContractParameters);
    const hash = await withSendLock(clients.wallet.account.address, () =>
      clients.wallet.writeContract(request as Parameters<typeof clients.wallet.writeContract>[0]),
    );
    receipt = await clients.public.waitForTransactionReceipt({ hash });
  } catch (err) {
    throw toChainError(err, action);
  }
  if (receipt.status !== 'success') {
    throw new ChainError(
      'TX_REVERTED',
      `${action}: transaction ${receipt.transactionHash} reverted on-chain.`,
    );
  }
  return receipt;
}
