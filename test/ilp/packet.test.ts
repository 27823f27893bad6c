import { describe, expect, it } from 'vitest';
import {
  deserializeIlpFulfill,
  deserializeIlpPacket,
  deserializeIlpPrepare,
  deserializeIlpReject,
  deserializeIlpReply,
  ILP_MAX_DATA_LENGTH,
  IlpCodecError,
  type IlpPacket,
  IlpPacketType,
  type IlpPrepare,
  serializeIlpFulfill,
  serializeIlpPacket,
  serializeIlpPrepare,
  serializeIlpReject,
} from '../../src/ilp/index.js';
import { b64, hex, loadVector, toHex } from './vectors.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IlpCodecError);
    return (e as IlpCodecError).code;
  }
  throw new Error('expected a throw');
}

interface JsVector {
  binary: string;
  json: Record<string, string>;
}
const jsPrepare = loadVector<JsVector>('interledgerjs-ilp-packet/ilp_prepare.example01.json');
const jsFulfill = loadVector<JsVector>('interledgerjs-ilp-packet/ilp_fulfill.example01.json');
const jsReject = loadVector<JsVector>('interledgerjs-ilp-packet/ilp_reject.example01.json');
const rs = loadVector<Record<'prepare' | 'fulfill' | 'reject', JsVector>>('interledger-rs/packets.json');

/** Expected packets built from each vector's JSON side. */
const expected: [string, string, IlpPacket][] = [
  [
    'interledgerjs prepare',
    jsPrepare.binary,
    {
      type: 12,
      amount: BigInt(jsPrepare.json.amount as string),
      expiresAt: new Date(jsPrepare.json.expiresAt as string),
      executionCondition: b64(jsPrepare.json.executionCondition as string),
      destination: jsPrepare.json.destination as string,
      data: b64(jsPrepare.json.data as string),
    },
  ],
  [
    'interledgerjs fulfill',
    jsFulfill.binary,
    {
      type: 13,
      fulfillment: b64(jsFulfill.json.fulfillment as string),
      data: b64(jsFulfill.json.data as string),
    },
  ],
  [
    'interledgerjs reject',
    jsReject.binary,
    {
      type: 14,
      code: jsReject.json.code as string,
      triggeredBy: jsReject.json.triggeredBy as string,
      message: jsReject.json.message as string,
      data: b64(jsReject.json.data as string),
    },
  ],
  [
    'interledger-rs prepare',
    rs.prepare.binary,
    {
      type: 12,
      amount: BigInt(rs.prepare.json.amount as string),
      expiresAt: new Date(rs.prepare.json.expiresAt as string),
      executionCondition: hex(rs.prepare.json.executionCondition_hex as string),
      destination: rs.prepare.json.destination as string,
      data: hex(rs.prepare.json.data_hex as string),
    },
  ],
  [
    'interledger-rs fulfill',
    rs.fulfill.binary,
    {
      type: 13,
      fulfillment: hex(rs.fulfill.json.fulfillment_hex as string),
      data: hex(rs.fulfill.json.data_hex as string),
    },
  ],
  [
    'interledger-rs reject',
    rs.reject.binary,
    {
      type: 14,
      code: rs.reject.json.code as string,
      triggeredBy: rs.reject.json.triggeredBy as string,
      message: rs.reject.json.message as string,
      data: hex(rs.reject.json.data_hex as string),
    },
  ],
];

