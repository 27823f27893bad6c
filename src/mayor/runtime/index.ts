// Public API of the Mayor runtime (see docs/mayor.md).
export {
  type Attachment,
  type AttachOptions,
  attach,
  type ChannelView,
  isTransient,
  rejectAdvice,
} from './attach.js';
export { type BackoffOptions, backoffDelay } from './backoff.js';
export { mayorDashboardSource } from './dashboard-source.js';
export { MayorError, type MayorErrorCode } from './errors.js';
export { FAULT_POINTS, type FaultHook, type FaultPoint, faultsFromEnv, noFaults } from './faults.js';
export {
  type ActivityItem,
  type ChainStepRequest,
  type Mayor,
  type MayorStatus,
  type PostedJob,
  type PostJobRequest,
  type RoutedResult,
  type StartMayorOptions,
  startMayor,
} from './mayor.js';
export { fetchNip11Pubkey, pinNodePubkey } from './node-identity.js';
export { answeredJob, giftWrapSigned, isJobAnswerKind, type OpenedWrap, openWrap } from './private-jobs.js';
export {
  type ProviderMode,
  type ProviderModeDeps,
  type ProviderModeOptions,
  providerEnabled,
  type ServedJob,
  startProviderMode,
} from './provider-mode.js';
export {
  ALREADY_PAID_CODE,
  createProviderSpsp,
  isAlreadyPaid,
  type ProviderSpsp,
  type ProviderSpspOptions,
  paymentData,
  paymentJobId,
} from './provider-spsp.js';
export {
  type PoolEvent,
  RelayPool,
  type RelayPoolOptions,
  type RelayState,
  type RelayStatus,
} from './relay-pool.js';
export { checkSettlementTerms, type ExpectedSettlement, expectedSettlementFor } from './settlement-terms.js';
export { type SpspHandshakeOptions, spspHandshake } from './spsp-client.js';
