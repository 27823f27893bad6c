// The Mayor as a DashboardSource (src/tui/model.ts): a fresh immutable DashboardState on every change,
// pushed to subscribers; `refresh` re-reads the channel from the chain.
import { readChannel } from '../../chain/actions/readChannel.js';
import type {
  ActivityEntry,
  DashboardSource,
  DashboardState,
  JobInfo,
  JobState,
  NetworkKind,
} from '../dashboard-model.js';
import type { JobRecord } from '../state/index.js';
import type { Mayor } from './mayor.js';

/** The dashboard says what the CLI says (`job status`). */
const JOB_STATES: Record<JobRecord['status'], JobState> = {
  posting: 'posting',
  posted: 'posted',
  'result-received': 'result-received',
  routed: 'routed',
  paid: 'paid',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** The ci result carries passed and failed; total is their sum (absent counts are 0). */
function testCounts(raw: unknown): { passed: number; failed: number; total: number } {
  const t = (raw ?? {}) as { passed?: unknown; failed?: unknown; total?: unknown };
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const passed = n(t.passed);
  const failed = n(t.failed);
  return { passed, failed, total: typeof t.total === 'number' ? t.total : passed + failed };
}

const NETWORK_KIND: Record<string, NetworkKind> = {
  devnet: 'local',
  'base-sepolia': 'testnet',
  base: 'mainnet',
};

export function mayorDashboardSource(
  mayor: Mayor,
  options: { lowBalanceThreshold?: bigint } = {},
): DashboardSource {
  const listeners = new Set<(s: DashboardState) => void>();
  let current = build();
  let scheduled = false;

  function build(): DashboardState {
    const status = mayor.status();
    const att = mayor.attachment();
    const price = status.basePricePerByte ?? 0n;
    const results = mayor.results();
    const jobs: JobInfo[] = mayor.jobs().map((j) => {
      const routed = results.get(j.id);
      const data = routed?.result.data ?? {};
      const tests = testCounts(data.tests);
      return {
        id: j.id,
        jobType: j.jobType,
        state: JOB_STATES[j.status],
        bytes: price > 0n && j.price !== undefined ? Number(j.price / price) : 0,
        price: j.price ?? 0n,
        postedAt: j.createdAt,
        ...(j.provider ? { provider: j.provider } : {}),
        ...(routed
          ? {
              result: {
                status:
                  routed.result.status === 'handled'
                    ? 'success'
                    : routed.result.status === 'failed'
                      ? 'failure'
                      : 'error',
                summary: routed.result.summary ?? routed.result.status,
                tests,
                logs: typeof data.logs === 'string' ? data.logs : '',
                provider: routed.provider,
              },
            }
          : // A failed job shows why (a provider's refusal, a timeout, a final reject).
            j.status === 'failed' && j.error
            ? {
                result: {
                  status: 'error' as const,
                  summary: j.error,
                  tests,
                  logs: '',
                  provider: j.provider ?? '',
                },
              }
            : {}),
      } satisfies JobInfo;
    });
    // Jobs this Mayor serves in provider mode, beside the ones it requested.
    const SERVED_STATES = {
      running: 'running',
      done: 'served',
      refused: 'refused',
      failed: 'failed',
    } as const;
    for (const s of mayor.provider()?.jobs() ?? []) {
      jobs.push({
        id: s.id,
        jobType: `serving ${s.jobType}${s.private ? ' (private)' : ''}`,
        state: SERVED_STATES[s.state],
        bytes: 0,
        price: s.amount ?? 0n,
        postedAt: s.receivedAt,
        provider: mayor.pubkey,
        ...(s.state !== 'running'
          ? {
              result: {
                status: s.state === 'done' ? 'success' : 'error',
                summary: `${s.summary ?? s.state}; earned ${s.earned} base units from ${s.requester.slice(0, 8)}…`,
                tests: { passed: 0, failed: 0, total: 0 },
                logs: '',
                provider: mayor.pubkey,
              },
            }
          : {}),
      } satisfies JobInfo);
    }
    const activity: ActivityEntry[] = mayor.activity().map((a) => ({
      at: a.at,
      kind: a.kind,
      text: a.text,
      ...(a.amount !== undefined ? { amount: a.amount } : {}),
    }));
    return {
      mayor: status.name,
      network: {
        name: status.network as DashboardState['network']['name'],
        kind: NETWORK_KIND[status.network] ?? 'local',
        chainId: status.chainId ?? 0,
        ...(att ? { token: att.spsp.settlement.token } : {}),
      },
      relays: status.relays.map((r) => ({
        url: r.url,
        status: r.status,
        subscriptions: r.subscriptions,
        ...(r.lastError ? { lastError: r.lastError } : {}),
      })),
      connector: {
        url: status.connector.url ?? '',
        status: status.connector.status,
        ...(status.connector.lastError ? { lastError: status.connector.lastError } : {}),
      },
      channel: status.channel
        ? {
            id: status.channel.channelId,
            deposit: status.channel.deposit,
            spent: status.channel.spent,
            remaining: status.channel.remaining,
            lowBalanceThreshold: options.lowBalanceThreshold ?? 0n,
            status: 'open',
            ...(att
              ? {
                  receiver: att.spsp.settlement.settlementAddress,
                  contract: att.spsp.settlement.channelContract,
                }
              : {}),
          }
        : null,
      subscriptions: [
        { id: 'results', summary: `kinds 6065,7000 #p ${status.pubkey.slice(0, 8)}…` },
        { id: 'gift-wraps', summary: `kind 1059 #p ${status.pubkey.slice(0, 8)}… (private jobs)` },
        ...(mayor.provider()
          ? [
              {
                id: 'provider-jobs',
                summary: `kind 5065 #t ${Object.keys(mayor.provider()!.service.prices).join(',')}`,
              },
            ]
          : []),
      ],
      jobs,
      activity,
    };
  }

  const push = () => {
    current = build();
    for (const l of listeners) l(current);
  };
  mayor.on('change', () => {
    // Bursts of changes (a recovery, a chain) become one new state per turn.
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      push();
    });
  });
  mayor.on('relay', () => push());
  // Claims are signed on the payment path without a 'change' event: look at the channel every second so the
  // balance on screen is the one `mayor status` and `channel status` give (channelBalance).
  const balanceOf = (st: DashboardState) => (st.channel ? `${st.channel.deposit}/${st.channel.spent}` : '');
  const watch = setInterval(() => {
    try {
      const ch = mayor.status().channel;
      if ((ch ? `${ch.deposit}/${ch.spent}` : '') !== balanceOf(current)) push();
    } catch {
      clearInterval(watch); // the Mayor has stopped
    }
  }, 1000);
  watch.unref();

  return {
    snapshot: () => current,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async refresh() {
      const att = mayor.attachment();
      if (att) {
        const c = att.channel();
        await readChannel(att.clients.public, { channels: c.contract, channelId: c.channelId }).catch(
          () => undefined,
        );
      }
      push();
    },
  };
}
