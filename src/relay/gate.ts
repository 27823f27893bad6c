// The write gate: an ILP receiver whose PREPARE data is a TOON-encoded Nostr event. Each step is one small
// function that either returns what the next step needs or throws an IlpError that becomes the REJECT.
import {
  conditionOf,
  fulfillmentFromKey,
  fulfillmentKeyOf,
  IlpError,
  IlpErrorCode,
  type IlpFulfill,
  IlpPacketType,
  type IlpPrepare,
  type IlpReject,
} from '../ilp/index.js';
import { verifyEvent } from '../nostr/index.js';
import type { NostrEvent } from '../nostr/types.js';
import { isEphemeral } from '../store/kinds.js';
import type { EventStore, SaveOutcome } from '../store/types.js';
import { decodeEvent } from '../toon/index.js';
import { mark, tracing } from '../transport/trace.js';
import type { PrepaidBalances } from './prepaid.js';
import { amountsData, priceOf } from './price.js';
import type { SecretStore } from './secrets.js';
import { serialByCondition } from './serial-by-condition.js';

export interface GateContext {
  /** The moment to judge expiry against; defaults to the gate's clock. */
  now?: Date;
}

export interface GateDeps {
  store: EventStore;
  /** Signature check (recomputes the id); default: the pure-JS verifyEvent. The relay passes the wasm verifier. */
  verify?: (event: NostrEvent) => Promise<boolean>;
  /**
   * Decode + verify in one call, e.g. on worker threads (GatePool). When set, it replaces decodeToonEvent + verify:
   * `{ error }` is a decode failure, `{ event, valid }` the decoded event and its verification.
   */
  decodeAndVerify?: (data: Uint8Array) => Promise<{ event: NostrEvent; valid: boolean } | { error: string }>;
  /** Accepted created_at window around now, in seconds; default: 900 s ahead, any time back. */
  maxFutureSeconds?: number;
  maxPastSeconds?: number;
  secrets: SecretStore;
  /** Balances topped up over STREAM: an underpaid write takes the rest from its account's balance. */
  prepaid?: Pick<PrepaidBalances, 'debit' | 'refund' | 'balanceAt' | 'paidAlready'>;
  basePricePerByte: bigint;
  maxEventBytes: number;
  ilpAddress: string;
  /** Hands a newly accepted event to live subscribers. */
  deliver: (event: NostrEvent) => void;
  /** Told when the store fails to save (disk full, I/O error); the write is refused T00 and nothing is charged. */
  onStoreError?: (error: Error, event: NostrEvent) => void;
  now: () => number;
}

export type HandlePrepare = (prepare: IlpPrepare, ctx?: GateContext) => Promise<IlpFulfill | IlpReject>;

/** Builds `handlePrepare`. It never throws: every failure is answered with a REJECT. */
export function createWriteGate(deps: GateDeps): HandlePrepare {
  const verify = deps.verify ?? (async (event: NostrEvent) => verifyEvent(event));
  const window = {
    future: deps.maxFutureSeconds ?? 900,
    past: deps.maxPastSeconds ?? Number.POSITIVE_INFINITY,
  };
  const gate: HandlePrepare = async (prepare, ctx = {}) => {
    try {
      const nowMs = ctx.now?.getTime() ?? deps.now();
      checkExpiry(prepare, nowMs);
      checkSize(prepare.data, deps.maxEventBytes);
      mark('relay gate start');
      const fulfillment = checkCondition(prepare, deps.secrets);
      let event: NostrEvent;
      let valid: boolean;
      if (deps.decodeAndVerify) {
        const result = await deps.decodeAndVerify(prepare.data);
        if ('error' in result) throw notToon(result.error);
        ({ event, valid } = result);
        checkCreatedAt(event, nowMs, window.future, window.past);
      } else {
        event = decodeToonEvent(prepare.data);
        checkCreatedAt(event, nowMs, window.future, window.past); // before the costly signature check
        valid = await verify(event);
      }
      mark('relay gate verified');
      if (!valid) throw badSignature(event);
      const underpaid = !paidEnough(prepare, deps.basePricePerByte);
      // Already paid from a prepaid balance (a replay, also after a restart: prepaid.db keeps the record) is charged
      // nothing. It is stored if a crash lost it between the debit and the save; an ephemeral one is not resent.
      const paid = underpaid && deps.prepaid?.paidAlready(prepare.executionCondition, nowMs) === true;
      if (paid && (isEphemeral(event.kind) || (await deps.store.get(event.id)) !== undefined))
        return fulfillOf(fulfillment, event);
      // A duplicate needs no price: the relay already has it, so the sender pays only what it chose to send.
      // The store is asked only for an underpaid write: a paid one goes straight to save, which answers
      // 'duplicate' itself (one query per write fewer on the hot path, same answers).
      const duplicate = underpaid && !paid && (await deps.store.get(event.id)) !== undefined;
      const debited = duplicate || paid ? 0n : payFor(prepare, deps, nowMs);
      let outcome: SaveOutcome;
      try {
        outcome = duplicate
          ? { status: 'duplicate' }
          : await storeEvent(deps.store, event, deps.onStoreError);
      } catch (err) {
        if (debited > 0n) deps.prepaid?.refund(prepare.destination, debited, prepare.executionCondition);
        throw err;
      }
      if (debited > 0n && outcome.status === 'duplicate')
        deps.prepaid?.refund(prepare.destination, debited, prepare.executionCondition);
      if (tracing) mark(`relay gate stored kind ${event.kind}`);
      if (outcome.status === 'stored' || outcome.status === 'ephemeral') deps.deliver(event);
      mark('relay gate delivered');
      return fulfillOf(fulfillment, event);
    } catch (err) {
      return toReject(err, deps.ilpAddress);
    }
  };
  // Its replays wait for the first copy, so the paid-write record has seen it (issue 18: a prepaid write charged once).
  return serialByCondition(gate);
}

