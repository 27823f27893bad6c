// Provider mode as a service. The network side is injected (ProviderNetwork: sign + paid publish; an audit
// log), so the Mayor runtime wires it to the relay and the payment path and tests pass an in-process fake.
//
// Flow: the runtime hands every kind 5065 event it receives to `handleJobRequest`. The policy accepts or
// refuses it; a refusal publishes kind 7000 `error` with the reason, an acceptance publishes `processing`
// and queues the job on the Polecat pool. When the job ends, the kind 6065 result (sized to fit one ILP
// PREPARE) is signed and published through the paid write path; every write fee goes to the audit log.

import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { KIND_JOB_REQUEST } from '../../nostr/kinds.js';
import type { HandlerMetadata } from '../../nostr/nip89.js';
import { type ParsedJobRequest, parseJobRequest } from '../../nostr/nip90.js';
import { conditionOfKey, KEY_BYTES, requestedPaymentMode } from '../../nostr/sealed-result.js';
import type { EventTemplate, Filter, NostrEvent } from '../../nostr/types.js';
import { RateLimiter } from '../../relay/rate-limit.js';
import type { JobProvider } from '../../skills/builtin/job-request.js';
import { encodeEventBytes } from '../../toon/index.js';
import { mark } from '../../transport/trace.js';
import type { PaymentInput } from '../audit/types.js';
import { ProviderError } from './errors.js';
import { ciCdLinuxExecutor } from './executors/ci-cd-linux.js';
import { errorOutcome } from './executors/common.js';
import { dockerExecutor } from './executors/docker.js';
import type { Executor } from './executors/types.js';
import { buildAdvertisement, errorFeedback, jobRequestFilter, processingFeedback } from './messages.js';
import { checkPolicy, DEFAULT_REFUSAL_FEEDBACK, type ProviderPolicy, type RefusalCode } from './policy.js';
import { PolecatPool, type PoolRun } from './pool.js';
import { buildResult, type JobOutcome, MAX_PACKET_DATA } from './results.js';
import { detectSandbox, noSandbox, type Sandbox } from './sandbox.js';
import type { SealedKeyStore } from './sealed-keys.js';
import { UnpaidJobs } from './unpaid-jobs.js';
import { WorkRepo } from './worktree.js';

/** The network side, provided by the Mayor runtime (or a fake in tests). */
export interface ProviderNetwork {
  /** Signs a template with the Mayor's identity key. */
  sign(template: EventTemplate): NostrEvent | Promise<NostrEvent>;
  /** Publishes a signed event through the paid relay write path; resolves with the fee paid (base units). */
  publishPaid(event: NostrEvent): Promise<{ fee: bigint }>;
  /**
   * The size of the relay write publishPaid makes for `event` (default: its TOON bytes). A private job's result
   * goes out gift-wrapped to its requester: about twice the event, and it must fit one PREPARE all the same.
   */
  publishedBytes?(event: NostrEvent): number;
}

/** The Mayor's payment audit log (src/mayor/audit `record`), or anything with the same shape. */
export interface ProviderAudit {
  record(entry: PaymentInput): unknown;
}

export interface ProviderLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface ProviderOptions {
  /** Provider home: work repository, worktrees and polecats.json live here. */
  home: string;
  /** Our identity (hex pubkey): our own requests and requests naming another provider are ignored. */
  pubkey: string;
  ilpAddress: string;
  /** Price per job type served (base units). Job types without an available executor are dropped. */
  prices: Record<string, bigint>;
  network: ProviderNetwork;
  audit?: ProviderAudit;
  /** Counterparty written in the audit log for relay write fees (the relay's ILP address). Default 'relay'. */
  relayCounterparty?: string;
  /** Default: ci-cd-linux and docker-build-amd64. */
  executors?: Executor[];
  /** Polecats running at once (default 4). */
  poolSize?: number;
  /** Per job (defaults: 10 minutes, 1 MiB kept output). */
  timeoutMs?: number;
  maxOutputBytes?: number;
  policy?: Partial<ProviderPolicy>;
  /** 'auto' (default): bwrap if it works here, else none. A Sandbox object is used as given. */
  sandbox?: 'auto' | 'none' | Sandbox;
  /** After a crash, jobs that were accepted but not finished are reported failed (default) or run again. */
  onRestart?: 'fail' | 'rerun';
  /** Most tries of one job across restarts when onRestart is 'rerun' (default 2). */
  maxAttempts?: number;
  /** URL schemes a `git` input may use (default https). */
  gitProtocols?: string[];
  identifier?: string;
  metadata?: HandlerMetadata;
  /** Relay hint for `e` tags. */
  relay?: string;
  logger?: ProviderLogger;
  /**
   * Where the keys of sealed results are kept (issue 19). With it the provider serves `atomic` jobs: the result
   * is sealed and its key revealed only by the payment's FULFILL. Without it every result goes out clear.
   */
  sealedKeys?: SealedKeyStore;
}

