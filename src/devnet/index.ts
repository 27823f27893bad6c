// Public API of the devnet: anvil + contracts + funded accounts + a node, for local runs and tests.
export { CLI_MAIN, cliCommand } from './cli-process.js';
export {
  type Devnet,
  type DevnetInfo,
  type DevnetMayor,
  devnetInfo,
  type StartDevnetOptions,
  startDevnet,
  stopChild,
} from './devnet.js';
export {
  type DevnetFile,
  devnetFilePath,
  isAlive,
  readDevnetFile,
  removeDevnetFile,
  writeDevnetFile,
} from './state-file.js';
