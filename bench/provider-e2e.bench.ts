// Provider mode end to end on a real devnet (anvil, node, relay, connector; real git worktrees; bwrap when it
// works here): Mayor-Alpha posts a ci-cd-linux job running `true`, Mayor-Beta (provider mode) receives it,
// runs it, publishes the result; Alpha routes it to the callback skill. We report post -> routed minus the
// command's own run time (the provider's `durationMs`), p50/p99, sequential jobs, public and private.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devnet, startDevnet } from '../src/devnet/index.js';
import { resolveConfig } from '../src/mayor/config/index.js';
import {
  type ActivityItem,
  type Mayor,
  type ProviderModeOptions,
  startMayor,
} from '../src/mayor/runtime/index.js';
import { type JobRecord, openStateRepo } from '../src/mayor/state/index.js';
import { clearMarks, takeMarks, tracing } from '../src/transport/trace.js';
import { stopEach } from '../test/support/stop-each.js';

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const quiet = { debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) };

/** The Mayors' homes, removed once they have stopped. */
const homes: string[] = [];

function config(devnet: Devnet, extra: Record<string, string> = {}) {
  const home = mkdtempSync(join(tmpdir(), 'provider-e2e-bench-'));
  homes.push(home);
  return resolveConfig({
    env: {
      CROSSTOWN_HOME: home,
      CROSSTOWN_RELAY_URL: devnet.relayUrl,
      GASTOWN_BASE_SEPOLIA_RPC: devnet.rpcUrl,
      CROSSTOWN_CONNECTOR_BTP: devnet.btpUrl,
      CROSSTOWN_DEFAULT_DEPOSIT: '100',
      ...extra,
    },
  }).values;
}

async function start(devnet: Devnet, who: string, provider?: ProviderModeOptions): Promise<Mayor> {
  const m = devnet.mayors[who]!;
  return startMayor({
    config: config(
      devnet,
      provider
        ? {
            CROSSTOWN_PROVIDER: 'true',
            CROSSTOWN_PROVIDER_JOB_TYPES: 'ci-cd-linux',
            CROSSTOWN_PROVIDER_PRICE: '0.001',
          }
        : {},
    ),
    walletKey: m.walletPrivateKey,
    nostrSecretKey: new Uint8Array(Buffer.from(m.nostrSecretKey.slice(2), 'hex')),
    nodePubkey: devnet.node.pubkey,
    logger: quiet,
    ...(provider ? { provider } : {}),
  });
}

/**
 * Baselines measured in the same run, in a scratch repo: one state transition made durable (put + atomic
 * write + fsync: what the requester waits for before `posting` leaves and before `result-received` is routed)
 * and one committed to git (what it waited for before the commit moved to the background). On a loaded
 * machine the figures below move with these.
 */
