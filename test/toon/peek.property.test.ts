// Property tests: peekKind never returns a kind different from the decoder's (fast-check, fixed seeds).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent, encodeEventBytes, peekKind, ToonError } from '../../src/toon/index.js';
import { validEvent } from './helpers.js';
import { mutatedEvent } from './mutations.js';
import { isTopLevelKindError, oracle, tryPeek } from './oracle.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

describe('peekKind on valid events', () => {
  it('equals the event kind and decodeEvent(...).kind, for strings and bytes', () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        const text = encodeEvent(event);
        const bytes = encodeEventBytes(event);
        expect(decodeEvent(text)).toEqual(event);
        expect(peekKind(text)).toBe(event.kind);
        expect(peekKind(bytes)).toBe(event.kind);
        expect(decodeEvent(bytes).kind).toBe(event.kind);
      }),
      { seed: 0x70_0e, numRuns: 1500 },
    );
  });
});

describe('peekKind on mutated events never disagrees with the decoder', () => {
  it('holds for line and byte mutations', () => {
    const counts = { agreedKind: 0, bothRefused: 0, peekOnlyDecodeFailed: 0, invalidUtf8: 0 };
    fc.assert(
      fc.property(mutatedEvent, (bytes) => {
        const peek = tryPeek(() => peekKind(bytes));
        if (!peek.ok) expect(peek.error).toBeInstanceOf(ToonError);

        let text: string;
        try {
          text = utf8.decode(bytes);
        } catch {
          counts.invalidUtf8++;
          expect(() => decodeEvent(bytes)).toThrow(ToonError);
          return; // not text: the decoder never sees it, so there is no kind to disagree with
        }
        expect(tryPeek(() => peekKind(text))).toEqual(
          peek.ok ? peek : expect.objectContaining({ ok: false }),
        );

        const expected = oracle(text);
        if (expected.type === 'kind') {
          // The decoder yields a kind: peekKind returns it, or refuses (only allowed for non-event keys).
          if (peek.ok) {
            expect(peek.kind).toBe(expected.kind);
            counts.agreedKind++;
          } else {
            expect(() => decodeEvent(text)).toThrow(ToonError);
            counts.bothRefused++;
          }
        } else if (expected.type === 'no-kind') {
          expect(peek.ok, 'decoder found no usable kind but peekKind returned one').toBe(false);
          counts.bothRefused++;
        } else if (peek.ok) {
          // The decoder failed; peekKind may answer only if the failure is not about kind/top-level shape.
          expect(isTopLevelKindError(expected.error), expected.error.message).toBe(false);
          counts.peekOnlyDecodeFailed++;
        } else {
          counts.bothRefused++;
        }

        // And whenever the full event decodes, they agree exactly.
        const decoded = tryPeek(() => decodeEvent(bytes).kind);
        if (decoded.ok) expect(peek).toEqual(decoded);
      }),
      { seed: 0x5065, numRuns: 4000 },
    );
    console.log('mutation outcomes', counts);
    // The generator must exercise every branch, or the property proves little.
    expect(counts.agreedKind).toBeGreaterThan(100);
    expect(counts.bothRefused).toBeGreaterThan(100);
    expect(counts.invalidUtf8).toBeGreaterThan(10);
  });
});
