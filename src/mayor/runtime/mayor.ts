// The Mayor runtime (requester side): composes the relay pool, the attachment to the node (SPSP, channel,
// BTP), the git-backed state, the payment audit and the skill pipeline. Every job moves
// posting -> posted -> result-received -> routed -> paid, one state transition per step, and recovers from a
// crash at any step (DESIGN §4): see docs/mayor.md.

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Hex } from 'viem';
import { IlpPacketType } from '../../ilp/types.js';
import { getPublicKey } from '../../nostr/keys.js';
import { KIND_JOB_REQUEST } from '../../nostr/kinds.js';
import type { Unwrapped } from '../../nostr/nip59.js';
import { loadWasmVerifier } from '../../nostr/verify-fast.js';
import { builtinSkills } from '../../skills/builtins.js';
import { SkillPipeline } from '../../skills/pipeline.js';
import { registryWith } from '../../skills/registry.js';
import type { SkillLogger } from '../../skills/types.js';
import { mark, tracing } from '../../transport/trace.js';
import { openPaymentAudit } from '../audit/index.js';
import { channelBalance } from '../channel-balance.js';
import type { MayorConfig } from '../config/index.js';
import { assertNotBlocked, fraudHandlerFor } from '../fraud/lifecycle.js';
import { stepRequest } from '../lifecycle/chains.js';
import type { LifecycleDeps } from '../lifecycle/deps.js';
import { openIntentJournal } from '../lifecycle/intents.js';
import { createPayments } from '../lifecycle/payments.js';
import { createPosting } from '../lifecycle/posting.js';
import { recoverJobs } from '../lifecycle/recovery.js';
import { createResultIntake } from '../lifecycle/results.js';
import { correlationOf, createRouting } from '../lifecycle/routing.js';
import { skillContext } from '../lifecycle/skill-context.js';
import { saveSince, subscribeGiftWraps, subscribeResults } from '../lifecycle/subscriptions.js';
import { createTimeouts } from '../lifecycle/timeouts.js';
import { type ChainStep, type JobRecord, openStateRepo, repostLine } from '../state/index.js';
import { type Attachment, attach } from './attach.js';
import { MayorError } from './errors.js';
import { noFaults } from './faults.js';
import { createPool, reportAttachment } from './mayor-links.js';
import type {
  ActivityItem,
  ChainStepRequest,
  Mayor,
  MayorStatus,
  PostJobRequest,
  StartMayorOptions,
} from './mayor-types.js';
import { giftWrapSigned } from './private-jobs.js';
import { type ProviderMode, providerEnabled, startProviderMode } from './provider-mode.js';
import { paymentJobId } from './provider-spsp.js';
import { expectedSettlementFor } from './settlement-terms.js';

