import type { Address, Hex } from 'viem';
import type { ChainPublicClient } from '../clients.js';
import { ChainError, toChainError } from '../errors.js';
import { paymentChannelsAbi } from '../generated/PaymentChannels.js';
import type { ChannelState } from '../types.js';

const ZERO = '0x0000000000000000000000000000000000000000';

/** Reads a channel's current on-chain state. Throws ChainError `UnknownChannel` if it does not exist. */
export async function readChannel(
  client: ChainPublicClient,
  params: { channels: Address; channelId: Hex; blockNumber?: bigint },
): Promise<ChannelState> {
  let ch: Awaited<ReturnType<typeof read>>;
  const read = () =>
    client.readContract({
      address: params.channels,
      abi: paymentChannelsAbi,
      functionName: 'getChannel',
      args: [params.channelId],
      ...(params.blockNumber !== undefined ? { blockNumber: params.blockNumber } : {}),
    });
  try {
    ch = await read();
  } catch (err) {
    throw toChainError(err, 'readChannel');
  }
  if (ch.sender === ZERO) {
    throw new ChainError(
      'UnknownChannel',
      `Channel ${params.channelId} does not exist on ${params.channels}; check the channel id, the contract address and the network.`,
      [params.channelId],
    );
  }
  const closeRequestedAt = BigInt(ch.closeRequestedAt);
  const challengeWindow = BigInt(ch.challengeWindow);
  return {
    channelId: params.channelId,
    sender: ch.sender,
    receiver: ch.receiver,
    token: ch.token,
    deposit: ch.deposit,
    claimed: ch.claimed,
    challengeWindow,
    closeRequestedAt,
    closesAt: closeRequestedAt === 0n ? 0n : closeRequestedAt + challengeWindow,
    closing: closeRequestedAt !== 0n && !ch.settled,
    settled: ch.settled,
  };
}
