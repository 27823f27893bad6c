import { type Address, type Hex, parseEventLogs, type TransactionReceipt } from 'viem';
import type { ChainClients } from '../clients.js';
import { paymentChannelsAbi } from '../generated/PaymentChannels.js';
import { execute } from './execute.js';

/** Starts the challenge window (sender only). Returns when the sender may withdraw (unix seconds). */
export async function startClose(
  clients: ChainClients,
  params: { channels: Address; channelId: Hex },
): Promise<{ closesAt: bigint; receipt: TransactionReceipt }> {
  const receipt = await execute(
    clients,
    {
      address: params.channels,
      abi: paymentChannelsAbi,
      functionName: 'startClose',
      args: [params.channelId],
    },
    'startClose',
  );
  const [ev] = parseEventLogs({ abi: paymentChannelsAbi, logs: receipt.logs, eventName: 'ClosureStarted' });
  return { closesAt: BigInt(ev!.args.closesAt), receipt };
}
