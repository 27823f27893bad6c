// Noticing a chain reset (issue 13 item 7): a devnet's anvil restarted empty keeps its chain id and, deployed
// by the same account, even its contract addresses, and a channel opened again there may get the very same id.
// So the Mayor checks what the node does (checkChainIdentity: chain id, genesis hash, contract code, the
// channel exists) against the fingerprint saved in its state dir at the first good check, at attach and then
// periodically; while anything differs it refuses to pay with an error that says what to do, instead of
// writing into a channel that is not there (or signing an old cumulative on a new channel of the same id).
import type { Address, Hex } from 'viem';
import { checkChainIdentity } from '../../chain/actions/checkChainIdentity.js';
import { readChainState, type SavedChainState, writeChainState } from '../../chain/chain-state.js';
import type { ChainPublicClient } from '../../chain/clients.js';
import { MayorError } from './errors.js';

export const RESET_HINT =
  "On a devnet (a restarted anvil starts empty): run `crosstown mayor start --reset-channel-state` to forget the old channel and open a new one; the old channel's deposit went with the old chain. Otherwise check rpc-url: it must be the node's chain.";

export interface ChainCheckParams {
  client: ChainPublicClient;
  chainId: number;
  contract: Address;
  token: Address;
  /** Where chain-state.json is kept (the Mayor's state dir); without it only the live checks run. */
  dir?: string;
}

export function chainResetError(chainId: number, problems: string[]): MayorError {
  return new MayorError(
    'CHAIN_RESET',
    `Chain ${chainId} is not the chain this Mayor's channel state was made on: the chain was reset or is not the node's (${problems.join('; ')}). ${RESET_HINT}`,
  );
}

/** The saved fingerprint, when it is one of this network (another chain or contract: a different network). */
function savedFor(p: ChainCheckParams): SavedChainState | undefined {
  const saved = p.dir ? readChainState(p.dir) : undefined;
  if (!saved || saved.chainId !== p.chainId) return undefined;
  return saved.channels.toLowerCase() === p.contract.toLowerCase() ? saved : undefined;
}

/**
 * Checks the chain (and `channelIds`) against the saved fingerprint; saves it when the check passes and none
 * was saved for this network. Returns the CHAIN_RESET error, or undefined. RPC failures propagate (not a reset).
 */
export async function checkChain(
  p: ChainCheckParams,
  channelIds: readonly Hex[] = [],
): Promise<MayorError | undefined> {
  const saved = savedFor(p);
  const r = await checkChainIdentity(p.client, {
    chainId: p.chainId,
    channels: p.contract,
    token: p.token,
    ...(saved && { saved }),
    channelIds,
  });
  if (r.problems.length) return chainResetError(p.chainId, r.problems);
  if (!saved && p.dir) writeChainState(p.dir, r.fingerprint);
  return undefined;
}

/** Forgets the saved fingerprint's verdict: the next good check saves the chain as it is now (--reset-channel-state). */
export async function resaveChain(p: ChainCheckParams): Promise<void> {
  if (!p.dir) return;
  const r = await checkChainIdentity(p.client, { chainId: p.chainId, channels: p.contract, token: p.token });
  if (r.problems.length) throw chainResetError(p.chainId, r.problems);
  writeChainState(p.dir, r.fingerprint);
}

export interface ChainGuard {
  /** The reason payments are refused, once a reset was seen (undefined while the chain looks right). */
  readonly error: MayorError | undefined;
  /** Checks now (also what the timer runs); resolves with the error, if any. */
  check(): Promise<MayorError | undefined>;
  stop(): void;
}

/** Re-checks the chain and the channel every `everyMs` (default 30 s); RPC failures are not a reset. */
export function startChainGuard(
  p: ChainCheckParams & {
    channelId: () => Hex | undefined;
    everyMs?: number;
    onReset?: (error: MayorError) => void;
  },
): ChainGuard {
  let error: MayorError | undefined;
  const check = async (): Promise<MayorError | undefined> => {
    try {
      const id = p.channelId();
      const found = await checkChain(p, id ? [id] : []);
      if (found && !error) p.onReset?.(found);
      error = found;
    } catch {
      // The RPC could not be reached: keep the current verdict.
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
