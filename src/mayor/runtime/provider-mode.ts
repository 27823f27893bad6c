// Provider mode inside the Mayor: the ProviderService (src/mayor/provider) with its network side implemented
// by the Mayor. Signing uses the Mayor's Nostr key, every event goes out through the Mayor's paid write path,
// job requests arrive from the Mayor's RelayPool (public: `subscriptionFilter(since)`; private: gift wraps the
// encrypted-DM skill opened and the job-request skill hands here), and the requester's payment arrives on the
// Mayor's BTP session through the provider SPSP responder. The node's claims for what it owes us are checked
// by a ClaimReceiver, which keeps the best one for `redeemEarnings()`.

import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { formatM2M } from '../../chain/units.js';
import type { ClaimMessage } from '../../connector/claim-message.js';
import type { ClaimReceiver } from '../../connector/claim-receiver.js';
import type { ChannelStatus } from '../../connector/status-message.js';
import { IlpPacketType, type IlpPrepare, type IlpReply } from '../../ilp/types.js';
import { finalizeEvent } from '../../nostr/event.js';
import { KIND_SPSP_REQUEST } from '../../nostr/kinds.js';
import type { ParsedJobRequest } from '../../nostr/nip90.js';
import type { NostrEvent } from '../../nostr/types.js';
import { verifyEventFast } from '../../nostr/verify-fast.js';
import type { SkillLogger, SkillMetadata, SkillResult } from '../../skills/types.js';
import { encodeEventBytes } from '../../toon/index.js';
import { mark, tracing } from '../../transport/trace.js';
import type { PaymentAudit } from '../audit/index.js';
import type { MayorConfig } from '../config/index.js';
import {
  type IntakeResult,
  type JobReport,
  type ProviderPolicy,
  ProviderService,
  type Sandbox,
} from '../provider/index.js';
import { SealedKeyStore } from '../provider/sealed-keys.js';
import type { StateRepo } from '../state/index.js';
import type { Attachment } from './attach.js';
import { MayorError } from './errors.js';
import { paymentDoubts } from './payment-doubt.js';
import { answeredJob, giftWrapSigned } from './private-jobs.js';
import { startProviderEarnings } from './provider-earnings.js';
import { createProviderSpsp, type ProviderSpsp, paymentJobId } from './provider-spsp.js';
import type { RelayPool } from './relay-pool.js';

/** Provider settings beyond the config file's (`provider.enabled/job-types/price/sandbox`). */
export interface ProviderModeOptions {
  /** Force provider mode on or off (default: config.provider.enabled). */
  enabled?: boolean;
  /** Price per job type (default: every config.provider.jobTypes at config.provider.price). */
  prices?: Record<string, bigint>;
  /** Work repository, worktrees, polecats.json (default `<state dir>/../provider`). */
  home?: string;
  poolSize?: number;
  timeoutMs?: number;
  maxOutputBytes?: number;
  policy?: Partial<ProviderPolicy>;
  /** Default: config.provider.sandbox ('bwrap' counts as 'auto': the service probes it). */
  sandbox?: 'auto' | 'none' | Sandbox;
  onRestart?: 'fail' | 'rerun';
  maxAttempts?: number;
  gitProtocols?: string[];
  /** Serve `atomic` jobs with sealed results (issue 19; default true). False: every result goes out clear. */
  atomic?: boolean;
}

/** A job this Mayor serves, as the dashboard shows it. */
export interface ServedJob {
  id: string;
  jobType: string;
  requester: string;
  private: boolean;
  state: 'running' | 'done' | 'refused' | 'failed';
  receivedAt: number;
  /** What the result asked (base units), once published. */
  amount?: bigint;
  /** What the requester paid so far. */
  earned: bigint;
  summary?: string;
}

