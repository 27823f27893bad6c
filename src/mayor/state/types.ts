// Records the Mayor keeps in its git-backed state repository. Amounts are bigint base units in memory and
// decimal strings of base units on disk (JSON has no bigint, and floats would lose precision).
import type { Filter } from '../../nostr/types.js';

/**
 * Lifecycle of a job this Mayor posted:
 * posting -> posted -> result-received -> routed -> paid, with failed/cancelled as exits.
 */
export type JobStatus = 'posting' | 'posted' | 'result-received' | 'routed' | 'paid' | 'failed' | 'cancelled';

export const JOB_STATUSES: readonly JobStatus[] = [
  'posting',
  'posted',
  'result-received',
  'routed',
  'paid',
  'failed',
  'cancelled',
];

export interface JobHistoryEntry {
  status: JobStatus;
  /** Unix milliseconds. */
  at: number;
}

/** One job correlation: `jobs/<id>.json`. */
export interface JobRecord {
  /** The job request event id (or any id of [A-Za-z0-9_-], at most 128 characters). */
  id: string;
  /** NIP-90 request kind, e.g. 5065. */
  kind: number;
  /** The job type (`t` tag), e.g. `docker-build-amd64`. */
  jobType: string;
  /** The skill the result is routed to. */
  callbackSkill: string;
  status: JobStatus;
  /** Unix milliseconds. */
  createdAt: number;
  updatedAt: number;
  history: JobHistoryEntry[];
  /** What posting the request cost at the relay (bytes × basePricePerByte), base units. */
  price?: bigint;
  /** The most this Mayor will pay the provider, base units. */
  bid?: bigint;
  /** The `amount` the result asked for, base units. */
  amount?: bigint;
  /** The kind 6xxx result event id. */
  resultEventId?: string;
  /** The provider's Nostr pubkey, once known. */
  provider?: string;
  /** The job chain (`chains/<chainId>.json`) this job is a step of. */
  chainId?: string;
  /** EVM chain id the payments settle on (31337 devnet, 84532 Base Sepolia). */
  settlementChainId?: number;
  /** Why the job failed or was cancelled. */
  error?: string;
  /**
   * The copy this job was re-posted as after a provider said it is busy (docs/mayor.md "busy"): this job is
   * `failed`, and its outcome is the copy's (follow `repostedAs` to the last copy).
   */
  repostedAs?: string;
}

/**
 * A change to a job. Creating a job needs `kind`, `jobType` and `callbackSkill` and status `posting`
 * (or `posted`); later transitions name the new status and any fields that became known.
 */
export interface JobTransition {
  id: string;
  status: JobStatus;
  kind?: number;
  jobType?: string;
  callbackSkill?: string;
  price?: bigint;
  bid?: bigint;
  amount?: bigint;
  resultEventId?: string;
  provider?: string;
  chainId?: string;
  settlementChainId?: number;
  error?: string;
  repostedAs?: string;
  /** Unix milliseconds; defaults to the repository clock. */
  at?: number;
}

/** One step of a chain of jobs: step N+1 is posted with the result of step N. */
export interface ChainStep {
  jobType: string;
  kind: number;
  callbackSkill: string;
  /** Set once the step's job is posted. */
  jobId?: string;
  /** Free-form parameters for the step (strings only, so the file stays diffable). */
  params?: Record<string, string>;
}

export type ChainStatus = 'running' | 'done' | 'failed' | 'cancelled';

/** A chain of jobs: `chains/<id>.json` ("A's result posts B"). */
export interface ChainRecord {
  id: string;
  steps: ChainStep[];
  /** Index of the step in progress (equal to steps.length when done). */
  current: number;
  status: ChainStatus;
  createdAt: number;
  updatedAt: number;
}

/** A named relay subscription kept across restarts: `subscriptions.json`. */
export interface SubscriptionRecord {
  name: string;
  filters: Filter[];
  /** Unix seconds of the newest event seen: resubscribe with `since` after a restart. */
  since?: number;
}

/** A payment channel as this Mayor knows it: `channels/<channelId>.json`. The chain is the source of truth. */
export interface ChannelRecord {
  /** bytes32 hex channel id. */
  channelId: string;
  /** `out`: this Mayor pays (Mayor -> connector); `in`: it is paid (connector -> Mayor). */
  direction: 'out' | 'in';
  /** EVM chain id. */
  chainId: number;
  /** PaymentChannels contract address. */
  contract: string;
  /** The other party's address. */
  counterparty: string;
  /** Total deposited, base units. */
  deposit: bigint;
  /** Highest cumulative claim signed (out) or received (in), base units. Never decreases. */
  cumulativeSigned: bigint;
  /** The last claim submitted on-chain or accepted. */
  lastClaim?: { amount: bigint; signature: string; at: number };
  updatedAt: number;
}
