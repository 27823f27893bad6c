import { describe, expect, it } from 'vitest';
import {
  assertIlpAddress,
  getAddressScheme,
  IlpCodecError,
  isChildAddress,
  isValidIlpAddress,
} from '../../src/ilp/index.js';
import { loadVector } from './vectors.js';

const v = loadVector<{ regex: string; max_length: number; valid: string[]; invalid: string[] }>(
  'ilp-address.vectors.json',
);

describe('ILP addresses (RFC 0015 vectors)', () => {
  it('has 12 valid and 12 invalid vectors', () => {
    expect(v.valid).toHaveLength(12);
    expect(v.invalid).toHaveLength(12);
  });
  for (const a of v.valid) {
    it(`accepts ${a.slice(0, 40)}`, () => {
      expect(isValidIlpAddress(a)).toBe(true);
      expect(() => assertIlpAddress(a)).not.toThrow();
    });
  }
  for (const a of v.invalid) {
    it(`rejects ${JSON.stringify(a)}`, () => {
      expect(isValidIlpAddress(a)).toBe(false);
      expect(() => assertIlpAddress(a)).toThrow(IlpCodecError);
    });
  }
  it('allows exactly 1023 characters, not 1024 (generated vectors)', () => {
    const max = `g.${'x'.repeat(v.max_length - 2)}`;
    expect(max).toHaveLength(1023);
    expect(isValidIlpAddress(max)).toBe(true);
    expect(isValidIlpAddress(`${max}x`)).toBe(false);
    try {
      assertIlpAddress(`${max}x`);
    } catch (e) {
      expect((e as IlpCodecError).code).toBe('BAD_ADDRESS');
      expect((e as Error).message).toContain('1024');
    }
  });
  it('agrees with the RFC regex on the vectors and on mutations', () => {
    const rfc = new RegExp(v.regex);
    const samples = [
      ...v.valid,
      ...v.invalid,
      'g.a\n',
      'g.a.b\u0000',
      'G.a',
      'g.a b',
      'test3.a.b.c',
      'local.~',
    ];
    for (const s of samples) expect(isValidIlpAddress(s)).toBe(rfc.test(s));
  });
  it('rejects non-strings', () => {
    expect(isValidIlpAddress(undefined)).toBe(false);
    expect(isValidIlpAddress(42)).toBe(false);
  });
});

describe('address helpers', () => {
  it('getAddressScheme', () => {
    expect(getAddressScheme('g.us.bank')).toBe('g');
    expect(getAddressScheme('test3.x')).toBe('test3');
    expect(() => getAddressScheme('nope.x')).toThrow(IlpCodecError);
  });
  it('isChildAddress is true only strictly below the parent on a segment boundary', () => {
    expect(isChildAddress('g.crosstown', 'g.crosstown.alice')).toBe(true);
    expect(isChildAddress('g.crosstown', 'g.crosstown.alice.x')).toBe(true);
    expect(isChildAddress('g.crosstown', 'g.crosstown')).toBe(false);
    expect(isChildAddress('g.crosstown', 'g.crosstownx.alice')).toBe(false);
    expect(isChildAddress('g.crosstown', 'g.other.alice')).toBe(false);
    expect(isChildAddress('g.crosstown', 'g.crosstown.')).toBe(false);
    expect(isChildAddress('bad', 'bad.x')).toBe(false);
  });
});