export type IntakeResult =
  | { status: 'accepted'; jobId: string; done: Promise<JobReport> }
  | { status: 'refused'; jobId: string; code: RefusalCode; reason: string; feedback?: NostrEvent }
  | { status: 'ignored'; jobId?: string; reason: string };

export interface JobReport {
  jobId: string;
  outcome: JobOutcome;
  /** The published result, or undefined when building or publishing it failed (see `error`). */
  result?: NostrEvent;
  /** TOON bytes of the result. */
  bytes?: number;
  fee?: bigint;
  worktree: string;
  /** Time from the pool starting the job to the result being built and signed, minus the command (ms). */
  overheadMs: number;
  /** Time removing the worktree and branch after the result went out (ms). */
  cleanupMs?: number;
  error?: string;
  /** Set when the result went out sealed (atomic pay-for-result). */
  sealed?: { condition: string };
  /**
   * When (performance.now() of this process) the job's acceptance was durable, its command started and ended, its
   * result was signed and its paid write was fulfilled: the stages `npm run bench provider-e2e` prints.
   */
  timeline?: { accepted?: number; started?: number; finished?: number; signed?: number; published?: number };
}

/** A sealed result's K made when its job is accepted, on its way to the disk while the job runs. */
interface PreparedKey {
  key: Uint8Array;
  /** Resolves once K is durable (SealedKeyStore.saveDurably); the sealed result is published only after. */
  saved: Promise<void>;
}

const silent: ProviderLogger = { info() {}, warn() {} };
const RECENT_IDS = 10_000;

export class ProviderService {
  readonly options: ProviderOptions;
  readonly sandbox: Sandbox;
  readonly pool: PolecatPool;
  /** Served job types and prices (only those with an available executor). */
  readonly prices: Record<string, bigint>;
  readonly policy: ProviderPolicy;
  /** Refusals told (paid feedback), per requester and in all: ProviderPolicy.refusalFeedback. */
  private readonly refusalsPerRequester: RateLimiter;
  private readonly refusalsInAll: RateLimiter;
  /** Charged results not paid for, per requester (policy.maxUnpaidJobs). */
  private readonly unpaidJobs = new UnpaidJobs();
  private readonly executors: Map<string, Executor>;
  private readonly sandboxed: boolean;
  private readonly recent = new Set<string>();
  private readonly log: ProviderLogger;
  private readonly pending = new Set<Promise<JobReport>>();

  private constructor(
    options: ProviderOptions,
    sandbox: Sandbox,
    executors: Map<string, Executor>,
    prices: Record<string, bigint>,
  ) {
    this.options = options;
    this.sandbox = sandbox;
    this.sandboxed = sandbox.kind !== 'none';
    this.executors = executors;
    this.prices = prices;
    this.log = options.logger ?? silent;
    const poolSize = options.poolSize ?? 4;
    this.policy = {
      blockedRequesters: [],
      trustedRequesters: [],
      allowUnsandboxed: false,
      maxConcurrentJobs: poolSize,
      maxInputBytes: MAX_PACKET_DATA,
      requireBid: true,
      refusalFeedback: DEFAULT_REFUSAL_FEEDBACK,
      maxUnpaidJobs: 8,
      ...options.policy,
    };
    this.refusalsPerRequester = new RateLimiter(this.policy.refusalFeedback.perRequester);
    this.refusalsInAll = new RateLimiter(this.policy.refusalFeedback.total);
    this.pool = new PolecatPool({
      home: options.home,
      repo: new WorkRepo(options.home),
      sandbox,
      executors,
      size: poolSize,
      limits: {
        timeoutMs: options.timeoutMs ?? 600_000,
        maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
      },
      gitProtocols: options.gitProtocols ?? ['https'],
    });
  }

