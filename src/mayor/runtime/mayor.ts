// The Mayor runtime (requester side): composes the relay pool, the attachment to the node (SPSP, channel,
// BTP), the git-backed state, the payment audit and the skill pipeline. Every job moves
// posting -> posted -> result-received -> routed -> paid, one state transition per step, and recovers from a
// crash at any step (DESIGN §4): see docs/mayor.md.

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { formatM2M } from '../../chain/units.js';
import { conditionOf, deriveFulfillment } from '../../ilp/fulfillment.js';
import { IlpPacketType, type IlpReject } from '../../ilp/types.js';
import { finalizeEvent, getEventHash, verifyEvent } from '../../nostr/event.js';
import { getPublicKey } from '../../nostr/keys.js';
import { KIND_GIFT_WRAP, KIND_JOB_FEEDBACK, KIND_JOB_REQUEST } from '../../nostr/kinds.js';
import { type Unwrapped, unwrapEvent } from '../../nostr/nip59.js';
import { buildJobRequest, type JobInput, parseJobResult } from '../../nostr/nip90.js';
import type { SpspResponse } from '../../nostr/spsp.js';
import type { EventTemplate, NostrEvent } from '../../nostr/types.js';
import { builtinSkills } from '../../skills/builtins.js';
import { rumorToToon } from '../../skills/event.js';
import { SkillPipeline } from '../../skills/pipeline.js';
import { registryWith } from '../../skills/registry.js';
import type {
  JobCorrelation,
  PrivateOrigin,
  Skill,
  SkillContext,
  SkillLogger,
  SkillResult,
} from '../../skills/types.js';
import { decodeEvent, encodeEventBytes, peekKind } from '../../toon/index.js';
import type { ClientTlsOptions } from '../../transport/tls.js';
import { openPaymentAudit, type PaymentAudit } from '../audit/index.js';
import { channelBalance } from '../channel-balance.js';
import type { MayorConfig } from '../config/index.js';
import { type ChainStep, type JobRecord, openStateRepo, type StateRepo } from '../state/index.js';
import { type Attachment, attach, rejectAdvice } from './attach.js';
import type { BackoffOptions } from './backoff.js';
import { MayorError } from './errors.js';
import { type FaultHook, noFaults } from './faults.js';
import { giftWrapSigned, isJobAnswerKind, openWrap } from './private-jobs.js';
import {
  type ProviderMode,
  type ProviderModeOptions,
  providerEnabled,
  startProviderMode,
} from './provider-mode.js';
import { type PoolEvent, RelayPool, type RelayState } from './relay-pool.js';
import { spspHandshake } from './spsp-client.js';

export interface StartMayorOptions {
  config: MayorConfig;
  /** Wallet key (from the keystore: resolveWalletKey). */
  walletKey: Uint8Array | Hex;
  /** Nostr key (from the keystore: ensureNostrKey). */
  nostrSecretKey: Uint8Array;
  /** The node's Nostr pubkey; discovered from its kind 10032 on the relay when unset. */
  nodePubkey?: string;
  /** Skills besides the built-ins (e.g. loaded with loadSkills). */
  skills?: Skill[];
  /** Register the built-in skills (default true). */
  builtins?: boolean;
  /** Accept a relay price above config.maxBasePricePerByte (the operator said yes). */
  acceptPrice?: boolean;
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
}

export interface PostJobRequest {
  jobType: string;
  inputs?: JobInput[];
  params?: Record<string, string>;
  /** The most this Mayor pays the provider, base units. */
  bid?: bigint;
  /** A chosen provider's pubkey. */
  provider?: string;
  content?: string;
  /** Skill the result is routed to (default `ci-cd-callback`). */
  callbackSkill?: string;
  kind?: number;
  /**
   * Send the request as a NIP-59 gift wrap to `provider` only (kind 1059): nobody else can read it, and the
   * provider answers gift-wrapped too. Needs `provider`.
   */
  private?: boolean;
}

export interface PostedJob {
  jobId: string;
  bytes: number;
  price: bigint;
  status: JobRecord['status'];
}

export interface ChainStepRequest extends Omit<PostJobRequest, 'inputs' | 'content' | 'provider'> {}

export interface ActivityItem {
  at: number;
  kind: 'post' | 'result' | 'payment' | 'earning' | 'channel' | 'connection' | 'error' | 'info';
  text: string;
  amount?: bigint;
}

