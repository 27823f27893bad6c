import { type Address, type Hex, parseEventLogs, type TransactionReceipt } from 'viem';
import type { ChainClients } from '../clients.js';
import { paymentChannelsAbi } from '../generated/PaymentChannels.js';
import { execute } from './execute.js';

/** After the challenge window, returns the unclaimed deposit to the sender and settles the channel. */
export async function withdraw(
  clients: ChainClients,
  params: { channels: Address; channelId: Hex },
): Promise<{ refunded: bigint; paidToReceiver: bigint; receipt: TransactionReceipt }> {
  const receipt = await execute(
    clients,
    { address: params.channels, abi: paymentChannelsAbi, functionName: 'withdraw', args: [params.channelId] },
    'withdraw',
  );
  const [ev] = parseEventLogs({ abi: paymentChannelsAbi, logs: receipt.logs, eventName: 'ChannelSettled' });
  return { refunded: ev!.args.refundedToSender, paidToReceiver: ev!.args.paidToReceiver, receipt };
}