  /**
   * Detects the sandbox, probes the executors, recovers what a previous process left (jobs it never finished
   * are reported failed with a result, or re-run), and returns a service ready for `handleJobRequest`.
   * `recovered` resolves when those reports/re-runs are done.
   */
  static async start(
    options: ProviderOptions,
  ): Promise<{ service: ProviderService; recovered: Promise<JobReport[]> }> {
    await mkdir(options.home, { recursive: true });
    let sandbox: Sandbox;
    if (options.sandbox === 'none') sandbox = noSandbox();
    else if (options.sandbox === undefined || options.sandbox === 'auto')
      sandbox = (await detectSandbox()) ?? noSandbox();
    else sandbox = options.sandbox;
    const executors = new Map<string, Executor>();
    const prices: Record<string, bigint> = {};
    for (const ex of options.executors ?? [ciCdLinuxExecutor(), dockerExecutor()]) {
      const price = options.prices[ex.jobType];
      if (price === undefined || !(await ex.available())) continue;
      executors.set(ex.jobType, ex);
      prices[ex.jobType] = price;
    }
    if (executors.size === 0)
      throw new ProviderError(
        'invalid_config',
        'no job type is both priced and runnable here; set prices for ci-cd-linux',
      );
    const service = new ProviderService(options, sandbox, executors, prices);
    const interrupted = await service.pool.recover();
    // Never rejects: a stored request that no longer parses is reported in its JobReport's `error`.
    const recovered = Promise.all(
      interrupted.map((job) =>
        service.resume(job.request, job.attempt).catch(
          (err: Error): JobReport => ({
            jobId: job.request.id,
            outcome: errorOutcome('provider restarted'),
            worktree: '',
            overheadMs: 0,
            error: `could not report interrupted job: ${err.message}`,
          }),
        ),
      ),
    );
    return { service, recovered };
  }

  /** Kind 31990 template announcing kinds, job types, prices, ILP address and limits (the runtime signs it). */
  advertisement(): EventTemplate {
    return buildAdvertisement({
      identifier: this.options.identifier ?? 'crosstown-provider',
      prices: this.prices,
      ilpAddress: this.options.ilpAddress,
      limits: {
        timeoutSeconds: Math.ceil((this.options.timeoutMs ?? 600_000) / 1000),
        maxOutputBytes: MAX_PACKET_DATA,
        concurrency: this.pool.size,
      },
      metadata: { name: 'crosstown provider', sandbox: this.sandbox.kind, ...this.options.metadata },
      paymentModes: this.options.sealedKeys ? ['atomic', 'after-result'] : ['after-result'],
    });
  }

  /** The relay subscription for job requests of the served types. */
  subscriptionFilter(since?: number): Filter {
    return jobRequestFilter(Object.keys(this.prices), since);
  }

  /**
   * Whether a refusal of `requester`'s job is told. Telling costs a paid write: within the budget only (a requester
   * flooding refused jobs must not drain us). The operator's own (trusted) requesters are outside the total, which
   * strangers' fresh keys can use up.
   */
  private mayTellRefusal(requester: string): boolean {
    const trusted = this.policy.trustedRequesters.includes(requester);
    return this.refusalsPerRequester.take(requester) && (trusted || this.refusalsInAll.take('*'));
  }