export type {
  ActivityItem,
  ChainStepRequest,
  Mayor,
  MayorStatus,
  PostedJob,
  PostJobRequest,
  RoutedResult,
  StartMayorOptions,
} from './mayor-types.js';

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
  // Gift wraps are opened synchronously: they use the wasm verifier once it is loaded (JS before; never fails).
  void loadWasmVerifier().catch((err) => log.warn(`wasm verifier unavailable: ${(err as Error).message}`));
  const emitter = new EventEmitter() as Mayor;
  /** The lifecycle's own listeners of job transitions (kept apart from the emitter's user listeners). */
  const jobListeners = new Set<(job: JobRecord) => void>();
  const activityLog: ActivityItem[] = [];
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
    onError: (err) => log.error(`state write failed in ${config.stateDir}: ${(err as Error).message}`),
  });
  const audit = openPaymentAudit({ state });
  const intents = openIntentJournal(state);

  // wss:// relays and connector: the system CA store, or the operator's private CA (tls-ca-file).
  const tls = options.tls ?? (config.tlsCaFile ? { caPath: config.tlsCaFile } : undefined);
  const warnLogger = { warn: (m: string) => log.warn(m) };
  const pool = createPool(config, sk, activity, emitter, options, tls, warnLogger);

  /** Wraps being handled right now, opened once (NIP-44 + two signature checks are not free). */
  const openedWraps = new Map<string, Unwrapped>();
  // Provider mode starts after the node attachment (it needs our ILP address); the job-request skill hands
  // it the private requests the encrypted-DM skill opened.
  const serving = providerEnabled(config, options.provider);
  let providerMode: ProviderMode | undefined;
  // The node talks to a provider as soon as BTP is up (its claims, its resync's status request), which is before
  // provider mode has started: those wait for it instead of being refused or dropped (issue 15).
  let providerStarted: () => void = () => {};
  const providerReady = new Promise<void>((resolve) => {
    providerStarted = resolve;
  });
  const provider = async (): Promise<ProviderMode | undefined> => {
    if (!providerMode && serving) await providerReady;
    return providerMode;
  };
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

  const deps: LifecycleDeps = {
    state,
    audit,
    intents,
    pool,
    secretKey: sk,
    pubkey,
    relayUrls: config.relayUrls,
    log,
    fault,
    jobTimeoutMs: options.jobTimeoutMs ?? config.jobTimeoutSeconds * 1000,
    busyRetry: options.busyRetry ?? {
      delayMs: config.busyRetryDelaySeconds * 1000,
      maxReposts: config.busyMaxReposts,
    },
    att: () => att,
    stopped: () => stopped,
    putJob: (t) => {
      if (tracing) mark(`job ${t.id.slice(0, 7)} -> ${t.status} (${pubkey.slice(0, 4)})`);
      const j = state.jobs.put(t);
      for (const l of jobListeners) l(j);
      emitter.emit('job', j);
      emitter.emit('change');
      return j;
    },
    onJobChange: (listener) => {
      jobListeners.add(listener);
      return () => jobListeners.delete(listener);
    },
    activity,
    emit: (event, ...args) => emitter.emit(event, ...args),
    track,
    openedWraps,
    skill: (name) => registry.get(name),
    // Issue 19: publish a verifiable NIP-56 fraud report and stop buying from the provider (src/mayor/fraud).
    onFraud:
      options.onFraud ??
      (async (r) => {
        await fraudHandlerFor(deps).onFraud(r);
      }),
  };
  const context = skillContext(deps, () => posting);
  const pipeline = new SkillPipeline({
    registry,
    context,
    logger: log,
    correlate: (jobId) => correlationOf(deps, jobId),
    postNextJobs: false,
  });
  const timeouts = createTimeouts(deps);
  const posting = createPosting(deps, timeouts);
  const payments = createPayments(deps, options.paymentRetry);
  const routing = createRouting(deps, pipeline, posting, payments);
  const intake = createResultIntake(deps, pipeline, posting, timeouts, routing, payments);

  // ---- attach, subscribe, recover --------------------------------------------------------------------

  pool.start();
  att = await attach({
    pool,
    nostrSecretKey: sk,
    walletKey: toHex(options.walletKey),
    rpcUrl: requireRpc(config),
    ...(options.nodePubkey ? { nodePubkey: options.nodePubkey } : {}),
    expectedSettlement: options.expectedSettlement ?? expectedSettlementFor(config.network),
    maxBasePricePerByte: config.maxBasePricePerByte,
    ...(options.acceptPrice ? { acceptPrice: true } : {}),
    ...(options.resetChannelState ? { resetChannelState: true } : {}),
    deposit: config.defaultDeposit,
    maxDeposit: config.maxChannelDeposit,
    ...(options.settleThreshold !== undefined ? { settleThreshold: options.settleThreshold } : {}),
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    state,
    // Provider mode: the requester's payments arrive as PREPAREs, the node's claims for them as claims.
    onPrepare: async (p) =>
      providerMode
        ? providerMode.handlePrepare(p).then(async (reply) => {
            if (reply.type === IlpPacketType.Fulfill)
              await fault('provider-payment-recorded', paymentJobId(p.data) ?? '');
            return reply;
          })
        : {
            type: IlpPacketType.Reject,
            code: 'F02',
            triggeredBy: p.destination,
            message: `unreachable: ${config.name} is not in provider mode and takes no payments`,
            data: new Uint8Array(),
          },
    onClaim: async (m) => {
      const mode = await provider();
      if (!mode)
        throw new MayorError('BAD_OPTIONS', `${config.name} is not in provider mode: it takes no claims`);
      await fault('provider-claim-received', m.channelId);
      await mode.handleClaim(m);
    },
    // The node resyncing its channel to us (it pays our provider earnings) asks what we accepted.
    onStatus: async (channelId) => {
      const mode = await provider();
      if (!mode)
        throw new MayorError(
          'BAD_OPTIONS',
          `${config.name} is not in provider mode: it holds no channel from the node (${channelId})`,
        );
      return mode.status(channelId);
    },
    fault,
    ...(tls ? { tls } : {}),
    logger: warnLogger,
    ...(options.maxResyncOwed !== undefined ? { maxResyncOwed: options.maxResyncOwed } : {}),
    onWarning: (m) => log.warn(m),
    onConnector: (status, reason) => {
      if (status === 'disconnected') providerMode?.linkLost();
      connector = { url: config.connectorBtp ?? '', status, ...(reason ? { lastError: reason } : {}) };
      activity('connection', `Connector ${status}${reason ? `: ${reason}` : ''}`);
      // Back from local mode: post what was kept.
      if (status === 'connected' && att) void posting.resume();
    },
  }).catch(async (err) => {
    await pool.close();
    await state.close();
    throw err;
  });
  connector = { url: att.spsp.btpUrl, status: 'connected' };
  reportAttachment(att, activity);

  // Results and feedback addressed to us; `since` is kept in the state repo so a restart catches up.
  const sinceTimer = subscribeResults(
    deps,
    (e) => void track(intake(e)).catch((err) => log.error(String(err))),
  );
  await track(recoverJobs(deps, { posting, routing, payments, timeouts, intake }));
  // Fraud reports a crash or a refused write left unpublished (issue 19).
  void track(fraudHandlerFor(deps).resume());
  subscribeGiftWraps(deps, pipeline, intake);

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
    providerStarted();
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
      mark('postJob start');
      assertNotBlocked(state.dir, req.provider);
      const event = posting.buildRequest(req);
      mark('postJob signed');
      // Private: the relay stores only the wrap; the job id is the rumor's id, the same as the event's.
      const wrap = req.private ? giftWrapSigned(event, sk, req.provider!) : undefined;
      mark('postJob wrapped');
      return posting.post(event, req.callbackSkill ?? 'ci-cd-callback', o?.chainId, req.bid, wrap);
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
      const first = posting.buildRequest(stepRequest(chainSteps[0]!));
      chainSteps[0] = { ...chainSteps[0]!, jobId: first.id };
      state.chains.put({ id: chainId, steps: chainSteps, current: 0, status: 'running' });
      await posting.post(first, chainSteps[0].callbackSkill, chainId, steps[0]!.bid);
      return chainId;
    },
    jobs: () => state.jobs.list(),
    results: () => routing.routed,
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
        held: payments.held(),
        localMode: !pool.connected || connector.status !== 'connected',
      };
    },
    approvePayment: (jobId: string) => track(payments.pay(jobId, true)),
    settled: async (jobIds?: string[], timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      const final = new Set(['paid', 'failed', 'cancelled']);
      // A job re-posted after a busy answer is final only when its last copy is (docs/mayor.md "busy").
      const get = (id: string) => state.jobs.get(id);
      const done = () =>
        (jobIds ?? state.jobs.list().map((j) => j.id)).every((id) =>
          final.has(get(repostLine(get, id).at(-1)!)?.status ?? ''),
        );
      // Woken by each job transition (a 50 ms poll delayed every caller by up to 50 ms); the slow check covers
      // changes made outside putJob.
      while (!done() && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            jobListeners.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, Math.min(250, Math.max(0, deadline - Date.now())));
          jobListeners.add(wake);
        });
      }
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(sinceTimer);
      timeouts.stop();
      payments.stop();
      // Running provider jobs are cancelled and their results published before the links close.
      await providerMode?.stop().catch((err) => log.error(`provider stop: ${(err as Error).message}`));
      await Promise.allSettled([...inFlight]);
      // The relays and the state repository are closed even when a step before them fails: a stopped Mayor
      // holds no socket, file or thread.
      try {
        saveSince(deps);
        await att?.detach().catch(() => {});
      } finally {
        try {
          await pool.close();
        } finally {
          await state.close();
        }
      }
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
