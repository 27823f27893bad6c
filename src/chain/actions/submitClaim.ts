import { type Address, parseEventLogs, type TransactionReceipt } from 'viem';
import type { ChainClients } from '../clients.js';
import { paymentChannelsAbi } from '../generated/PaymentChannels.js';
import type { SignedClaim } from '../types.js';
import { execute } from './execute.js';

export interface SubmitClaimResult {
  /** Paid by this transaction: min(cumulative, deposit) - previously claimed, 0 for a stale claim. */
  paid: bigint;
  totalClaimed: bigint;
  /** Set when `close` settled the channel: what went back to the sender. */
  refundedToSender?: bigint;
  receipt: TransactionReceipt;
}

/** Redeems a signed claim on-chain (receiver only). With `close: true` the channel also settles. */
export async function submitClaim(
  clients: ChainClients,
  params: { channels: Address; claim: SignedClaim; close?: boolean },
): Promise<SubmitClaimResult> {
  const { channelId, cumulativeAmount, signature } = params.claim;
  const receipt = await execute(
    clients,
    {
      address: params.channels,
      abi: paymentChannelsAbi,
      functionName: 'claim',
      args: [channelId, cumulativeAmount, signature, params.close ?? false],
    },
    'submitClaim',
  );
  const logs = parseEventLogs({ abi: paymentChannelsAbi, logs: receipt.logs });
  const claimed = logs.find((l) => l.eventName === 'Claimed');
  const settled = logs.find((l) => l.eventName === 'ChannelSettled');
  return {
    paid: claimed?.eventName === 'Claimed' ? claimed.args.paid : 0n,
    totalClaimed: claimed?.eventName === 'Claimed' ? claimed.args.totalClaimed : 0n,
    ...(settled?.eventName === 'ChannelSettled' ? { refundedToSender: settled.args.refundedToSender } : {}),
    receipt,
  };
}
