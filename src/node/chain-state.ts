// The node's chain-state.json lives in its data dir; the file format is shared with the Mayor (src/chain).
export {
  CHAIN_STATE_FILE,
  chainStatePath,
  readChainState,
  type SavedChainState,
  writeChainState,
} from '../chain/chain-state.js';
