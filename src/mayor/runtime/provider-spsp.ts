// The receiving side of SPSP for a provider Mayor: a requester that owes it for a job asks (kind 23194
// addressed to the provider), the provider answers (kind 23195) with an ILP address under its own and a
// fresh shared secret; PREPAREs to that address arriving on the provider's BTP session are fulfilled with
// the secret (DESIGN §3: fulfillment = HMAC(HMAC(secret, "ilp_stream_fulfillment"), data)). A payment for a
// job whose result went out sealed (issue 19) is different: its condition must be the sealed condition
// SHA-256(K) and the FULFILL carries K (sealed-payment.ts).

import { randomBytes } from 'node:crypto';
import { conditionOf, deriveFulfillment } from '../../ilp/fulfillment.js';
import { IlpPacketType, type IlpPrepare, type IlpReply } from '../../ilp/types.js';
import type { SettlementInfo } from '../../nostr/settlement.js';
import { buildSpspResponse, parseSpspRequest } from '../../nostr/spsp.js';
import type { NostrEvent } from '../../nostr/types.js';
import { mark } from '../../transport/trace.js';
import type { SealedKey } from '../provider/sealed-keys.js';
import { checkSealedPayment } from './sealed-payment.js';

/** What a requester's payment PREPARE carries: the job it pays for (bound at both ends). */
export const PAYMENT_PREFIX = 'crosstown job payment ';
export const paymentData = (jobId: string) => new TextEncoder().encode(`${PAYMENT_PREFIX}${jobId}`);
/** A job id as the state repo takes it: 1-128 of [A-Za-z0-9_-] (a request event id is 64 hex). */
const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** The job a payment's data names, if it names a well-formed one. */
export const paymentJobId = (data: Uint8Array): string | undefined => {
  if (data.length > PAYMENT_PREFIX.length + 128) return undefined;
  const text = new TextDecoder().decode(data);
  if (!text.startsWith(PAYMENT_PREFIX)) return undefined;
  const jobId = text.slice(PAYMENT_PREFIX.length);
  return JOB_ID.test(jobId) ? jobId : undefined;
};

/** The reject a provider sends for a second payment of a job: final, and it tells the payer it was paid. */
export const ALREADY_PAID_CODE = 'F99';
export const ALREADY_PAID_MESSAGE = 'already paid for job';
export const isAlreadyPaid = (reply: { code: string; message: string }) =>
  reply.code === ALREADY_PAID_CODE && reply.message.startsWith(ALREADY_PAID_MESSAGE);

export interface ProviderSpspOptions {
  /** The provider's Nostr secret key (requests are NIP-44 encrypted to it). */
  secretKey: Uint8Array;
  /** The provider's own ILP address (from its SPSP with its node). */
  ilpAddress: string;
  /** The provider's settlement info, as its node told it. */
  settlement: SettlementInfo;
  /** Its node's BTP URL (informational for the requester). */
  btpUrl: string;
  /** Called for every fulfilled payment, before the FULFILL is returned (record it, e.g. for claims). */
  onPayment?: (p: { from: string; amount: bigint; prepare: IlpPrepare }) => void;
  /**
   * What this requester already paid for this job, base units (a journal that outlives the process; 0n: nothing);
   * default: this run only. Any amount makes a second clear payment "already paid"; a sealed result's key needs its
   * price paid.
   */
  paidBefore?: (from: string, jobId: string) => bigint;
  /** An earlier payment of this job may never have reached the node (payment-doubt.ts). */
  inDoubt?: (from: string, jobId: string) => boolean;
  /**
   * Settles that doubt by asking the node (payment-doubt.ts `askNode`): 'paid' refuses the new payment as already
   * paid, 'take' takes it; a throw (the node cannot say) refuses it with T00, for now. Without it, the new payment
   * is taken.
   */
  askNode?: (from: string, jobId: string, prepare: IlpPrepare) => Promise<'paid' | 'take'>;
  /** Called for every second payment of a job, refused (record it). */
  onDuplicate?: (p: { from: string; jobId: string; amount: bigint }) => void;
  /** Whether any earlier payment of this job is in doubt (payment-doubt.ts): a sealed result's key then waits for `settleDoubts`. */
  anyInDoubt?: (from: string, jobId: string) => boolean;
  /**
   * Asks the node about every doubtful payment of the job: held ones are confirmed, others voided (payment-doubt.ts
   * `settle`). Before a sealed result's key is handed as "already paid", the payments it counts must be real.
   */
  settleDoubts?: (from: string, jobId: string, prepare: IlpPrepare) => Promise<void>;
  /** The key of the job's sealed result, when it went out sealed (the provider's SealedKeyStore). */
  sealedKey?: (jobId: string) => SealedKey | undefined;
  /** Clock for PREPARE expiry (default Date.now). */
  now?: () => number;
}

