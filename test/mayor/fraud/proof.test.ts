// Fraud proofs (issue 19): a report proves fraud only with public data, and nothing else verifies: forged keys,
// re-signed or altered results, honest results, malformed reports.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildFraudReport,
  FRAUD_LABEL,
  FRAUD_NAMESPACE,
  isFraudReport,
  verifyFraudReport,
} from '../../../src/mayor/fraud/proof.js';
import { finalizeEvent, verifyEvent } from '../../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../../src/nostr/keys.js';
import { parseReport } from '../../../src/nostr/nip56.js';
import { conditionOfKey } from '../../../src/nostr/sealed-result.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { alphaSk, betaSk, jobRequest, sealedResult } from './sealed.js';

const beta = getPublicKey(betaSk);

const report = (resultEvent: NostrEvent, key: Uint8Array, mismatch = 'mismatch', sk = alphaSk) =>
  finalizeEvent(buildFraudReport({ resultEvent, key, mismatch }), sk);

/** Re-signs an edited event with `sk` (a new id, a valid signature by that key). */
const resign = (e: NostrEvent, sk: Uint8Array, edit: Partial<NostrEvent> = {}) =>
  finalizeEvent({ kind: e.kind, tags: e.tags, content: e.content, created_at: e.created_at, ...edit }, sk);

