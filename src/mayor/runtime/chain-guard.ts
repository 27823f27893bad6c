// Noticing a chain reset (issue 13 item 7): a devnet's anvil restarted empty keeps its chain id and, deployed
// by the same account, even its contract addresses, but our channel is gone. The Mayor checks at attach and
// then periodically that the contract has code and the channel exists; while either is missing it refuses to
// pay with an error that says what to do, instead of writing into a channel that is not there.
import type { Address, Hex } from 'viem';
import { readChannel } from '../../chain/actions/readChannel.js';
import type { ChainPublicClient } from '../../chain/clients.js';
import { ChainError } from '../../chain/errors.js';
import { MayorError } from './errors.js';

export const RESET_HINT =
  "On a devnet (a restarted anvil starts empty): run `crosstown mayor start --reset-channel-state` to forget the old channel and open a new one; the old channel's deposit went with the old chain. Otherwise check rpc-url: it must be the node's chain.";

/** Throws CHAIN_RESET when the channel contract has no code on the chain. */
export async function checkContract(client: ChainPublicClient, contract: Address): Promise<void> {
  const code = await client.getCode({ address: contract });
  if (!code || code === '0x') {
    const chainId = await client.getChainId();
    throw new MayorError(
      'CHAIN_RESET',
      `The payment channel contract ${contract} has no code on chain ${chainId}: the chain was reset or is not the node's. ${RESET_HINT}`,
    );
  }
}

/** True when the channel exists on the chain; false for ChainError UnknownChannel (other errors propagate). */
export async function channelExists(
  client: ChainPublicClient,
  contract: Address,
  channelId: Hex,
): Promise<boolean> {
  try {
    await readChannel(client, { channels: contract, channelId });
    return true;
  } catch (err) {
    if (err instanceof ChainError && err.code === 'UnknownChannel') return false;
    throw err;
  }
}

export function channelGone(channelId: Hex, chainId: number): MayorError {
  return new MayorError(
    'CHAIN_RESET',
    `Channel ${channelId} recorded in this Mayor's state does not exist on chain ${chainId}: the chain was reset. ${RESET_HINT}`,
  );
}

export interface ChainGuard {
  /** The reason payments are refused, once a reset was seen (undefined while the chain looks right). */
  readonly error: MayorError | undefined;
  /** Checks now (also what the timer runs); resolves with the error, if any. */
  check(): Promise<MayorError | undefined>;
  stop(): void;
}

/** Re-checks the contract and the channel every `everyMs` (default 30 s); RPC failures are not a reset. */
export function startChainGuard(p: {
  client: ChainPublicClient;
  contract: Address;
  chainId: number;
  channelId: () => Hex | undefined;
  everyMs?: number;
  onReset?: (error: MayorError) => void;
}): ChainGuard {
  let error: MayorError | undefined;
  const check = async (): Promise<MayorError | undefined> => {
    try {
      await checkContract(p.client, p.contract);
      const id = p.channelId();
      if (id && !(await channelExists(p.client, p.contract, id))) throw channelGone(id, p.chainId);
      error = undefined;
    } catch (err) {
      if (err instanceof MayorError && err.code === 'CHAIN_RESET') {
        if (!error) p.onReset?.(err);
        error = err;
      }
    }
    return error;
  };
  const timer = setInterval(() => void check(), p.everyMs ?? 30_000);
  timer.unref();
  return {
    get error() {
      return error;
    },
    check,
    stop: () => clearInterval(timer),
  };
}