/** A result routed to its skill, as the dashboard shows it. */
export interface RoutedResult {
  jobId: string;
  skill?: string;
  result: SkillResult;
  provider: string;
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
  /** Resolves when every job given is final (paid/failed/cancelled) or `timeoutMs` passed. */
  settled(jobIds?: string[], timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const RESULTS_SUB = 'results';
const PRIVATE_SUB = 'gift-wraps';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const toHex = (k: Uint8Array | Hex): Hex => (typeof k === 'string' ? k : (`0x${hex(k)}` as Hex));
const consoleLogger: SkillLogger = {
  debug: () => {},
  info: (m) => console.error(m),
  warn: (m) => console.error(m),
  error: (m) => console.error(m),
};

export async function startMayor(options: StartMayorOptions): Promise<Mayor> {
  const { config } = options;
  const log = options.logger ?? consoleLogger;
  const fault = options.fault ?? noFaults;
  const sk = options.nostrSecretKey;
  const pubkey = getPublicKey(sk);
  const jobTimeoutMs = options.jobTimeoutMs ?? config.jobTimeoutSeconds * 1000;
  const emitter = new EventEmitter() as Mayor;
  const activityLog: ActivityItem[] = [];
  const routed = new Map<string, RoutedResult>();
  const timers = new Map<string, NodeJS.Timeout>();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  let connector: MayorStatus['connector'] = { status: 'connecting' };
  let att: Attachment | undefined;

  const activity = (kind: ActivityItem['kind'], text: string, amount?: bigint) => {
    const item: ActivityItem = { at: Date.now(), kind, text, ...(amount !== undefined ? { amount } : {}) };
    activityLog.push(item);
    if (activityLog.length > 500) activityLog.shift();
    emitter.emit('activity', item);
    emitter.emit('change');
  };
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => {});
    return p;
  };

  const state = await openStateRepo({
    dir: config.stateDir,
    onError: (err) => log.error(`state commit failed: ${(err as Error).message}`),
  });
  const audit = openPaymentAudit({ state });
  const putJob = (t: Parameters<StateRepo['jobs']['put']>[0]) => {
    const j = state.jobs.put(t);
    emitter.emit('job', j);
    emitter.emit('change');
    return j;
  };

  // wss:// relays and connector: the system CA store, or the operator's private CA (tls-ca-file).
  const tls = options.tls ?? (config.tlsCaFile ? { caPath: config.tlsCaFile } : undefined);
  const warnLogger = { warn: (m: string) => log.warn(m) };
  const pool = new RelayPool({
    urls: config.relayUrls,
    secretKey: sk,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(tls ? { tls } : {}),
    logger: warnLogger,
    onStatus: (s) => {
      if (s.status === 'connected') activity('connection', `Relay ${s.url} connected`);
      else if (s.status === 'disconnected' || s.status === 'error') {
        // Local mode only when no relay at all is left: with one relay up, jobs still post.
        const up = pool.states().filter((r) => r.status === 'connected').length;
        activity(
          'connection',
          `Relay ${s.url} ${s.status}${s.lastError ? `: ${s.lastError}` : ''}${up === 0 ? ' (local mode)' : ` (${up} of ${config.relayUrls.length} relays connected)`}`,
        );
      }
      emitter.emit('relay', s);
    },
  });

  // Skills: built-ins plus the caller's; results go to the job's callback skill through the pipeline.
  const correlate = (jobId: string): JobCorrelation | undefined => {
    const j = state.jobs.get(jobId);
    if (!j) return undefined;
    return { jobId, callbackSkill: j.callbackSkill, ...(j.chainId ? { chainId: j.chainId } : {}) };
  };
  const context: SkillContext = {
    identityPubkey: pubkey,
    postJob: async (template, o) => {
      const { jobId } = await postSigned(sign(template), o?.callbackSkill ?? 'ci-cd-callback', o?.chainId);
      return { jobId };
    },
    // Replies to private requests: wrapped to the one recipient, then a paid write like any other event.
    publishPrivate: async (template, recipient) => {
      if (!att) throw new MayorError('STOPPED', 'Not attached to a node: nothing can be published.');
      const { reply } = await att.writeToRelay(
        encodeEventBytes(giftWrapSigned(sign(template), sk, recipient)),
      );
      if (reply.type !== IlpPacketType.Fulfill)
        throw new MayorError(
          'POST_REJECTED',
          `The relay refused a gift wrap: ${reply.code} ${reply.message}`,
        );
    },
    // The key stays here: the encrypted-DM skill asks the Mayor to open wraps. A wrap the Mayor has just
    // opened itself is not decrypted twice (same verified id, same content, same result).
    unwrapGiftWrap: (wrap) => openedWraps.get(wrap.id) ?? unwrapEvent(wrap, sk),
  };
  /** Wraps being handled right now, opened once (NIP-44 + two signature checks are not free). */
  const openedWraps = new Map<string, Unwrapped>();
  // Provider mode starts after the node attachment (it needs our ILP address); the job-request skill hands
  // it the private requests the encrypted-DM skill opened.
  const serving = providerEnabled(config, options.provider);
  let providerMode: ProviderMode | undefined;
  // A loaded skill that conflicts with a built-in or another skill is reported and left out (docs/skills.md).
  const { registry, leftOut } = registryWith(
    options.builtins === false
      ? []
      : builtinSkills(
          serving
            ? {
                jobRequest: {
                  provider: async (job, meta) =>
                    providerMode
                      ? providerMode.jobProvider(job, meta)
                      : { status: 'failed', summary: 'provider mode is still starting' },
                },
              }
            : {},
        ),
    options.skills ?? [],
  );
  for (const { message } of leftOut) log.warn(`skill not loaded: ${message}`);
  const pipeline = new SkillPipeline({ registry, context, logger: log, correlate, postNextJobs: false });

