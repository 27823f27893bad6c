// The model the dashboard renders. The Mayor (or anything else) implements DashboardSource; the dashboard
// never talks to relays, connectors or chains itself, so it can be tested and previewed with plain data.
//
// Contract for implementers:
// - snapshot() returns the current state; every change produces a NEW DashboardState object (treat states
//   as immutable), so the view can compare by identity.
// - subscribe(listener) calls listener(state) with the new state as soon as anything changes (the dashboard
//   re-renders from that callback; it never polls). It returns an unsubscribe function.
// - refresh(), when present, re-reads the world (relay/connector status, on-chain channel state) and resolves
//   once the new state has been pushed through subscribe. The `r` key calls it.

export type NetworkName = 'devnet' | 'base-sepolia' | 'base';
/** local: a devnet on this machine; testnet: tokens with no value; mainnet: real money. */
export type NetworkKind = 'local' | 'testnet' | 'mainnet';

export interface NetworkInfo {
  name: NetworkName;
  kind: NetworkKind;
  chainId: number;
  /** M2M token contract; undefined until a devnet has deployed it. */
  token?: string;
  rpc?: string;
}

export type ConnectionStatus = 'connected' | 'connecting' | 'disconnected' | 'error';

export interface RelayInfo {
  url: string;
  status: ConnectionStatus;
  /** Open REQ subscriptions on this relay. */
  subscriptions: number;
  lastError?: string;
}

export interface ConnectorInfo {
  url: string;
  status: ConnectionStatus;
  lastError?: string;
}

/** The Mayor's outgoing payment channel (Mayor -> connector). Amounts are M2M base units (18 decimals). */
export interface ChannelInfo {
  id: string;
  deposit: bigint;
  /** Cumulative amount signed away in claims so far. */
  spent: bigint;
  /** deposit - spent, as the Mayor accounts it. */
  remaining: bigint;
  /** Below this remaining balance the dashboard warns. */
  lowBalanceThreshold: bigint;
  /** Optional details shown in the channel view. */
  status?: 'open' | 'closing' | 'settled';
  receiver?: string;
  contract?: string;
}

export interface SubscriptionInfo {
  id: string;
  /** Human summary of the filters, e.g. "kinds 6065,7000 #e job-5abc123". */
  summary: string;
}

/**
 * The words the CLI uses (`job status`): a requested job goes posting -> posted -> result-received -> routed ->
 * paid (or failed/cancelled); a job this Mayor serves is running, then served, refused or failed.
 */
export type JobState =
  | 'posting'
  | 'posted'
  | 'result-received'
  | 'routed'
  | 'paid'
  | 'failed'
  | 'cancelled'
  | 'running'
  | 'served'
  | 'refused';

export interface JobResult {
  /** success: the job ran and passed; failure: it ran and failed (build or tests); error: it could not run. */
  status: 'success' | 'failure' | 'error';
  /** One line, e.g. "Build: SUCCESS | Tests: 47/47 passed". */
  summary: string;
  tests: { passed: number; failed: number; total: number };
  /** Full build and test output (already decompressed). */
  logs: string;
  provider: string;
}

export interface JobInfo {
  id: string;
  jobType: string;
  state: JobState;
  /** Size of the posted request event. */
  bytes: number;
  /** What posting cost (bytes x price per byte), M2M base units. */
  price: bigint;
  /** Epoch milliseconds. */
  postedAt: number;
  provider?: string;
  result?: JobResult;
}

export type ActivityKind =
  | 'post'
  | 'result'
  | 'payment'
  | 'earning'
  | 'channel'
  | 'connection'
  | 'error'
  | 'info';

export interface ActivityEntry {
  /** Epoch milliseconds. */
  at: number;
  kind: ActivityKind;
  /** e.g. "Posted job-5abc123: docker-build-amd64 (875 bytes, 0.00875 M2M)". */
  text: string;
  /** Money moved by this event, M2M base units; shown as its own column when there is room. */
  amount?: bigint;
}

export interface DashboardState {
  mayor: string;
  network: NetworkInfo;
  relays: RelayInfo[];
  connector: ConnectorInfo;
  channel: ChannelInfo | null;
  subscriptions: SubscriptionInfo[];
  /** All jobs the Mayor knows, in any order; the dashboard sorts them. */
  jobs: JobInfo[];
  /** Oldest first; the dashboard shows the newest that fit. */
  activity: ActivityEntry[];
}

export interface DashboardSource {
  snapshot(): DashboardState;
  subscribe(listener: (state: DashboardState) => void): () => void;
  refresh?(): Promise<void>;
}

/** Jobs still waiting for something to happen. */
export function isInFlight(job: JobInfo): boolean {
  return job.state === 'posting' || job.state === 'posted' || job.state === 'running';
}
