import { type Address, type Hex, isAddressEqual } from 'viem';
import type { ChainPublicClient } from '../clients.js';
import { toChainError } from '../errors.js';
import { paymentChannelsAbi } from '../generated/PaymentChannels.js';
import type { ChannelState } from '../types.js';

export interface ListedChannel extends ChannelState {
  /** Whether `wallet` is the paying or the paid side. */
  role: 'sender' | 'receiver';
}

/**
 * Rebuilds every channel where `wallet` is sender or receiver purely from the contract's events, so state
 * lost locally can be recovered from the chain. `fromBlock` should be the contract's deployment block on
 * public chains (RPC providers limit log ranges).
 */
export async function listChannels(
  client: ChainPublicClient,
  params: { channels: Address; wallet: Address; fromBlock?: bigint; toBlock?: bigint },
): Promise<ListedChannel[]> {
  const range = { fromBlock: params.fromBlock ?? 0n, toBlock: params.toBlock ?? ('latest' as const) };
  const base = { address: params.channels, abi: paymentChannelsAbi, ...range, strict: true } as const;
  try {
    const [asSender, asReceiver] = await Promise.all([
      client.getContractEvents({ ...base, eventName: 'ChannelOpened', args: { sender: params.wallet } }),
      client.getContractEvents({ ...base, eventName: 'ChannelOpened', args: { receiver: params.wallet } }),
    ]);
    const state = new Map<Hex, ListedChannel>();
    for (const log of [...asSender, ...asReceiver]) {
      const a = log.args;
      state.set(a.channelId, {
        channelId: a.channelId,
        sender: a.sender,
        receiver: a.receiver,
        token: a.token,
        deposit: a.deposit,
        claimed: 0n,
        challengeWindow: BigInt(a.challengeWindow),
        closeRequestedAt: 0n,
        closesAt: 0n,
        closing: false,
        settled: false,
        role: isAddressEqual(a.sender, params.wallet) ? 'sender' : 'receiver',
      });
    }
    const ids = [...state.keys()];
    if (ids.length === 0) return [];

    const byId = { channelId: ids };
    const [topUps, claims, closures, settlements] = await Promise.all([
      client.getContractEvents({ ...base, eventName: 'ChannelToppedUp', args: byId }),
      client.getContractEvents({ ...base, eventName: 'Claimed', args: byId }),
      client.getContractEvents({ ...base, eventName: 'ClosureStarted', args: byId }),
      client.getContractEvents({ ...base, eventName: 'ChannelSettled', args: byId }),
    ]);
    // Each event carries the resulting totals, so order only matters within one kind; fold in chain order.
    const chainOrder = (
      x: { blockNumber: bigint; logIndex: number },
      y: { blockNumber: bigint; logIndex: number },
    ) => (x.blockNumber === y.blockNumber ? x.logIndex - y.logIndex : x.blockNumber < y.blockNumber ? -1 : 1);
    for (const l of topUps.sort(chainOrder)) state.get(l.args.channelId)!.deposit = l.args.deposit;
    for (const l of claims.sort(chainOrder)) state.get(l.args.channelId)!.claimed = l.args.totalClaimed;
    for (const l of closures) {
      const ch = state.get(l.args.channelId)!;
      ch.closeRequestedAt = BigInt(l.args.closeRequestedAt);
      ch.closesAt = BigInt(l.args.closesAt);
    }
    for (const l of settlements) state.get(l.args.channelId)!.settled = true;
    for (const ch of state.values()) ch.closing = ch.closeRequestedAt !== 0n && !ch.settled;
    return [...state.values()];
  } catch (err) {
    throw toChainError(err, 'listChannels');
  }
}
