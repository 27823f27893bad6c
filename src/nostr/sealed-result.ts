// Sealed job results (issue 19, atomic pay-for-result). The provider encrypts its full result under a fresh
// 32-byte key K (XChaCha20-Poly1305, AAD = the job request id, so a ciphertext cannot be replayed as the
// answer to another job) and publishes only the ciphertext, a public summary and the condition SHA-256(K).
// The requester pays with an ILP PREPARE whose execution condition is that hash; the provider's FULFILL
// carries K, so the money and the key change hands in the same packet exchange.
//
// Tags of a sealed kind 6xxx result (besides NIP-90's e, p, request, i, amount, status):
//   ["payment", "atomic"]  ["condition", <hex sha256(K)>]  ["cipher", "xchacha20poly1305"]
//   ["summary", <JSON {status, build, tests?: {passed, failed, total}}>]
// and `content` = base64(nonce(24) || ciphertext || tag(16)).
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { NostrEvent } from './types.js';
import { findTag, isHex64, isPlainObject } from './validate.js';

export const SEALED_CIPHER = 'xchacha20poly1305';
export const PAYMENT_ATOMIC = 'atomic';
export const KEY_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The provider's build outcome as results report it (same values as src/mayor/provider/results.ts). */
export type BuildStatus = 'SUCCESS' | 'FAILURE' | 'TIMEOUT' | 'CANCELLED' | 'ERROR';
const BUILD_STATUSES: readonly string[] = ['SUCCESS', 'FAILURE', 'TIMEOUT', 'CANCELLED', 'ERROR'];
const SUMMARY_STATUSES: readonly string[] = ['success', 'error', 'partial'];

/** What a sealed result tells everyone before payment. Signed with the event, so a lie in it is provable. */
export interface SealedSummary {
  status: 'success' | 'error' | 'partial';
  build: BuildStatus;
  tests?: { passed: number; failed: number; total: number };
}

export interface SealedResult {
  /** 32 random bytes; its SHA-256 is the ILP execution condition. Secret until paid. */
  key: Uint8Array;
  /** Lowercase hex SHA-256(key). */
  condition: string;
  /** base64(nonce || sealed bytes). */
  ciphertext: string;
}

export interface ParsedSealedResult {
  condition: string;
  summary: SealedSummary;
  ciphertext: string;
}

export type SealedResultErrorCode = 'KEY_MISMATCH' | 'DECRYPT_FAILED' | 'INVALID_SEALED_RESULT';

export class SealedResultError extends Error {
  readonly code: SealedResultErrorCode;
  constructor(code: SealedResultErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SealedResultError';
    this.code = code;
  }
}

export function conditionOfKey(key: Uint8Array): string {
  return bytesToHex(sha256(key));
}

/** `key`: a K made beforehand (the provider makes it durable while the job runs); default a fresh one. */
export function sealResult(
  plain: string,
  jobId: string,
  key: Uint8Array = randomBytes(KEY_BYTES),
): SealedResult {
  const nonce = randomBytes(NONCE_BYTES);
  const sealed = xchacha20poly1305(key, nonce, utf8ToBytes(jobId)).encrypt(utf8ToBytes(plain));
  const packed = new Uint8Array(NONCE_BYTES + sealed.length);
  packed.set(nonce, 0);
  packed.set(sealed, NONCE_BYTES);
  return { key, condition: conditionOfKey(key), ciphertext: Buffer.from(packed).toString('base64') };
}