interface Account {
  secret: Uint8Array;
  /** The requester's pubkey. */
  from: string;
}

export interface ProviderSpsp {
  /** Answers a kind 23194 addressed to the provider; throws on a malformed or misaddressed request. */
  respond(request: NostrEvent): NostrEvent;
  /** The provider's BTP `onPrepare`: fulfills packets for accounts it issued. */
  handlePrepare(prepare: IlpPrepare): Promise<IlpReply>;
  /** Total received, base units. */
  readonly received: bigint;
  /** Second payments for a job refused in this run. */
  readonly duplicatesRefused: number;
}

export function createProviderSpsp(options: ProviderSpspOptions): ProviderSpsp {
  const accounts = new Map<string, Account>();
  const byRequester = new Map<string, string>();
  let received = 0n;
  let duplicatesRefused = 0;
  /** What each `<requester>:<job id>` paid in this run. */
  const paidJobs = new Map<string, bigint>();
  /** `<requester>:<job id>` of the jobs whose doubtful payment the node is being asked about. */
  const asking = new Set<string>();
  const reject = (code: string, message: string): IlpReply => ({
    type: IlpPacketType.Reject,
    code,
    triggeredBy: options.ilpAddress,
    message,
    data: new Uint8Array(),
  });
  /** Asks the node about earlier payments of a job, holding off other payments of it meanwhile. */
  const askingNode = async <T>(key: string, ask: () => Promise<T>): Promise<T> => {
    asking.add(key);
    try {
      return await ask();
    } finally {
      asking.delete(key);
    }
  };
  const nodeCouldNotSay = (jobId: string, err: unknown) =>
    reject(
      'T00',
      `payment for job ${jobId} not taken yet: an earlier payment of it may have reached the node, which could not say (${(err as Error).message}); retry shortly`,
    );
  return {
    get received() {
      return received;
    },
    get duplicatesRefused() {
      return duplicatesRefused;
    },
    respond(request) {
      const parsed = parseSpspRequest(request, options.secretKey);
      // One account per requester: asking again returns the same address and secret.
      let destination = byRequester.get(parsed.senderPubkey);
      if (!destination) {
        destination = `${options.ilpAddress}.pay${parsed.senderPubkey.slice(0, 12)}`;
        accounts.set(destination, { secret: new Uint8Array(randomBytes(32)), from: parsed.senderPubkey });
        byRequester.set(parsed.senderPubkey, destination);
      }
      const account = accounts.get(destination)!;
      return buildSpspResponse(options.secretKey, request, {
        destinationAccount: destination,
        sharedSecret: Buffer.from(account.secret).toString('base64'),
        // A provider charges per job (the result's amount), not per byte; the BTP fields only describe
        // where the provider itself is attached: the requester pays through its own connector.
        basePricePerByte: 0n,
        settlement: options.settlement,
        ilpAddress: options.ilpAddress,
        btpUrl: options.btpUrl,
        btpToken: 'not-issued',
      });
    },
    async handlePrepare(prepare) {
      mark('provider spsp: prepare');
      const account = accounts.get(prepare.destination);
      if (!account) {
        return reject('F02', `unreachable: ${prepare.destination} is not an account this provider issued`);
      }
      // Every payment is for a job: one that names none (or an empty or malformed id) would be recorded as owed
      // by the node, which never had it, and its resync would then refuse the list (issue 13: `maxOwed` 0).
      const jobId = paymentJobId(prepare.data);
      if (jobId === undefined)
        return reject(
          'F06',
          `unexpected payment: a payment must name its job (data "${PAYMENT_PREFIX}<job id>")`,
        );
      const sealed = options.sealedKey?.(jobId);
      let fulfillment: Uint8Array;
      if (sealed) {
        // Checked before "already paid": a wrong condition or an expired packet never learns anything.
        const refusal = checkSealedPayment(prepare, sealed, account.from, (options.now ?? Date.now)());
        if (refusal) return reject(refusal.code, refusal.message);
        fulfillment = sealed.key;
      } else {
        fulfillment = deriveFulfillment(account.secret, prepare.data);
        if (!Buffer.from(conditionOf(fulfillment)).equals(Buffer.from(prepare.executionCondition))) {
          return reject(
            'F06',
            'unexpected payment: the condition does not match the shared secret; redo SPSP',
          );
        }
      }
      // One payment per job: a requester that lost track of a payment (a crash) asks again, and is told.
      const key = `${account.from}:${jobId}`;
      if (asking.has(key))
        return reject('T00', `a payment for job ${jobId} is being checked with the node; retry shortly`);
      const before = options.paidBefore?.(account.from, jobId) ?? 0n;
      let paid = paidJobs.has(key) || before > 0n;
      if (sealed) {
        // The key is handed again only to payments the node has (or that are not in doubt) covering its price: a
        // small clear payment made before the result was sealed (its condition then came from the SPSP secret), or
        // a payment that never reached the node, buys nothing more. A doubtful one is asked about, never voided
        // unasked: the node may hold it.
        const settle = options.settleDoubts;
        if (paid && options.anyInDoubt?.(account.from, jobId)) {
          if (!settle) paid = false;
          else {
            try {
              await askingNode(key, () => settle(account.from, jobId, prepare));
            } catch (err) {
              return nodeCouldNotSay(jobId, err);
            }
            if (options.anyInDoubt(account.from, jobId))
              return reject(
                'T00',
                `payment for job ${jobId} not taken yet: earlier payments are still being checked; retry shortly`,
              );
          }
        }
        // With a journal (`paidBefore`), what it holds after the doubts were settled; else this run's payments.
        const covered = options.paidBefore
          ? (options.paidBefore(account.from, jobId) ?? 0n)
          : (paidJobs.get(key) ?? 0n);
        paid = paid && covered >= sealed.amount;
      } else if (paid && options.inDoubt?.(account.from, jobId)) {
        // Taken only when the node says the earlier payment never reached it; never on an unknown (issue 13).
        const ask = options.askNode;
        if (!ask) paid = false;
        else {
          try {
            paid = (await askingNode(key, () => ask(account.from, jobId, prepare))) === 'paid';
          } catch (err) {
            return nodeCouldNotSay(jobId, err);
          }
        }
      }
      if (paid) {
        duplicatesRefused++;
        options.onDuplicate?.({ from: account.from, jobId, amount: prepare.amount });
        const refused = reject(ALREADY_PAID_CODE, `${ALREADY_PAID_MESSAGE} ${jobId}: not taken twice`);
        // The requester that paid for a sealed result and lost the FULFILL (a crash) gets K again in the
        // reject's data: it paid for exactly this key, and no money moves with a reject (docs/decisions.md).
        return sealed ? { ...refused, data: new Uint8Array(sealed.key) } : refused;
      }
      const earlier = paidJobs.get(key);
      paidJobs.set(key, (earlier ?? 0n) + prepare.amount);
      mark('provider spsp: checked');
      try {
        options.onPayment?.({ from: account.from, amount: prepare.amount, prepare });
      } catch (err) {
        // Not recorded (a full disk): not paid either, so a retry is taken, not refused as paid (with K).
        if (earlier === undefined) paidJobs.delete(key);
        else paidJobs.set(key, earlier);
        throw err;
      }
      received += prepare.amount;
      mark('provider spsp: recorded');
      return { type: IlpPacketType.Fulfill, fulfillment, data: new Uint8Array() };
    },
  };
}
