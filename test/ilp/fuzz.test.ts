// Fuzzing (fixed seeds): random bytes and mutations of valid packets. Every input must either decode
// or throw IlpCodecError; anything decoded must re-encode to exactly the same bytes (the codec is canonical).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deserializeBtpPacket,
  deserializeIlpPacket,
  IlpCodecError,
  serializeBtpPacket,
  serializeIlpPacket,
} from '../../src/ilp/index.js';
import { btpPacket, ilpPacket } from './arbitraries.js';

const SEED = 424_242;
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Decodes; returns whether it succeeded. Fails the test if anything but IlpCodecError escapes. */
function decodesOrThrowsTyped(
  bytes: Uint8Array,
  decode: (b: Uint8Array) => unknown,
  encode: (p: never) => Uint8Array,
): boolean {
  let decoded: unknown;
  try {
    decoded = decode(bytes);
  } catch (e) {
    if (!(e instanceof IlpCodecError))
      throw new Error(`non-typed error escaped for ${toHex(bytes)}: ${String(e)}`);
    expect(e.code).toMatch(/^[A-Z0-9_]+$/);
    return false;
  }
  expect(toHex(encode(decoded as never))).toBe(toHex(bytes));
  return true;
}

type Mutation = {
  kind: 'flip' | 'set' | 'insert' | 'delete' | 'truncate' | 'append';
  at: number;
  value: number;
};
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate', 'append'),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
});

function mutate(bytes: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = Array.from(bytes);
  for (const m of muts) {
    const i = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'flip' && b.length) b[i] = (b[i] as number) ^ (1 << (m.value % 8));
    else if (m.kind === 'set' && b.length) b[i] = m.value;
    else if (m.kind === 'insert') b.splice(i, 0, m.value);
    else if (m.kind === 'delete') b.splice(i, 1);
    else if (m.kind === 'truncate') b = b.slice(0, i);
    else if (m.kind === 'append') b.push(m.value);
  }
  return Uint8Array.from(b);
}

const codecs = [
  {
    name: 'ILPv4',
    arb: ilpPacket,
    decode: deserializeIlpPacket,
    encode: serializeIlpPacket,
    types: [12, 13, 14],
  },
  {
    name: 'BTP',
    arb: btpPacket,
    decode: deserializeBtpPacket,
    encode: serializeBtpPacket,
    types: [1, 2, 3, 4, 5, 6, 7],
  },
] as const;

for (const c of codecs) {
  describe(`${c.name} decoder fuzzing`, () => {
    it('random bytes: decode or typed error, never anything else (3000 cases)', () => {
      let runs = 0;
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
          runs++;
          decodesOrThrowsTyped(bytes, c.decode, c.encode);
        }),
        { seed: SEED, numRuns: 3000 },
      );
      expect(runs).toBe(3000);
    });

    it('random bytes behind a valid type octet (3000 cases)', () => {
      fc.assert(
        fc.property(fc.constantFrom(...c.types), fc.uint8Array({ maxLength: 300 }), (type, rest) => {
          decodesOrThrowsTyped(Uint8Array.from([type, ...rest]), c.decode, c.encode);
        }),
        { seed: SEED + 1, numRuns: 3000 },
      );
    });

    it('mutations of valid packets (4000 cases; some still decode, most do not)', () => {
      let decoded = 0;
      let rejected = 0;
      fc.assert(
        fc.property(c.arb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (p, muts) => {
          const bytes = mutate(c.encode(p as never), muts);
          if (decodesOrThrowsTyped(bytes, c.decode, c.encode)) decoded++;
          else rejected++;
        }),
        { seed: SEED + 2, numRuns: 4000 },
      );
      // Both outcomes must occur, or the mutations are not exercising the decoder.
      expect(decoded).toBeGreaterThan(100);
      expect(rejected).toBeGreaterThan(1000);
    });

    it('round-trips random valid packets (2000 cases)', () => {
      fc.assert(
        fc.property(c.arb, (p) => {
          const bytes = c.encode(p as never);
          expect(c.decode(bytes)).toEqual(p);
          // A Node Buffer input decodes the same (peers hand us Buffers).
          expect(c.decode(Buffer.from(bytes))).toEqual(p);
        }),
        { seed: SEED + 3, numRuns: 2000 },
      );
    });

    it('every strict prefix of a valid packet is rejected as truncated', () => {
      fc.assert(
        fc.property(c.arb, (p) => {
          const bytes = c.encode(p as never);
          for (let n = 0; n < bytes.length; n += Math.max(1, Math.floor(bytes.length / 40))) {
            expect(() => c.decode(bytes.subarray(0, n))).toThrow(IlpCodecError);
          }
        }),
        { seed: SEED + 4, numRuns: 300 },
      );
    });
  });
}
