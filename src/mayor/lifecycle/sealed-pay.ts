// Paying for a sealed result's key (issue 19). The PREPARE's execution condition is the result's condition
// SHA-256(K) and its amount the price; every hop checks the FULFILL's fulfillment against it, so the FULFILL
// that reaches us carries K, or nothing moved. K is checked and recorded (`results/<job>.key`); it is durable
// before the skill runs (routing's round, with the skill intent). A crash that loses it loses nothing paid for:
// the payment is sent again and the provider answers "already paid" with K.
// Outcomes: FULFILL = paid, K in hand. F99 "already paid" with K in its data = a payment a crash hid (the
// provider hands K again; nothing moves). R00 (the provider did not fulfill before the PREPARE expired), F04,
// F05, F06 = final: nothing was paid, the result stays sealed, the job fails with the reason. T-codes, F02 and
// no answer = unknown for now: retried with backoff (a provider restarting still holds K).

import { sha256 } from '@noble/hashes/sha2.js';
import { formatM2M } from '../../chain/units.js';
import { IlpPacketType, type IlpReply } from '../../ilp/types.js';
import { mark } from '../../transport/trace.js';
import { isAlreadyPaid } from '../runtime/provider-spsp.js';
import { alreadyAudited, auditProviderPaid } from './audit-once.js';
import { failChain } from './chains.js';
import { type LifecycleDeps, short } from './deps.js';
import { type SealedInfo, storeKey } from './sealed-results.js';

/** How long an atomic payment's PREPARE lives (the provider fulfills within it or gets nothing). */
export const ATOMIC_PAYMENT_EXPIRY_MS = 30_000;

export interface SealedPayContext {
  deps: LifecycleDeps;
  /** Sends the PREPARE (SPSP with the provider cached; `fresh` asks again). */
  send(
    jobId: string,
    provider: string,
    amount: bigint,
    fresh: boolean,
    pin: { condition: Uint8Array; expiresAt: Date },
  ): Promise<{ reply: IlpReply; cached: boolean }>;
  scheduleRetry(jobId: string): void;
  /** The payment reached an outcome: stop retrying and holding it. */
  done(jobId: string): void;
  expiryMs: number;
}

const FINAL_CODES = new Set(['R00', 'F04', 'F05', 'F06']);

const keyFrom = (bytes: Uint8Array | undefined, condition: string): Uint8Array | undefined =>
  bytes && bytes.length === 32 && Buffer.from(sha256(bytes)).toString('hex') === condition
    ? new Uint8Array(bytes)
    : undefined;

