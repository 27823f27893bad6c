import { describe, expect, it } from 'vitest';
import { IlpCodecError, OerReader, OerWriter } from '../../src/ilp/index.js';
import { hex, loadVector, toHex } from './vectors.js';

interface OerVectors {
  uint: { type: string; hex: string; value: string }[];
  length_determinant: { hex: string; value: number | string }[];
}
const v = loadVector<OerVectors>('oer.vectors.json');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IlpCodecError);
    return (e as IlpCodecError).code;
  }
  throw new Error('expected a throw');
}

describe('OER unsigned integers (RFC 0030 vectors)', () => {
  it('has the 4 vectors', () => expect(v.uint).toHaveLength(4));
  for (const u of v.uint) {
    it(`${u.type} ${u.hex}`, () => {
      const r = new OerReader(hex(u.hex));
      const w = new OerWriter();
      let got: bigint;
      if (u.type === 'UInt8') {
        got = BigInt(r.readUInt8());
        w.writeUInt8(Number(u.value));
      } else if (u.type === 'UInt16') {
        got = BigInt(r.readUInt16());
        w.writeUInt16(Number(u.value));
      } else if (u.type === 'UInt32') {
        got = BigInt(r.readUInt32());
        w.writeUInt32(Number(u.value));
      } else {
        got = r.readUInt64();
        w.writeUInt64(BigInt(u.value));
      }
      r.assertEnd();
      expect(got).toBe(BigInt(u.value));
      expect(toHex(w.finish())).toBe(u.hex.toLowerCase());
    });
  }
});

describe('OER length determinants (RFC 0030 vectors)', () => {
  it('has the 5 vectors', () => expect(v.length_determinant).toHaveLength(5));
  for (const l of v.length_determinant) {
    it(`${l.hex} = ${l.value}`, () => {
      const r = new OerReader(hex(l.hex));
      expect(r.readLengthDeterminant()).toBe(BigInt(l.value));
      r.assertEnd();
      if (BigInt(l.value) <= BigInt(Number.MAX_SAFE_INTEGER)) {
        expect(toHex(new OerWriter().writeLengthPrefix(Number(l.value)).finish())).toBe(l.hex.toLowerCase());
      }
    });
  }

  it('round-trips var-octet-strings at the short/long boundaries', () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536]) {
      const data = new Uint8Array(n).fill(7);
      const bytes = new OerWriter().writeVarOctetString(data).finish();
      const expectedPrefix = n < 128 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 4;
      expect(bytes.length).toBe(n + expectedPrefix);
      const r = new OerReader(bytes);
      expect(r.readVarOctetString()).toEqual(data);
      r.assertEnd();
    }
  });
});

describe('OER must-reject cases', () => {
  const cases: [string, string, (r: OerReader) => unknown, string][] = [
    ['long form for a length < 128', '8105', (r) => r.readLengthDeterminant(), 'OER_NON_CANONICAL_LENGTH'],
    ['long form for 127', '817f', (r) => r.readLengthDeterminant(), 'OER_NON_CANONICAL_LENGTH'],
    [
      'long form with a leading zero byte',
      '820080',
      (r) => r.readLengthDeterminant(),
      'OER_NON_CANONICAL_LENGTH',
    ],
    ['length-of-length 0 (0x80)', '80', (r) => r.readLengthDeterminant(), 'OER_NON_CANONICAL_LENGTH'],
    ['empty input for a length', '', (r) => r.readLengthDeterminant(), 'OER_TRUNCATED'],
    ['long form cut short', '82ab', (r) => r.readLengthDeterminant(), 'OER_TRUNCATED'],
    ['var-octet-string longer than the input', '05aabbccdd', (r) => r.readVarOctetString(), 'OER_TRUNCATED'],
    [
      'huge length (2^63) on a tiny input',
      '888000000000000000',
      (r) => r.readVarOctetString(),
      'OER_TRUNCATED',
    ],
    ['uint8 on empty input', '', (r) => r.readUInt8(), 'OER_TRUNCATED'],
    ['uint16 short', 'ab', (r) => r.readUInt16(), 'OER_TRUNCATED'],
    ['uint32 short', 'abcdef', (r) => r.readUInt32(), 'OER_TRUNCATED'],
    ['uint64 short', 'ac01055a1debac', (r) => r.readUInt64(), 'OER_TRUNCATED'],
    ['fixed octets short', '0102', (r) => r.readOctets(3), 'OER_TRUNCATED'],
    ['var-uint with no bytes', '00', (r) => r.readVarUInt(), 'OER_NON_CANONICAL_INT'],
    ['var-uint with a leading zero', '020001', (r) => r.readVarUInt(), 'OER_NON_CANONICAL_INT'],
    [
      'trailing bytes',
      '0100ff',
      (r) => {
        r.readVarOctetString();
        r.assertEnd();
      },
      'OER_TRAILING_BYTES',
    ],
  ];
  for (const [name, input, fn, code] of cases) {
    it(`rejects ${name} with ${code}`, () => expect(codeOf(() => fn(new OerReader(hex(input))))).toBe(code));
  }

  it('writer refuses out-of-range integers', () => {
    expect(codeOf(() => new OerWriter().writeUInt64(1n << 64n))).toBe('OER_RANGE');
    expect(codeOf(() => new OerWriter().writeUInt64(-1n))).toBe('OER_RANGE');
    expect(codeOf(() => new OerWriter().writeUInt8(256))).toBe('OER_RANGE');
    expect(codeOf(() => new OerWriter().writeUInt32(2 ** 32))).toBe('OER_RANGE');
  });

  it('var-uint round-trips in minimal form', () => {
    for (const n of [0n, 1n, 255n, 256n, (1n << 64n) - 1n, 1n << 100n]) {
      const bytes = new OerWriter().writeVarUInt(n).finish();
      const r = new OerReader(bytes);
      expect(r.readVarUInt()).toBe(n);
      r.assertEnd();
    }
    expect(toHex(new OerWriter().writeVarUInt(0n).finish())).toBe('0100');
    expect(toHex(new OerWriter().writeVarUInt(256n).finish())).toBe('020100');
  });
});
