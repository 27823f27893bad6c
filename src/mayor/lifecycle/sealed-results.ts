// The requester's side of a sealed result (issue 19, atomic pay-for-result). A sealed kind 6065 is stored and
// recorded `result-received` like a clear one; before its skill runs, the Mayor pays by its condition
// (payments.ts + sealed-pay.ts) and the FULFILL hands it K. K is made durable (`results/<job>.key`) before
// anything else, then the result is opened and routed exactly as a clear result. A result that does not
// decrypt under K, or decrypts to something its signed public summary contradicts, is fraud: the `onFraud`
// hook gets the proof (event, K, mismatch) and the job fails with that reason.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getEventHash } from '../../nostr/event.js';
import {
  openSealedResult,
  type ParsedSealedResult,
  SealedResultError,
  type SealedSummary,
  summaryContradiction,
} from '../../nostr/sealed-result.js';
import type { NostrEvent } from '../../nostr/types.js';
import { UNSIGNED_RUMOR_SIG } from '../../skills/event.js';
import type { PrivateOrigin } from '../../skills/types.js';
import { encodeEventBytes } from '../../toon/index.js';
import type { StateRepo } from '../state/index.js';
import { failChain } from './chains.js';
import { type LifecycleDeps, short } from './deps.js';

/** What the fraud hook gets: everything a third party needs to check the provider lied. */
export interface FraudReport {
  jobId: string;
  /** The sealed result as published (signed by the provider; a rumor for a private job). */
  resultEvent: NostrEvent;
  /** The key the provider's FULFILL revealed (sha256(key) is the result's condition). */
  key: Uint8Array;
  /** One line: why the result is fraudulent. */
  mismatch: string;
}

export type FraudHook = (report: FraudReport) => void | Promise<void>;

/** Where the key of a paid sealed result is kept in the state repo (hex). */
export const keyPath = (jobId: string) => `results/${jobId}.key`;

export interface StoredResult {
  toon: Uint8Array;
  priv?: PrivateOrigin;
}

/** What the Mayor knows of a sealed result before paying: `results/<job>.sealed.json`. */
export const sealedInfoPath = (jobId: string) => `results/${jobId}.sealed.json`;

export interface SealedInfo {
  condition: string;
  summary: SealedSummary;
}

const readStateFile = (state: StateRepo, path: string): string | undefined => {
  const abs = join(state.dir, path);
  return existsSync(abs) ? readFileSync(abs, 'utf8') : undefined;
};

/**
 * What this run wrote, per state repo: read back before its write batch reaches the disk, and without re-reading
 * the file for each of the several looks a job takes (issue 17). Only what the caller durably wrote counts: the
 * key's readers send nothing that needs it durable (routing makes it durable with the skill intent).
 */
const written = new WeakMap<StateRepo, { sealed: Map<string, SealedInfo>; keys: Map<string, Uint8Array> }>();
const writtenBy = (state: StateRepo) => {
  let w = written.get(state);
  if (!w) {
    w = { sealed: new Map(), keys: new Map() };
    written.set(state, w);
  }
  // The oldest go first (they are on disk by now): a long-running Mayor does not grow this without bound.
  for (const m of [w.sealed, w.keys] as Map<string, unknown>[])
    if (m.size >= REMEMBERED) m.delete(m.keys().next().value!);
  return w;
};
const REMEMBERED = 10_000;

/** Records that the job's result is sealed (same write batch as the stored result and `result-received`). */
export function recordSealed(deps: LifecycleDeps, jobId: string, info: SealedInfo): void {
  deps.state.files.append(sealedInfoPath(jobId), JSON.stringify(info), `job ${jobId}: sealed result`);
  writtenBy(deps.state).sealed.set(jobId, info);
}

/** The sealed result's condition and summary, when the job's result is sealed. */
export function readSealed(state: StateRepo, jobId: string): SealedInfo | undefined {
  const mine = written.get(state)?.sealed.get(jobId);
  if (mine) return mine;
  const text = readStateFile(state, sealedInfoPath(jobId));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as SealedInfo;
  } catch {
    return undefined;
  }
}

