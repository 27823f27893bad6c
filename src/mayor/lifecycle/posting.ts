// Posting a job: the signed request is recorded `posting` (its TOON kept in the state repo) and made durable,
// then its write fee PREPARE goes to the relay under a `write-fee` intent. A PREPARE whose outcome a crash hid
// is resolved by asking the relay: a 0-amount probe is fulfilled only for an event the relay already stores
// (DESIGN: "what a duplicate costs"); only when it is not is the full price paid. A request too large for one
// PREPARE is refused before anything is paid.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatM2M } from '../../chain/units.js';
import { IlpPacketType, type IlpReject } from '../../ilp/types.js';
import { finalizeEvent, getEventHash } from '../../nostr/event.js';
import { KIND_JOB_REQUEST } from '../../nostr/kinds.js';
import { buildJobRequest, type JobInput } from '../../nostr/nip90.js';
import { PAYMENT_MODES, type PaymentMode, paymentModeTag } from '../../nostr/sealed-result.js';
import type { EventTemplate, NostrEvent } from '../../nostr/types.js';
import { encodeEventBytes } from '../../toon/index.js';
import { mark } from '../../transport/trace.js';
import { MAX_PACKET_DATA } from '../provider/results.js';
import { rejectAdvice } from '../runtime/attach.js';
import { MayorError } from '../runtime/errors.js';
import type { JobRecord } from '../state/index.js';
import { alreadyAudited } from './audit-once.js';
import { type LifecycleDeps, short } from './deps.js';
import { intentKey } from './intents.js';
import type { Timeouts } from './timeouts.js';

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
  /**
   * How the provider is paid (issue 19): `atomic` (default) asks for a sealed result paid for its key;
   * `after-result` for a clear result paid after it arrives (providers that do not seal answer clear anyway).
   */
  payment?: PaymentMode;
}

export interface PostedJob {
  jobId: string;
  bytes: number;
  price: bigint;
  status: JobRecord['status'];
}

export const requestPath = (id: string) => `requests/${id}.toon`;
export const resultPath = (id: string) => `results/${id}.toon`;

export interface Posting {
  sign(t: EventTemplate): NostrEvent;
  /** A signed request event with an id no other job of ours has. */
  buildRequest(req: PostJobRequest, extraInputs?: JobInput[]): NostrEvent;
  /** Records a request `posting` (not durable yet: the caller waits for state.durable()). */
  record(
    event: NostrEvent,
    callbackSkill: string,
    chainId?: string,
    bid?: bigint,
    sendAs?: NostrEvent,
    /** The TOON of `sendAs ?? event`, when the caller has it already. */
    encoded?: Uint8Array,
  ): void;
  /** Records, makes durable, and sends. */
  post(
    event: NostrEvent,
    callbackSkill: string,
    chainId?: string,
    bid?: bigint,
    sendAs?: NostrEvent,
  ): Promise<PostedJob>;
  /**
   * Sends a recorded `posting` job (one send per job at a time). `resumed`: sent again after a restart, so a
   * job with no intent on record (kept by an older version) is probed too.
   */
  send(jobId: string, resumed?: boolean): Promise<PostedJob>;
  /** Sends every job still `posting` (after a restart, or when a path to the relay is back). */
  resume(): Promise<void>;
  readStored(path: string): Uint8Array | undefined;
}

