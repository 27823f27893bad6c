// What a party remembers about its settlement chain, in <dir>/chain-state.json (the node's data dir, a Mayor's
// state dir, a provider's home): the chain's fingerprint (chain id, genesis hash, contract code hashes) and the
// last block its closure watcher scanned. Written atomically (temp file + rename), so a crash leaves the old or
// the new version, never half of one.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChainFingerprint } from './actions/checkChainIdentity.js';

export interface SavedChainState extends ChainFingerprint {
  /** Every ClosureStarted up to this block (confirmed) has been seen; the watcher resumes at + 1. */
  lastScannedBlock?: string;
}

export const CHAIN_STATE_FILE = 'chain-state.json';

export function chainStatePath(dir: string): string {
  return join(dir, CHAIN_STATE_FILE);
}

/** The saved state, or undefined on first start (a corrupt file counts as none: the checks then start afresh). */
export function readChainState(dir: string): SavedChainState | undefined {
  const path = chainStatePath(dir);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SavedChainState;
  } catch {
    return undefined;
  }
}

export function writeChainState(dir: string, state: SavedChainState): void {
  const path = chainStatePath(dir);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
