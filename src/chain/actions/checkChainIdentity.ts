import { type Address, type Hex, keccak256 } from 'viem';
import type { ChainPublicClient } from '../clients.js';
import { ChainError } from '../errors.js';
import type { ChannelState } from '../types.js';
import { readChannel } from './readChannel.js';

/** What identifies the chain a party's settlement state was built on (save it after the first good check). */
export interface ChainFingerprint {
  chainId: number;
  channels: Address;
  token: Address;
  genesisHash: Hex;
  channelsCodeHash: Hex;
  tokenCodeHash: Hex;
}

export interface ChainIdentityResult {
  /** What does not match, in words (empty when the chain is the expected one). */
  problems: string[];
  /** The chain as it is now (save it when `problems` is empty and nothing was saved yet). */
  fingerprint: ChainFingerprint;
  /** The channels read, by id (those that exist). */
  channels: Map<Hex, ChannelState>;
}

/**
 * Is the chain behind `client` the one a party's state was built on? Compares the chain id, code at both contract
 * addresses, the genesis hash and code hashes with `saved` (when given), the head with `lastScannedBlock`, and reads
 * every channel in `channelIds` (a missing one is a problem: the chain was reset). Throws ChainError only when
 * the RPC cannot be reached (that is not a mismatch).
 */
export async function checkChainIdentity(
  client: ChainPublicClient,
  params: {
    chainId: number;
    channels: Address;
    token: Address;
    saved?: ChainFingerprint;
    lastScannedBlock?: bigint;
    channelIds?: readonly Hex[];
  },
): Promise<ChainIdentityResult> {
  const problems: string[] = [];
  let fingerprint: ChainFingerprint;
  let head: bigint;
  try {
    const [chainId, channelsCode, tokenCode, genesis, h] = await Promise.all([
      client.getChainId(),
      client.getCode({ address: params.channels }),
      client.getCode({ address: params.token }),
      client.getBlock({ blockNumber: 0n }),
      client.getBlockNumber(),
    ]);
    head = h;
    if (chainId !== params.chainId) problems.push(`chain id is ${chainId}, expected ${params.chainId}`);
    if (!channelsCode || channelsCode === '0x')
      problems.push(`no PaymentChannels contract code at ${params.channels}`);
    if (!tokenCode || tokenCode === '0x') problems.push(`no token contract code at ${params.token}`);
    fingerprint = {
      chainId,
      channels: params.channels,
      token: params.token,
      genesisHash: genesis.hash,
      channelsCodeHash: keccak256(channelsCode ?? '0x'),
      tokenCodeHash: keccak256(tokenCode ?? '0x'),
    };
  } catch (err) {
    throw new ChainError('RPC_ERROR', `could not check the chain: ${(err as Error).message}`, [], {
      cause: err,
    });
  }
  const s = params.saved;
  if (s) {
    if (s.genesisHash !== fingerprint.genesisHash)
      problems.push(
        `genesis block is ${fingerprint.genesisHash}, the saved state was made on ${s.genesisHash}`,
      );
    if (
      s.channelsCodeHash !== fingerprint.channelsCodeHash &&
      problems.every((p) => !p.includes(params.channels))
    )
      problems.push(`the code at ${params.channels} changed since the saved state was made`);
    if (s.tokenCodeHash !== fingerprint.tokenCodeHash && problems.every((p) => !p.includes(params.token)))
      problems.push(`the code at ${params.token} (the token) changed since the saved state was made`);
  }
  if (params.lastScannedBlock !== undefined && head < params.lastScannedBlock)
    problems.push(`head is block ${head}, but blocks up to ${params.lastScannedBlock} were already scanned`);
  const channels = new Map<Hex, ChannelState>();
  for (const channelId of params.channelIds ?? []) {
    try {
      channels.set(channelId, await readChannel(client, { channels: params.channels, channelId }));
    } catch (err) {
      if (err instanceof ChainError && err.code === 'UnknownChannel')
        problems.push(
          `channel ${channelId}, which this state holds claims on or is bound to, does not exist`,
        );
      else throw err;
    }
  }
  return { problems, fingerprint, channels };
}