/** Pays for the key of `jobId`'s sealed result (`result-received`, provider and amount known, not held). */
export async function payForKey(
  ctx: SealedPayContext,
  jobId: string,
  key: string,
  sealed: SealedInfo,
  /** The intent was begun with the result's own write batch (Payments.beginSealed): not written twice. */
  intentWritten = false,
): Promise<void> {
  const { deps } = ctx;
  const { state, intents, audit } = deps;
  const job = state.jobs.get(jobId)!;
  const provider = job.provider!;
  const amount = job.amount!;
  const att = deps.att();
  if (!att) return;
  if (!intentWritten) intents.begin('provider-payment', jobId, key, { amount, detail: provider });
  // The intent line (and the result files) guard the PREPARE; the job record need not be on disk (results.ts).
  await state.logged();
  mark('pay: logged');
  await deps.fault('payment-before-send', jobId);
  const condition = new Uint8Array(Buffer.from(sealed.condition, 'hex'));
  let reply: IlpReply;
  try {
    const pin = { condition, expiresAt: new Date(Date.now() + ctx.expiryMs) };
    const first = await ctx.send(jobId, provider, amount, false, pin);
    reply = first.reply;
    // A cached address goes stale when the provider restarts (new accounts): ask again once.
    if (first.cached && reply.type === IlpPacketType.Reject && (reply.code === 'F02' || reply.code === 'F06'))
      reply = (
        await ctx.send(jobId, provider, amount, true, {
          condition,
          expiresAt: new Date(Date.now() + ctx.expiryMs),
        })
      ).reply;
  } catch (err) {
    deps.activity('error', `Paying ${short(jobId)} (atomic) failed: ${(err as Error).message}; retrying`);
    ctx.scheduleRetry(jobId);
    return;
  }
  mark('pay: reply');
  const cond = `${sealed.condition.slice(0, 8)}…`;
  if (reply.type === IlpPacketType.Fulfill) {
    await deps.fault('payment-fulfilled', jobId);
    const k = keyFrom(reply.fulfillment, sealed.condition);
    // Every hop checked it already; a mismatch here would be a broken node: recorded, never routed.
    if (!k) {
      deps.log.error(
        `${short(jobId)}: the FULFILL's fulfillment does not hash to the condition ${sealed.condition}`,
      );
    }
    if (state.jobs.get(jobId)?.status !== 'result-received') return;
    ctx.done(jobId);
    if (k) storeKey(deps, jobId, k);
    intents.settle(key, 'fulfilled', `atomic ${sealed.condition}`);
    auditProviderPaid(audit, { jobId, amount, provider, channelId: att.channel().channelId });
    if (!k) deps.putJob({ id: jobId, status: 'failed', error: 'paid, but the FULFILL carried no valid key' });
    deps.activity(
      'payment',
      `Paid provider ${provider.slice(0, 8)}… ${formatM2M(amount)} M2M for ${short(jobId)} (atomic, condition ${cond}): key received`,
      amount,
    );
    // K is made durable by the caller's next round: routing begins the skill intent in the same batch (one
    // fsync round, not two; issue 17). A K lost in a crash before that is handed again by the provider.
    if (!k) await state.durable();
    return;
  }
  if (isAlreadyPaid(reply)) {
    // A payment a crash hid: the provider was paid and hands K again in the reject's data (nothing moves).
    const k = keyFrom(reply.data, sealed.condition);
    const audited = await alreadyAudited(audit, jobId, provider, amount);
    if (state.jobs.get(jobId)?.status !== 'result-received') return;
    ctx.done(jobId);
    if (k) storeKey(deps, jobId, k);
    intents.settle(key, 'refused-duplicate', reply.message);
    if (!audited) auditProviderPaid(audit, { jobId, amount, provider, channelId: att.channel().channelId });
    if (!k)
      deps.putJob({
        id: jobId,
        status: 'failed',
        error: 'the provider says it was paid but did not hand the key again: ask its operator',
      });
    deps.activity(
      'payment',
      `Provider ${provider.slice(0, 8)}… confirms it was already paid for ${short(jobId)} (atomic, condition ${cond})${k ? ': key received again' : ', without the key'}`,
      amount,
    );
    if (!k) await state.durable();
    return;
  }
  intents.settle(key, 'rejected', `${reply.code} ${reply.message}`);
  audit.record({ direction: 'out', jobId, amount, status: 'rejected', counterparty: provider });
  if (FINAL_CODES.has(reply.code)) {
    ctx.done(jobId);
    const why =
      reply.code === 'R00'
        ? `the provider did not reveal the key before the payment expired (${reply.code} ${reply.message}): nothing was paid, the result stays sealed`
        : `the provider refused the atomic payment (${reply.code} ${reply.message}): nothing was paid, the result stays sealed`;
    deps.putJob({ id: jobId, status: 'failed', error: why });
    if (job.chainId) failChain(deps, job.chainId);
    deps.activity('error', `${short(jobId)} failed: ${why}`);
    await state.durable();
    return;
  }
  deps.activity(
    'error',
    `Paying ${short(jobId)} (atomic) failed: ${reply.code} ${reply.message}; retrying with backoff`,
  );
  ctx.scheduleRetry(jobId);
}