/**
 * Records K (durable with the next `state.durable()`: routing's, with the skill intent). A K that a crash lost
 * before it was durable is handed again by the provider ("already paid"); the skill is only called once K is
 * durable, so a skill intent found without K on disk is from a call that never happened (routing.ts).
 */
export function storeKey(deps: LifecycleDeps, jobId: string, key: Uint8Array): void {
  deps.state.files.append(keyPath(jobId), Buffer.from(key).toString('hex'), `job ${jobId}: result key`);
  writtenBy(deps.state).keys.set(jobId, new Uint8Array(key));
}

/**
 * Whether this run recorded K (it pays only when K is not on disk): then a skill intent on disk is from a batch
 * whose K a crash lost, so that skill call never happened.
 */
export function keyStoredThisRun(state: StateRepo, jobId: string): boolean {
  return written.get(state)?.keys.has(jobId) ?? false;
}

/** K of a paid sealed result, if recorded (by this run, or on disk). */
export function readKey(state: StateRepo, jobId: string): Uint8Array | undefined {
  const mine = written.get(state)?.keys.get(jobId);
  if (mine) return new Uint8Array(mine);
  const hex = readStateFile(state, keyPath(jobId))?.trim().slice(0, 64);
  return hex && /^[0-9a-f]{64}$/.test(hex) ? new Uint8Array(Buffer.from(hex, 'hex')) : undefined;
}

export type Opened = { ok: true; stored: StoredResult } | { ok: false; mismatch: string };

/**
 * The plain result as the skill sees it: the sealed event with its content decrypted and the sealing tags
 * removed, handed over like a decrypted rumor (a fresh id, the placeholder signature, `private` naming the
 * provider and the sealed event): the provider's signature covers the ciphertext and the condition, and the
 * AEAD ties the plain text to K, so the author is proven even though this exact event was never signed.
 */
export function openStored(
  event: NostrEvent,
  sealed: ParsedSealedResult,
  key: Uint8Array,
  jobId: string,
): Opened {
  let plain: string;
  try {
    plain = openSealedResult(sealed.ciphertext, key, jobId);
  } catch (err) {
    const why = err instanceof SealedResultError ? err.message : String(err);
    return { ok: false, mismatch: `the sealed result does not decrypt under the paid key: ${why}` };
  }
  const mismatch = summaryContradiction(plain, sealed.summary);
  if (mismatch) return { ok: false, mismatch };
  const sealingTags = new Set(['payment', 'condition', 'cipher', 'summary']);
  const rumor = {
    kind: event.kind,
    pubkey: event.pubkey,
    created_at: event.created_at,
    tags: event.tags.filter((t) => !sealingTags.has(t[0] ?? '')),
    content: plain,
  };
  const opened: NostrEvent = { ...rumor, id: getEventHash(rumor), sig: UNSIGNED_RUMOR_SIG };
  return {
    ok: true,
    stored: { toon: encodeEventBytes(opened), priv: { senderPubkey: event.pubkey, wrapId: event.id } },
  };
}

/** Reports the fraud (the hook: i19b's NIP-56 report) and fails the job with the reason. */
export async function failForFraud(deps: LifecycleDeps, report: FraudReport): Promise<void> {
  const reason = `provider fraud: ${report.mismatch} (paid, reported)`;
  const chainId = deps.state.jobs.get(report.jobId)?.chainId;
  deps.putJob({ id: report.jobId, status: 'failed', error: reason });
  if (chainId) failChain(deps, chainId);
  deps.activity('error', `${short(report.jobId)}: ${reason}`);
  await deps.state.durable();
  try {
    await deps.onFraud(report);
  } catch (err) {
    deps.log.error(`${short(report.jobId)}: reporting the fraud failed: ${(err as Error).message}`);
  }
}

/** The default fraud hook: logs at error level (the Mayor wires the NIP-56 report when it has one). */
export function logFraud(deps: Pick<LifecycleDeps, 'log'>): FraudHook {
  return (r) =>
    deps.log.error(
      `fraud by provider ${r.resultEvent.pubkey} on ${short(r.jobId)}: ${r.mismatch} (result ${r.resultEvent.id}, key ${Buffer.from(r.key).toString('hex')})`,
    );
}
