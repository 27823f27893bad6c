// What the lifecycle parts share: the Mayor's state, journal, links and reporting hooks. Built once by
// startMayor; each part takes the few members it needs.
import type { Unwrapped } from '../../nostr/nip59.js';
import type { Skill, SkillLogger } from '../../skills/types.js';
import type { PaymentAudit } from '../audit/index.js';
import type { ActivityKind } from '../dashboard-model.js';
import type { Attachment } from '../runtime/attach.js';
import type { FaultHook } from '../runtime/faults.js';
import type { RelayPool } from '../runtime/relay-pool.js';
import type { JobRecord, JobTransition, StateRepo } from '../state/index.js';
import type { BusyRetryOptions } from './busy.js';
import type { IntentJournal } from './intents.js';
import type { FraudHook } from './sealed-results.js';

export type { ActivityKind };

export interface LifecycleDeps {
  state: StateRepo;
  audit: PaymentAudit;
  intents: IntentJournal;
  pool: RelayPool;
  secretKey: Uint8Array;
  pubkey: string;
  relayUrls: string[];
  log: SkillLogger;
  fault: FaultHook;
  jobTimeoutMs: number;
  /** The busy policy's backoff and re-post count (busy.ts). */
  busyRetry?: BusyRetryOptions;
  /** The node attachment, once attached. */
  att(): Attachment | undefined;
  stopped(): boolean;
  /** Applies a job transition and tells listeners. */
  putJob(t: JobTransition): JobRecord;
  /** Calls `listener` after each putJob; returns the function that removes it. */
  onJobChange(listener: (job: JobRecord) => void): () => void;
  activity(kind: ActivityKind, text: string, amount?: bigint): void;
  emit(event: string, ...args: unknown[]): void;
  /** Keeps a promise until stop() (stop waits for every tracked effect). */
  track<T>(p: Promise<T>): Promise<T>;
  /** Gift wraps opened right now (not decrypted twice). */
  openedWraps: Map<string, Unwrapped>;
  /** The registered skill of that name. */
  skill(name: string): Skill | undefined;
  /** A paid sealed result proved fraudulent (issue 19): report it (default: logged at error level). */
  onFraud: FraudHook;
}

export const short = (id: string) => `job-${id.slice(0, 7)}`;