export function createPosting(deps: LifecycleDeps, timeouts: Timeouts): Posting {
  const { state, intents } = deps;
  const sending = new Map<string, Promise<PostedJob>>();
  /** Ids signed in this run (a chain's first step is signed before it is recorded). */
  const reserved = new Set<string>();
  const sign = (t: EventTemplate) => finalizeEvent(t, deps.secretKey);
  const readStored = (path: string) => {
    const abs = join(state.dir, path);
    return existsSync(abs) ? new Uint8Array(readFileSync(abs)) : undefined;
  };
  const tooLarge = (bytes: number) =>
    `the request is ${bytes} bytes; one PREPARE carries at most ${MAX_PACKET_DATA}: shrink the inputs (link large data by URL)`;

  const record: Posting['record'] = (event, callbackSkill, chainId, bid, sendAs, encoded) => {
    const toon = encoded ?? encodeEventBytes(sendAs ?? event);
    const jobType = event.tags.find((t) => t[0] === 't')?.[1] ?? 'unknown';
    const att = deps.att();
    state.files.append(requestPath(event.id), new TextDecoder().decode(toon), `job ${event.id}: request`);
    deps.putJob({
      id: event.id,
      status: 'posting',
      kind: event.kind,
      jobType,
      callbackSkill,
      ...(bid !== undefined ? { bid } : {}),
      ...(chainId ? { chainId } : {}),
      ...(att ? { settlementChainId: att.spsp.settlement.chainId } : {}),
    });
  };

  const fail = (jobId: string, why: string, price: bigint, bytes: number, triggeredBy?: string) => {
    deps.putJob({ id: jobId, status: 'failed', error: why });
    deps.audit.record({
      direction: 'out',
      jobId,
      amount: price,
      bytes,
      status: 'rejected',
      counterparty: triggeredBy ?? deps.att()?.spsp.destinationAccount ?? 'relay',
    });
    deps.activity('error', `${short(jobId)} refused: ${why}`);
  };

  const sendNow = async (jobId: string, resumed: boolean, encoded?: Uint8Array): Promise<PostedJob> => {
    const toon = encoded ?? readStored(requestPath(jobId));
    const job = state.jobs.get(jobId);
    if (!toon || !job)
      throw new MayorError('JOB_UNKNOWN', `Job ${jobId} has no stored request: it cannot be sent.`);
    const bytes = toon.length;
    const att = deps.att();
    if (!att || job.status !== 'posting') return { jobId, bytes, price: job.price ?? 0n, status: job.status };
    const price = BigInt(bytes) * att.spsp.basePricePerByte;
    if (bytes > MAX_PACKET_DATA) {
      // Final, before anything is paid: a retry would never fit.
      const why = `F08 ${tooLarge(bytes)}`;
      fail(jobId, why, 0n, bytes);
      throw new MayorError('POST_REJECTED', `Posting job ${jobId} failed: ${why}.`);
    }
    const key = intentKey('write-fee', jobId);
    // An earlier PREPARE may have reached the relay (a crash, a lost answer): ask the relay first.
    // Any earlier attempt (even one whose outcome is on record: a kill mid-batch can keep the outcome line
    // and lose the `posted` transition) or a restart: ask the relay with a free probe before paying.
    const probe = resumed || intents.get(key).intent !== undefined;
    intents.begin('write-fee', jobId, key, { amount: price });
    mark('post: intent queued');
    await state.durable();
    mark('post: durable');
    await deps.fault('post-before-fulfill', jobId);
    let result = probe ? await att.writeToRelay(toon, 0n) : undefined;
    let paid = 0n;
    if (!result || result.reply.type !== IlpPacketType.Fulfill) {
      result = await att.writeToRelay(toon, price);
      paid = price;
    }
    const { reply } = result;
    if (reply.type === IlpPacketType.Fulfill) {
      await deps.fault('fulfill-before-commit', jobId);
      // A probe that found the event stored means the previous run paid the full price before it crashed;
      // the audit has it unless that run died before recording it.
      const counterparty = att.spsp.destinationAccount;
      const audited = paid === 0n && (await alreadyAudited(deps.audit, jobId, counterparty, price));
      if (state.jobs.get(jobId)?.status !== 'posting')
        return { jobId, bytes, price, status: state.jobs.get(jobId)!.status };
      deps.putJob({ id: jobId, status: 'posted', price });
      intents.settle(key, paid === 0n ? 'found-stored' : 'fulfilled');
      if (price > 0n && !audited) {
        deps.audit.record({
          direction: 'out',
          jobId,
          amount: price,
          bytes,
          status: 'fulfilled',
          counterparty,
          channelId: att.channel().channelId,
        });
      }
      deps.activity(
        'post',
        `Posted ${short(jobId)}: ${job.jobType} (${bytes} bytes, ${formatM2M(price)} M2M)${paid === 0n ? ' (found on the relay after a restart)' : ''}`,
        price,
      );
      timeouts.arm(jobId);
      return { jobId, bytes, price, status: 'posted' };
    }
    const rej = reply as IlpReject;
    if (rej.code.startsWith('T') || rej.code.startsWith('R')) {
      // No path right now (connector down, timeouts): keep the job, post it when the path is back. The
      // intent stays open: the next send probes first.
      deps.activity('error', `${short(jobId)} kept locally: ${rej.code} ${rej.message}`);
      return { jobId, bytes, price, status: 'posting' };
    }
    const why = `${rej.code} ${rej.message}: ${rejectAdvice(rej)}`;
    intents.settle(key, 'rejected', why);
    fail(jobId, why, price, bytes, rej.triggeredBy);
    throw new MayorError('POST_REJECTED', `Posting job ${jobId} failed: ${why}.`);
  };

  const send = (jobId: string, resumed = false, encoded?: Uint8Array): Promise<PostedJob> => {
    const running = sending.get(jobId);
    if (running) return running;
    const p = sendNow(jobId, resumed, encoded).finally(() => sending.delete(jobId));
    sending.set(jobId, p);
    return p;
  };

  return {
    sign,
    readStored,
    record,
    send,
    post: async (event, callbackSkill, chainId, bid, sendAs) => {
      if (deps.stopped())
        throw new MayorError('STOPPED', 'The Mayor is stopped: start it again to post jobs.');
      const toon = encodeEventBytes(sendAs ?? event);
      if (toon.length > MAX_PACKET_DATA)
        throw new MayorError('POST_REJECTED', `Job not posted, nothing paid: ${tooLarge(toon.length)}.`);
      mark('post: encoded');
      record(event, callbackSkill, chainId, bid, sendAs, toon);
      mark('post: recorded');
      // The request must be durable (fsynced; its git commit follows in the background) before it can reach
      // the relay, or a crash could lose a paid job: send() waits for it together with its write-fee intent
      // (one fsync round, not two), and takes the bytes from here rather than from the file being written.
      return deps.track(send(event.id, false, toon));
    },
    resume: async () => {
      for (const j of state.jobs.list({ status: 'posting' })) {
        await deps.track(send(j.id, true)).catch((err) => deps.log.error((err as Error).message));
      }
    },
    buildRequest: (req, extraInputs = []) => {
      const payment = req.payment ?? 'atomic';
      if (!PAYMENT_MODES.includes(payment))
        throw new MayorError(
          'BAD_OPTIONS',
          `payment must be ${PAYMENT_MODES.join(' or ')}, got ${JSON.stringify(payment)}`,
        );
      const template = buildJobRequest({
        kind: req.kind ?? KIND_JOB_REQUEST,
        jobType: req.jobType,
        inputs: [...(req.inputs ?? []), ...extraInputs],
        params: req.params ?? {},
        ...(req.bid !== undefined ? { bid: req.bid } : {}),
        ...(req.provider ? { provider: req.provider } : {}),
        relays: deps.relayUrls,
        content: req.content ?? '',
      });
      template.tags.push(paymentModeTag(payment));
      // Two identical requests in the same second would be one event (same id): the later one moves to
      // the next free second, so each postJob is its own job. The id is checked before signing: a signature
      // costs milliseconds, a hash microseconds.
      let createdAt = Math.floor(Date.now() / 1000);
      for (;;) {
        const id = getEventHash({ ...template, created_at: createdAt, pubkey: deps.pubkey });
        if (!state.jobs.get(id) && !reserved.has(id)) {
          reserved.add(id);
          return sign({ ...template, created_at: createdAt });
        }
        createdAt++;
      }
    },
  };
}
