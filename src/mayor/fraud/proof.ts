// Fraud proofs (issue 19): a sealed result (kind 6xxx with ["payment", "atomic"]) whose key K, revealed by the
// provider's FULFILL, does not open it, or opens it to a result that contradicts its signed public summary.
// The proof is a NIP-56 report (kind 1984) anyone can check with public data alone:
//   ["p", <provider>, "other"]  ["e", <result event id>, "other"]
//   ["L", "crosstown.fraud"]  ["l", "sealed-result", "crosstown.fraud"]
//   ["k", "<result kind>"]  ["key", <K, 64 hex>]  ["mismatch", <what the reporter saw, one line>]
//   content: the provider's signed result event, stringified JSON (as NIP-18 reposts embed theirs); empty when
//   it did not fit one PREPARE: the verifier then reads the event by its `e` id from a relay.
// Only the provider knew K before its FULFILL (K is a preimage of the signed condition), so a K that hashes to the
// condition is the one the provider released for payment; nobody can forge a proof against an honest result.
import { verifyEvent } from '../../nostr/event.js';
import { buildReport, KIND_REPORT, parseReport } from '../../nostr/nip56.js';
import { parseJobResult } from '../../nostr/nip90.js';
import {
  conditionOfKey,
  openSealedResult,
  parseSealedResult,
  SealedResultError,
  summaryContradiction,
} from '../../nostr/sealed-result.js';
import type { EventTemplate, NostrEvent } from '../../nostr/types.js';
import { findTag, isHex64, isPlainObject } from '../../nostr/validate.js';

export const FRAUD_NAMESPACE = 'crosstown.fraud';
export const FRAUD_LABEL = 'sealed-result';
/** Longest mismatch text kept in a report (a tag value, one line). */
const MAX_MISMATCH = 500;

export interface FraudEvidence {
  /** The provider's signed sealed result, as it arrived. */
  resultEvent: NostrEvent;
  /** K, as the FULFILL carried it. */
  key: Uint8Array;
  /** What the reporter saw (DECRYPT_FAILED's message, or the summary contradiction). */
  mismatch: string;
  /** Leave the result out of the content (it is too large to embed); verifiers read it by id. */
  referenceOnly?: boolean;
}

/**
 * Why a report is or is not a proof: `DECRYPT_FAILED` and `CONTRADICTS_SUMMARY` prove fraud; `HONEST` means the
 * result opens and matches its summary (a false accusation); `INVALID` is a report that proves nothing (forged,
 * malformed, a key that is not the condition's preimage, an event that is not the provider's sealed result).
 */
export type FraudCode = 'DECRYPT_FAILED' | 'CONTRADICTS_SUMMARY' | 'HONEST' | 'INVALID';

export type FraudVerdict =
  | {
      verified: true;
      code: 'DECRYPT_FAILED' | 'CONTRADICTS_SUMMARY';
      reason: string;
      provider: string;
      resultEventId: string;
    }
  | {
      verified: false;
      code: 'HONEST' | 'INVALID';
      reason: string;
      provider?: string;
      resultEventId?: string;
    };

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The unsigned report; the reporter signs it (finalizeEvent). */
export function buildFraudReport(evidence: FraudEvidence): EventTemplate {
  const { resultEvent: e, key } = evidence;
  const mismatch = evidence.mismatch.replace(/\s+/g, ' ').trim().slice(0, MAX_MISMATCH) || 'mismatch';
  return buildReport({
    reported: e.pubkey,
    type: 'other',
    eventId: e.id,
    label: { namespace: FRAUD_NAMESPACE, value: FRAUD_LABEL },
    tags: [
      ['k', String(e.kind)],
      ['key', hex(key)],
      ['mismatch', mismatch],
    ],
    content: evidence.referenceOnly ? '' : JSON.stringify(e),
  });
}

/** True for a kind 1984 labelled as a sealed-result fraud proof (whether or not it verifies). */
export function isFraudReport(event: NostrEvent): boolean {
  return (
    event.kind === KIND_REPORT &&
    event.tags.some((t) => t[0] === 'l' && t[1] === FRAUD_LABEL && t[2] === FRAUD_NAMESPACE)
  );
}

/** The result event a report refers to (its `e` tag), to fetch when the report does not embed it. */
export function reportedResultId(report: NostrEvent): string | undefined {
  const id = findTag(report.tags, 'e')?.[1];
  return isHex64(id) ? id : undefined;
}

