// Property tests. nostr-tools (a runtime dependency) is the oracle for ids; fast-check generates the inputs.
import fc from 'fast-check';
import { getEventHash as oracleHash } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { finalizeEvent, getEventHash, serializeEvent, verifyEvent } from '../../src/nostr/event.js';
import { generateSecretKey } from '../../src/nostr/keys.js';
import { decrypt, encrypt } from '../../src/nostr/nip44.js';
import { buildJobRequest, parseJobRequest } from '../../src/nostr/nip90.js';

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
// Full Unicode including control characters, quotes, backslashes and astral code points.
const text = fc.string({ unit: 'binary', maxLength: 64 });
const fields = fc.record({
  pubkey: hex64,
  created_at: fc.integer({ min: 0, max: 2 ** 40 }),
  kind: fc.integer({ min: 0, max: 65535 }),
  tags: fc.array(fc.array(text, { maxLength: 4 }), { maxLength: 4 }),
  content: text,
});

describe('event properties', () => {
  it('serialization is JSON that parses back to the fields, and ids agree with nostr-tools', () => {
    fc.assert(
      fc.property(fields, (e) => {
        expect(JSON.parse(serializeEvent(e))).toEqual([0, e.pubkey, e.created_at, e.kind, e.tags, e.content]);
        // nostr-tools rejects null-prototype objects, hence the spread.
        expect(getEventHash(e)).toBe(oracleHash({ ...e }));
      }),
      { numRuns: 300 },
    );
  });

  it('a signed event verifies, and changing any one field makes it fail', () => {
    const sk = generateSecretKey();
    fc.assert(
      fc.property(fields, text, (f, other) => {
        const e = finalizeEvent(
          { kind: f.kind, tags: f.tags, content: f.content, created_at: f.created_at },
          sk,
        );
        expect(verifyEvent(e)).toBe(true);
        if (other !== e.content) expect(verifyEvent({ ...e, content: other })).toBe(false);
        expect(verifyEvent({ ...e, tags: [...e.tags, [other]] })).toBe(false);
        expect(verifyEvent({ ...e, created_at: e.created_at + 1 })).toBe(false);
        expect(verifyEvent({ ...e, kind: (e.kind + 1) % 65536 })).toBe(false);
      }),
      { numRuns: 25 },
    );
  });
});

describe('NIP-44 properties', () => {
  it('decrypt(encrypt(x)) === x for any non-empty string', () => {
    const key = generateSecretKey();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }), (s) => {
        expect(decrypt(encrypt(s, key), key)).toBe(s);
      }),
      { numRuns: 200 },
    );
  });
});

describe('NIP-90 properties', () => {
  it('job requests round trip for arbitrary params, inputs and bids', () => {
    const sk = generateSecretKey();
    const input = fc.record(
      {
        data: text,
        type: fc.string({ minLength: 1, maxLength: 8 }),
        relay: fc.webUrl(),
        marker: fc.string({ minLength: 1 }),
      },
      { requiredKeys: ['data', 'type'] },
    );
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.array(input, { maxLength: 4 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), text, { maxKeys: 4 }),
        fc.option(fc.bigInt({ min: 0n, max: 2n ** 256n }), { nil: undefined }),
        (jobType, inputs, params, bid) => {
          const req = {
            jobType,
            inputs,
            params,
            relays: [],
            content: '',
            ...(bid === undefined ? {} : { bid }),
          };
          const parsed = parseJobRequest(finalizeEvent(buildJobRequest(req), sk));
          expect(parsed.jobType).toBe(jobType);
          expect(parsed.inputs).toEqual(inputs);
          expect(parsed.params).toEqual(params);
          expect(parsed.bid).toBe(bid);
        },
      ),
      { numRuns: 50 },
    );
  });
});
