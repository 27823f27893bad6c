// The provider's closure-watcher position, in <provider home>/chain-state.json (the node's file format): the
// chain's fingerprint and the last block scanned for closes. On restart the watcher resumes after that block
// instead of rescanning from the first block the provider ran; a position saved on another chain (a reset
// devnet: other genesis or contract code) is not used, and is replaced once the new chain was scanned.
import type { Hex } from 'viem';
import { checkChainIdentity } from '../../chain/actions/checkChainIdentity.js';
import { readChainState, type SavedChainState, writeChainState } from '../../chain/chain-state.js';
import type { Attachment } from './attach.js';
import { chainResetError } from './chain-guard.js';

export interface ScanPosition {
  /** First block to scan (undefined: no usable saved position). */
  fromBlock: bigint | undefined;
  /** The watcher's onScanned: persists the position. */
  scanned(block: bigint): void;
}

export async function resumeScan(
  home: string,
  att: Pick<Attachment, 'clients' | 'spsp'>,
  onError: (error: unknown, channelId: Hex | undefined) => void,
): Promise<ScanPosition> {
  const s = att.spsp.settlement;
  const saved = readChainState(home);
  const r = await checkChainIdentity(att.clients.public, {
    chainId: s.chainId,
    channels: s.channelContract,
    token: s.token,
    ...(saved && { saved }),
    ...(saved?.lastScannedBlock !== undefined && { lastScannedBlock: BigInt(saved.lastScannedBlock) }),
  });
  const usable = saved !== undefined && r.problems.length === 0;
  if (saved && !usable) onError(chainResetError(s.chainId, r.problems), undefined);
  let state: SavedChainState = usable ? saved : r.fingerprint;
  const last = usable ? state.lastScannedBlock : undefined;
  return {
    fromBlock: last === undefined ? undefined : BigInt(last) + 1n,
    scanned(block) {
      state = { ...state, lastScannedBlock: block.toString() };
      writeChainState(home, state);
    },
  };
}
