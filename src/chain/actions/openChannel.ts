import { type Address, type Hex, parseEventLogs, type TransactionReceipt } from 'viem';
import type { ChainClients } from '../clients.js';
import { ChainError } from '../errors.js';
import { paymentChannelsAbi } from '../generated/PaymentChannels.js';
import { execute } from './execute.js';
import { ensureAllowance } from './token.js';

export interface OpenChannelParams {
  /** PaymentChannels contract. */
  channels: Address;
  token: Address;
  receiver: Address;
  /** Deposit in token base units. */
  amount: bigint;
  /** Seconds the receiver has to claim after the sender starts a close (contract enforces 1 h .. 30 days). */
  challengeWindow: bigint;
}

export interface OpenChannelResult {
  channelId: Hex;
  /** What the contract actually received (equals amount for ordinary tokens). */
  deposit: bigint;
  receipt: TransactionReceipt;
  /** The approve transaction, if one was needed. */
  approveReceipt?: TransactionReceipt;
}

/** Approves the contract if needed, opens the channel and returns the id the contract derived. */
export async function openChannel(
  clients: ChainClients,
  params: OpenChannelParams,
): Promise<OpenChannelResult> {
  const approveReceipt = await ensureAllowance(clients, {
    token: params.token,
    spender: params.channels,
    amount: params.amount,
  });
  const receipt = await execute(
    clients,
    {
      address: params.channels,
      abi: paymentChannelsAbi,
      functionName: 'open',
      args: [params.receiver, params.token, params.amount, params.challengeWindow],
    },
    'openChannel',
  );
  // Take the id from the event of this very transaction, not from a simulation that could be stale.
  const [opened] = parseEventLogs({
    abi: paymentChannelsAbi,
    logs: receipt.logs,
    eventName: 'ChannelOpened',
  });
  if (!opened)
    throw new ChainError(
      'EVENT_MISSING',
      `openChannel: no ChannelOpened event in ${receipt.transactionHash}.`,
    );
  return {
    channelId: opened.args.channelId,
    deposit: opened.args.deposit,
    receipt,
    ...(approveReceipt ? { approveReceipt } : {}),
  };
}