export interface ProviderMode {
  readonly service: ProviderService;
  readonly spsp: ProviderSpsp;
  readonly receiver: ClaimReceiver;
  /** Handles a job request (signature already checked, or proven by a seal when `privateFrom` is set). */
  handle(event: NostrEvent, privateFrom?: string): Promise<IntakeResult>;
  /** The `provider` hook of the job-request skill: private requests arrive through it. */
  jobProvider(job: ParsedJobRequest, metadata: SkillMetadata): Promise<SkillResult>;
  /** BTP `onPrepare`: the requester's payment for a job. */
  handlePrepare(prepare: IlpPrepare): Promise<IlpReply>;
  /** BTP `onClaim`: the node paying us for what it forwarded. A refusal is thrown back to the node. */
  handleClaim(message: ClaimMessage): Promise<void>;
  /** BTP `onStatus`: the node (as a payer) asking what we accepted on its channel to us and what it owes. */
  status(channelId: Hex): Promise<ChannelStatus>;
  /** The BTP link to the node dropped: payments it has not claimed yet are in doubt (payment-doubt.ts). */
  linkLost(): void;
  /** Redeems the best claim of every node->us channel on-chain; returns what this call moved. */
  redeemEarnings(): Promise<{ paid: bigint; totalClaimed: bigint }>;
  /** Reports of jobs finished in this run, by job id. */
  readonly reports: Map<string, JobReport>;
  jobs(): ServedJob[];
  /** Total the requesters paid in this run. */
  earned(): bigint;
  stop(): Promise<void>;
}

export interface ProviderModeDeps {
  config: MayorConfig;
  options: ProviderModeOptions;
  pool: RelayPool;
  secretKey: Uint8Array;
  pubkey: string;
  att: Attachment;
  audit: PaymentAudit;
  state: StateRepo;
  log: SkillLogger;
  activity: (kind: 'earning' | 'info' | 'error', text: string, amount?: bigint) => void;
  /** Something changed for the dashboard. */
  changed: () => void;
}

const JOBS_SUB = 'provider-jobs';
const SPSP_SUB = 'provider-spsp';
/** Journal of every job request handed to the service: a restart never runs a delivered request again. */
const SEEN_FILE = 'seen-jobs.jsonl';

/** How long to wait for the node's `payment-owed-status` answer: at most 5 s, and 2 s before the PREPARE expires. */
export const owedQueryTimeout = (expiresAt: Date, now = Date.now()) =>
  Math.max(200, Math.min(5_000, expiresAt.getTime() - now - 2_000));

export function providerEnabled(config: MayorConfig, options?: ProviderModeOptions): boolean {
  return options?.enabled ?? config.provider.enabled;
}

