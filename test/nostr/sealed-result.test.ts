import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { finalizeEvent } from '../../src/nostr/event.js';
import { generateSecretKey } from '../../src/nostr/keys.js';
import {
  buildSealedSummaryTags,
  conditionOfKey,
  openSealedResult,
  parseSealedResult,
  requestedPaymentMode,
  SealedResultError,
  type SealedSummary,
  sealResult,
  summaryContradiction,
  summaryOf,
} from '../../src/nostr/sealed-result.js';

const jobId = 'a'.repeat(64);
const otherJob = 'b'.repeat(64);
const plain = JSON.stringify({
  build: 'SUCCESS',
  tests: { passed: 5, failed: 0 },
  logs: 'H4sI',
  runner: 'vitest',
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SealedResultError);
    return (err as SealedResultError).code;
  }
  return undefined;
}

describe('sealResult / openSealedResult', () => {
  it('round-trips and the condition is sha256 of the key', () => {
    const s = sealResult(plain, jobId);
    expect(s.key).toHaveLength(32);
    expect(s.condition).toBe(bytesToHex(sha256(s.key)));
    expect(conditionOfKey(s.key)).toBe(s.condition);
    expect(openSealedResult(s.ciphertext, s.key, jobId)).toBe(plain);
  });

  it('the ciphertext reveals nothing of the plain text and two seals differ', () => {
    const a = sealResult(plain, jobId);
    const b = sealResult(plain, jobId);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.condition).not.toBe(b.condition);
    const bytes = Buffer.from(a.ciphertext, 'base64').toString('latin1');
    expect(bytes).not.toContain('SUCCESS');
    expect(bytes).not.toContain('vitest');
  });

  it('refuses a wrong key, a short key, another job id and a tampered byte', () => {
    const s = sealResult(plain, jobId);
    expect(code(() => openSealedResult(s.ciphertext, new Uint8Array(32), jobId))).toBe('DECRYPT_FAILED');
    expect(code(() => openSealedResult(s.ciphertext, s.key.subarray(0, 31), jobId))).toBe('KEY_MISMATCH');
    expect(code(() => openSealedResult(s.ciphertext, s.key, otherJob))).toBe('DECRYPT_FAILED');
    const raw = Buffer.from(s.ciphertext, 'base64');
    raw[30] = (raw[30] ?? 0) ^ 1;
    expect(code(() => openSealedResult(raw.toString('base64'), s.key, jobId))).toBe('DECRYPT_FAILED');
    expect(code(() => openSealedResult('not base64!', s.key, jobId))).toBe('DECRYPT_FAILED');
    expect(code(() => openSealedResult('AAAA', s.key, jobId))).toBe('DECRYPT_FAILED');
  });
});

describe('sealed result tags', () => {
  const summary: SealedSummary = {
    status: 'success',
    build: 'SUCCESS',
    tests: { passed: 5, failed: 0, total: 5 },
  };

  it('build and parse agree; a clear result parses to undefined', () => {
    const s = sealResult(plain, jobId);
    const sk = generateSecretKey();
    const tags = [['e', jobId], ['amount', '1000', 'M2M'], ...buildSealedSummaryTags(s.condition, summary)];
    const event = finalizeEvent({ kind: 6065, tags, content: s.ciphertext }, sk);
    expect(parseSealedResult(event)).toEqual({ condition: s.condition, summary, ciphertext: s.ciphertext });
    const clear = finalizeEvent({ kind: 6065, tags: [['e', jobId]], content: plain }, sk);
    expect(parseSealedResult(clear)).toBeUndefined();
  });

  it('a malformed sealed result is refused, not taken as clear', () => {
    const sk = generateSecretKey();
    const s = sealResult(plain, jobId);
    const good = buildSealedSummaryTags(s.condition, summary);
    const edits: Array<(t: string[][]) => string[][]> = [
      (t) => t.map((x) => (x[0] === 'condition' ? ['condition', 'XYZ'] : x)),
      (t) => t.map((x) => (x[0] === 'cipher' ? ['cipher', 'aes'] : x)),
      (t) => t.filter((x) => x[0] !== 'summary'),
      (t) => t.map((x) => (x[0] === 'summary' ? ['summary', '{'] : x)),
      (t) =>
        t.map((x) =>
          x[0] === 'summary'
            ? ['summary', '{"status":"success","build":"SUCCESS","tests":{"passed":1,"failed":0,"total":2}}']
            : x,
        ),
    ];
    for (const edit of edits) {
      const ev = finalizeEvent(
        { kind: 6065, tags: edit(good.map((x) => [...x])), content: s.ciphertext },
        sk,
      );
      expect(code(() => parseSealedResult(ev))).toBe('INVALID_SEALED_RESULT');
    }
    expect(code(() => buildSealedSummaryTags('nothex', summary))).toBe('INVALID_SEALED_RESULT');
  });

  it('requestedPaymentMode reads the request tag and defaults to after-result', () => {
    const sk = generateSecretKey();
    const req = (tags: string[][]) => finalizeEvent({ kind: 5065, tags, content: '' }, sk);
    expect(requestedPaymentMode(req([['payment', 'atomic']]))).toBe('atomic');
    expect(requestedPaymentMode(req([['payment', 'after-result']]))).toBe('after-result');
    expect(requestedPaymentMode(req([]))).toBe('after-result');
    expect(requestedPaymentMode(req([['payment', 'bolt11']]))).toBe('after-result');
  });
});

describe('summaryContradiction', () => {
  const honest = summaryOf('success', plain);

  it('summaryOf describes the content and the content does not contradict it', () => {
    expect(honest).toEqual({
      status: 'success',
      build: 'SUCCESS',
      tests: { passed: 5, failed: 0, total: 5 },
    });
    expect(summaryContradiction(plain, honest)).toBeUndefined();
    const noTests = JSON.stringify({ build: 'FAILURE', logs: '' });
    expect(summaryContradiction(noTests, summaryOf('error', noTests))).toBeUndefined();
  });

  it('names the first mismatch', () => {
    const c = (content: object, s: SealedSummary = honest) =>
      summaryContradiction(JSON.stringify(content), s);
    expect(summaryContradiction('garbage', honest)).toMatch(/not a JSON result/);
    expect(c({ build: 'FAILURE', tests: { passed: 5, failed: 0 } })).toMatch(/status is success/);
    expect(c({ build: 'SUCCESS', tests: { passed: 4, failed: 1 } })).toMatch(/5 tests passed, the result 4/);
    expect(c({ build: 'SUCCESS' })).toMatch(/no test counts/);
    expect(
      c({ build: 'SUCCESS', tests: { passed: 5, failed: 0 } }, { status: 'success', build: 'SUCCESS' }),
    ).toMatch(/reports no tests/);
    expect(c({ build: 'TIMEOUT' }, { status: 'error', build: 'FAILURE' })).toMatch(/build is FAILURE/);
    expect(c({ build: 'SUCCESS' }, { status: 'error', build: 'SUCCESS' })).toMatch(/status is error/);
  });
});