  const sign = (t: EventTemplate) => finalizeEvent(t, sk);
  const requestPath = (id: string) => `requests/${id}.toon`;
  const resultPath = (id: string) => `results/${id}.toon`;
  const readStored = (path: string) => {
    const abs = join(state.dir, path);
    return existsSync(abs) ? new Uint8Array(readFileSync(abs)) : undefined;
  };

  // ---- posting ---------------------------------------------------------------------------------------

  /**
   * Records a signed request as `posting` (its TOON kept in the state repo, so a restart can resend it).
   * `sendAs` is what goes to the relay instead of the event itself: its gift wrap, for a private job.
   */
  const recordPosting = (
    event: NostrEvent,
    callbackSkill: string,
    chainId?: string,
    bid?: bigint,
    sendAs?: NostrEvent,
  ) => {
    const toon = encodeEventBytes(sendAs ?? event);
    const jobType = event.tags.find((t) => t[0] === 't')?.[1] ?? 'unknown';
    state.files.append(requestPath(event.id), new TextDecoder().decode(toon), `job ${event.id}: request`);
    putJob({
      id: event.id,
      status: 'posting',
      kind: event.kind,
      jobType,
      callbackSkill,
      ...(bid !== undefined ? { bid } : {}),
      ...(chainId ? { chainId } : {}),
      ...(att ? { settlementChainId: att.spsp.settlement.chainId } : {}),
    });
    return toon;
  };

  /**
   * Sends a `posting` job's PREPARE. `probe`: after a restart we do not know whether the relay got it, so we
   * first resend with amount 0, which a relay fulfills only for an event it already stores (DESIGN: "what a
   * duplicate costs"), and pay the full price only when it does not.
   */
  const sending = new Map<string, Promise<PostedJob>>();
  /** One send per job at a time (recovery and a reconnect may both try). */
  const sendPosting = (jobId: string, probe: boolean): Promise<PostedJob> => {
    const running = sending.get(jobId);
    if (running) return running;
    const p = sendPostingNow(jobId, probe).finally(() => sending.delete(jobId));
    sending.set(jobId, p);
    return p;
  };
  const sendPostingNow = async (jobId: string, probe: boolean): Promise<PostedJob> => {
    const toon = readStored(requestPath(jobId));
    const job = state.jobs.get(jobId);
    if (!toon || !job)
      throw new MayorError('JOB_UNKNOWN', `Job ${jobId} has no stored request: it cannot be sent.`);
    const bytes = toon.length;
    if (!att || job.status !== 'posting') return { jobId, bytes, price: job.price ?? 0n, status: job.status };
    const price = BigInt(bytes) * att.spsp.basePricePerByte;
    await fault('post-before-fulfill', jobId);
    let result = probe ? await att.writeToRelay(toon, 0n) : undefined;
    let paid = 0n;
    if (!result || result.reply.type !== IlpPacketType.Fulfill) {
      result = await att.writeToRelay(toon, price);
      paid = price;
    }
    const { reply } = result;
    if (reply.type === IlpPacketType.Fulfill) {
      await fault('fulfill-before-commit', jobId);
      if (state.jobs.get(jobId)?.status !== 'posting')
        return { jobId, bytes, price, status: state.jobs.get(jobId)!.status };
      putJob({ id: jobId, status: 'posted', price });
      // A probe that found the event stored means the previous run paid the full price before it crashed.
      if (price > 0n) {
        audit.record({
          direction: 'out',
          jobId,
          amount: price,
          bytes,
          status: 'fulfilled',
          counterparty: att.spsp.destinationAccount,
          channelId: att.channel().channelId,
        });
      }
      activity(
        'post',
        `Posted job-${jobId.slice(0, 7)}: ${job.jobType} (${bytes} bytes, ${formatM2M(price)} M2M)${paid === 0n ? ' (found on the relay after a restart)' : ''}`,
        price,
      );
      armTimeout(jobId, job.createdAt);
      return { jobId, bytes, price, status: 'posted' };
    }
    const rej = reply as IlpReject;
    if (rej.code.startsWith('T') || rej.code.startsWith('R')) {
      // No path right now (connector down, timeouts): keep the job, post it when the path is back.
      activity('error', `Job-${jobId.slice(0, 7)} kept locally: ${rej.code} ${rej.message}`);
      return { jobId, bytes, price, status: 'posting' };
    }
    const why = `${rej.code} ${rej.message}: ${rejectAdvice(rej)}`;
    putJob({ id: jobId, status: 'failed', error: why });
    audit.record({
      direction: 'out',
      jobId,
      amount: price,
      bytes,
      status: 'rejected',
      counterparty: rej.triggeredBy,
    });
    activity('error', `Job-${jobId.slice(0, 7)} refused: ${why}`);
    throw new MayorError('POST_REJECTED', `Posting job ${jobId} failed: ${why}.`);
  };

