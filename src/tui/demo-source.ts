// An in-memory DashboardSource with methods to drive it: for tests, the preview script and documentation.
// It is a stand-in for the Mayor; it talks to nothing. Every change builds a new state object and notifies
// subscribers synchronously, as the DashboardSource contract asks.
import { formatM2M } from './format.js';
import type {
  ActivityEntry,
  ChannelInfo,
  ConnectionStatus,
  DashboardSource,
  DashboardState,
  JobInfo,
  JobResult,
  JobState,
  NetworkInfo,
  SubscriptionInfo,
} from './model.js';

/** Activity entries kept; older ones are dropped like a scroll-back limit. */
const MAX_ACTIVITY = 500;

export interface DemoOptions {
  /** Clock for timestamps; tests pass a fixed one. */
  now?: () => number;
  /** Makes refresh() reject with this message (to show the failure notice). */
  refreshError?: string;
}

export interface PostJobInput {
  id?: string;
  jobType: string;
  bytes: number;
  price: bigint;
  provider?: string;
  state?: JobState;
}

export const DEMO_DEFAULT_STATE: DashboardState = {
  mayor: 'demo-mayor',
  network: { name: 'devnet', kind: 'local', chainId: 31337, rpc: 'http://127.0.0.1:8545' },
  relays: [],
  connector: { url: 'ws://127.0.0.1:7768', status: 'disconnected' },
  channel: null,
  subscriptions: [],
  jobs: [],
  activity: [],
};

export class DemoDashboardSource implements DashboardSource {
  private state: DashboardState;
  private readonly listeners = new Set<(state: DashboardState) => void>();
  private readonly now: () => number;
  private jobCounter = 0;
  refreshCalls = 0;

  constructor(
    initial: Partial<DashboardState> = {},
    private readonly options: DemoOptions = {},
  ) {
    this.state = { ...DEMO_DEFAULT_STATE, ...initial };
    this.now = options.now ?? Date.now;
  }

  snapshot(): DashboardState {
    return this.state;
  }

  subscribe(listener: (state: DashboardState) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async refresh(): Promise<void> {
    this.refreshCalls++;
    if (this.options.refreshError) throw new Error(this.options.refreshError);
    this.update({});
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Replaces any top-level fields. */
  update(patch: Partial<DashboardState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener(this.state);
  }

  setMayor(mayor: string): void {
    this.update({ mayor });
  }

  setNetwork(network: NetworkInfo): void {
    this.update({ network });
  }

  /** Adds the relay or changes its status. */
  setRelay(
    url: string,
    status: ConnectionStatus,
    extra: { subscriptions?: number; lastError?: string } = {},
  ): void {
    const old = this.state.relays.find((r) => r.url === url);
    const relay = {
      url,
      status,
      subscriptions: extra.subscriptions ?? old?.subscriptions ?? 0,
      lastError: extra.lastError,
    };
    const relays = old
      ? this.state.relays.map((r) => (r.url === url ? relay : r))
      : [...this.state.relays, relay];
    this.update({ relays });
  }

  setConnector(status: ConnectionStatus, lastError?: string, url = this.state.connector.url): void {
    this.update({ connector: { url, status, lastError } });
  }

  setChannel(channel: ChannelInfo | null): void {
    this.update({ channel });
  }

  /** Signs `amount` more away on the channel (cumulative spent goes up, remaining down). */
  spend(amount: bigint): void {
    const ch = this.state.channel;
    if (!ch) return;
    this.update({ channel: { ...ch, spent: ch.spent + amount, remaining: ch.remaining - amount } });
  }

  setSubscriptions(subscriptions: SubscriptionInfo[]): void {
    this.update({ subscriptions });
  }

  appendActivity(entry: Omit<ActivityEntry, 'at'> & { at?: number }): void {
    const activity = [...this.state.activity, { ...entry, at: entry.at ?? this.now() }].slice(-MAX_ACTIVITY);
    this.update({ activity });
  }

  /** Posts a job as the Mayor would: the job appears, the channel pays its price, activity records it. */
  postJob(input: PostJobInput): string {
    this.jobCounter++;
    const id = input.id ?? `job-${(0x5abc123 + this.jobCounter - 1).toString(16)}`;
    const job: JobInfo = {
      id,
      jobType: input.jobType,
      state: input.state ?? 'posted',
      bytes: input.bytes,
      price: input.price,
      postedAt: this.now(),
      provider: input.provider,
    };
    this.update({ jobs: [...this.state.jobs, job] });
    this.spend(input.price);
    this.appendActivity({
      kind: 'post',
      text: `Posted ${id}: ${input.jobType} (${input.bytes} bytes, ${formatM2M(input.price)})`,
      amount: input.price,
    });
    return id;
  }

  setJobState(id: string, state: JobState, provider?: string): void {
    this.patchJob(id, (j) => ({ ...j, state, provider: provider ?? j.provider }));
  }

  /** A result arrived: state becomes routed (or failed when the job could not run), activity records it. */
  deliverResult(id: string, result: JobResult): void {
    this.patchJob(id, (j) => ({
      ...j,
      state: result.status === 'error' ? 'failed' : 'routed',
      provider: result.provider,
      result,
    }));
    this.appendActivity({
      kind: 'result',
      text: `Result for ${id} from ${result.provider}: ${result.summary}`,
    });
  }

  private patchJob(id: string, change: (job: JobInfo) => JobInfo): void {
    if (!this.state.jobs.some((j) => j.id === id)) {
      throw new Error(`DemoDashboardSource: no job "${id}"; post it first with postJob().`);
    }
    this.update({ jobs: this.state.jobs.map((j) => (j.id === id ? change(j) : j)) });
  }
}