async function commitBaseline(): Promise<{ durable: number; commit: number }> {
  const scratch = mkdtempSync(join(tmpdir(), 'provider-e2e-bench-'));
  try {
    return await measureCommits(join(scratch, 'state'));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function measureCommits(dir: string): Promise<{ durable: number; commit: number }> {
  const repo = await openStateRepo({ dir });
  const durable: number[] = [];
  const commit: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now();
    repo.jobs.put({
      id: i.toString(16).padStart(64, '0'),
      status: 'posting',
      kind: 5065,
      jobType: 'ci-cd-linux',
      callbackSkill: 'ci-cd-callback',
    });
    if (i % 2 === 0) {
      await repo.durable();
      durable.push(performance.now() - t0);
      await repo.flush(); // the next one starts with no commit running
    } else {
      await repo.flush();
      commit.push(performance.now() - t0);
    }
  }
  await repo.close();
  return { durable: pct(durable, 0.5), commit: pct(commit, 0.5) };
}

async function series(alpha: Mayor, beta: Mayor, n: number, priv: boolean): Promise<void> {
  const routedAt = new Map<string, number>();
  const resultAt = new Map<string, number>();
  const postedAt = new Map<string, number>();
  const onJob = (j: JobRecord) => {
    if (j.status === 'posted' && !postedAt.has(j.id)) postedAt.set(j.id, performance.now());
    if (j.status === 'routed' && !routedAt.has(j.id)) routedAt.set(j.id, performance.now());
    if (j.status === 'result-received' && !resultAt.has(j.id)) resultAt.set(j.id, performance.now());
  };
  alpha.on('job', onJob);
  // The sealed result's key in hand: Alpha's activity line "Paid provider … for job-xxxxxxx (atomic …)".
  const keyAt = new Map<string, number>();
  const onActivity = (a: ActivityItem) => {
    const m = /^Paid provider .* for (job-[0-9a-f]{7}) \(atomic/.exec(a.text);
    if (m && !keyAt.has(m[1]!)) keyAt.set(m[1]!, performance.now());
  };
  alpha.on('activity', onActivity);
  const overhead: number[] = [];
  const toProvider: number[] = [];
  const command: number[] = [];
  const postCall: number[] = [];
  const providerSide: number[] = [];
  const routing: number[] = [];
  const fulfilled: number[] = [];
  const waited: number[] = [];
  const payment: number[] = [];
  const afterKey: number[] = [];
  // The provider's stages (its JobReport timeline; same process, same clock as t0).
  const toAccepted: number[] = [];
  const acceptedToStart: number[] = [];
  const endToSigned: number[] = [];
  const signedToResult: number[] = [];
  const provider = beta.provider()!;
  for (let i = 0; i < n + 3; i++) {
    const t0 = performance.now();
    const wall0 = Date.now();
    const { jobId, price } = await alpha.postJob({
      jobType: 'ci-cd-linux',
      // Distinct requests, as real ones are (identical ones in the same second move to later seconds).
      params: { command: 'true', seq: `${priv ? 'p' : 'q'}${i}` },
      bid: 10n ** 16n,
      provider: beta.pubkey,
      private: priv,
    });
    const posted = performance.now();
    await alpha.settled([jobId], 30_000);
    // The provider files its report when its job finishes, which can now be after Alpha has routed the result.
    for (let w = 0; w < 100 && !provider.reports.has(jobId); w++) await new Promise((r) => setTimeout(r, 20));
    const end = routedAt.get(jobId);
    if (tracing && i >= 3 && i < 3 + Number(process.env.TRACE_JOBS ?? 2) && end !== undefined) {
      let prev = t0;
      console.log(`--- trace ${priv ? 'private' : 'public'} job ${i} ${jobId.slice(0, 7)}`);
      for (const [t, label] of takeMarks(t0, end + 30)) {
        console.log(`${(t - t0).toFixed(2).padStart(8)} +${(t - prev).toFixed(2).padStart(6)}  ${label}`);
        prev = t;
      }
    }
    clearMarks();
    const report = provider.reports.get(jobId);
    const served = provider.jobs().find((j) => j.id === jobId);
    if (end === undefined || !report || !served) throw new Error(`job ${jobId} was not routed`);
    if (i < 3) continue; // warm-up: first worktree, JIT
    const cmd = report.outcome.durationMs;
    overhead.push(end - t0 - cmd);
    toProvider.push(served.receivedAt - wall0);
    command.push(cmd);
    postCall.push(posted - t0);
    providerSide.push(report.overheadMs);
    routing.push(end - resultAt.get(jobId)!);
    fulfilled.push(postedAt.get(jobId)! - t0);
    waited.push(resultAt.get(jobId)! - postedAt.get(jobId)! - cmd);
    const key = keyAt.get(`job-${jobId.slice(0, 7)}`);
    if (key !== undefined) {
      payment.push(key - resultAt.get(jobId)!);
      afterKey.push(end - key);
    }
    const tl = report.timeline ?? {};
    if (tl.accepted !== undefined && tl.started !== undefined && tl.finished !== undefined && tl.signed) {
      toAccepted.push(tl.accepted - t0);
      acceptedToStart.push(tl.started - tl.accepted);
      endToSigned.push(tl.signed - tl.finished);
      signedToResult.push(resultAt.get(jobId)! - tl.signed);
    }
    void price;
  }
  alpha.off('job', onJob);
  alpha.off('activity', onActivity);
  const sealedPhases =
    payment.length > 0
      ? ` (of which paying for the sealed result's key p50 ${ms(pct(payment, 0.5))}, key -> routed p50 ${ms(pct(afterKey, 0.5))})`
      : '';
  const stages =
    toAccepted.length > 0
      ? `; stages p50: post -> provider's acceptance durable ${ms(pct(toAccepted, 0.5))}, -> command starts ${ms(pct(acceptedToStart, 0.5))}, command ends -> result signed ${ms(pct(endToSigned, 0.5))}, -> requester has it (\`result-received\`) ${ms(pct(signedToResult, 0.5))}`
      : '';
  const label = priv ? 'private (gift-wrapped)' : 'public';
  const commit = await commitBaseline();
  console.log(
    `${label}, ${n} jobs: post -> routed minus command p50 ${ms(pct(overhead, 0.5))}, p99 ${ms(pct(overhead, 0.99))} (target p50 < 50 ms: ${pct(overhead, 0.5) < 50 ? 'MET' : 'NOT MET'}; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores); ` +
      `postJob() returns p50 ${ms(pct(postCall, 0.5))}; post -> \`posted\` (the relay's FULFILL back) p50 ${ms(pct(fulfilled, 0.5))}; \`posted\` -> result-received minus command p50 ${ms(pct(waited, 0.5))}; post -> provider has it p50 ${ms(pct(toProvider, 0.5))}; provider overhead (worktree, result, excl. command) p50 ${ms(pct(providerSide, 0.5))}; result-received -> routed p50 ${ms(pct(routing, 0.5))}${sealedPhases}; command \`true\` (sandbox ${provider.service.sandbox.kind}) p50 ${ms(pct(command, 0.5))}${stages}; ` +
      `baseline: one state transition durable (fsync) p50 ${ms(commit.durable)}, committed to git p50 ${ms(commit.commit)}`,
  );
}

export async function run(): Promise<void> {
  const devnet = await startDevnet({ mayors: ['alpha', 'beta'] });
  let alpha: Mayor | undefined;
  let beta: Mayor | undefined;
  try {
    beta = await start(devnet, 'beta', { poolSize: 2 });
    alpha = await start(devnet, 'alpha');
    // MODES=private (or public) runs one series only.
    const modes = (process.env.MODES ?? 'public,private').split(',');
    if (modes.includes('public')) await series(alpha, beta, Number(process.env.N ?? 30), false);
    if (modes.includes('private')) await series(alpha, beta, Number(process.env.N ?? 30), true);
  } finally {
    await stopEach(
      () => alpha?.stop(),
      () => beta?.stop(),
      () => devnet.stop(),
      () => {
        for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
      },
    );
  }
}