  const postSigned = async (
    event: NostrEvent,
    callbackSkill: string,
    chainId?: string,
    bid?: bigint,
    sendAs?: NostrEvent,
  ) => {
    if (stopped) throw new MayorError('STOPPED', 'The Mayor is stopped: start it again to post jobs.');
    recordPosting(event, callbackSkill, chainId, bid, sendAs);
    // The request must be durable (fsynced; its git commit follows in the background) before it can reach
    // the relay, or a crash could lose a paid job.
    await state.durable();
    return track(sendPosting(event.id, false));
  };

  const buildRequest = (req: PostJobRequest, extraInputs: JobInput[] = []): NostrEvent => {
    const template = buildJobRequest({
      kind: req.kind ?? KIND_JOB_REQUEST,
      jobType: req.jobType,
      inputs: [...(req.inputs ?? []), ...extraInputs],
      params: req.params ?? {},
      ...(req.bid !== undefined ? { bid: req.bid } : {}),
      ...(req.provider ? { provider: req.provider } : {}),
      relays: config.relayUrls,
      content: req.content ?? '',
    });
    // Two identical requests in the same second would be one event (same id): the later one moves to
    // the next free second, so each postJob is its own job.
    // The id is checked before signing: a signature costs milliseconds, a hash microseconds.
    let createdAt = Math.floor(Date.now() / 1000);
    for (;;) {
      const id = getEventHash({ ...template, created_at: createdAt, pubkey });
      if (!state.jobs.get(id) && !reserved.has(id)) {
        reserved.add(id);
        return sign({ ...template, created_at: createdAt });
      }
      createdAt++;
    }
  };
  /** Ids signed in this run (a chain's first step is signed before it is recorded). */
  const reserved = new Set<string>();

  const armTimeout = (jobId: string, createdAt: number) => {
    if (timers.has(jobId)) return;
    const left = Math.max(0, createdAt + jobTimeoutMs - Date.now());
    const timer = setTimeout(() => {
      timers.delete(jobId);
      const j = state.jobs.get(jobId);
      if (j?.status === 'posted') {
        putJob({
          id: jobId,
          status: 'failed',
          error: `no result within ${Math.round(jobTimeoutMs / 1000)} s`,
        });
        activity('error', `Job-${jobId.slice(0, 7)} timed out after ${Math.round(jobTimeoutMs / 1000)} s`);
        if (j.chainId) {
          const chain = state.chains.get(j.chainId);
          if (chain && chain.status === 'running')
            state.chains.put({ id: chain.id, steps: chain.steps, status: 'failed' });
        }
      }
    }, left);
    timer.unref();
    timers.set(jobId, timer);
  };

  // ---- chains ----------------------------------------------------------------------------------------

  const stepRequest = (step: ChainStep): PostJobRequest => {
    const { bid, ...params } = step.params ?? {};
    return {
      kind: step.kind,
      jobType: step.jobType,
      params,
      callbackSkill: step.callbackSkill,
      ...(bid !== undefined ? { bid: BigInt(bid) } : {}),
    };
  };

  /** After step `index` of a chain is routed: record the next step's job (or finish the chain). Synchronous. */
  const advanceChain = (chainId: string, finishedJob: string): NostrEvent | undefined => {
    const chain = state.chains.get(chainId);
    if (chain?.status !== 'running') return undefined;
    const index = chain.steps.findIndex((s) => s.jobId === finishedJob);
    if (index < 0) return undefined;
    const next = index + 1;
    if (next >= chain.steps.length) {
      state.chains.put({ id: chainId, steps: chain.steps, current: chain.steps.length, status: 'done' });
      activity('info', `Chain ${chainId} done (${chain.steps.length} steps)`);
      return undefined;
    }
    const step = chain.steps[next]!;
    if (step.jobId) return undefined;
    // Step B takes step A's job as input (NIP-90 chaining: input type `job`).
    const event = buildRequest(stepRequest(step), [{ data: finishedJob, type: 'job' }]);
    const req = stepRequest(step);
    recordPosting(event, step.callbackSkill, chainId, req.bid);
    const steps = chain.steps.map((s, i) => (i === next ? { ...s, jobId: event.id } : s));
    state.chains.put({ id: chainId, steps, current: next });
    return event;
  };

