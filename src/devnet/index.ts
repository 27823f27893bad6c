// Public API of the devnet: anvil + contracts + funded accounts + a node, optionally with Mayor-Alpha and
// Mayor-Beta running, for local runs, tests and the demo.
export { CLI_MAIN, cliCommand } from './cli-process.js';
export { DemoError, type DemoErrorCode, type DemoOptions, type DemoReport, runDemo } from './demo.js';
export {
  type Devnet,
  type DevnetInfo,
  type DevnetMayor,
  devnetInfo,
  type StartDevnetOptions,
  startDevnet,
  stopChild,
} from './devnet.js';
export { type FundOptions, type FundResult, fundOnDevnet } from './fund.js';
export {
  BETA_PRICE,
  type DevnetWithMayors,
  type DevnetWithMayorsInfo,
  devnetWithMayorsInfo,
  MAYOR_DEPOSIT,
  type RunningMayorInfo,
  type StartDevnetWithMayorsOptions,
  startDevnetWithMayors,
} from './mayors.js';
export { type PackedRepo, packRepo, SAMPLE_REPO_DIR } from './sample-repo.js';
export {
  type DevnetFile,
  devnetFilePath,
  isAlive,
  readDevnetFile,
  removeDevnetFile,
  writeDevnetFile,
} from './state-file.js';
