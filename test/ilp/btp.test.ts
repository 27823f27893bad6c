import { describe, expect, it } from 'vitest';
import {
  type BtpPacket,
  BtpPacketType,
  type BtpProtocolData,
  btpAuthMessage,
  btpIlpMessage,
  deserializeBtpPacket,
  getProtocolData,
  IlpCodecError,
  readBtpAuthToken,
  serializeBtpPacket,
} from '../../src/ilp/index.js';
import { hex, loadVector, toHex } from './vectors.js';

interface BtpVectors {
  protocolData: { protocolName: string; contentType: number; data_hex: string }[];
  vectors: { name: string; binary: string; json: Record<string, string | number> }[];
}
const v = loadVector<BtpVectors>('btp/btp-packet.vectors.json');
const protocolData: BtpProtocolData[] = v.protocolData.map((p) => ({
  protocolName: p.protocolName,
  contentType: p.contentType,
  data: hex(p.data_hex),
}));

function expectedOf(vec: BtpVectors['vectors'][number]): BtpPacket {
  const { type, requestId } = vec.json as { type: number; requestId: number };
  switch (type) {
    case 2:
      return {
        type: 2,
        requestId,
        code: vec.json.code as string,
        name: vec.json.name as string,
        triggeredAt: new Date(vec.json.triggeredAt as string),
        data: new TextEncoder().encode(vec.json.data_utf8 as string),
        protocolData,
      };
    case 7:
      return { type: 7, requestId, amount: BigInt(vec.json.amount as string), protocolData };
    default:
      return { type: type as 1 | 6, requestId, protocolData };
  }
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IlpCodecError);
    return (e as IlpCodecError).code;
  }
  throw new Error('expected a throw');
}

describe('BTP vectors (btp-packet)', () => {
  it('has 4 vectors with 4 protocolData entries', () => {
    expect(v.vectors).toHaveLength(4);
    expect(protocolData).toHaveLength(4);
  });
  for (const vec of v.vectors) {
    it(`${vec.name}: decodes and re-encodes`, () => {
      const want = expectedOf(vec);
      expect(deserializeBtpPacket(hex(vec.binary))).toEqual(want);
      expect(toHex(serializeBtpPacket(want))).toBe(vec.binary);
    });
  }
});

const transferId = Uint8Array.from({ length: 16 }, (_, i) => i);
const roundTrips: BtpPacket[] = [
  {
    type: BtpPacketType.Prepare,
    requestId: 0xffffffff,
    transferId,
    amount: (1n << 64n) - 1n,
    executionCondition: new Uint8Array(32).fill(5),
    expiresAt: new Date('2030-02-28T23:59:59.999Z'),
    protocolData: [],
  },
  {
    type: BtpPacketType.Fulfill,
    requestId: 0,
    transferId,
    fulfillment: new Uint8Array(32).fill(6),
    protocolData,
  },
  { type: BtpPacketType.Reject, requestId: 9, transferId, protocolData: [] },
  {
    type: BtpPacketType.Message,
    requestId: 1,
    protocolData: [{ protocolName: 'x', contentType: 200, data: new Uint8Array(300) }],
  },
];

describe('BTP Prepare/Fulfill/Reject (RFC 0023 layouts) and edge values', () => {
  for (const p of roundTrips) {
    it(`type ${p.type} round-trips`, () => expect(deserializeBtpPacket(serializeBtpPacket(p))).toEqual(p));
  }
  it('writes 300 protocolData entries with a 2-byte count', () => {
    const many = Array.from({ length: 300 }, (_, i) => ({
      protocolName: `p${i}`,
      contentType: 0,
      data: new Uint8Array(),
    }));
    const bytes = serializeBtpPacket({ type: 6, requestId: 1, protocolData: many });
    // type, requestId, 3-byte contents length, then the count: length 2, value 0x012c.
    expect(toHex(bytes.subarray(8, 11))).toBe('02012c');
    expect(deserializeBtpPacket(bytes)).toEqual({ type: 6, requestId: 1, protocolData: many });
  });
});

describe('BTP auth and helpers', () => {
  it('btpAuthMessage puts auth first, then auth_token as UTF-8 text', () => {
    const m = btpAuthMessage('s3cret-ü', 42);
    expect(m.protocolData.map((p) => [p.protocolName, p.contentType])).toEqual([
      ['auth', 0],
      ['auth_token', 1],
    ]);
    const decoded = deserializeBtpPacket(serializeBtpPacket(m));
    expect(decoded.requestId).toBe(42);
    expect(readBtpAuthToken(decoded)).toBe('s3cret-ü');
  });
  it('readBtpAuthToken refuses anything that is not an auth message', () => {
    expect(readBtpAuthToken(btpIlpMessage(new Uint8Array([1]), 1))).toBeUndefined();
    expect(
      readBtpAuthToken({ type: 1, requestId: 1, protocolData: btpAuthMessage('t').protocolData }),
    ).toBeUndefined();
    const noToken = btpAuthMessage('t');
    noToken.protocolData.pop();
    expect(readBtpAuthToken(noToken)).toBeUndefined();
    const badUtf8 = btpAuthMessage('t');
    (badUtf8.protocolData[1] as BtpProtocolData).data = new Uint8Array([0xff]);
    expect(readBtpAuthToken(badUtf8)).toBeUndefined();
  });
  it('btpIlpMessage carries the ILP packet under "ilp"', () => {
    const m = btpIlpMessage(new Uint8Array([12, 0]));
    expect(m.requestId).toBeGreaterThanOrEqual(0);
    expect(m.requestId).toBeLessThan(2 ** 32);
    expect(getProtocolData(m, 'ilp')?.data).toEqual(new Uint8Array([12, 0]));
  });
});