  /**
   * Intake of one kind 5xxx event (already signature-checked by the relay/runtime). `addressedToUs`: the request
   * came to us alone (a private job's gift wrap), whatever its own tags say; it counts against the requester's unpaid
   * results as a job naming us does (policy.maxUnpaidJobs).
   */
  async handleJobRequest(
    event: NostrEvent,
    options: { addressedToUs?: boolean } = {},
  ): Promise<IntakeResult> {
    let job: ParsedJobRequest;
    try {
      job = parseJobRequest(event);
    } catch (err) {
      return {
        status: 'ignored',
        jobId: event.id,
        reason: `not a valid job request: ${(err as Error).message}`,
      };
    }
    if (job.kind !== KIND_JOB_REQUEST)
      return { status: 'ignored', jobId: job.id, reason: `kind ${job.kind} is not served` };
    if (job.requester === this.options.pubkey)
      return { status: 'ignored', jobId: job.id, reason: 'our own request' };
    if (job.provider !== undefined && job.provider !== this.options.pubkey)
      return { status: 'ignored', jobId: job.id, reason: `names another provider (${job.provider})` };
    if (this.recent.has(job.id) || this.pool.has(job.id))
      return { status: 'ignored', jobId: job.id, reason: 'already seen (duplicate delivery)' };
    this.remember(job.id);
    const executor = this.executors.get(job.jobType);
    const decision = checkPolicy(job, this.policy, {
      prices: this.prices,
      inFlight: this.pool.inFlight,
      unpaidJobs: this.unpaidJobs.of(job.requester),
      sandboxed: this.sandboxed,
      inputProblem: executor?.check(job),
    });
    if (!decision.ok) {
      const tell = this.mayTellRefusal(job.requester);
      this.log.info(
        `refused job ${job.id}: ${decision.reason}${tell ? '' : ' (not told: refusal feedback budget used)'}`,
        { code: decision.code },
      );
      const feedback = tell
        ? await this.publish(errorFeedback(job.id, job.requester, decision.reason), job.id).catch(
            () => undefined,
          )
        : undefined;
      return {
        status: 'refused',
        jobId: job.id,
        code: decision.code,
        reason: decision.reason,
        ...(feedback && { feedback: feedback.event }),
      };
    }
    // Queue before announcing, so the concurrency count is right for the next request even while publishing.
    // Its result counts against the requester's unpaid ones when the job named us or came to us alone.
    const counted = options.addressedToUs === true || job.provider === this.options.pubkey;
    const done = this.track(this.runAndReport(job, 1, counted));
    // Announced once the acceptance is durable (polecats.json, written off the main thread): a crash after the
    // requester heard `processing` still finds the job. One turn later: the job's command (waiting for the same
    // write) is handed to the process host first, so signing and sending `processing` overlap the command instead
    // of delaying it (as an await before the spawn did: 30-40 ms, docs/provider.md); its paid write still goes
    // out well before the result's.
    await this.pool
      .accepted(job.id)
      .then(() => new Promise((resolve) => setImmediate(resolve)))
      .then(() => this.publish(processingFeedback(job.id, job.requester), job.id))
      .catch(() => undefined);
    return { status: 'accepted', jobId: job.id, done };
  }

  /** Adapter for the `job-request` skill (src/skills/builtin/job-request.ts). */
  jobProvider(): JobProvider {
    return async (job) => {
      const intake = await this.handleJobRequest(job.event);
      if (intake.status === 'accepted') return { status: 'handled', summary: `job ${intake.jobId} accepted` };
      if (intake.status === 'refused')
        return { status: 'handled', summary: `job ${intake.jobId} refused: ${intake.reason}` };
      return { status: 'ignored', summary: intake.reason };
    };
  }

  /**
   * The runtime calls this when the requester's payment for a job arrives (or fails): earnings go to the same
   * audit log as the write fees.
   */
  recordEarning(
    jobId: string,
    amount: bigint,
    counterparty: string,
    status: PaymentInput['status'] = 'fulfilled',
  ): void {
    this.options.audit?.record({ direction: 'in', jobId, amount, status, counterparty });
    this.unpaidJobs.paid(jobId, amount);
  }

  cancel(jobId: string): boolean {
    return this.pool.cancel(jobId);
  }

