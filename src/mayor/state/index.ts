// Public API of the Mayor's state repository (see docs/mayor-state.md).
export { StateError, type StateErrorCode } from './errors.js';
export type { CommitStats } from './queue.js';
export { PAYER_LOG_FILE } from './recovery.js';
export {
  type ChainInput,
  type ChannelInput,
  type JobUpdate,
  type OpenStateRepoOptions,
  openStateRepo,
  type RecoveryReport,
  readJobsSnapshot,
  type StateRepo,
} from './repo.js';
export { repostLine, repostsBefore } from './reposts.js';
export { canTransition, INITIAL_STATUSES, isTerminal, JOB_TRANSITIONS } from './transitions.js';
export {
  type ChainRecord,
  type ChainStatus,
  type ChainStep,
  type ChannelRecord,
  JOB_STATUSES,
  type JobHistoryEntry,
  type JobRecord,
  type JobStatus,
  type JobTransition,
  type SubscriptionRecord,
} from './types.js';
