import { type Address, type Hex, parseEventLogs, type TransactionReceipt } from 'viem';
import type { ChainClients } from '../clients.js';
import { paymentChannelsAbi } from '../generated/PaymentChannels.js';
import { execute } from './execute.js';
import { ensureAllowance } from './token.js';

/** Adds to the deposit of an open channel (sender only, before any close). Returns the new deposit. */
export async function topUpChannel(
  clients: ChainClients,
  params: { channels: Address; token: Address; channelId: Hex; amount: bigint },
): Promise<{ deposit: bigint; added: bigint; receipt: TransactionReceipt }> {
  await ensureAllowance(clients, { token: params.token, spender: params.channels, amount: params.amount });
  const receipt = await execute(
    clients,
    {
      address: params.channels,
      abi: paymentChannelsAbi,
      functionName: 'topUp',
      args: [params.channelId, params.amount],
    },
    'topUpChannel',
  );
  const [ev] = parseEventLogs({ abi: paymentChannelsAbi, logs: receipt.logs, eventName: 'ChannelToppedUp' });
  return { deposit: ev!.args.deposit, added: ev!.args.amount, receipt };
}