describe('fraud proof of a sealed result', () => {
  it('proves a ciphertext that does not decrypt under the key the provider released', () => {
    // The provider signs garbage in place of its ciphertext, and the condition of a key it then releases.
    const { result, key } = sealedResult({ ciphertext: Buffer.from(randomBytes(80)).toString('base64') });
    const r = report(result, key, 'does not decrypt');
    expect(verifyEvent(r)).toBe(true);
    expect(isFraudReport(r)).toBe(true);
    const parsed = parseReport(r);
    expect(parsed).toMatchObject({ reported: beta, type: 'other', eventId: result.id });
    expect(parsed.label).toEqual({ namespace: FRAUD_NAMESPACE, value: FRAUD_LABEL });
    const v = verifyFraudReport(r);
    expect(v).toMatchObject({
      verified: true,
      code: 'DECRYPT_FAILED',
      provider: beta,
      resultEventId: result.id,
    });
    expect(v.reason).toMatch(/does not decrypt/);
  });

  it('proves a ciphertext sealed for another job (the job id is the AAD)', () => {
    const other = jobRequest(alphaSk, 'another job');
    const { result, key } = sealedResult({ sealFor: other.id });
    expect(verifyFraudReport(report(result, key))).toMatchObject({ verified: true, code: 'DECRYPT_FAILED' });
  });

  it('proves a result that contradicts its signed summary (failed tests sold as a success)', () => {
    const { result, key } = sealedResult({
      plain: JSON.stringify({ build: 'FAILURE', tests: { passed: 3, failed: 9 } }),
    });
    const v = verifyFraudReport(report(result, key, 'summary says success'));
    expect(v).toMatchObject({ verified: true, code: 'CONTRADICTS_SUMMARY' });
    expect(v.reason).toMatch(/summary status is success but the result's build is FAILURE/);
  });

  it('proves a result whose test counts differ from the summary', () => {
    const { result, key } = sealedResult({
      plain: JSON.stringify({ build: 'SUCCESS', tests: { passed: 11, failed: 0 } }),
    });
    const v = verifyFraudReport(report(result, key));
    expect(v).toMatchObject({ verified: true, code: 'CONTRADICTS_SUMMARY' });
    expect(v.reason).toMatch(/12 tests passed, the result 11/);
  });

  it('verifies from the relay when the report only refers to the result', () => {
    const { result, key } = sealedResult({ ciphertext: Buffer.from(randomBytes(64)).toString('base64') });
    const r = finalizeEvent(
      buildFraudReport({ resultEvent: result, key, mismatch: 'x', referenceOnly: true }),
      alphaSk,
    );
    expect(r.content).toBe('');
    expect(verifyFraudReport(r)).toMatchObject({ verified: false, code: 'INVALID' });
    expect(verifyFraudReport(r, result)).toMatchObject({ verified: true, code: 'DECRYPT_FAILED' });
    // A different event handed in for that id proves nothing.
    const { result: other } = sealedResult({ ciphertext: Buffer.from(randomBytes(64)).toString('base64') });
    expect(verifyFraudReport(r, other)).toMatchObject({ verified: false, code: 'INVALID' });
  });
});

describe('forged and false reports do not verify', () => {
  it('an honest result (decrypts, matches its summary) is a false accusation', () => {
    const { result, key } = sealedResult();
    const v = verifyFraudReport(report(result, key, 'I claim it is broken'));
    expect(v).toMatchObject({ verified: false, code: 'HONEST', provider: beta });
    expect(v.reason).toMatch(/false accusation/);
  });

  it('a key that does not hash to the condition (the requester never got it from the provider)', () => {
    const { result } = sealedResult();
    const wrongKey = new Uint8Array(randomBytes(32));
    const v = verifyFraudReport(report(result, wrongKey));
    expect(v).toMatchObject({ verified: false, code: 'INVALID' });
    expect(v.reason).toMatch(/not the result's condition/);
  });

  it("a result re-signed by someone else (the reporter's own garbage under the provider's name)", () => {
    const mallory = generateSecretKey();
    const { result } = sealedResult({
      sk: mallory,
      ciphertext: Buffer.from(randomBytes(64)).toString('base64'),
    });
    const { key } = sealedResult();
    // Mallory signs a sealed result, then reports it as Beta's: the p tag names Beta, the event is Mallory's.
    const forged = finalizeEvent(
      {
        kind: 1984,
        tags: buildFraudReport({ resultEvent: result, key, mismatch: 'x' }).tags.map((t) =>
          t[0] === 'p' ? ['p', beta, 'other'] : t,
        ),
        content: JSON.stringify(result),
      },
      alphaSk,
    );
    const v = verifyFraudReport(forged);
    expect(v).toMatchObject({ verified: false, code: 'INVALID' });
    expect(v.reason).toMatch(/not by the reported provider/);
  });

  it("an honest result altered after signing (new content under the provider's signature)", () => {
    const { result, key } = sealedResult();
    const tampered = { ...result, content: Buffer.from(randomBytes(80)).toString('base64') };
    const v = verifyFraudReport(report(tampered, key));
    expect(v).toMatchObject({ verified: false, code: 'INVALID' });
    expect(v.reason).toMatch(/not validly signed/);
    // The same edit re-signed by the reporter is the reporter's event, not the provider's.
    const mine = resign(result, alphaSk, { content: tampered.content });
    const forged = finalizeEvent(
      {
        kind: 1984,
        tags: buildFraudReport({ resultEvent: mine, key, mismatch: 'x' }).tags.map((t) =>
          t[0] === 'p' ? ['p', beta, 'other'] : t,
        ),
        content: JSON.stringify(mine),
      },
      alphaSk,
    );
    expect(verifyFraudReport(forged)).toMatchObject({ verified: false, code: 'INVALID' });
  });

  it('a valid proof whose summary was edited in the report (the embedded event no longer verifies)', () => {
    const { result, key } = sealedResult();
    const edited = {
      ...result,
      tags: result.tags.map((t) =>
        t[0] === 'summary' ? ['summary', JSON.stringify({ status: 'success', build: 'SUCCESS' })] : t,
      ),
    };
    expect(verifyFraudReport(report(edited, key))).toMatchObject({ verified: false, code: 'INVALID' });
  });

  it('a report whose e tag names another event than the one embedded', () => {
    const { result, key } = sealedResult({ ciphertext: Buffer.from(randomBytes(64)).toString('base64') });
    const t = buildFraudReport({ resultEvent: result, key, mismatch: 'x' });
    const r = finalizeEvent(
      { ...t, tags: t.tags.map((x) => (x[0] === 'e' ? ['e', 'f'.repeat(64), 'other'] : x)) },
      alphaSk,
    );
    expect(verifyFraudReport(r)).toMatchObject({ verified: false, code: 'INVALID' });
  });

  it('a clear (not sealed) result, a non-result event, a tampered or malformed report', () => {
    const request = jobRequest();
    const clear = finalizeEvent(
      {
        kind: 6065,
        tags: [
          ['e', request.id],
          ['p', getPublicKey(alphaSk)],
        ],
        content: 'plain',
      },
      betaSk,
    );
    const key = new Uint8Array(randomBytes(32));
    expect(verifyFraudReport(report(clear, key)).reason).toMatch(/not sealed/);
    const note = finalizeEvent({ kind: 1, tags: [], content: 'hi' }, betaSk);
    expect(verifyFraudReport(report(note, key)).reason).toMatch(/not a job result/);

    const { result, key: k } = sealedResult({ ciphertext: Buffer.from(randomBytes(64)).toString('base64') });
    const good = report(result, k);
    expect(verifyFraudReport({ ...good, content: `${good.content} ` }).reason).toMatch(/report itself/);
    const noKey = finalizeEvent({ ...good, tags: good.tags.filter((t) => t[0] !== 'key') }, alphaSk);
    expect(verifyFraudReport(noKey).reason).toMatch(/no key/);
    const notJson = finalizeEvent({ kind: 1984, tags: good.tags, content: '{oops' }, alphaSk);
    expect(verifyFraudReport(notJson).reason).toMatch(/not JSON/);
    const noP = finalizeEvent({ kind: 1984, tags: [], content: '' }, alphaSk);
    expect(verifyFraudReport(noP)).toMatchObject({ verified: false, code: 'INVALID' });
    for (const v of [noKey, notJson, noP].map((r) => verifyFraudReport(r))) expect(v.verified).toBe(false);
  });

  it('the key hashes to the condition: the check is SHA-256(K), not K itself', () => {
    const { result, key } = sealedResult({ ciphertext: Buffer.from(randomBytes(64)).toString('base64') });
    const condition = result.tags.find((t) => t[0] === 'condition')![1]!;
    expect(conditionOfKey(key)).toBe(condition);
    // Putting the condition itself where the key goes proves nothing.
    const v = verifyFraudReport(report(result, new Uint8Array(Buffer.from(condition, 'hex'))));
    expect(v).toMatchObject({ verified: false, code: 'INVALID' });
  });
});
