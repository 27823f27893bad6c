export {
  DEFAULT_LIMITS,
  type FreeWrite,
  type RelayInfo,
  type RelayLimits,
  type RelayOptions,
} from './config.js';
export { canDeliver } from './delivery.js';
export {
  checkAmount,
  checkCondition,
  checkCreatedAt,
  checkExpiry,
  checkSignature,
  checkSize,
  createdAtProblem,
  createWriteGate,
  decodeToonEvent,
  type GateContext,
  type GateDeps,
  type HandlePrepare,
} from './gate.js';
export { type ClientMessage, ProtocolError, parseClientMessage, type RelayMessage } from './messages.js';
export { ENCODINGS, type Encoding, infoDocument, SUPPORTED_NIPS } from './nip11.js';
export { verifyAuth } from './nip42.js';
export { PrepaidBalances } from './prepaid.js';
export { amountsData, priceOf, readAmountsData } from './price.js';
export { type RateLimit, RateLimiter } from './rate-limit.js';
export { AccountSecretStore, type IssuedAccount, type SecretStore } from './secrets.js';
export { NostrRelay, type StartRelayOptions, startRelay } from './server.js';