  /** Cancels running jobs (they are reported as cancelled) and waits for their results to be published. */
  async stop(): Promise<void> {
    await this.pool.stop();
    await Promise.allSettled([...this.pending]);
  }

  private async resume(request: NostrEvent, attempt: number): Promise<JobReport> {
    const job = parseJobRequest(request);
    this.remember(job.id);
    const maxAttempts = this.options.maxAttempts ?? 2;
    if (this.options.onRestart === 'rerun' && attempt < maxAttempts && this.executors.has(job.jobType)) {
      this.log.info(`re-running job ${job.id} after a provider restart (attempt ${attempt + 1})`);
      return this.track(this.runAndReport(job, attempt + 1));
    }
    this.log.warn(`job ${job.id} was interrupted by a provider restart; reporting it failed`);
    const outcome = errorOutcome(
      'provider restarted while the job was running; it was not completed and is not charged',
    );
    return this.report(job, outcome, '', 0, false);
  }

  /** `counted`: its charged result counts against the requester's unpaid ones (not a re-run after a restart). */
  private async runAndReport(job: ParsedJobRequest, attempt: number, counted = false): Promise<JobReport> {
    // Jobs that never ran their command (bad input, provider error, cancellation) are not charged.
    const charge = (run: PoolRun) => run.outcome.build !== 'ERROR' && run.outcome.build !== 'CANCELLED';
    let report: JobReport | undefined;
    const prepared = this.prepareKey(job);
    // The result goes out while the worktree still exists; cleanup follows, before the Polecat takes new work.
    const run = await this.pool.submit(job, attempt, async (r) => {
      report = await this.report(
        job,
        r.outcome,
        r.worktree,
        r.overheadMs,
        charge(r),
        prepared,
        r.marks,
        counted,
      );
    });
    report ??= await this.report(
      job,
      run.outcome,
      run.worktree,
      run.overheadMs,
      charge(run),
      prepared,
      run.marks,
      counted,
    );
    report.cleanupMs = run.cleanupMs;
    return report;
  }

  /**
   * K of the job's sealed result, made now and made durable while the job runs (issue 17: its fsync was on the way
   * from the command's end to the result). Only for a job whose result will be sealed if it is charged: a priced
   * job type and a requester asking `atomic`. A job that ends uncharged goes out clear; its unused K stays in the
   * store, where it can only refuse a payment nobody owes.
   */
  private prepareKey(job: ParsedJobRequest): PreparedKey | undefined {
    const sealedKeys = this.options.sealedKeys;
    const amount = this.prices[job.jobType];
    if (!sealedKeys || amount === undefined || amount <= 0n || requestedPaymentMode(job.event) !== 'atomic')
      return undefined;
    const key = new Uint8Array(randomBytes(KEY_BYTES));
    const saved = sealedKeys.saveDurably({
      jobId: job.id,
      requester: job.requester,
      condition: conditionOfKey(key),
      key,
      amount,
    });
    saved.catch(() => {}); // awaited (and reported) by report(), which then falls back to a fresh K
    return { key, saved };
  }

