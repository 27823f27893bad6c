// `crosstown demo`: the journeys end to end on a fresh devnet with both Mayors (DESIGN §6). Mayor-Alpha posts a
// ci-cd-linux job carrying the bundled sample repository, Mayor-Beta runs its tests in a Polecat worktree, the
// result is routed to Alpha's callback skill, Alpha pays Beta over ILP, the node pays Beta by channel claims,
// and Beta redeems them on-chain. The demo is a check, not just a show: every step and every balance is
// asserted, and any mismatch is a DemoError (the CLI exits non-zero with its message).
import type { Address } from 'viem';
import { formatM2M, listChannels, tokenBalance } from '../chain/index.js';
import type { PaymentEntry } from '../mayor/audit/index.js';
import { readSealed } from '../mayor/lifecycle/sealed-results.js';
import { probeBwrap } from '../mayor/provider/index.js';
import type { Mayor } from '../mayor/runtime/index.js';
import { ciCdCallbackSkill } from '../skills/builtin/index.js';
import type { Skill } from '../skills/types.js';
import { type DevnetWithMayors, startDevnetWithMayors } from './mayors.js';
import { packRepo } from './sample-repo.js';

export type DemoErrorCode =
  | 'START_FAILED'
  | 'POST_FAILED'
  | 'REFUSED'
  | 'NO_RESULT'
  | 'RESULT_NOT_SUCCESS'
  | 'ROUTING'
  | 'PAYMENT'
  | 'BALANCES'
  | 'INTERRUPTED';

/** What failed in the demo, in words, with a code scripts can test. */
export class DemoError extends Error {
  constructor(
    readonly code: DemoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DemoError';
  }
}

export interface DemoOptions {
  /** Each progress line as it happens (the journeys' words). */
  onLine?: (line: string) => void;
  /** 'auto' (default): bwrap when it works here; 'none': run Beta without a sandbox (tests of that path). */
  sandbox?: 'auto' | 'none';
  /** The repository sent as the job (default examples/sample-repo). */
  repoDir?: string;
  /** How long to wait for the result (default 120 s). */
  resultTimeoutMs?: number;
  /** Stops the demo at its next wait (Ctrl-C): everything started is stopped, then INTERRUPTED is thrown. */
  signal?: AbortSignal;
}

/** Wallet and outgoing-channel balances of one party, base units. */
export interface PartyBalances {
  walletBefore: bigint;
  walletAfter: bigint;
  /** Its channel: Mayors' to the node; the node's to Mayor-Beta. */
  channelDepositBefore: bigint;
  channelDepositAfter: bigint;
  /** Paid through that channel (claims: Mayors' cumulative; the node's: what Beta claimed on-chain). */
  channelSpentBefore: bigint;
  channelSpentAfter: bigint;
}

export interface DemoReport {
  status: 'success';
  network: {
    name: string;
    chainId: number;
    rpcUrl: string;
    relayUrl: string;
    btpUrl: string;
    anvilPid: number;
  };
  sandbox: string;
  /** True when Beta ran the demo's job without a sandbox, with the permission the demo granted. */
  unsandboxed: boolean;
  job: {
    id: string;
    jobType: 'ci-cd-linux';
    command: string;
    repoBytes: number;
    /** TOON bytes of the request: what the write fee is charged on. */
    bytes: number;
    bid: bigint;
    history: string[];
  };
  result: {
    provider: string;
    build: string;
    tests: { passed: number; failed: number; total: number };
    summary: string;
    /** The callback skill and how many times the result was routed to it (must be 1). */
    skill: string;
    routedCount: number;
  };
  payments: {
    writeFee: bigint;
    providerPayment: bigint;
    providerFees: { what: 'feedback' | 'result'; bytes: number; amount: bigint }[];
    providerFeesTotal: bigint;
    redeemedOnChain: bigint;
    /** What the node kept: the relay's write fees (it forwarded the provider payment on). */
    nodeKept: bigint;
  };
  channelRemaining: bigint;
  balances: { alpha: PartyBalances; beta: PartyBalances; node: PartyBalances };
  /** What the demo asserted, one line each. */
  checks: string[];
  lines: string[];
}

const BID = 2n * 10n ** 17n; // 0.2 M2M: the most Alpha pays Beta
const COMMAND = 'node --test';
const CALLBACK = 'demo-ci-callback';