  // ---- results ---------------------------------------------------------------------------------------

  /**
   * A result or feedback for one of our jobs. `priv`: it came out of a gift wrap (`e.event` is the rumor, its
   * author proven by the seal; `e.toon` is the wrap, which is what gets stored).
   */
  const onResult = async (e: PoolEvent, priv?: PrivateOrigin): Promise<void> => {
    const { event } = e;
    if (!priv && !verifyEvent(event)) return;
    if (event.kind === KIND_JOB_FEEDBACK) {
      const jobId = event.tags.find((t) => t[0] === 'e')?.[1];
      if (jobId && state.jobs.get(jobId)) {
        await pipeline.dispatch(priv ? rumorToToon(event) : e.toon, {
          eventId: event.id,
          relayUrl: e.relayUrl,
          ...(priv ? { private: priv } : {}),
        });
        const status = event.tags.find((t) => t[0] === 'status')?.[1] ?? 'feedback';
        activity('info', `Job-${jobId.slice(0, 7)} feedback: ${status}`);
      }
      return;
    }
    let parsed: ReturnType<typeof parseJobResult>;
    try {
      parsed = parseJobResult(event);
    } catch {
      return;
    }
    // A fast provider's result can overtake our own FULFILL (separate sockets): let the post finish first.
    for (let i = 0; i < 600 && state.jobs.get(parsed.jobId)?.status === 'posting' && !stopped; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const job = state.jobs.get(parsed.jobId);
    // Exactly once: only a job still waiting takes a result; a repeat (another relay, a catch-up) is ignored.
    if (job?.status !== 'posted' || parsed.requester !== pubkey) return;
    await fault('result-arrived', job.id);
    if (state.jobs.get(job.id)?.status !== 'posted') return;
    state.files.append(
      resultPath(job.id),
      new TextDecoder().decode(e.toon),
      `job ${job.id}: result ${event.id}`,
    );
    putJob({
      id: job.id,
      status: 'result-received',
      resultEventId: event.id,
      provider: event.pubkey,
      ...(parsed.amount ? { amount: parsed.amount.amount } : {}),
    });
    clearTimeout(timers.get(job.id));
    timers.delete(job.id);
    // Durable before the skill runs: a restart re-routes only what was not marked routed.
    await state.durable();
    await route(job.id);
  };

  /** Routes a `result-received` job's stored result to its callback skill, then posts what follows. */
  const route = async (jobId: string): Promise<void> => {
    const job = state.jobs.get(jobId);
    const stored = readStored(resultPath(jobId));
    if (job?.status !== 'result-received' || !stored) return;
    // A private result is stored as its wrap (encrypted at rest too): open it again to route the rumor.
    let toon: Uint8Array = stored;
    let priv: PrivateOrigin | undefined;
    if (peekKind(stored) === KIND_GIFT_WRAP) {
      const wrap = decodeEvent(stored);
      const { rumor, senderPubkey } = openedWraps.get(wrap.id) ?? unwrapEvent(wrap, sk);
      toon = rumorToToon(rumor);
      priv = { senderPubkey, wrapId: wrap.id };
    }
    const dispatched = await pipeline.dispatch(toon, {
      ...(job.resultEventId ? { eventId: job.resultEventId } : {}),
      correlation: correlate(jobId)!,
      ...(priv ? { private: priv } : {}),
    });
    const result = dispatched.outcome.result;
    routed.set(jobId, {
      jobId,
      ...(dispatched.skill ? { skill: dispatched.skill } : {}),
      result,
      provider: job.provider ?? '',
    });
    // One synchronous block, so the commit holds all of it: A routed, B (and any nextJobs) recorded.
    const next: NostrEvent[] = [];
    if (dispatched.outcome.status === 'handled') {
      for (const t of result.nextJobs ?? []) {
        const ev = sign(t);
        recordPosting(ev, dispatched.skill ?? job.callbackSkill);
        next.push(ev);
      }
      if (job.chainId) {
        const ev = advanceChain(job.chainId, jobId);
        if (ev) next.push(ev);
      }
    } else if (job.chainId) {
      const chain = state.chains.get(job.chainId);
      if (chain) state.chains.put({ id: chain.id, steps: chain.steps, status: 'failed' });
    }
    putJob({ id: jobId, status: 'routed' });
    activity(
      'result',
      `Result for job-${jobId.slice(0, 7)} -> ${dispatched.skill ?? 'no skill'}: ${result.summary ?? result.status}`,
    );
    await state.durable();
    await fault('before-next-job', jobId);
    for (const ev of next)
      await track(sendPosting(ev.id, false)).catch((err) => log.error((err as Error).message));
    await payProvider(jobId);
  };

  // ---- paying providers ------------------------------------------------------------------------------

  const held = new Set<string>();
  /** SPSP answers of providers we paid, by pubkey. */
  const providerSpsp = new Map<string, SpspResponse>();
  const payProvider = async (jobId: string, approved = false): Promise<void> => {
    const job = state.jobs.get(jobId);
    if (job?.status !== 'routed') return;
    const amount = job.amount ?? 0n;
    if (amount === 0n) {
      putJob({ id: jobId, status: 'paid', amount: 0n });
      return;
    }
    if (!approved && (job.bid === undefined || amount > job.bid)) {
      held.add(jobId);
      activity(
        'payment',
        `Held: job-${jobId.slice(0, 7)} asks ${formatM2M(amount)} M2M, above its bid${job.bid !== undefined ? ` of ${formatM2M(job.bid)} M2M` : ''}: approve or refuse it`,
        amount,
      );
      emitter.emit('held', job);
      return;
    }
    if (!att || !job.provider) return;
    const provider = job.provider;
    const payOnce = async (fresh: boolean) => {
      // One SPSP handshake per provider, not per job: relays rate-limit handshakes, and the provider hands
      // the same account and secret to the same requester anyway.
      let spsp = fresh ? undefined : providerSpsp.get(provider);
      if (!spsp) {
        spsp = await spspHandshake({
          pool,
          secretKey: sk,
          recipient: provider,
          request: { requestId: `pay-${jobId.slice(0, 16)}` },
        });
        providerSpsp.set(provider, spsp);
      }
      const secret = new Uint8Array(Buffer.from(spsp.sharedSecret, 'base64'));
      // The payment's data names the job, so the receiver can tie the money to it.
      const data = new TextEncoder().encode(`crosstown job payment ${jobId}`);
      return att!.pay({
        amount,
        destination: spsp.destinationAccount,
        executionCondition: conditionOf(deriveFulfillment(secret, data)),
        data,
      });
    };
    const cached = providerSpsp.has(provider);
    let { reply } = await payOnce(false);
    // A cached address goes stale when the provider restarts (new accounts, new secrets): ask again once.
    if (cached && reply.type === IlpPacketType.Reject && (reply.code === 'F02' || reply.code === 'F06')) {
      providerSpsp.delete(provider);
      ({ reply } = await payOnce(true));
    }
    if (reply.type === IlpPacketType.Fulfill) {
      held.delete(jobId);
      putJob({ id: jobId, status: 'paid' });
      audit.record({
        direction: 'out',
        jobId,
        amount,
        status: 'fulfilled',
        counterparty: job.provider,
        channelId: att.channel().channelId,
      });
      activity(
        'payment',
        `Paid provider ${job.provider.slice(0, 8)}… ${formatM2M(amount)} M2M for job-${jobId.slice(0, 7)}`,
        amount,
      );
    } else {
      audit.record({ direction: 'out', jobId, amount, status: 'rejected', counterparty: job.provider });
      activity(
        'error',
        `Paying job-${jobId.slice(0, 7)} failed: ${reply.code} ${reply.message}: ${rejectAdvice(reply)}`,
      );
    }
  };

  // ---- attach, subscribe, recover --------------------------------------------------------------------

  pool.start();
  att = await attach({
    pool,
    nostrSecretKey: sk,
    walletKey: toHex(options.walletKey),
    rpcUrl: requireRpc(config),
    ...(options.nodePubkey ? { nodePubkey: options.nodePubkey } : {}),
    maxBasePricePerByte: config.maxBasePricePerByte,
    ...(options.acceptPrice ? { acceptPrice: true } : {}),
    deposit: config.defaultDeposit,
    maxDeposit: config.maxChannelDeposit,
    ...(options.settleThreshold !== undefined ? { settleThreshold: options.settleThreshold } : {}),
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    state,
    // Provider mode: the requester's payments arrive as PREPAREs, the node's claims for them as claims.
    onPrepare: async (p) =>
      providerMode
        ? providerMode.handlePrepare(p)
        : {
            type: IlpPacketType.Reject,
            code: 'F02',
            triggeredBy: p.destination,
            message: `unreachable: ${config.name} is not in provider mode and takes no payments`,
            data: new Uint8Array(),
          },
    onClaim: async (m) => {
      if (providerMode) await providerMode.handleClaim(m);
    },
    // The node resyncing its channel to us (it pays our provider earnings) asks what we accepted.
    onStatus: async (channelId) => {
      if (!providerMode)
        throw new MayorError(
          'BAD_OPTIONS',
          `${config.name} is not in provider mode: it holds no channel from the node (${channelId})`,
        );
      return providerMode.status(channelId);
    },
    fault,
    ...(tls ? { tls } : {}),
    logger: warnLogger,
    ...(options.maxResyncOwed !== undefined ? { maxResyncOwed: options.maxResyncOwed } : {}),
    onWarning: (m) => log.warn(m),
    onConnector: (status, reason) => {
      connector = { url: config.connectorBtp ?? '', status, ...(reason ? { lastError: reason } : {}) };
      activity('connection', `Connector ${status}${reason ? `: ${reason}` : ''}`);
      // Back from local mode: post what was kept.
      if (status === 'connected' && att) void resumePosting();
    },
  }).catch(async (err) => {
    await pool.close();
    await state.close();
    throw err;
  });
  connector = { url: att.spsp.btpUrl, status: 'connected' };
  if (att.resync) {
    const r = att.resync;
    activity(
      'channel',
      `Resynced with the node: cumulative ${formatM2M(r.cumulative)} M2M${r.recovered > 0n ? `, ${formatM2M(r.recovered)} M2M owed from before the restart` : ''}${r.paid > 0n ? `, paid ${formatM2M(r.paid)} M2M` : ''}`,
      r.paid,
    );
  }
  const ch = att.channel();
  activity(
    'channel',
    `Channel ${ch.channelId.slice(0, 10)}… (${att.channelSource}): ${formatM2M(ch.deposit - ch.cumulative)} M2M of ${formatM2M(ch.deposit)} M2M left`,
  );

  const resumePosting = async () => {
    for (const j of state.jobs.list({ status: 'posting' })) {
      await track(sendPosting(j.id, true)).catch((err) => log.error((err as Error).message));
    }
  };

  // Results and feedback addressed to us; `since` is kept in the state repo so a restart catches up.
  const resultFilters = [{ kinds: [6065, KIND_JOB_FEEDBACK], '#p': [pubkey] }];
  const savedSince = state.subscriptions.get(RESULTS_SUB)?.since;
  pool.subscribe(
    RESULTS_SUB,
    resultFilters,
    (e) => void track(onResult(e)).catch((err) => log.error(String(err))),
    {
      ...(savedSince !== undefined ? { since: savedSince } : {}),
    },
  );
  const sinceTimer = setInterval(() => {
    const since = pool.sinceOf(RESULTS_SUB);
    if (since !== undefined && since !== state.subscriptions.get(RESULTS_SUB)?.since)
      state.subscriptions.set(RESULTS_SUB, resultFilters, since);
  }, 2000);
  sinceTimer.unref();

  // Recovery (DESIGN §4): finish what a previous run left half done, in the order jobs move.
  const recover = async () => {
    await resumePosting();
    for (const j of state.jobs.list({ status: 'result-received' })) await route(j.id);
    for (const j of state.jobs.list({ status: 'routed' })) {
      if (j.chainId) {
        // A crash between A's routing and B's recording cannot happen (one commit), but a chain may have
        // been created before B's step existed: make sure it advanced.
        const ev = advanceChain(j.chainId, j.id);
        if (ev) {
          await state.durable();
          await track(sendPosting(ev.id, false)).catch((err) => log.error((err as Error).message));
        }
      }
      await payProvider(j.id).catch((err) => log.error((err as Error).message));
    }
    const posted = state.jobs.list({ status: 'posted' });
    for (const j of posted) armTimeout(j.id, j.createdAt);
    // Results that arrived while we were down: ask for them by job id, whatever `since` says.
    for (let i = 0; i < posted.length; i += 100) {
      const ids = posted.slice(i, i + 100).map((j) => j.id);
      const found = await pool.query([{ kinds: [6065], '#e': ids }]);
      for (const e of found) await onResult(e);
    }
  };
  await track(recover());

  // Gift wraps addressed to us (the relay serves them only after our NIP-42 AUTH). Their created_at is
  // randomized up to two days back, so no `since`: repeats are dropped by the job state / the provider journal.
  const onWrap = async (e: PoolEvent): Promise<void> => {
    const opened = openWrap(e.event, sk, pubkey);
    if (!opened.ok) {
      log.warn(`rejected gift wrap ${e.event.id}: ${opened.reason}`);
      activity('error', `Rejected gift wrap ${e.event.id.slice(0, 8)}…: ${opened.reason}`);
      return;
    }
    const { rumor, senderPubkey } = opened.opened;
    openedWraps.set(e.event.id, opened.opened);
    try {
      if (isJobAnswerKind(rumor.kind)) {
        const event = { ...rumor, sig: '0'.repeat(128) };
        await onResult({ ...e, event }, { senderPubkey, wrapId: e.event.id });
        return;
      }
      // Anything else (a private job request for provider mode, a DM): the encrypted-DM skill routes it.
      await pipeline.dispatch(e.toon, { eventId: e.event.id, relayUrl: e.relayUrl });
    } finally {
      openedWraps.delete(e.event.id);
    }
  };
  pool.subscribe(PRIVATE_SUB, [{ kinds: [KIND_GIFT_WRAP], '#p': [pubkey] }], (e) => {
    void track(onWrap(e)).catch((err) => log.error(`gift wrap ${e.event.id}: ${(err as Error).message}`));
  });

  if (serving) {
    providerMode = await startProviderMode({
      config,
      options: options.provider ?? {},
      pool,
      secretKey: sk,
      pubkey,
      att,
      audit,
      state,
      log,
      activity,
      changed: () => emitter.emit('change'),
    }).catch(async (err) => {
      await att?.detach().catch(() => {});
      await pool.close();
      await state.close();
      throw err;
    });
  }

  const statusCounts = () =>
    Object.fromEntries(
      Object.entries(state.jobs.byStatus()).map(([k, v]) => [k, v.length]),
    ) as MayorStatus['jobs'];

  Object.assign(emitter, {
    name: config.name,
    pubkey,
    state,
    audit,
    pool,
    pipeline,
    attachment: () => att,
    provider: () => providerMode,
    postJob: async (req: PostJobRequest, o?: { chainId?: string }) => {
      if (req.private && !req.provider)
        throw new MayorError(
          'BAD_OPTIONS',
          'A private job is gift-wrapped to one provider: name it with `provider` (its pubkey).',
        );
      const event = buildRequest(req);
      // Private: the relay stores only the wrap; the job id is the rumor's id, the same as the event's.
      const wrap = req.private ? giftWrapSigned(event, sk, req.provider!) : undefined;
      return postSigned(event, req.callbackSkill ?? 'ci-cd-callback', o?.chainId, req.bid, wrap);
    },
    postChain: async (steps: ChainStepRequest[]) => {
      if (steps.length === 0) throw new MayorError('BAD_OPTIONS', 'A chain needs at least one step.');
      const chainId = `chain-${hex(randomBytes(6))}`;
      const chainSteps: ChainStep[] = steps.map((s) => ({
        jobType: s.jobType,
        kind: s.kind ?? KIND_JOB_REQUEST,
        callbackSkill: s.callbackSkill ?? 'ci-cd-callback',
        params: { ...(s.params ?? {}), ...(s.bid !== undefined ? { bid: s.bid.toString() } : {}) },
      }));
      const first = buildRequest(stepRequest(chainSteps[0]!));
      chainSteps[0] = { ...chainSteps[0]!, jobId: first.id };
      state.chains.put({ id: chainId, steps: chainSteps, current: 0, status: 'running' });
      await postSigned(first, chainSteps[0].callbackSkill, chainId, steps[0]!.bid);
      return chainId;
    },
    jobs: () => state.jobs.list(),
    results: () => routed,
    activity: () => activityLog,
    status: (): MayorStatus => {
      const c = att?.channel();
      return {
        name: config.name,
        pubkey,
        network: config.network,
        ...(att ? { chainId: att.spsp.settlement.chainId, basePricePerByte: att.spsp.basePricePerByte } : {}),
        relays: pool.states(),
        connector,
        ...(c
          ? {
              channel: channelBalance({ channelId: c.channelId, deposit: c.deposit, signed: c.cumulative }),
            }
          : {}),
        jobs: statusCounts(),
        held: [...held],
        localMode: !pool.connected || connector.status !== 'connected',
      };
    },
    approvePayment: (jobId: string) => track(payProvider(jobId, true)),
    settled: async (jobIds?: string[], timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      const final = new Set(['paid', 'failed', 'cancelled']);
      const done = () =>
        (jobIds ?? state.jobs.list().map((j) => j.id)).every((id) =>
          final.has(state.jobs.get(id)?.status ?? ''),
        );
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(sinceTimer);
      for (const t of timers.values()) clearTimeout(t);
      // Running provider jobs are cancelled and their results published before the links close.
      await providerMode?.stop().catch((err) => log.error(`provider stop: ${(err as Error).message}`));
      await Promise.allSettled([...inFlight]);
      const since = pool.sinceOf(RESULTS_SUB);
      if (since !== undefined) state.subscriptions.set(RESULTS_SUB, resultFilters, since);
      await att?.detach().catch(() => {});
      await pool.close();
      await state.close();
    },
  });
  return emitter;
}

function requireRpc(config: MayorConfig): string {
  if (config.rpcUrl) return config.rpcUrl;
  if (config.network === 'base-sepolia') return 'https://sepolia.base.org';
  throw new MayorError(
    'BAD_OPTIONS',
    `No RPC endpoint for network ${config.network}: set rpc-url (GASTOWN_BASE_SEPOLIA_RPC or --rpc-url); for a devnet use the URL \`crosstown devnet up\` printed.`,
  );
}