  private async report(
    job: ParsedJobRequest,
    outcome: JobOutcome,
    worktree: string,
    overheadMs: number,
    charge: boolean,
    prepared?: PreparedKey,
    marks?: PoolRun['marks'],
    counted = false,
  ): Promise<JobReport> {
    const t0 = performance.now();
    mark('service: report start');
    const timeline: NonNullable<JobReport['timeline']> = { ...marks };
    const report: JobReport = { jobId: job.id, outcome, worktree, overheadMs, timeline };
    try {
      const amount = charge ? this.prices[job.jobType] : undefined;
      // Sealed only when there is something to pay for and the requester asked for it (an older or foreign
      // requester gets the clear result it knows how to read).
      const sealedKeys = this.options.sealedKeys;
      const seal =
        sealedKeys !== undefined &&
        amount !== undefined &&
        amount > 0n &&
        requestedPaymentMode(job.event) === 'atomic';
      let margin = 16;
      // The K prepared at acceptance, if it reached the disk; else a fresh one, saved below.
      const preparedKey =
        seal && prepared
          ? await prepared.saved.then(
              () => prepared.key,
              (err: Error) => {
                this.log.warn(
                  `the key prepared for job ${job.id} was not saved (${err.message}); sealing under a new one`,
                );
                return undefined;
              },
            )
          : undefined;
      for (;;) {
        const built = buildResult({
          request: job.event,
          outcome,
          margin,
          seal,
          ...(preparedKey && { sealKey: preparedKey }),
          ...(amount !== undefined && { amount }),
          ...(this.options.relay !== undefined && { relay: this.options.relay }),
        });
        const event = await this.options.network.sign(built.template);
        const eventBytes = encodeEventBytes(event).length;
        const bytes = this.options.network.publishedBytes?.(event) ?? eventBytes;
        // The estimate used placeholder id/sig; a real one can encode a little differently, and a gift wrap
        // grows it. Shrink the event by the excess, scaled back to event bytes, and build again.
        if (bytes > MAX_PACKET_DATA) {
          margin += Math.ceil(((bytes - MAX_PACKET_DATA) * eventBytes) / bytes) + 64;
          continue;
        }
        // K is durable before anyone can see the sealed result: a restart after publishing still fulfills.
        if (built.sealed && sealedKeys && amount !== undefined && built.sealed.key !== preparedKey) {
          await sealedKeys.saveDurably({
            jobId: job.id,
            requester: job.requester,
            condition: built.sealed.condition,
            key: built.sealed.key,
            amount,
          });
        }
        if (built.sealed) report.sealed = { condition: built.sealed.condition };
        timeline.signed = performance.now();
        mark('service: result signed');
        report.overheadMs += timeline.signed - t0;
        // Owed from before it goes out (the requester may pay as soon as it sees it), when the job named us and ran in
        // this process (a re-run after a restart may have been paid already).
        if (amount !== undefined && counted) this.unpaidJobs.add(job.id, job.requester, amount);
        const published = await this.publishSigned(event, job.id);
        timeline.published = performance.now();
        mark('service: published');
        report.result = event;
        report.bytes = bytes;
        report.fee = published.fee;
        break;
      }
    } catch (err) {
      report.error = (err as Error).message;
      this.log.warn(`result for job ${job.id} was not published: ${report.error}`);
    }
    // No result went out: nothing to pay for.
    if (report.result === undefined) this.unpaidJobs.drop(job.id);
    return report;
  }

  private async publish(template: EventTemplate, jobId: string): Promise<{ event: NostrEvent; fee: bigint }> {
    const event = await this.options.network.sign(template);
    return { event, ...(await this.publishSigned(event, jobId)) };
  }

  private async publishSigned(event: NostrEvent, jobId: string): Promise<{ fee: bigint }> {
    const bytes = encodeEventBytes(event).length;
    const counterparty = this.options.relayCounterparty ?? 'relay';
    try {
      const { fee } = await this.options.network.publishPaid(event);
      this.options.audit?.record({
        direction: 'out',
        jobId,
        amount: fee,
        bytes,
        status: 'fulfilled',
        counterparty,
      });
      return { fee };
    } catch (err) {
      this.options.audit?.record({
        direction: 'out',
        jobId,
        amount: 0n,
        bytes,
        status: 'failed',
        counterparty,
      });
      this.log.warn(`publishing kind ${event.kind} for job ${jobId} failed: ${(err as Error).message}`);
      throw err;
    }
  }

  private track(p: Promise<JobReport>): Promise<JobReport> {
    this.pending.add(p);
    p.finally(() => this.pending.delete(p)).catch(() => {});
    return p;
  }

  private remember(id: string): void {
    this.recent.add(id);
    if (this.recent.size > RECENT_IDS) {
      const oldest = this.recent.values().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }
}

/** Where a Mayor keeps its provider home by default: <mayor home>/provider. */
export function defaultProviderHome(mayorHome: string): string {
  return path.join(mayorHome, 'provider');
}
