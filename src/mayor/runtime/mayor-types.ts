// The Mayor's public types: start options, the Mayor object, its status and activity items.
import type { EventEmitter } from 'node:events';
import type { Hex } from 'viem';
import type { SkillPipeline } from '../../skills/pipeline.js';
import type { Skill, SkillLogger } from '../../skills/types.js';
import type { ClientTlsOptions } from '../../transport/tls.js';
import type { PaymentAudit } from '../audit/index.js';
import type { MayorConfig } from '../config/index.js';
import type { BusyRetryOptions } from '../lifecycle/busy.js';
import type { PaymentRetryOptions } from '../lifecycle/payments.js';
import type { PostedJob, PostJobRequest } from '../lifecycle/posting.js';
import type { RoutedResult } from '../lifecycle/routing.js';
import type { FraudHook } from '../lifecycle/sealed-results.js';
import type { JobRecord, StateRepo } from '../state/index.js';
import type { Attachment } from './attach.js';
import type { BackoffOptions } from './backoff.js';
import type { FaultHook } from './faults.js';
import type { ProviderMode, ProviderModeOptions } from './provider-mode.js';
import type { RelayPool, RelayState } from './relay-pool.js';
import type { ExpectedSettlement } from './settlement-terms.js';

export type { PostedJob, PostJobRequest, RoutedResult };

export interface StartMayorOptions {
  config: MayorConfig;
  /** Wallet key (from the keystore: resolveWalletKey). */
  walletKey: Uint8Array | Hex;
  /** Nostr key (from the keystore: ensureNostrKey). */
  nostrSecretKey: Uint8Array;
  /** The node's Nostr pubkey; when unset, read from the relays' NIP-11 over verified wss:// only (attach.ts). */
  nodePubkey?: string;
  /** The settlement SPSP must name (default: the network's known values, src/chain/networks.ts). */
  expectedSettlement?: ExpectedSettlement;
  /** Skills besides the built-ins (e.g. loaded with loadSkills). */
  skills?: Skill[];
  /** Register the built-in skills (default true). */
  builtins?: boolean;
  /** Accept a relay price above config.maxBasePricePerByte (the operator said yes). */
  acceptPrice?: boolean;
  /** After a chain reset (restarted devnet): forget channels the chain no longer has and open a new one. */
  resetChannelState?: boolean;
  /** Claim once this much is owed to the node (default 0: after every FULFILL). */
  settleThreshold?: bigint;
  /** Overrides config.jobTimeoutSeconds. */
  jobTimeoutMs?: number;
  fault?: FaultHook;
  logger?: SkillLogger;
  /** Relay reconnect backoff (default 1 s .. 30 s). */
  backoff?: BackoffOptions;
  /** Certificate checks of wss:// relays and the connector (default: config.tlsCaFile as `caPath`, else the system CA store). */
  tls?: ClientTlsOptions;
  /** Retries of transient rejects (default 3) and the first retry delay (default 250 ms). */
  retries?: number;
  retryDelayMs?: number;
  /**
   * After a restart, pay at most this much for packets the node says we owe and we have no record of
   * (default 1 M2M, the node's default credit limit). Above it the resync is refused and logged.
   */
  maxResyncOwed?: bigint;
  /**
   * Provider mode beyond the config file's settings (pool size, policy, per-type prices...). It runs when
   * config.provider.enabled is true or `provider.enabled` says so.
   */
  provider?: ProviderModeOptions;
  /** Backoff of failed provider payments while the Mayor runs (default 1 s doubling to 60 s). */
  paymentRetry?: PaymentRetryOptions;
  /** A paid sealed result proved fraudulent (issue 19). Default: publish a NIP-56 fraud report, block the provider (src/mayor/fraud). */
  onFraud?: FraudHook;
  /** Busy providers: re-post after `delayMs`, doubling, at most `maxReposts` times. Overrides config `busy-retry-delay`, `busy-max-reposts`. */
  busyRetry?: BusyRetryOptions;
}

export interface ChainStepRequest extends Omit<PostJobRequest, 'inputs' | 'content' | 'provider'> {}

export interface ActivityItem {
  at: number;
  kind: 'post' | 'result' | 'payment' | 'earning' | 'channel' | 'connection' | 'error' | 'info';
  text: string;
  amount?: bigint;
}

export interface MayorStatus {
  name: string;
  pubkey: string;
  network: string;
  chainId?: number;
  relays: RelayState[];
  connector: { url?: string; status: 'connected' | 'disconnected' | 'connecting'; lastError?: string };
  channel?: { channelId: string; deposit: bigint; spent: bigint; remaining: bigint };
  basePricePerByte?: bigint;
  jobs: Record<JobRecord['status'], number>;
  /** Jobs whose result asks more than the bid: waiting for the operator (approvePayment). */
  held: string[];
  /** Jobs kept locally until a path to the relay is back. */
  localMode: boolean;
}

export interface Mayor extends EventEmitter {
  readonly name: string;
  readonly pubkey: string;
  readonly state: StateRepo;
  readonly audit: PaymentAudit;
  readonly pool: RelayPool;
  readonly pipeline: SkillPipeline;
  attachment(): Attachment | undefined;
  /** Provider mode, when enabled: the service, served jobs, earnings, `redeemEarnings()`. */
  provider(): ProviderMode | undefined;
  postJob(req: PostJobRequest, options?: { chainId?: string }): Promise<PostedJob>;
  /** A sequential chain: each step is posted when the previous step's result is routed. Returns the chain id. */
  postChain(steps: ChainStepRequest[]): Promise<string>;
  jobs(): JobRecord[];
  /** Results routed in this run (for the dashboard). */
  results(): Map<string, RoutedResult>;
  activity(): ActivityItem[];
  status(): MayorStatus;
  /** Pays a held job (its result asked more than the bid) after the operator agreed. */
  approvePayment(jobId: string): Promise<void>;
  /**
   * Resolves when every job given is final (paid/failed/cancelled) or `timeoutMs` passed. A job re-posted after a
   * busy answer (`repostedAs`) is final only when its last copy is.
   */
  settled(jobIds?: string[], timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}