export function checkExpiry(prepare: IlpPrepare, nowMs: number): void {
  if (prepare.expiresAt.getTime() <= nowMs) {
    throw new IlpError(
      IlpErrorCode.R00_TRANSFER_TIMED_OUT,
      `packet expired at ${prepare.expiresAt.toISOString()}; send it again with a later expiry`,
    );
  }
}

export function checkSize(data: Uint8Array, maxEventBytes: number): void {
  if (data.length === 0) {
    throw new IlpError(
      IlpErrorCode.F01_INVALID_PACKET,
      'packet data is empty; it must carry a TOON-encoded event',
    );
  }
  if (data.length > maxEventBytes) {
    throw new IlpError(
      IlpErrorCode.F01_INVALID_PACKET,
      `event data is ${data.length} bytes; this relay accepts at most ${maxEventBytes}`,
    );
  }
}

/** Finds the sender's shared secret and returns the fulfillment, if it matches the PREPARE's condition. */
export function checkCondition(prepare: IlpPrepare, secrets: SecretStore): Uint8Array {
  const secret = secrets.secretFor(prepare.destination);
  if (!secret) {
    throw new IlpError(
      IlpErrorCode.F02_UNREACHABLE,
      `no account for destination ${prepare.destination}; run the SPSP handshake to get a destination and secret`,
    );
  }
  const fulfillment = fulfillmentFromKey(cachedFulfillmentKey(secret), prepare.data);
  if (!bytesEqual(conditionOf(fulfillment), prepare.executionCondition)) {
    throw new IlpError(
      IlpErrorCode.F05_WRONG_CONDITION,
      'execution condition does not match the fulfillment derived from this account’s shared secret and the data',
    );
  }
  return fulfillment;
}

// The fulfillment key, HMAC(secret, "ilp_stream_fulfillment"), depends only on the secret: computed once per
// secret object instead of once per write. The secret's bytes are kept and compared, so a secret changed in
// place is never answered with a stale key.
const fulfillmentKeys = new WeakMap<Uint8Array, { secret: Uint8Array; key: Uint8Array }>();

function cachedFulfillmentKey(secret: Uint8Array): Uint8Array {
  const cached = fulfillmentKeys.get(secret);
  if (cached && bytesEqual(cached.secret, secret)) return cached.key;
  const key = fulfillmentKeyOf(secret);
  fulfillmentKeys.set(secret, { secret: secret.slice(), key });
  return key;
}

export function decodeToonEvent(data: Uint8Array): NostrEvent {
  try {
    return decodeEvent(data);
  } catch (err) {
    throw notToon((err as Error).message);
  }
}

function notToon(reason: string): IlpError {
  return new IlpError(
    IlpErrorCode.F01_INVALID_PACKET,
    `packet data is not a TOON-encoded Nostr event: ${reason}`,
  );
}

export function checkSignature(event: NostrEvent): void {
  if (!verifyEvent(event)) throw badSignature(event);
}

function badSignature(event: NostrEvent): IlpError {
  return new IlpError(
    IlpErrorCode.F06_UNEXPECTED_PAYMENT,
    `event ${event.id} does not verify: its id is not the hash of its fields or its signature is invalid`,
  );
}

/**
 * Refuses events dated too far from now (F99 "invalid: …"): a far-future created_at would pin a replaceable slot
 * and sort first forever. `createdAtProblem` returns the reason (for an OK false); `checkCreatedAt` throws it.
 */