export async function startProviderMode(deps: ProviderModeDeps): Promise<ProviderMode> {
  const { config, options, pool, att, log, pubkey, secretKey } = deps;
  const home = options.home ?? join(config.stateDir, '..', 'provider');
  const prices =
    options.prices ?? Object.fromEntries(config.provider.jobTypes.map((t) => [t, config.provider.price]));
  const sandbox = options.sandbox ?? (config.provider.sandbox === 'none' ? 'none' : 'auto');
  // `provider.sandbox = none` is the operator's explicit choice to run jobs unconfined (DESIGN §5); with
  // 'auto' and no working sandbox the service still refuses untrusted requesters.
  const policy: Partial<ProviderPolicy> = {
    ...(options.sandbox === undefined && config.provider.sandbox === 'none' && { allowUnsandboxed: true }),
    ...options.policy,
  };
  const jobs = new Map<string, ServedJob>();
  const reports = new Map<string, JobReport>();
  let earned = 0n;

  // Requests already handed to the service (this run or an earlier one), and who the private ones came from.
  const seen = new Map<string, { requester: string; private: boolean }>();
  const seenPath = join(home, SEEN_FILE);
  const loadSeen = () => {
    if (!existsSync(seenPath)) return;
    for (const line of readFileSync(seenPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as { id: string; requester: string; private: boolean };
        seen.set(r.id, { requester: r.requester, private: r.private });
      } catch {
        // A torn last line after a crash: that request was not handed to the service yet.
      }
    }
  };

  /** What goes out for `event`: private jobs' feedback and results are gift-wrapped to their requester. */
  const asPublished = (event: NostrEvent) => {
    const jobId = answeredJob(event);
    const origin = jobId ? seen.get(jobId) : undefined;
    return { origin, out: origin?.private ? giftWrapSigned(event, secretKey, origin.requester) : event };
  };
  /** The paid write of `event` as it goes out. */
  const publishPaid = async (event: NostrEvent): Promise<{ fee: bigint }> => {
    const { origin, out } = asPublished(event);
    const toon = encodeEventBytes(out);
    const { reply } = await att.writeToRelay(toon);
    if (reply.type !== IlpPacketType.Fulfill) {
      throw new MayorError(
        'POST_REJECTED',
        `The relay refused kind ${event.kind}${origin?.private ? ' (gift-wrapped)' : ''}: ${reply.code} ${reply.message}`,
      );
    }
    return { fee: BigInt(toon.length) * att.spsp.basePricePerByte };
  };

  // Before the service starts: its restart reports for private jobs must already go back wrapped.
  loadSeen();
  // Keys of sealed results, durable before each result is published (a restart still fulfills).
  const sealedKeys = options.atomic === false ? undefined : SealedKeyStore.open(home);
  const { service, recovered } = await ProviderService.start({
    home,
    pubkey,
    ilpAddress: att.spsp.ilpAddress,
    prices,
    network: {
      sign: (t) => finalizeEvent(t, secretKey),
      publishPaid,
      // A wrap's size depends only on the event's (NIP-44 pads to fixed buckets; fresh keys are fixed-size).
      publishedBytes: (event) => encodeEventBytes(asPublished(event).out).length,
    },
    audit: deps.audit,
    relayCounterparty: att.spsp.destinationAccount,
    ...(options.poolSize !== undefined && { poolSize: options.poolSize }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.maxOutputBytes !== undefined && { maxOutputBytes: options.maxOutputBytes }),
    policy,
    sandbox,
    ...(options.onRestart && { onRestart: options.onRestart }),
    ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
    ...(options.gitProtocols && { gitProtocols: options.gitProtocols }),
    relay: config.relayUrls[0]!,
    logger: { info: (m) => log.info(m), warn: (m) => log.warn(m) },
    ...(sealedKeys && { sealedKeys }),
  });
  // Jobs a previous process left running are reported (failed or re-run) by the service.
  void recovered.then((list) => {
    for (const r of list) {
      reports.set(r.jobId, r);
      deps.activity('info', `Served job-${r.jobId.slice(0, 7)} after a restart: ${r.outcome.statusInfo}`);
    }
    deps.changed();
  });

  // Payments: the requester pays the result's amount to an address our SPSP responder issued; the node then
  // owes us that much and pays it with claims on its channel to us.
  // Durable earnings (earnings.jsonl), a receiver that continues from them after a restart, a closure watcher.
  const settlement = att.spsp.settlement;
  const earnings = await startProviderEarnings({
    home,
    att,
    onError: (err, ch) =>
      log.warn(`earnings watcher${ch ? ` (channel ${ch})` : ''}: ${(err as Error).message}`),
    onClaimed: (ch, paid) =>
      deps.activity(
        'earning',
        `Redeemed ${formatM2M(paid)} M2M from closing channel ${ch.slice(0, 10)}…`,
        paid,
      ),
  });
  const { unpaid, receiver } = earnings;
  // Payments recorded by an earlier process and not claimed by the node yet may never have reached it (issue 15).
  const doubts = paymentDoubts(earnings.ledger, unpaid);
  // One payment per job across restarts (issue 15): the earnings ledger, fsynced before each FULFILL, and the audit
  // log. The audit alone missed a payment whose line a crash cut (it is committed in the background): the
  // requester's second payment was then taken without asking the node, and the requester charged twice.
  const paidIn = new Map<string, bigint>();
  for (const e of await deps.audit.list()) {
    if (e.direction !== 'in' || e.status !== 'fulfilled' || !e.jobId) continue;
    const key = `${e.counterparty}:${e.jobId}`;
    paidIn.set(key, (paidIn.get(key) ?? 0n) + e.amount);
  }
  const spsp = createProviderSpsp({
    secretKey,
    // The ledger when it recorded the job (its voids count); the audit for payments older than the ledger.
    paidBefore: (from, jobId) =>
      earnings.ledger.knows(from, jobId)
        ? earnings.ledger.paidFor(from, jobId)
        : (paidIn.get(`${from}:${jobId}`) ?? 0n),
    ...(sealedKeys && { sealedKey: (jobId: string) => sealedKeys.get(jobId) }),
    inDoubt: doubts.inDoubt,
    anyInDoubt: doubts.anyInDoubt,
    settleDoubts: (from, jobId, prepare) =>
      doubts.settle(from, jobId, (conditions) =>
        att.btp.requestOwed(conditions, owedQueryTimeout(prepare.expiresAt)),
      ),
    // Over the link this payment arrives on; answered well before the PREPARE expires (issue 13).
    askNode: (from, jobId, prepare) =>
      doubts.askNode(from, jobId, (conditions) =>
        att.btp.requestOwed(conditions, owedQueryTimeout(prepare.expiresAt)),
      ),
    onDuplicate: ({ from, jobId, amount }) => {
      log.warn(`refused a second payment of ${amount} for job ${jobId} from ${from}: it was paid already`);
      deps.activity(
        'info',
        `Refused a second payment for job-${jobId.slice(0, 7)} from ${from.slice(0, 8)}…`,
      );
    },
    ilpAddress: att.spsp.ilpAddress,
    settlement,
    btpUrl: att.spsp.btpUrl,
    onPayment: ({ from, amount, prepare }) => {
      // Every payment names its job (provider-spsp.ts refuses the others before they get here).
      const jobId = paymentJobId(prepare.data) ?? 'unknown';
      // Durable before the FULFILL goes back: the node will owe us this packet.
      const condition = Buffer.from(prepare.executionCondition).toString('hex');
      earnings.recordPayment(condition, amount, jobId, from);
      const voided = doubts.supersede(from, jobId, condition);
      // The node said it never had the earlier one (payment-owed-status), or there was none in doubt.
      if (voided > 0n)
        log.warn(
          `job ${jobId}: ${from} paid again; the earlier payment of ${voided} never reached the node (voided in earnings.jsonl)`,
        );
      service.recordEarning(jobId, amount, from);
      earned += amount;
      const job = jobs.get(jobId);
      if (job) job.earned += amount;
      deps.activity(
        'earning',
        `Earned ${formatM2M(amount)} M2M for job-${jobId.slice(0, 7)} from ${from.slice(0, 8)}…`,
        amount,
      );
    },
  });
  pool.subscribe(SPSP_SUB, [{ kinds: [KIND_SPSP_REQUEST], '#p': [pubkey] }], ({ event }) => {
    let response: NostrEvent;
    try {
      response = spsp.respond(event);
    } catch (err) {
      log.warn(`SPSP request ${event.id} refused: ${(err as Error).message}`);
      return;
    }
    void pool.publish(response).catch((err) => log.warn(`SPSP answer not sent: ${(err as Error).message}`));
  });

  const handle = async (event: NostrEvent, privateFrom?: string): Promise<IntakeResult> => {
    const receivedAt = Date.now();
    mark('provider: intake');
    if (seen.has(event.id)) return { status: 'ignored', jobId: event.id, reason: 'already handled' };
    // Journal first: the wrap decision for feedback and results, and restarts, depend on it.
    const record = {
      id: event.id,
      requester: privateFrom ?? event.pubkey,
      private: privateFrom !== undefined,
    };
    seen.set(event.id, { requester: record.requester, private: record.private });
    appendFileSync(seenPath, `${JSON.stringify(record)}\n`);
    const jobType = event.tags.find((t) => t[0] === 't')?.[1] ?? 'unknown';
    const intake = await service.handleJobRequest(event, { addressedToUs: record.private });
    if (tracing) mark(`provider: intake ${intake.status}`);
    if (intake.status === 'ignored') return intake;
    const served: ServedJob = {
      id: event.id,
      jobType,
      requester: record.requester,
      private: record.private,
      state: intake.status === 'accepted' ? 'running' : 'refused',
      receivedAt,
      earned: 0n,
      ...(intake.status === 'refused' ? { summary: intake.reason } : {}),
    };
    jobs.set(event.id, served);
    deps.activity(
      'info',
      `${record.private ? 'Private job' : 'Job'}-${event.id.slice(0, 7)} (${jobType}) from ${record.requester.slice(0, 8)}…: ${intake.status}${intake.status === 'refused' ? ` (${intake.reason})` : ''}`,
    );
    deps.changed();
    if (intake.status === 'accepted') {
      void intake.done.then((report) => {
        reports.set(report.jobId, report);
        const amount = report.result?.tags.find((t) => t[0] === 'amount')?.[1];
        Object.assign(served, {
          state: report.error ? 'failed' : 'done',
          summary: report.error ?? report.outcome.statusInfo,
          ...(amount !== undefined ? { amount: BigInt(amount) } : {}),
        });
        deps.activity('info', `Served job-${report.jobId.slice(0, 7)}: ${served.summary}`);
        deps.changed();
      });
    }
    return intake;
  };

  // Public requests: the service's filter (served job types), caught up from where the last run stopped.
  const savedSince = deps.state.subscriptions.get(JOBS_SUB)?.since;
  const filter = service.subscriptionFilter(savedSince ?? Math.floor(Date.now() / 1000) - 60);
  // Verified with libsecp256k1 (wasm): about 5x the pure JS verifier, on the path of every job (issue 17).
  pool.subscribe(JOBS_SUB, [filter], ({ event }) => {
    void verifyEventFast(event)
      .then((valid) => {
        if (valid) return handle(event);
        log.warn(`job request ${event.id} has an invalid id or signature; dropped`);
      })
      .catch((err) => log.error(`job ${event.id}: ${(err as Error).message}`));
  });
  const sinceTimer = setInterval(() => {
    const since = pool.sinceOf(JOBS_SUB);
    if (since !== undefined && since !== deps.state.subscriptions.get(JOBS_SUB)?.since)
      deps.state.subscriptions.set(JOBS_SUB, [filter], since);
  }, 2000);
  sinceTimer.unref();

  // NIP-89: tell requesters what we serve, at what price, at which ILP address (a paid write).
  const ad = finalizeEvent(service.advertisement(), secretKey);
  await publishPaid(ad)
    .then(({ fee }) =>
      deps.audit.record({
        direction: 'out',
        amount: fee,
        bytes: encodeEventBytes(ad).length,
        status: 'fulfilled',
        counterparty: att.spsp.destinationAccount,
      }),
    )
    .catch((err) => log.warn(`advertisement not published: ${(err as Error).message}`));
  deps.activity(
    'info',
    `Provider mode: serving ${Object.entries(service.prices)
      .map(([t, p]) => `${t} at ${formatM2M(p)} M2M`)
      .join(', ')} (sandbox ${service.sandbox.kind})`,
  );

  return {
    service,
    spsp,
    receiver,
    reports,
    handle,
    async jobProvider(job, metadata) {
      const from = metadata.private?.senderPubkey;
      if (from !== undefined && from !== job.requester)
        return { status: 'failed', retry: false, summary: 'private job author is not the seal signer' };
      const intake = await handle(job.event, from);
      if (intake.status === 'accepted') return { status: 'handled', summary: `job ${intake.jobId} accepted` };
      if (intake.status === 'refused')
        return { status: 'handled', summary: `job ${intake.jobId} refused: ${intake.reason}` };
      return { status: 'ignored', summary: intake.reason };
    },
    handlePrepare: (prepare) => spsp.handlePrepare(prepare),
    async handleClaim(message) {
      // Refused claims go back to the node as a BTP error: it keeps the packets owed (and can resync).
      await receiver.accept(message, unpaid).catch((err) => {
        log.warn(`claim from the node refused: ${(err as Error).message}`);
        throw err;
      });
    },
    status: (channelId) => receiver.status(channelId, unpaid),
    linkLost: doubts.linkLost,
    async redeemEarnings() {
      return earnings.redeem((channelId, paid) =>
        deps.activity(
          'earning',
          `Redeemed ${formatM2M(paid)} M2M on-chain from channel ${channelId.slice(0, 10)}…`,
          paid,
        ),
      );
    },
    jobs: () => [...jobs.values()],
    earned: () => earned,
    async stop() {
      clearInterval(sinceTimer);
      const since = pool.sinceOf(JOBS_SUB);
      if (since !== undefined) deps.state.subscriptions.set(JOBS_SUB, [filter], since);
      await service.stop();
      earnings.stop();
    },
  };
}
