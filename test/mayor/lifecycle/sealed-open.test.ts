// Issue 19: opening a paid sealed result for its skill. An honest one opens into an event the skill decoder
// accepts (fresh id, author proven by the sealed event); one that does not decrypt under the paid key, or that
// contradicts its signed summary, yields the one-line mismatch the fraud hook gets.
import { describe, expect, it } from 'vitest';
import { openStored } from '../../../src/mayor/lifecycle/sealed-results.js';
import { sealTemplate } from '../../../src/mayor/provider/sealing.js';
import { finalizeEvent } from '../../../src/nostr/event.js';
import { generateSecretKey } from '../../../src/nostr/keys.js';
import { buildSealedSummaryTags, parseSealedResult } from '../../../src/nostr/sealed-result.js';
import { decodeSkillEvent } from '../../../src/skills/event.js';
import { decodeEvent } from '../../../src/toon/index.js';

const sk = generateSecretKey();
const jobId = 'd'.repeat(64);
const plain = JSON.stringify({ build: 'SUCCESS', tests: { passed: 2, failed: 0 }, logs: 'x' });
const clear = {
  kind: 6065,
  tags: [
    ['e', jobId],
    ['p', 'e'.repeat(64)],
    ['amount', '10', 'M2M'],
  ],
  content: plain,
};

describe('openStored', () => {
  it('opens an honest sealed result into an event the skill accepts, without the sealing tags', () => {
    const { template, sealed } = sealTemplate(clear, jobId, 'success');
    const event = finalizeEvent(template, sk);
    const opened = openStored(event, parseSealedResult(event)!, sealed.key, jobId);
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    const plainEvent = decodeEvent(opened.stored.toon);
    expect(plainEvent.content).toBe(plain);
    expect(plainEvent.tags.map((t) => t[0])).toEqual(['e', 'p', 'amount']);
    expect(opened.stored.priv).toEqual({ senderPubkey: event.pubkey, wrapId: event.id });
    const checked = decodeSkillEvent(opened.stored.toon, { kind: 6065, private: opened.stored.priv! });
    expect(checked.pubkey).toBe(event.pubkey);
  });

  it('a key that does not open it, and a summary the content contradicts, are fraud with a reason', () => {
    const { template, sealed } = sealTemplate(clear, jobId, 'success');
    const event = finalizeEvent(template, sk);
    const wrongKey = openStored(event, parseSealedResult(event)!, new Uint8Array(32).fill(3), jobId);
    expect(wrongKey).toMatchObject({ ok: false, mismatch: expect.stringMatching(/does not decrypt/) });
    // A provider that signs "3/3 passed" over a result that says 2/2.
    const lying = finalizeEvent(
      {
        ...template,
        tags: [
          ...template.tags.filter((t) => !['payment', 'condition', 'cipher', 'summary'].includes(t[0]!)),
          ...buildSealedSummaryTags(sealed.condition, {
            status: 'success',
            build: 'SUCCESS',
            tests: { passed: 3, failed: 0, total: 3 },
          }),
        ],
      },
      sk,
    );
    const lie = openStored(lying, parseSealedResult(lying)!, sealed.key, jobId);
    expect(lie).toMatchObject({ ok: false, mismatch: 'summary says 3 tests passed, the result 2' });
  });
});
