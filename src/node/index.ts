// Public API of the node: one process running the connector and the relay. See docs/node.md.
export {
  crosstownHome,
  NODE_CONFIG_ENV,
  NOSTR_KEY_ENV,
  type NodeChainConfig,
  type NodeConfig,
  type NodeFlags,
  type NodePeerConfig,
  parseHexKey,
  type ResolveNodeConfigOptions,
  resolveNodeConfig,
  WALLET_KEY_ENV,
} from './config.js';
export { NodeError, type NodeErrorCode } from './errors.js';
export {
  createLogger,
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LogLevel,
  parseLogLevel,
  silentLogger,
} from './logger.js';
export { type RunningNode, SPSP_PATH, type StartNodeOptions, startNode } from './node.js';
export { RelayClient } from './relay-client.js';