/** Alpha's callback: the built-in ci-cd-callback reader, counting each result routed to it. */
function countingCallback(): Skill & { count: Map<string, number> } {
  const inner = ciCdCallbackSkill({ name: CALLBACK });
  const count = new Map<string, number>();
  return {
    name: CALLBACK,
    description: 'ci-cd-callback, counted by the demo (each result must arrive exactly once)',
    count,
    // Correlated results come by callback name; claiming no kinds keeps the built-in the default reader.
    supportedEventKinds: () => [],
    async handleToon(payload, metadata) {
      const id = metadata.correlation?.jobId ?? '?';
      count.set(id, (count.get(id) ?? 0) + 1);
      return inner.handleToon(payload, metadata);
    },
  };
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const lines: string[] = [];
  const line = (text: string) => {
    lines.push(text);
    options.onLine?.(text);
  };
  const wanted = options.sandbox ?? 'auto';
  const bwrap = wanted === 'auto' && (await probeBwrap());
  const repo = packRepo(options.repoDir);
  const callback = countingCallback();

  let net: DevnetWithMayors;
  try {
    net = await startDevnetWithMayors({
      betaSandbox: wanted,
      // Without a sandbox Beta refuses untrusted work; the demo's operator permission covers Alpha's job only.
      trustAlphaUnsandboxed: !bwrap,
      alphaSkills: [callback],
    });
  } catch (err) {
    throw new DemoError(
      'START_FAILED',
      `could not start the devnet with Mayor-Alpha and Mayor-Beta: ${(err as Error).message}`,
    );
  }
  try {
    return await walk(net, {
      line,
      lines,
      repo,
      callback,
      timeoutMs: options.resultTimeoutMs ?? 120_000,
      signal: options.signal,
    });
  } finally {
    await net.stop();
  }
}