describe('ILPv4 packet vectors', () => {
  it('has 6 packet vectors (3 interledgerjs, 3 interledger-rs)', () => expect(expected).toHaveLength(6));
  for (const [name, binary, packet] of expected) {
    it(`${name}: decodes to the JSON and re-encodes to the same bytes`, () => {
      expect(deserializeIlpPacket(hex(binary))).toEqual(packet);
      expect(toHex(serializeIlpPacket(packet))).toBe(binary);
    });
  }
  it('interledger-rs data is 257 bytes, so long-form length determinants are exercised', () => {
    expect(hex(rs.prepare.json.data_hex as string)).toHaveLength(257);
  });
  it('typed deserializers check the type', () => {
    expect(deserializeIlpPrepare(hex(jsPrepare.binary)).type).toBe(IlpPacketType.Prepare);
    expect(deserializeIlpFulfill(hex(jsFulfill.binary)).type).toBe(IlpPacketType.Fulfill);
    expect(deserializeIlpReject(hex(jsReject.binary)).type).toBe(IlpPacketType.Reject);
    expect(deserializeIlpReply(hex(jsReject.binary)).type).toBe(IlpPacketType.Reject);
    expect(codeOf(() => deserializeIlpPrepare(hex(jsFulfill.binary)))).toBe('UNEXPECTED_TYPE');
    expect(codeOf(() => deserializeIlpFulfill(hex(jsPrepare.binary)))).toBe('UNEXPECTED_TYPE');
    expect(codeOf(() => deserializeIlpReject(hex(jsPrepare.binary)))).toBe('UNEXPECTED_TYPE');
    expect(codeOf(() => deserializeIlpReply(hex(jsPrepare.binary)))).toBe('UNEXPECTED_TYPE');
  });
  it('a Node Buffer input gives plain Uint8Array copies, not Buffer views', () => {
    const input = Buffer.from(jsPrepare.binary, 'hex');
    const p = deserializeIlpPrepare(input);
    expect(Buffer.isBuffer(p.data)).toBe(false);
    expect(Buffer.isBuffer(p.executionCondition)).toBe(false);
    input.fill(0);
    expect(toHex(p.data)).toBe(toHex(b64(jsPrepare.json.data as string)));
  });
  it('decoded fields are copies, not views of the input', () => {
    const input = hex(jsFulfill.binary);
    const p = deserializeIlpFulfill(input);
    input.fill(0);
    expect(toHex(p.fulfillment)).toBe(toHex(b64(jsFulfill.json.fulfillment as string)));
  });
});

const basePrepare: Omit<IlpPrepare, 'type'> = {
  amount: 1000n,
  expiresAt: new Date('2030-01-02T03:04:05.678Z'),
  executionCondition: new Uint8Array(32).fill(1),
  destination: 'g.crosstown.relay',
  data: new Uint8Array(0),
};

