// Paying providers. The payment is bound to the job at both ends: its PREPARE data names the job, and the
// provider refuses a second payment for a job it was already paid for (provider-spsp.ts). The Mayor writes a
// `provider-payment` intent (key: the job id) before the PREPARE and the outcome after it. A payment whose
// outcome a crash hid is first looked up in the Mayor's own record of what it pays for (payer-log.ts): a payment
// that went through (its FULFILL recorded, or the node listing it as owed) is not sent again, whatever the
// provider would answer. Otherwise it is sent again, and the provider's answer settles it: FULFILL (it never got
// the first) or "already paid" (it did). A failed payment is retried with backoff while the Mayor runs.
// A sealed result (issue 19) is paid before it is routed, by its condition: sealed-pay.ts.
import { formatM2M } from '../../chain/units.js';
import { conditionOf, deriveFulfillment } from '../../ilp/fulfillment.js';
import { IlpPacketType, type IlpReply } from '../../ilp/types.js';
import type { SpspResponse } from '../../nostr/spsp.js';
import { blocklistFor } from '../fraud/blocklist.js';
import { refusedBlockedPayment } from '../fraud/lifecycle.js';
import { rejectAdvice } from '../runtime/attach.js';
import { backoffDelay } from '../runtime/backoff.js';
import {
  ALREADY_PAID_CODE,
  ALREADY_PAID_MESSAGE,
  isAlreadyPaid,
  paymentData,
} from '../runtime/provider-spsp.js';
import { spspHandshake } from '../runtime/spsp-client.js';
import { alreadyAudited, auditProviderPaid } from './audit-once.js';
import { type LifecycleDeps, short } from './deps.js';
import { intentKey, paymentBegunFor } from './intents.js';
import { ATOMIC_PAYMENT_EXPIRY_MS, payForKey } from './sealed-pay.js';
import { readKey, readSealed } from './sealed-results.js';

export interface Payments {
  /**
   * Pays a `routed` job's provider (held when it asks more than the bid, unless `approved`); a sealed result is
   * paid while `result-received`, for its key, and its `routed` job only marked paid.
   */
  pay(jobId: string, approved?: boolean): Promise<void>;
  /**
   * A sealed result just recorded `result-received`, in the same synchronous block: begins its payment intent
   * now, when it would be paid without the operator (bid covers it, provider not blocked), so the intent is
   * durable in the same write batch as the result (one fsync round before the PREPARE, not two; issue 17).
   * Returns whether it did; pay() then sends without beginning it again.
   */
  beginSealed(jobId: string): boolean;
  /** Called when a retried or approved payment got a sealed result's key (routing opens and routes it). */
  onKey?: (jobId: string) => Promise<void>;
  /** Jobs held for the operator. */
  held(): string[];
  stop(): void;
}

export interface PaymentRetryOptions {
  /** First retry delay (default 1 s); doubles up to maxMs (default 60 s). */
  minMs?: number;
  maxMs?: number;
  /** Expiry of an atomic payment's PREPARE (default ATOMIC_PAYMENT_EXPIRY_MS, 30 s). */
  atomicExpiryMs?: number;
}