/**
 * Checks a fraud proof with public data only. `fetched`: the reported result event read from a relay, for a
 * report that does not embed it. Never throws: whatever is wrong with the report is the reason it does not verify.
 * Proven: the report is signed, its result is a sealed result signed by the reported provider, SHA-256(K) is the
 * result's condition, and the ciphertext does not decrypt under K (for this job id) or decrypts to a result that
 * contradicts the signed summary. A result that decrypts and matches its summary makes the report a false
 * accusation: not verified.
 */
export function verifyFraudReport(report: NostrEvent, fetched?: NostrEvent): FraudVerdict {
  if (!verifyEvent(report)) return no('the report itself is not validly signed (id or signature)');
  let parsed: ReturnType<typeof parseReport>;
  try {
    parsed = parseReport(report);
  } catch (err) {
    return no(`not a readable NIP-56 report: ${(err as Error).message}`);
  }
  const provider = parsed.reported;
  const claimedId = parsed.eventId;
  if (!claimedId) return no('the report names no result event (e tag)', provider);
  const keyHex = findTag(report.tags, 'key')?.[1];
  if (!isHex64(keyHex)) return no('the report carries no key (["key", <64 hex>])', provider, claimedId);
  const key = new Uint8Array(Buffer.from(keyHex, 'hex'));

  let result: NostrEvent | undefined;
  if (report.content !== '') {
    try {
      const value = JSON.parse(report.content) as unknown;
      if (isPlainObject(value)) result = value as unknown as NostrEvent;
    } catch {
      return no('the embedded result is not JSON', provider, claimedId);
    }
    if (!result) return no('the embedded result is not an event object', provider, claimedId);
  } else result = fetched;
  if (!result)
    return no('the report does not embed the result and it was not found on the relay', provider, claimedId);
  if (!verifyEvent(result))
    return no('the embedded result is not validly signed (id or signature)', provider, claimedId);
  if (result.id !== claimedId)
    return no(`the embedded result is ${result.id}, not the event the report names`, provider, claimedId);
  if (result.pubkey !== provider)
    return no(
      `the result is signed by ${result.pubkey.slice(0, 12)}…, not by the reported provider`,
      provider,
      claimedId,
    );

  let jobId: string;
  try {
    jobId = parseJobResult(result).jobId;
  } catch (err) {
    return no(`the embedded event is not a job result: ${(err as Error).message}`, provider, claimedId);
  }
  let sealed: ReturnType<typeof parseSealedResult>;
  try {
    sealed = parseSealedResult(result);
  } catch (err) {
    return no(
      `the result is not a well-formed sealed result: ${(err as Error).message}`,
      provider,
      claimedId,
    );
  }
  if (!sealed)
    return no('the result is not sealed (no ["payment", "atomic"]): nothing to prove', provider, claimedId);
  if (conditionOfKey(key) !== sealed.condition)
    return no(
      "SHA-256 of the report's key is not the result's condition: the provider never released that key",
      provider,
      claimedId,
    );

  let plain: string;
  try {
    plain = openSealedResult(sealed.ciphertext, key, jobId);
  } catch (err) {
    if (err instanceof SealedResultError && err.code === 'DECRYPT_FAILED')
      return yes(
        'DECRYPT_FAILED',
        `the result does not decrypt under the key it was paid for: ${err.message}`,
        provider,
        claimedId,
      );
    return no(`the key could not be used: ${(err as Error).message}`, provider, claimedId);
  }
  const contradiction = summaryContradiction(plain, sealed.summary);
  if (contradiction)
    return yes(
      'CONTRADICTS_SUMMARY',
      `the decrypted result contradicts the signed summary: ${contradiction}`,
      provider,
      claimedId,
    );
  return {
    verified: false,
    code: 'HONEST',
    reason: 'the result decrypts under the key and matches its signed summary: a false accusation',
    provider,
    resultEventId: claimedId,
  };
}

function yes(
  code: 'DECRYPT_FAILED' | 'CONTRADICTS_SUMMARY',
  reason: string,
  provider: string,
  resultEventId: string,
): FraudVerdict {
  return { verified: true, code, reason, provider, resultEventId };
}

/** A report that proves nothing. */
function no(reason: string, provider?: string, resultEventId?: string): FraudVerdict {
  return {
    verified: false,
    code: 'INVALID',
    reason,
    ...(provider ? { provider } : {}),
    ...(resultEventId ? { resultEventId } : {}),
  };
}
