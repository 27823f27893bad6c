// The fraud handler and the blocklist as the Mayor's lifecycle uses them: reports go out as paid relay writes
// through the node attachment (like every event the Mayor publishes: charged bytes x basePricePerByte, recorded
// in the payment audit), and results from a blocked provider are dropped with a logged reason.
import { formatM2M } from '../../chain/units.js';
import { IlpPacketType } from '../../ilp/types.js';
import { finalizeEvent } from '../../nostr/event.js';
import type { NostrEvent } from '../../nostr/types.js';
import { encodeEventBytes } from '../../toon/index.js';
import type { LifecycleDeps } from '../lifecycle/deps.js';
import { paymentBegunFor } from '../lifecycle/intents.js';
import { MayorError } from '../runtime/errors.js';
import { blocklistFor } from './blocklist.js';
import { createFraudHandler, type FraudHandler } from './handler.js';

type Deps = Pick<LifecycleDeps, 'state' | 'audit' | 'secretKey' | 'att' | 'activity'>;

/** The paid write of a report (probed first when `resumed`, so a write a crash hid is not paid twice). */
export function relayPublisher(deps: Deps) {
  return async (report: NostrEvent, o: { jobId: string; resumed: boolean }): Promise<void> => {
    const att = deps.att();
    if (!att)
      throw new MayorError('NOT_ATTACHED', 'not attached to a node: the report waits for the next start');
    const toon = encodeEventBytes(report);
    const price = BigInt(toon.length) * att.spsp.basePricePerByte;
    let result = o.resumed ? await att.writeToRelay(toon, 0n) : undefined;
    let paid = 0n;
    if (!result || result.reply.type !== IlpPacketType.Fulfill) {
      result = await att.writeToRelay(toon, price);
      paid = price;
    }
    const { reply } = result;
    if (reply.type !== IlpPacketType.Fulfill)
      throw new MayorError('POST_REJECTED', `the relay refused the report: ${reply.code} ${reply.message}`);
    if (paid === 0n) return;
    deps.audit.record({
      direction: 'out',
      jobId: o.jobId,
      amount: paid,
      bytes: toon.length,
      status: 'fulfilled',
      counterparty: att.spsp.destinationAccount,
      channelId: att.channel().channelId,
    });
    deps.activity('payment', `Fraud report ${report.id.slice(0, 8)}… written (${formatM2M(paid)} M2M)`, paid);
  };
}

/** The lifecycle's `onFraud` hook: one handler per Mayor, its blocklist in the state directory. */
export function fraudHandlerFor(deps: Deps): FraudHandler {
  return createFraudHandler({
    blocklist: blocklistFor(deps.state.dir),
    sign: (t) => finalizeEvent(t, deps.secretKey),
    publish: relayPublisher(deps),
    activity: (kind, text) => deps.activity(kind, text),
  });
}

/**
 * True when a result from `provider` must be ignored: this Mayor blocked it after a proven fraud. Logs why,
 * once per result event. The one call the result intake makes.
 */
export function ignoredProvider(
  deps: Pick<LifecycleDeps, 'state' | 'activity'>,
  provider: string,
  jobId: string,
): boolean {
  const entry = blocklistFor(deps.state.dir).get(provider);
  if (!entry) return false;
  deps.activity(
    'info',
    `job-${jobId.slice(0, 7)}: result from provider ${provider.slice(0, 8)}… ignored: blocked since ${new Date(entry.at).toISOString()} (${entry.reason}${entry.reportId ? `, report ${entry.reportId.slice(0, 8)}…` : ''})`,
  );
  return true;
}

/** Refuses to send a job to a blocked provider (a chosen or private job), saying why. */
export function assertNotBlocked(stateDir: string, provider: string | undefined): void {
  if (!provider) return;
  const entry = blocklistFor(stateDir).get(provider);
  if (!entry) return;
  throw new MayorError(
    'BAD_OPTIONS',
    `provider ${provider.slice(0, 12)}… is blocked since ${new Date(entry.at).toISOString()}: ${entry.reason}${entry.reportId ? ` (fraud report ${entry.reportId})` : ''}; choose another provider`,
  );
}

/**
 * A sealed result's key is not bought from a blocked provider (its result arrived before the block): the job
 * fails with the reason and nothing is paid. Not when a payment to this provider of this amount is already on
 * record for the job (a crash may have hidden its outcome: that payment is settled as usual, never left half done).
 */
export function refusedBlockedPayment(
  deps: Pick<LifecycleDeps, 'state' | 'intents' | 'putJob' | 'activity'>,
  jobId: string,
  provider: string,
  amount: bigint,
): boolean {
  const entry = blocklistFor(deps.state.dir).get(provider);
  if (!entry || paymentBegunFor(deps.intents, jobId, provider, amount)) return false;
  const why = `provider ${provider.slice(0, 8)}… is blocked since ${new Date(entry.at).toISOString()} (${entry.reason}): its result's key was not bought`;
  deps.putJob({ id: jobId, status: 'failed', error: why });
  deps.activity('error', `job-${jobId.slice(0, 7)} failed: ${why}`);
  return true;
}