export function createPayments(deps: LifecycleDeps, retry: PaymentRetryOptions = {}): Payments {
  const { state, intents, audit } = deps;
  const held = new Set<string>();
  const retries = new Map<string, { attempt: number; timer: NodeJS.Timeout }>();
  /** SPSP answers of providers we paid, by pubkey: one handshake per provider, not per job. */
  const providerSpsp = new Map<string, SpspResponse>();
  /** Sealed payments whose intent beginSealed already wrote (pay() does not write it again). */
  const begun = new Set<string>();
  let stopped = false;

  const send = async (
    jobId: string,
    provider: string,
    amount: bigint,
    fresh: boolean,
    pin?: { condition: Uint8Array; expiresAt: Date },
  ): Promise<IlpReply> => {
    const att = deps.att()!;
    const label = `${jobId}:${provider}`;
    // A payment of this job that went through before (a crash or a dropped link hid its FULFILL) is not sent again:
    // answered as the provider would answer it, "already paid", with the key of a sealed result when we have it.
    // The key comes from its FULFILL or from the node, which lists a payment of unknown fate only with its fulfillment;
    // a sealed result known paid without it (a record that once took the node's word) is sent again.
    const earlier = await att.earlierPayment(label);
    if (earlier && (!pin || earlier.fulfillment)) {
      return {
        type: IlpPacketType.Reject,
        code: ALREADY_PAID_CODE,
        triggeredBy: att.spsp.ilpAddress,
        message: `${ALREADY_PAID_MESSAGE} ${jobId}: our record shows an earlier payment of it went through (its FULFILL was lost); not paid again`,
        data: earlier.fulfillment ?? new Uint8Array(),
      };
    }
    let spsp = fresh ? undefined : providerSpsp.get(provider);
    if (!spsp) {
      spsp = await spspHandshake({
        pool: deps.pool,
        secretKey: deps.secretKey,
        recipient: provider,
        request: { requestId: `pay-${jobId.slice(0, 16)}` },
      });
      providerSpsp.set(provider, spsp);
    }
    const secret = new Uint8Array(Buffer.from(spsp.sharedSecret, 'base64'));
    const data = paymentData(jobId);
    const { reply } = await att.pay({
      amount,
      destination: spsp.destinationAccount,
      executionCondition: pin?.condition ?? conditionOf(deriveFulfillment(secret, data)),
      data,
      label,
      // An atomic payment is not retried inside its expiry: an R00 then always means the provider held it.
      ...(pin && { expiresAt: pin.expiresAt, retries: 0 }),
    });
    return reply;
  };

  const scheduleRetry = (jobId: string) => {
    if (stopped) return;
    const attempt = (retries.get(jobId)?.attempt ?? 0) + 1;
    const delay = backoffDelay(attempt - 1, { minMs: retry.minMs ?? 1000, maxMs: retry.maxMs ?? 60_000 });
    const timer = setTimeout(() => {
      void deps
        .track(pay(jobId).then(() => afterKey(jobId)))
        .catch((err) => deps.log.error(`paying ${short(jobId)}: ${(err as Error).message}`));
    }, delay);
    timer.unref();
    retries.set(jobId, { attempt, timer });
  };

  /** A sealed result whose key arrived outside routing (a retry, an approval): route it now. */
  const afterKey = async (jobId: string) => {
    if (state.jobs.get(jobId)?.status === 'result-received' && readKey(state, jobId))
      await payments.onKey?.(jobId);
  };
  const done = (jobId: string) => {
    held.delete(jobId);
    const r = retries.get(jobId);
    if (r) clearTimeout(r.timer);
    retries.delete(jobId);
  };

  const paying = new Map<string, Promise<void>>();
  const pay = (jobId: string, approved = false): Promise<void> => {
    const running = paying.get(jobId);
    if (running) return running;
    const p = payNow(jobId, approved).finally(() => paying.delete(jobId));
    paying.set(jobId, p);
    // The operator's approval of a held sealed result: once its key is here, route it (outside `paying`).
    return approved ? p.then(() => afterKey(jobId)) : p;
  };

  const payNow = async (jobId: string, approved: boolean): Promise<void> => {
    const job = state.jobs.get(jobId);
    const sealed = job ? readSealed(state, jobId) : undefined;
    if (sealed && job?.status === 'routed') {
      // Paid for its key before it was routed (sealed-pay.ts): the payment is on record already.
      deps.putJob({ id: jobId, status: 'paid' });
      await state.durable();
      return;
    }
    if (sealed && job?.status === 'result-received' && readKey(state, jobId)) return;
    if (job?.status !== (sealed ? 'result-received' : 'routed')) return;
    const amount = job.amount ?? 0n;
    if (amount === 0n) {
      deps.putJob({ id: jobId, status: 'paid', amount: 0n });
      return;
    }
    const key = intentKey('provider-payment', jobId);
    // An intent on record for this provider and amount means the operator's approval (or the bid) already
    // allowed this payment.
    const allowedBefore = paymentBegunFor(intents, jobId, job.provider, amount);
    if (!approved && !allowedBefore && (job.bid === undefined || amount > job.bid)) {
      held.add(jobId);
      deps.activity(
        'payment',
        `Held: ${short(jobId)} asks ${formatM2M(amount)} M2M, above its bid${job.bid !== undefined ? ` of ${formatM2M(job.bid)} M2M` : ''}: approve or refuse it`,
        amount,
      );
      deps.emit('held', job);
      return;
    }
    const att = deps.att();
    if (!att || !job.provider) return;
    if (sealed) {
      if (refusedBlockedPayment(deps, jobId, job.provider, amount)) return done(jobId);
      const ctx = {
        deps,
        send: async (...args: Parameters<typeof send>) => {
          const cached = !args[3] && providerSpsp.has(args[1]);
          return { reply: await send(...args), cached };
        },
        scheduleRetry,
        done,
        expiryMs: retry.atomicExpiryMs ?? ATOMIC_PAYMENT_EXPIRY_MS,
      };
      const intentWritten = begun.delete(jobId) && intents.get(key).intent !== undefined;
      await payForKey(ctx, jobId, key, sealed, intentWritten);
      return;
    }
    const provider = job.provider;
    intents.begin('provider-payment', jobId, key, { amount, detail: provider });
    await state.durable();
    await deps.fault('payment-before-send', jobId);
    let reply: IlpReply;
    try {
      const cached = providerSpsp.has(provider);
      reply = await send(jobId, provider, amount, false);
      // A cached address goes stale when the provider restarts (new accounts, new secrets): ask again once.
      if (cached && reply.type === IlpPacketType.Reject && (reply.code === 'F02' || reply.code === 'F06'))
        reply = await send(jobId, provider, amount, true);
    } catch (err) {
      // No answer (SPSP timed out, provider down): the outcome is unknown; the retry asks the provider again.
      deps.activity('error', `Paying ${short(jobId)} failed: ${(err as Error).message}; retrying`);
      scheduleRetry(jobId);
      return;
    }
    const dupe = reply.type === IlpPacketType.Reject && isAlreadyPaid(reply) ? reply.message : undefined;
    const settledBefore = dupe !== undefined;
    if (reply.type === IlpPacketType.Fulfill || settledBefore) {
      if (reply.type === IlpPacketType.Fulfill) await deps.fault('payment-fulfilled', jobId);
      // "Already paid" after a crash: the crashed run may have recorded the payment before it died.
      const audited = settledBefore && (await alreadyAudited(audit, jobId, provider, amount));
      if (state.jobs.get(jobId)?.status !== 'routed') return;
      held.delete(jobId);
      const r = retries.get(jobId);
      if (r) clearTimeout(r.timer);
      retries.delete(jobId);
      intents.settle(key, settledBefore ? 'refused-duplicate' : 'fulfilled', dupe);
      deps.putJob({ id: jobId, status: 'paid' });
      // The money moved once: recorded once (same synchronous block, same write batch as `paid`).
      if (!audited) auditProviderPaid(audit, { jobId, amount, provider, channelId: att.channel().channelId });
      deps.activity(
        'payment',
        settledBefore
          ? `Provider ${provider.slice(0, 8)}… confirms it was already paid for ${short(jobId)} (${formatM2M(amount)} M2M): not paid again`
          : `Paid provider ${provider.slice(0, 8)}… ${formatM2M(amount)} M2M for ${short(jobId)}`,
        amount,
      );
      await state.durable();
      return;
    }
    intents.settle(key, 'rejected', `${reply.code} ${reply.message}`);
    audit.record({ direction: 'out', jobId, amount, status: 'rejected', counterparty: provider });
    deps.activity(
      'error',
      `Paying ${short(jobId)} failed: ${reply.code} ${reply.message}: ${rejectAdvice(reply)}; retrying with backoff`,
    );
    scheduleRetry(jobId);
  };

  const beginSealed = (jobId: string): boolean => {
    const job = state.jobs.get(jobId);
    const amount = job?.amount ?? 0n;
    const key = intentKey('provider-payment', jobId);
    // Only the plain case; anything else (held, blocked, free, detached) is left to pay() as before.
    if (job?.status !== 'result-received' || !job.provider || amount === 0n || !deps.att()) return false;
    if (intents.get(key).intent || job.bid === undefined || amount > job.bid) return false;
    if (blocklistFor(state.dir).get(job.provider)) return false;
    intents.begin('provider-payment', jobId, key, { amount, detail: job.provider });
    begun.add(jobId);
    return true;
  };

  const payments: Payments = {
    pay,
    beginSealed,
    held: () => [...held],
    stop: () => {
      stopped = true;
      for (const r of retries.values()) clearTimeout(r.timer);
      retries.clear();
    },
  };
  return payments;
}
