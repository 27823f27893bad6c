import { describe, expect, it } from 'vitest';
import {
  decodeGeneralizedTime,
  decodeTimestamp,
  encodeGeneralizedTime,
  encodeTimestamp,
  IlpCodecError,
} from '../../src/ilp/index.js';
import { loadVector } from './vectors.js';

interface OerVectors {
  timestamp_encode: string[][];
  timestamp_decode_valid: string[][];
  timestamp_decode_invalid: string[];
}
const v = loadVector<OerVectors>('oer.vectors.json');

/** The vectors' inputs are ISO strings; JS Date needs '.' for the fraction and '+HH:MM' offsets. */
function parseIso(s: string): Date {
  const normalized = s.replace(',', '.').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const d = new Date(normalized);
  if (Number.isNaN(d.getTime())) throw new Error(`test helper could not parse ${s}`);
  return d;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(IlpCodecError);
    return (e as IlpCodecError).code;
  }
}

describe('ILPv4 timestamps (RFC 0030 vectors)', () => {
  it('has 13 encode, 4 decode-valid and 10 decode-invalid vectors', () => {
    expect(v.timestamp_encode).toHaveLength(13);
    expect(v.timestamp_decode_valid).toHaveLength(4);
    expect(v.timestamp_decode_invalid).toHaveLength(10);
  });
  for (const [iso, wire] of v.timestamp_encode) {
    it(`encodes ${iso} as ${wire}`, () => expect(encodeTimestamp(parseIso(iso as string))).toBe(wire));
  }
  for (const [wire, iso] of v.timestamp_decode_valid) {
    it(`decodes ${wire}`, () => expect(decodeTimestamp(wire as string).toISOString()).toBe(iso));
  }
  for (const wire of v.timestamp_decode_invalid) {
    it(`rejects ${wire}`, () => expect(codeOf(() => decodeTimestamp(wire))).toBe('BAD_TIMESTAMP'));
  }
});

describe('calendar validation', () => {
  const ok = [
    '20240229000000000',
    '20000229235959999',
    '00010101000000000',
    '99991231235959999',
    '00000101000000000',
  ];
  const bad = [
    '20230229000000000', // not a leap year
    '19000229000000000', // century, not a leap year
    '20240431000000000', // April has 30 days
    '20240100000000000', // day 0
    '20240001000000000', // month 0
    '20241301000000000', // month 13
    '20240101240000000', // hour 24
    '20240101236000000', // minute 60
    '20240101235960000', // second 60
    '2024010123595900a', // not a digit
    '+2024010123595900', // sign
    '２0240101000000000', // full-width digit
  ];
  for (const s of ok) {
    it(`accepts ${s} and round-trips it`, () => expect(encodeTimestamp(decodeTimestamp(s))).toBe(s));
  }
  for (const s of bad)
    it(`rejects ${s}`, () => expect(codeOf(() => decodeTimestamp(s))).toBe('BAD_TIMESTAMP'));

  it('years below 100 are not shifted to the 1900s', () => {
    expect(decodeTimestamp('00500615120000000').getUTCFullYear()).toBe(50);
  });

  it('refuses dates that do not fit four digits, and invalid dates', () => {
    expect(codeOf(() => encodeTimestamp(new Date('+010000-01-01T00:00:00Z')))).toBe('BAD_TIMESTAMP');
    expect(codeOf(() => encodeTimestamp(new Date(Number.NaN)))).toBe('BAD_TIMESTAMP');
  });
});

describe('BTP GeneralizedTime', () => {
  it('matches the btp-packet vector format', () => {
    const d = new Date('2017-08-28T18:32:00.000Z');
    expect(encodeGeneralizedTime(d)).toBe('20170828183200.000Z');
    expect(decodeGeneralizedTime('20170828183200.000Z').getTime()).toBe(d.getTime());
  });
  for (const s of [
    '20170828183200.000',
    '20170828183200Z',
    '20171328183200.000Z',
    '20170828243200.000Z',
    '20170828183200.000+0000',
  ]) {
    it(`rejects ${s}`, () => expect(codeOf(() => decodeGeneralizedTime(s))).toBe('BAD_TIMESTAMP'));
  }
});