describe('strict BTP decoding', () => {
  const response = hex(v.vectors[0]?.binary as string);
  const rejects: [string, Uint8Array, string][] = [
    ['an empty input', new Uint8Array(), 'OER_TRUNCATED'],
    ['type 0', hex('00000000010100'), 'BTP_UNKNOWN_TYPE'],
    ['type 8', hex('08000000010100'), 'BTP_UNKNOWN_TYPE'],
    ['a truncated requestId', hex('010000'), 'OER_TRUNCATED'],
    ['trailing bytes after the envelope', Uint8Array.from([...response, 0]), 'OER_TRAILING_BYTES'],
    ['trailing bytes inside the contents', hex('0100000001030100ff'), 'OER_TRAILING_BYTES'],
    ['a count with a leading zero', hex('010000000103020001'), 'OER_NON_CANONICAL_INT'],
    ['a count of zero length', hex('0100000001010000'.slice(0, 14)), 'OER_NON_CANONICAL_INT'],
    ['a count larger than the data', hex('01000000010201ff'), 'OER_TRUNCATED'],
    ['a non-canonical contents length', hex('01000000018102010000'.slice(0, 16)), 'OER_NON_CANONICAL_LENGTH'],
    ['a non-ASCII protocolName', hex('010000000106010101ff0000'), 'BTP_NOT_ASCII'],
    ['a duplicate protocolName', hex('01000000010a01020161000001610000'), 'BTP_DUPLICATE_PROTOCOL'],
    ['a GeneralizedTime with month 13', errorWithTime('20171328183200.000Z'), 'BAD_TIMESTAMP'],
    ['a GeneralizedTime with the wrong length', errorWithTime('20170828183200Z'), 'BAD_TIMESTAMP'],
    ['8193 bytes of error data', errorWithTime('20170828183200.000Z', 8193), 'BTP_DATA_TOO_LONG'],
  ];
  for (const [name, bytes, code] of rejects)
    it(`rejects ${name} (${code})`, () => expect(codeOf(() => deserializeBtpPacket(bytes))).toBe(code));

  it('the hand-built Error decodes when the time is right and data is 8192 bytes', () => {
    const p = deserializeBtpPacket(errorWithTime('20170828183200.000Z', 8192));
    expect(p.type === 2 && p.data.length).toBe(8192);
  });

  it('refuses to write bad fields', () => {
    expect(
      codeOf(() =>
        serializeBtpPacket({
          type: 2,
          requestId: 1,
          code: 'F0',
          name: 'x',
          triggeredAt: new Date(),
          data: new Uint8Array(),
          protocolData: [],
        }),
      ),
    ).toBe('BTP_BAD_ERROR_CODE');
    expect(
      codeOf(() =>
        serializeBtpPacket({
          type: 3,
          requestId: 1,
          transferId: new Uint8Array(15),
          amount: 1n,
          executionCondition: new Uint8Array(32),
          expiresAt: new Date(),
          protocolData: [],
        }),
      ),
    ).toBe('BTP_BAD_LENGTH');
    expect(codeOf(() => serializeBtpPacket({ type: 6, requestId: 2 ** 32, protocolData: [] }))).toBe(
      'OER_RANGE',
    );
    expect(
      codeOf(() =>
        serializeBtpPacket({
          type: 6,
          requestId: 1,
          protocolData: [{ protocolName: 'é', contentType: 0, data: new Uint8Array() }],
        }),
      ),
    ).toBe('BTP_NOT_ASCII');
    expect(
      codeOf(() =>
        serializeBtpPacket({
          type: 6,
          requestId: 1,
          protocolData: [{ protocolName: 'a', contentType: 256, data: new Uint8Array() }],
        }),
      ),
    ).toBe('OER_RANGE');
    const dup = { protocolName: 'a', contentType: 0, data: new Uint8Array() };
    expect(codeOf(() => serializeBtpPacket({ type: 6, requestId: 1, protocolData: [dup, dup] }))).toBe(
      'BTP_DUPLICATE_PROTOCOL',
    );
    expect(
      codeOf(() => serializeBtpPacket({ type: 9, requestId: 1, protocolData: [] } as unknown as BtpPacket)),
    ).toBe('BTP_UNKNOWN_TYPE');
  });
});

/** A BTP Error packet with an arbitrary triggeredAt string and `dataLen` bytes of data, built by hand. */
function errorWithTime(time: string, dataLen = 0): Uint8Array {
  const lenPrefix = (n: number) => (n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
  const t = [...Buffer.from(time, 'latin1')];
  const contents = [
    ...Buffer.from('F00'),
    1,
    0x78,
    ...lenPrefix(t.length),
    ...t,
    ...lenPrefix(dataLen),
    ...new Uint8Array(dataLen),
    1,
    0,
  ];
  return Uint8Array.from([2, 0, 0, 0, 1, ...lenPrefix(contents.length), ...contents]);
}