export function openSealedResult(ciphertext: string, key: Uint8Array, jobId: string): string {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new SealedResultError('KEY_MISMATCH', `the key must be ${KEY_BYTES} bytes, got ${key?.length}`);
  }
  if (typeof ciphertext !== 'string' || !BASE64.test(ciphertext) || ciphertext.length % 4 !== 0) {
    throw new SealedResultError('DECRYPT_FAILED', 'the sealed content is not base64');
  }
  const packed = Buffer.from(ciphertext, 'base64');
  if (packed.length < NONCE_BYTES + TAG_BYTES) {
    throw new SealedResultError('DECRYPT_FAILED', `the sealed content is ${packed.length} bytes, too short`);
  }
  const nonce = packed.subarray(0, NONCE_BYTES);
  const sealed = packed.subarray(NONCE_BYTES);
  let plain: Uint8Array;
  try {
    plain = xchacha20poly1305(key, nonce, utf8ToBytes(jobId)).decrypt(sealed);
  } catch (err) {
    throw new SealedResultError(
      'DECRYPT_FAILED',
      'the sealed content does not decrypt under the key for this job (authentication tag mismatch)',
      { cause: err },
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch (err) {
    throw new SealedResultError('DECRYPT_FAILED', 'the decrypted content is not UTF-8', { cause: err });
  }
}

/** The tags that make a result sealed; the builder adds them to the NIP-90 result and sets content. */
export function buildSealedSummaryTags(condition: string, summary: SealedSummary): string[][] {
  if (!isHex64(condition)) {
    throw new SealedResultError('INVALID_SEALED_RESULT', 'condition must be 64 lowercase hex characters');
  }
  return [
    ['payment', PAYMENT_ATOMIC],
    ['condition', condition],
    ['cipher', SEALED_CIPHER],
    ['summary', JSON.stringify(checkSummary(summary))],
  ];
}

/**
 * The sealed parts of a result, or undefined for a clear result (no ["payment", "atomic"] tag).
 * A result that claims to be sealed but is malformed throws INVALID_SEALED_RESULT: it is neither.
 */
export function parseSealedResult(event: NostrEvent): ParsedSealedResult | undefined {
  if (findTag(event.tags, 'payment')?.[1] !== PAYMENT_ATOMIC) return undefined;
  const condition = findTag(event.tags, 'condition')?.[1];
  if (!isHex64(condition)) invalid('a sealed result needs ["condition", <64 lowercase hex>]');
  const cipher = findTag(event.tags, 'cipher')?.[1];
  if (cipher !== SEALED_CIPHER)
    invalid(`unsupported cipher ${JSON.stringify(cipher)}; expected ${SEALED_CIPHER}`);
  const rawSummary = findTag(event.tags, 'summary')?.[1];
  if (rawSummary === undefined) invalid('a sealed result needs ["summary", <JSON>]');
  let value: unknown;
  try {
    value = JSON.parse(rawSummary);
  } catch {
    invalid('the summary tag is not JSON');
  }
  return { condition, summary: checkSummary(value), ciphertext: event.content };
}

/** Builds the public summary of a result content (what the provider signs next to the ciphertext). */
export function summaryOf(status: SealedSummary['status'], plainContent: string): SealedSummary {
  const c = parsePlain(plainContent);
  const build = typeof c?.build === 'string' && BUILD_STATUSES.includes(c.build) ? c.build : 'ERROR';
  const summary: SealedSummary = { status, build: build as BuildStatus };
  const tests = c?.tests;
  if (isPlainObject(tests) && isCount(tests.passed) && isCount(tests.failed)) {
    summary.tests = { passed: tests.passed, failed: tests.failed, total: tests.passed + tests.failed };
  }
  return summary;
}

/**
 * The first way the decrypted content contradicts the signed summary (one line), or undefined when it does
 * not. Status: 'success' must come with build SUCCESS and 'error' without it; build must be equal; test
 * counts must be equal (a summary that names tests needs the content to report them).
 */
export function summaryContradiction(plainContent: string, summary: SealedSummary): string | undefined {
  const c = parsePlain(plainContent);
  if (!c) return 'the decrypted content is not a JSON result object';
  const build = typeof c.build === 'string' ? c.build : undefined;
  if (summary.status === 'success' && build !== 'SUCCESS')
    return `summary status is success but the result's build is ${build ?? 'missing'}`;
  if (summary.status === 'error' && build === 'SUCCESS')
    return 'summary status is error but the result says build SUCCESS';
  if (build !== summary.build)
    return `summary build is ${summary.build} but the result's build is ${build ?? 'missing'}`;
  if (summary.tests) {
    const t = c.tests;
    if (!isPlainObject(t) || !isCount(t.passed) || !isCount(t.failed))
      return `summary reports tests ${summary.tests.passed}/${summary.tests.total} passed but the result has no test counts`;
    if (t.passed !== summary.tests.passed)
      return `summary says ${summary.tests.passed} tests passed, the result ${t.passed}`;
    if (t.failed !== summary.tests.failed)
      return `summary says ${summary.tests.failed} tests failed, the result ${t.failed}`;
    if (t.passed + t.failed !== summary.tests.total)
      return `summary says ${summary.tests.total} tests in total, the result ${t.passed + t.failed}`;
  } else if (isPlainObject(c.tests)) {
    return 'the summary reports no tests but the result does';
  }
  return undefined;
}

function parsePlain(plainContent: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(plainContent) as unknown;
    return isPlainObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function checkSummary(value: unknown): SealedSummary {
  if (!isPlainObject(value)) invalid('the summary must be a JSON object');
  const { status, build, tests } = value;
  if (typeof status !== 'string' || !SUMMARY_STATUSES.includes(status))
    invalid(`summary status must be one of ${SUMMARY_STATUSES.join(', ')}`);
  if (typeof build !== 'string' || !BUILD_STATUSES.includes(build))
    invalid(`summary build must be one of ${BUILD_STATUSES.join(', ')}`);
  const out: SealedSummary = { status: status as SealedSummary['status'], build: build as BuildStatus };
  if (tests !== undefined) {
    if (!isPlainObject(tests) || !isCount(tests.passed) || !isCount(tests.failed) || !isCount(tests.total))
      invalid('summary tests must be {passed, failed, total} non-negative integers');
    if (tests.passed + tests.failed !== tests.total)
      invalid('summary tests: passed + failed must equal total');
    out.tests = { passed: tests.passed, failed: tests.failed, total: tests.total };
  }
  return out;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function invalid(message: string): never {
  throw new SealedResultError('INVALID_SEALED_RESULT', message);
}

/** How a requester will pay: `atomic` (sealed result, pay-for-key) or `after-result` (clear result, pay after). */
export type PaymentMode = 'atomic' | 'after-result';
export const PAYMENT_MODES: readonly PaymentMode[] = ['atomic', 'after-result'];

/** The request tag carrying the requester's choice. */
export function paymentModeTag(mode: PaymentMode): string[] {
  return ['payment', mode];
}

/**
 * The payment mode a job request asks for. A request without the tag comes from an older or foreign client
 * and is served as today: `after-result`. An unknown value is served the same way (never guessed as atomic).
 */
export function requestedPaymentMode(request: NostrEvent): PaymentMode {
  return findTag(request.tags, 'payment')?.[1] === 'atomic' ? 'atomic' : 'after-result';
}