/** Builds a PREPARE by hand so we can put in what the serializer refuses to write. */
function rawPrepare(
  opts: { timestamp?: string; destination?: string; dataLen?: number; trailing?: number[] } = {},
): Uint8Array {
  const ts = Buffer.from(opts.timestamp ?? '20300102030405678', 'latin1');
  const dest = Buffer.from(opts.destination ?? 'g.crosstown.relay', 'latin1');
  const data = new Uint8Array(opts.dataLen ?? 0);
  const lenPrefix = (n: number) => (n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
  const contents = [
    ...new Uint8Array(8),
    ...ts,
    ...new Uint8Array(32),
    ...lenPrefix(dest.length),
    ...dest,
    ...lenPrefix(data.length),
    ...data,
    ...(opts.trailing ?? []),
  ];
  return Uint8Array.from([12, ...lenPrefix(contents.length), ...contents]);
}

function rawReject(code: string, triggeredBy: string, message: number[], dataLen: number): Uint8Array {
  const lenPrefix = (n: number) => (n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
  const by = [...Buffer.from(triggeredBy, 'latin1')];
  const contents = [
    ...Buffer.from(code, 'latin1'),
    ...lenPrefix(by.length),
    ...by,
    ...lenPrefix(message.length),
    ...message,
    ...lenPrefix(dataLen),
    ...new Uint8Array(dataLen),
  ];
  return Uint8Array.from([14, ...lenPrefix(contents.length), ...contents]);
}

describe('strict decoding of ILPv4 packets', () => {
  it('the hand-built REJECT decodes when nothing is wrong', () => {
    expect(deserializeIlpReject(rawReject('F01', 'g.a', [0x68, 0x69], 3))).toEqual({
      type: 14,
      code: 'F01',
      triggeredBy: 'g.a',
      message: 'hi',
      data: new Uint8Array(3),
    });
  });
  it('the hand-built PREPARE decodes when nothing is wrong', () => {
    expect(deserializeIlpPrepare(rawPrepare()).destination).toBe('g.crosstown.relay');
    expect(deserializeIlpPrepare(rawPrepare({ dataLen: ILP_MAX_DATA_LENGTH })).data).toHaveLength(32767);
  });
  const rejects: [string, () => Uint8Array, string][] = [
    ['32768 bytes of data', () => rawPrepare({ dataLen: 32768 }), 'DATA_TOO_LONG'],
    ['month 13', () => rawPrepare({ timestamp: '20301302030405678' }), 'BAD_TIMESTAMP'],
    ['hour 24', () => rawPrepare({ timestamp: '20300102240000000' }), 'BAD_TIMESTAMP'],
    ['second 60', () => rawPrepare({ timestamp: '20301231235960000' }), 'BAD_TIMESTAMP'],
    ['February 30', () => rawPrepare({ timestamp: '20300230000000000' }), 'BAD_TIMESTAMP'],
    ['a non-digit in the timestamp', () => rawPrepare({ timestamp: '2030010203040567Z' }), 'BAD_TIMESTAMP'],
    ['an unknown address scheme', () => rawPrepare({ destination: 'what.alice' }), 'BAD_ADDRESS'],
    ['an empty destination', () => rawPrepare({ destination: '' }), 'BAD_ADDRESS'],
    [
      'a 1024-character destination',
      () => rawPrepare({ destination: `g.${'x'.repeat(1022)}` }),
      'BAD_ADDRESS',
    ],
    ['a non-ASCII destination', () => rawPrepare({ destination: 'g.caf\u00e9' }), 'BAD_ADDRESS'],
    ['trailing bytes inside the contents', () => rawPrepare({ trailing: [0] }), 'OER_TRAILING_BYTES'],
    ['trailing bytes after the envelope', () => Uint8Array.from([...rawPrepare(), 0]), 'OER_TRAILING_BYTES'],
    ['a truncated envelope', () => rawPrepare().subarray(0, 40), 'OER_TRUNCATED'],
    ['an empty input', () => new Uint8Array(0), 'OER_TRUNCATED'],
    ['only a type byte', () => Uint8Array.from([12]), 'OER_TRUNCATED'],
    ['an unknown type', () => Uint8Array.from([15, 0]), 'UNKNOWN_TYPE'],
    ['type 1 (ILPv1)', () => Uint8Array.from([1, 0]), 'UNKNOWN_TYPE'],
    [
      'a non-canonical envelope length',
      () => hex('0d812200000000000000000000000000000000000000000000000000000000000000000000'),
      'OER_NON_CANONICAL_LENGTH',
    ],
    ['an empty FULFILL contents', () => hex('0d00'), 'OER_TRUNCATED'],
    ['a REJECT with a lower-case code', () => rawReject('f01', '', [], 0), 'BAD_ERROR_CODE'],
    ['a REJECT with a code outside F/T/R', () => rawReject('X01', '', [], 0), 'BAD_ERROR_CODE'],
    ['a REJECT with a bad triggeredBy', () => rawReject('F01', 'foo', [], 0), 'BAD_ADDRESS'],
    ['a REJECT with invalid UTF-8 in the message', () => rawReject('F01', '', [0xc3, 0x28], 0), 'BAD_UTF8'],
    ['a REJECT with 32768 bytes of data', () => rawReject('F01', '', [], 32768), 'DATA_TOO_LONG'],
  ];
  for (const [name, build, code] of rejects)
    it(`rejects ${name} (${code})`, () => expect(codeOf(() => deserializeIlpPacket(build()))).toBe(code));

  it('keeps a leading byte-order mark in a REJECT message, so re-encoding gives the same bytes', () => {
    const bytes = serializeIlpReject({
      code: 'F99',
      triggeredBy: '',
      message: '\uFEFFhi',
      data: new Uint8Array(),
    });
    const r = deserializeIlpReject(bytes);
    expect(r.message).toBe('\uFEFFhi');
    expect(toHex(serializeIlpReject(r))).toBe(toHex(bytes));
  });
  it('accepts a REJECT with an empty triggeredBy and UTF-8 message', () => {
    const bytes = serializeIlpReject({
      code: 'T04',
      triggeredBy: '',
      message: 'liquidité épuisée ✓',
      data: new Uint8Array([1]),
    });
    expect(deserializeIlpReject(bytes)).toEqual({
      type: 14,
      code: 'T04',
      triggeredBy: '',
      message: 'liquidité épuisée ✓',
      data: new Uint8Array([1]),
    });
  });
});

describe('strict encoding of ILPv4 packets', () => {
  const cases: [string, () => unknown, string][] = [
    [
      '32768 bytes of PREPARE data',
      () => serializeIlpPrepare({ ...basePrepare, data: new Uint8Array(32768) }),
      'DATA_TOO_LONG',
    ],
    [
      '32768 bytes of FULFILL data',
      () => serializeIlpFulfill({ fulfillment: new Uint8Array(32), data: new Uint8Array(32768) }),
      'DATA_TOO_LONG',
    ],
    [
      '32768 bytes of REJECT data',
      () => serializeIlpReject({ code: 'F99', triggeredBy: '', message: '', data: new Uint8Array(32768) }),
      'DATA_TOO_LONG',
    ],
    ['a negative amount', () => serializeIlpPrepare({ ...basePrepare, amount: -1n }), 'OER_RANGE'],
    ['an amount of 2^64', () => serializeIlpPrepare({ ...basePrepare, amount: 1n << 64n }), 'OER_RANGE'],
    [
      'a 31-byte condition',
      () => serializeIlpPrepare({ ...basePrepare, executionCondition: new Uint8Array(31) }),
      'BAD_LENGTH',
    ],
    [
      'a 33-byte fulfillment',
      () => serializeIlpFulfill({ fulfillment: new Uint8Array(33), data: new Uint8Array() }),
      'BAD_LENGTH',
    ],
    ['a bad destination', () => serializeIlpPrepare({ ...basePrepare, destination: 'g.' }), 'BAD_ADDRESS'],
    [
      'an invalid date',
      () => serializeIlpPrepare({ ...basePrepare, expiresAt: new Date('nope') }),
      'BAD_TIMESTAMP',
    ],
    [
      'a 4-character code',
      () => serializeIlpReject({ code: 'F001', triggeredBy: '', message: '', data: new Uint8Array() }),
      'BAD_ERROR_CODE',
    ],
    [
      'a bad triggeredBy',
      () => serializeIlpReject({ code: 'F00', triggeredBy: 'me', message: '', data: new Uint8Array() }),
      'BAD_ADDRESS',
    ],
    [
      'an unknown packet type',
      () => serializeIlpPacket({ type: 99 } as unknown as IlpPacket),
      'UNKNOWN_TYPE',
    ],
  ];
  for (const [name, fn, code] of cases) it(`refuses ${name} (${code})`, () => expect(codeOf(fn)).toBe(code));

  it('encodes the maximum amount and 32767 bytes of data', () => {
    const p = { ...basePrepare, amount: (1n << 64n) - 1n, data: new Uint8Array(ILP_MAX_DATA_LENGTH).fill(9) };
    expect(deserializeIlpPrepare(serializeIlpPrepare(p))).toEqual({ type: 12, ...p });
  });
});