export function createdAtProblem(
  event: NostrEvent,
  nowMs: number,
  maxFutureSeconds: number,
  maxPastSeconds: number,
): string | undefined {
  const now = Math.floor(nowMs / 1000);
  if (event.created_at > now + maxFutureSeconds) {
    return `invalid: created_at ${event.created_at} is more than ${maxFutureSeconds} s in the future (now ${now}); fix the clock`;
  }
  if (event.created_at < now - maxPastSeconds) {
    return `invalid: created_at ${event.created_at} is more than ${maxPastSeconds} s in the past (now ${now})`;
  }
  return undefined;
}

export function checkCreatedAt(
  event: NostrEvent,
  nowMs: number,
  maxFutureSeconds: number,
  maxPastSeconds: number,
): void {
  const problem = createdAtProblem(event, nowMs, maxFutureSeconds, maxPastSeconds);
  if (problem) throw new IlpError(IlpErrorCode.F99_APPLICATION_ERROR, problem);
}

function paidEnough(prepare: IlpPrepare, basePricePerByte: bigint): boolean {
  return prepare.amount >= priceOf(prepare.data.length, basePricePerByte);
}

/**
 * What the write takes from the account's prepaid balance: nothing when the PREPARE pays the price, else the
 * shortfall when the balance covers it. Throws F04 otherwise.
 */
function payFor(prepare: IlpPrepare, deps: GateDeps, nowMs: number): bigint {
  const required = priceOf(prepare.data.length, deps.basePricePerByte);
  if (prepare.amount >= required) return 0n;
  const shortfall = required - prepare.amount;
  const paid = { condition: prepare.executionCondition, expiresAtMs: prepare.expiresAt.getTime(), nowMs };
  if (deps.prepaid?.debit(prepare.destination, shortfall, paid)) return shortfall;
  if (deps.prepaid) {
    const balance = deps.prepaid.balanceAt(prepare.destination);
    throw new IlpError(
      IlpErrorCode.F04_INSUFFICIENT_DESTINATION_AMOUNT,
      `underpaid: received ${prepare.amount}, required ${required} (${prepare.data.length} bytes x ${deps.basePricePerByte} per byte); the account's prepaid balance ${balance} does not cover the ${shortfall} missing: top it up over STREAM or pay in the PREPARE`,
      { data: amountsData(prepare.amount, required) },
    );
  }
  checkAmount(prepare, deps.basePricePerByte);
  return 0n;
}

export function checkAmount(prepare: IlpPrepare, basePricePerByte: bigint): void {
  const required = priceOf(prepare.data.length, basePricePerByte);
  if (prepare.amount < required) {
    throw new IlpError(
      IlpErrorCode.F04_INSUFFICIENT_DESTINATION_AMOUNT,
      `underpaid: received ${prepare.amount}, required ${required} (${prepare.data.length} bytes x ${basePricePerByte} per byte)`,
      { data: amountsData(prepare.amount, required) },
    );
  }
}

async function storeEvent(
  store: EventStore,
  event: NostrEvent,
  onStoreError: GateDeps['onStoreError'],
): Promise<SaveOutcome> {
  let outcome: SaveOutcome;
  try {
    outcome = await store.save(event);
  } catch (err) {
    onStoreError?.(err as Error, event);
    throw new IlpError(
      IlpErrorCode.T00_INTERNAL_ERROR,
      `could not store the event: ${(err as Error).message}`,
    );
  }
  if (outcome.status === 'deleted') {
    throw new IlpError(
      IlpErrorCode.F99_APPLICATION_ERROR,
      `blocked: the author asked to delete event ${event.id} (NIP-09); it is not stored again and nothing was charged`,
    );
  }
  if (outcome.status === 'stale') {
    throw new IlpError(
      IlpErrorCode.F99_APPLICATION_ERROR,
      `stale: a newer version of this replaceable event is stored (${outcome.newerId}); nothing was charged`,
    );
  }
  return outcome;
}

/** FULFILL data is the 32-byte event id, so the sender can match the answer to the event. */
function fulfillOf(fulfillment: Uint8Array, event: NostrEvent): IlpFulfill {
  return { type: IlpPacketType.Fulfill, fulfillment, data: new Uint8Array(Buffer.from(event.id, 'hex')) };
}

function toReject(err: unknown, ilpAddress: string): IlpReject {
  const error =
    err instanceof IlpError
      ? err
      : new IlpError(
          IlpErrorCode.T00_INTERNAL_ERROR,
          `relay error: ${(err as Error)?.message ?? String(err)}`,
        );
  return error.toReject(ilpAddress);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