interface WalkContext {
  line: (text: string) => void;
  lines: string[];
  repo: ReturnType<typeof packRepo>;
  callback: ReturnType<typeof countingCallback>;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

async function walk(net: DevnetWithMayors, ctx: WalkContext): Promise<DemoReport> {
  const { alpha, beta, line } = { ...net, line: ctx.line };
  const checks: string[] = [];
  const check = (ok: boolean, code: DemoErrorCode, what: string, detail: string) => {
    if (!ok) throw new DemoError(code, `check failed: ${what}: ${detail}`);
    checks.push(what);
  };
  const wait = (cond: () => boolean, ms: number, what: string) => until(cond, ms, what, ctx.signal);
  interrupted(ctx.signal);
  const provider = beta.provider();
  if (!provider) throw new DemoError('START_FAILED', 'Mayor-Beta started without provider mode');
  const sandbox = provider.service.sandbox.kind;
  const unsandboxed = sandbox === 'none';

  line(`Devnet: anvil ${net.rpcUrl} (chain ${net.chainId}), relay ${net.relayUrl}, BTP ${net.btpUrl}`);
  line(
    `Mayor-Alpha (requester) ${net.running.alpha.ilpAddress}, Mayor-Beta (provider, ci-cd-linux at ${formatM2M(BigInt(net.running.beta.price!))} M2M) ${net.running.beta.ilpAddress}`,
  );
  line(
    unsandboxed
      ? 'No sandbox here (bwrap missing or not permitted): Mayor-Beta runs this demo job WITHOUT a sandbox, with the permission the demo grants for its own job from Mayor-Alpha only'
      : `Mayor-Beta runs jobs in a ${sandbox} sandbox`,
  );

  const before = await snapshot(net);

  // Journey 1: post the job.
  let posted: Awaited<ReturnType<Mayor['postJob']>>;
  try {
    posted = await alpha.postJob({
      jobType: 'ci-cd-linux',
      inputs: [{ data: ctx.repo.base64, type: 'tar.gz+base64' }],
      params: { command: COMMAND },
      bid: BID,
      provider: beta.pubkey,
      content: 'Run the tests of the crosstown sample repository',
      callbackSkill: CALLBACK,
    });
  } catch (err) {
    throw new DemoError('POST_FAILED', `Mayor-Alpha could not post the job: ${(err as Error).message}`);
  }
  const jobId = posted.jobId;
  const short = `job-${jobId.slice(0, 7)}`;
  line(`Posted ${short}: ci-cd-linux (${posted.bytes} bytes, ${formatM2M(posted.price)} M2M)`);
  line('Waiting for result...');

  await waitForOutcome(alpha, beta, jobId, ctx.timeoutMs, ctx.signal);
  const job = alpha.state.jobs.get(jobId)!;
  const routed = alpha.results().get(jobId);
  if (!routed) throw new DemoError('NO_RESULT', `${short} ended ${job.status} without a routed result`);
  const from = routed.provider === beta.pubkey ? 'Mayor-Beta' : routed.provider;
  line(`Received result for ${short} from ${from}`);
  line(routed.result.summary ?? '(no summary)');

  const data = (routed.result.data ?? {}) as { status?: string; tests?: { passed: number; failed: number } };
  const tests = data.tests ?? { passed: 0, failed: 0 };
  check(
    routed.provider === beta.pubkey,
    'RESULT_NOT_SUCCESS',
    'the result comes from Mayor-Beta',
    `it came from ${routed.provider}`,
  );
  check(
    data.status === 'success' && tests.failed === 0 && tests.passed > 0,
    'RESULT_NOT_SUCCESS',
    'the build succeeded with every test passing',
    `the result says "${routed.result.summary ?? 'no summary'}" (the logs are in the result event)`,
  );
  const routedCount = ctx.callback.count.get(jobId) ?? 0;
  check(
    routed.skill === CALLBACK && routedCount === 1,
    'ROUTING',
    'the result was routed to the callback skill exactly once',
    `skill ${routed.skill ?? 'none'} ran ${routedCount} times`,
  );
  const history = job.history.map((h) => h.status);
  check(
    history.join(',') === 'posting,posted,result-received,routed,paid',
    'PAYMENT',
    'the job went posting -> posted -> result-received -> routed -> paid',
    `it went ${history.join(' -> ')}`,
  );

  // Money. Alpha's claims for the write and the payment; Beta's for its feedback and result writes.
  const alphaAtt = alpha.attachment()!;
  const betaAtt = beta.attachment()!;
  await alphaAtt.settle();
  const channel = alphaAtt.channel();
  const remaining = channel.deposit - channel.cumulative;
  line(`Payment Channel: ${formatM2M(remaining)} M2M remaining`);

  const amount = job.amount ?? 0n;
  await wait(() => provider.reports.has(jobId), 20_000, "Mayor-Beta's report of the job");
  await wait(() => provider.earned() >= amount, 20_000, 'the payment to arrive at Mayor-Beta');
  await wait(() => provider.receiver.paid >= amount, 30_000, "the node's claim to Mayor-Beta");
  // Beta counts the claim before its answer reaches the node, which records the payment only then.
  await wait(
    () => nodeBooks(net).paidToBeta - before.books.paidToBeta >= amount,
    30_000,
    'the node to record its claim to Mayor-Beta',
  );
  await betaAtt.settle();
  const redeemed = await provider.redeemEarnings();
  const report = provider.reports.get(jobId)!;
  const betaFees = (await beta.audit.list()).filter(
    (p: PaymentEntry) => p.jobId === jobId && p.direction === 'out' && p.status === 'fulfilled',
  );
  const providerFees = betaFees.map((p) => ({
    what: (p.bytes === report.bytes && p.amount === report.fee ? 'result' : 'feedback') as
      | 'result'
      | 'feedback',
    bytes: p.bytes ?? 0,
    amount: p.amount,
  }));
  const providerFeesTotal = providerFees.reduce((s, f) => s + f.amount, 0n);
  const after = await snapshot(net);
  const nodeKept = posted.price + providerFeesTotal;

  line('Payments:');
  line(
    `  relay write fee, Mayor-Alpha -> node        ${formatM2M(posted.price)} M2M (${posted.bytes} bytes)`,
  );
  // Issue 19: a sealed result was paid by its condition; the FULFILL revealed the key.
  const sealed = readSealed(alpha.state, jobId);
  const mode = sealed ? ` (atomic, condition ${sealed.condition.slice(0, 4)}…)` : '';
  line(
    `  provider payment, Mayor-Alpha -> Mayor-Beta ${formatM2M(amount)} M2M (bid ${formatM2M(BID)})${mode}`,
  );
  for (const f of providerFees)
    line(`${`  Mayor-Beta's ${f.what} fee -> node`.padEnd(46)}${formatM2M(f.amount)} M2M (${f.bytes} bytes)`);
  line(`  Mayor-Beta's earnings redeemed on-chain     ${formatM2M(redeemed.paid)} M2M`);
  line('Balances (M2M)        wallet before -> after          own channel paid before -> after (deposit)');
  for (const [who, b] of [
    ['Mayor-Alpha', after.alpha],
    ['Mayor-Beta', after.beta],
    ['node', after.node],
  ] as const) {
    const bb = before[who === 'Mayor-Alpha' ? 'alpha' : who === 'Mayor-Beta' ? 'beta' : 'node'];
    line(
      `  ${who.padEnd(12)} ${`${formatM2M(bb.wallet)} -> ${formatM2M(b.wallet)}`.padEnd(32)} ${formatM2M(bb.spent)} -> ${formatM2M(b.spent)} (${formatM2M(b.deposit)})`,
    );
  }

  // The books, exactly (bigint): every base unit accounted for.
  check(
    amount === BigInt(net.running.beta.price ?? -1) && amount <= BID,
    'PAYMENT',
    `Mayor-Alpha paid Mayor-Beta its price (${formatM2M(amount)} M2M, within the bid)`,
    `it paid ${amount}, Beta's price is ${net.running.beta.price}`,
  );
  check(
    posted.price === BigInt(posted.bytes) * BigInt(net.node.basePricePerByte),
    'PAYMENT',
    'the write fee is bytes x basePricePerByte',
    `${posted.price} != ${posted.bytes} x ${net.node.basePricePerByte}`,
  );
  const alphaSpent = after.alpha.spent - before.alpha.spent;
  check(
    alphaSpent === posted.price + amount,
    'BALANCES',
    "Mayor-Alpha's channel paid exactly the write fee plus the provider payment",
    `it moved ${alphaSpent}, expected ${posted.price + amount}`,
  );
  check(
    remaining === channel.deposit - after.alpha.spent,
    'BALANCES',
    'the remaining channel balance is the deposit minus what was paid',
    `${remaining} != ${channel.deposit} - ${after.alpha.spent}`,
  );
  const betaSpent = after.beta.spent - before.beta.spent;
  check(
    betaSpent === providerFeesTotal && providerFees.some((f) => f.what === 'result'),
    'BALANCES',
    "Mayor-Beta's channel paid exactly its feedback and result write fees",
    `it moved ${betaSpent}, its audit says ${providerFeesTotal}`,
  );
  check(
    redeemed.paid === amount && after.node.spent - before.node.spent === amount,
    'BALANCES',
    "Mayor-Beta redeemed exactly the provider payment from the node's channel",
    `redeemed ${redeemed.paid}, on-chain claimed moved ${after.node.spent - before.node.spent}, expected ${amount}`,
  );
  check(
    after.beta.wallet - before.beta.wallet === amount && after.alpha.wallet === before.alpha.wallet,
    'BALANCES',
    "wallets: Mayor-Beta's grew by the payment, Mayor-Alpha's did not move (it pays from its channel)",
    `Beta ${after.beta.wallet - before.beta.wallet}, Alpha ${after.alpha.wallet - before.alpha.wallet}`,
  );
  const nodeDeposited = after.node.deposit - before.node.deposit;
  check(
    before.node.wallet - after.node.wallet === nodeDeposited,
    'BALANCES',
    "the node's wallet moved only by the deposit of its channel to Mayor-Beta",
    `wallet moved ${before.node.wallet - after.node.wallet}, deposited ${nodeDeposited}`,
  );
  check(
    before.total === after.total,
    'BALANCES',
    'no M2M appeared or vanished (wallets + channel contract)',
    `${before.total} before, ${after.total} after`,
  );
  const books = nodeBooks(net);
  check(
    books.alphaPaid - before.books.alphaPaid === alphaSpent &&
      books.betaPaid - before.books.betaPaid === betaSpent &&
      books.paidToBeta - before.books.paidToBeta === amount &&
      alphaSpent + betaSpent - amount === nodeKept,
    'BALANCES',
    `the node's books: it received ${formatM2M(alphaSpent + betaSpent)} M2M, passed ${formatM2M(amount)} M2M to Mayor-Beta and kept the write fees (${formatM2M(nodeKept)} M2M)`,
    `received ${books.alphaPaid - before.books.alphaPaid} + ${books.betaPaid - before.books.betaPaid}, paid Beta ${books.paidToBeta - before.books.paidToBeta}`,
  );
  line(`Demo succeeded: ${checks.length} checks passed.`);

  const party = (b: Snapshot['alpha'], a: Snapshot['alpha']): PartyBalances => ({
    walletBefore: b.wallet,
    walletAfter: a.wallet,
    channelDepositBefore: b.deposit,
    channelDepositAfter: a.deposit,
    channelSpentBefore: b.spent,
    channelSpentAfter: a.spent,
  });
  return {
    status: 'success',
    network: {
      name: 'devnet',
      chainId: net.chainId,
      rpcUrl: net.rpcUrl,
      relayUrl: net.relayUrl,
      btpUrl: net.btpUrl,
      anvilPid: net.anvilPid,
    },
    sandbox,
    unsandboxed,
    job: {
      id: jobId,
      jobType: 'ci-cd-linux',
      command: COMMAND,
      repoBytes: ctx.repo.bytes,
      bytes: posted.bytes,
      bid: BID,
      history,
    },
    result: {
      provider: routed.provider,
      build: 'SUCCESS',
      tests: { ...tests, total: tests.passed + tests.failed },
      summary: routed.result.summary ?? '',
      skill: CALLBACK,
      routedCount,
    },
    payments: {
      writeFee: posted.price,
      providerPayment: amount,
      providerFees,
      providerFeesTotal,
      redeemedOnChain: redeemed.paid,
      nodeKept,
    },
    channelRemaining: remaining,
    balances: {
      alpha: party(before.alpha, after.alpha),
      beta: party(before.beta, after.beta),
      node: party(before.node, after.node),
    },
    checks,
    lines: ctx.lines,
  };
}

interface Snapshot {
  alpha: { wallet: bigint; deposit: bigint; spent: bigint };
  beta: { wallet: bigint; deposit: bigint; spent: bigint };
  node: { wallet: bigint; deposit: bigint; spent: bigint };
  /** Every wallet plus the channel contract: constant while tokens only move between them. */
  total: bigint;
  books: ReturnType<typeof nodeBooks>;
}

async function snapshot(net: DevnetWithMayors): Promise<Snapshot> {
  const client = net.alpha.attachment()!.clients.public;
  const balance = (owner: Address) => tokenBalance(client, { token: net.token, owner });
  const mayorSide = async (m: Mayor, wallet: Address) => {
    const c = m.attachment()!.channel();
    return { wallet: await balance(wallet), deposit: c.deposit, spent: c.cumulative };
  };
  const alpha = await mayorSide(net.alpha, net.mayors.alpha!.walletAddress);
  const beta = await mayorSide(net.beta, net.mayors.beta!.walletAddress);
  // The node's channels to Mayor-Beta, from the chain: deposits and what Beta claimed on-chain.
  const toBeta = (
    await listChannels(client, {
      channels: net.channels,
      wallet: net.mayors.beta!.walletAddress,
      fromBlock: BigInt(net.deployBlock),
    })
  ).filter(
    (c) => c.role === 'receiver' && c.sender.toLowerCase() === net.node.settlementAddress.toLowerCase(),
  );
  const node = {
    wallet: await balance(net.node.settlementAddress),
    deposit: toBeta.reduce((s, c) => s + c.deposit, 0n),
    spent: toBeta.reduce((s, c) => s + c.claimed, 0n),
  };
  const contract = await balance(net.channels);
  return {
    alpha,
    beta,
    node,
    total: alpha.wallet + beta.wallet + node.wallet + contract,
    books: nodeBooks(net),
  };
}

/** The node's connector books for the two Mayors (child peers named by the last part of their address). */
function nodeBooks(net: DevnetWithMayors) {
  const connector = net.runningNode!.connector;
  const peer = (ilpAddress: string) => connector.balance(ilpAddress.split('.').at(-1)!);
  const a = peer(net.running.alpha.ilpAddress);
  const b = peer(net.running.beta.ilpAddress);
  return { alphaPaid: a.paidByPeer, betaPaid: b.paidByPeer, paidToBeta: b.paidToPeer };
}

/** Until Alpha's job is final, or Beta refused or failed it (then fail at once with Beta's reason). */
async function waitForOutcome(
  alpha: Mayor,
  beta: Mayor,
  jobId: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const short = `job-${jobId.slice(0, 7)}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    interrupted(signal);
    const status = alpha.state.jobs.get(jobId)?.status;
    if (status === 'paid') return;
    if (status === 'failed' || status === 'cancelled')
      throw new DemoError('NO_RESULT', `${short} ended ${status} at Mayor-Alpha`);
    const served = beta
      .provider()!
      .jobs()
      .find((j) => j.id === jobId);
    if (served?.state === 'refused')
      throw new DemoError('REFUSED', `Mayor-Beta refused ${short}: ${served.summary ?? 'no reason given'}`);
    if (Date.now() > deadline) {
      throw new DemoError(
        'NO_RESULT',
        `no paid result for ${short} within ${timeoutMs / 1000} s (Alpha: ${status}, Beta: ${served?.state ?? 'never saw it'})`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function interrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new DemoError('INTERRUPTED', 'interrupted; everything the demo started is stopped');
}

async function until(
  cond: () => boolean,
  timeoutMs: number,
  what: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    interrupted(signal);
    if (Date.now() > deadline) throw new DemoError('PAYMENT', `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
