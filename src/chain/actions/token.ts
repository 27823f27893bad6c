// ERC-20 helpers the channel actions need: balance, allowance, approve, and devnet minting.
import type { Address, TransactionReceipt } from 'viem';
import type { ChainClients, ChainPublicClient } from '../clients.js';
import { m2MTokenAbi } from '../generated/M2MToken.js';
import { execute } from './execute.js';

export async function tokenBalance(
  client: ChainPublicClient,
  params: { token: Address; owner: Address },
): Promise<bigint> {
  return client.readContract({
    address: params.token,
    abi: m2MTokenAbi,
    functionName: 'balanceOf',
    args: [params.owner],
  });
}

/** Mints devnet M2M (the caller must be the token owner). */
export async function mintTokens(
  clients: ChainClients,
  params: { token: Address; to: Address; amount: bigint },
): Promise<TransactionReceipt> {
  return execute(
    clients,
    { address: params.token, abi: m2MTokenAbi, functionName: 'mint', args: [params.to, params.amount] },
    'mint',
  );
}

/** Approves `spender` for `amount` unless the current allowance already covers it. Returns the receipt if it sent one. */
export async function ensureAllowance(
  clients: ChainClients,
  params: { token: Address; spender: Address; amount: bigint },
): Promise<TransactionReceipt | undefined> {
  const owner = clients.wallet.account.address;
  const current = await clients.public.readContract({
    address: params.token,
    abi: m2MTokenAbi,
    functionName: 'allowance',
    args: [owner, params.spender],
  });
  if (current >= params.amount) return undefined;
  return execute(
    clients,
    {
      address: params.token,
      abi: m2MTokenAbi,
      functionName: 'approve',
      args: [params.spender, params.amount],
    },
    'approve',
  );
}
