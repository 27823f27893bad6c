// Differential tests: our codec against the npm ilp-packet and btp-packet codecs (test oracles only).
import * as btpOracle from 'btp-packet';
import fc from 'fast-check';
import * as ilpOracle from 'ilp-packet';
import { describe, expect, it } from 'vitest';
import {
  type BtpPacket,
  deserializeBtpPacket,
  deserializeIlpPacket,
  IlpCodecError,
  type IlpPacket,
  OerWriter,
  serializeBtpPacket,
  serializeIlpPacket,
} from '../../src/ilp/index.js';
import { btpCommonPacket, ilpPacket } from './arbitraries.js';

const SEED = 20_241_125;
const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const toHex = (b: Uint8Array) => buf(b).toString('hex');

function oracleSerializeIlp(p: IlpPacket): Buffer {
  switch (p.type) {
    case 12:
      return ilpOracle.serializeIlpPrepare({
        amount: p.amount.toString(),
        expiresAt: p.expiresAt,
        executionCondition: buf(p.executionCondition),
        destination: p.destination,
        data: buf(p.data),
      });
    case 13:
      return ilpOracle.serializeIlpFulfill({ fulfillment: buf(p.fulfillment), data: buf(p.data) });
    case 14:
      return ilpOracle.serializeIlpReject({
        code: p.code,
        triggeredBy: p.triggeredBy,
        message: p.message,
        data: buf(p.data),
      });
  }
}

/** The oracle's decoding, brought to our shape. */
function oracleDeserializeIlp(bytes: Uint8Array): IlpPacket {
  const p = ilpOracle.deserializeIlpPacket(buf(bytes));
  const u8 = (b: Buffer) => new Uint8Array(b);
  if (p.type === 12) {
    const d = p.data;
    return {
      type: 12,
      amount: BigInt(d.amount),
      expiresAt: d.expiresAt,
      executionCondition: u8(d.executionCondition),
      destination: d.destination,
      data: u8(d.data),
    };
  }
  if (p.type === 13) return { type: 13, fulfillment: u8(p.data.fulfillment), data: u8(p.data.data) };
  return {
    type: 14,
    code: p.data.code,
    triggeredBy: p.data.triggeredBy,
    message: p.data.message,
    data: u8(p.data.data),
  };
}

describe('ILPv4: same bytes and same packets as ilp-packet', () => {
  it('random valid packets serialize identically and decode identically both ways', () => {
    fc.assert(
      fc.property(ilpPacket, (p) => {
        const ours = serializeIlpPacket(p);
        const theirs = oracleSerializeIlp(p);
        expect(toHex(ours)).toBe(theirs.toString('hex'));
        expect(deserializeIlpPacket(theirs)).toEqual(p);
        expect(oracleDeserializeIlp(ours)).toEqual(p);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

/** A PREPARE written field by field, bypassing validation, to feed both decoders what only a lenient writer produces. */
function rawPrepare(timestamp: string, dataLen: number): Uint8Array {
  const contents = new OerWriter()
    .writeUInt64(1n)
    .writeOctets(new TextEncoder().encode(timestamp))
    .writeOctets(new Uint8Array(32))
    .writeVarOctetString(new TextEncoder().encode('g.alice'))
    .writeVarOctetString(new Uint8Array(dataLen))
    .finish();
  return new OerWriter().writeUInt8(12).writeVarOctetString(contents).finish();
}

function ourCode(bytes: Uint8Array): string | undefined {
  try {
    deserializeIlpPacket(bytes);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(IlpCodecError);
    return (e as IlpCodecError).code;
  }
}

describe('where ilp-packet is lenient, we reject', () => {
  const lenient: [string, string, number, string][] = [
    ['32768 bytes of data', '20300101000000000', 32768, 'DATA_TOO_LONG'],
    ['month 13', '20301301000000000', 0, 'BAD_TIMESTAMP'],
    ['hour 24', '20300101240000000', 0, 'BAD_TIMESTAMP'],
    ['second 60', '20301231235960000', 0, 'BAD_TIMESTAMP'],
  ];
  for (const [name, ts, len, code] of lenient) {
    it(`${name}: ilp-packet accepts, we throw ${code}`, () => {
      const bytes = rawPrepare(ts, len);
      expect(() => ilpOracle.deserializeIlpPacket(buf(bytes))).not.toThrow();
      expect(ourCode(bytes)).toBe(code);
    });
  }
  it('ilp-packet serializes 32768 bytes of data; we refuse', () => {
    const p = {
      amount: '1',
      expiresAt: new Date(),
      executionCondition: Buffer.alloc(32),
      destination: 'g.alice',
      data: Buffer.alloc(32768),
    };
    expect(() => ilpOracle.serializeIlpPrepare(p)).not.toThrow();
    expect(() => serializeIlpPacket({ ...p, type: 12, amount: 1n })).toThrow(IlpCodecError);
  });
  it('the control (valid timestamp, 32767 bytes) is accepted by both', () => {
    const bytes = rawPrepare('20300101000000000', 32767);
    expect(() => ilpOracle.deserializeIlpPacket(buf(bytes))).not.toThrow();
    expect(ourCode(bytes)).toBeUndefined();
  });
});

type OracleBtp = ReturnType<typeof btpOracle.deserialize>;

function toOracleBtp(p: BtpPacket): Parameters<typeof btpOracle.serialize>[0] {
  const protocolData = p.protocolData.map((e) => ({ ...e, data: buf(e.data) }));
  switch (p.type) {
    case 1:
    case 6:
      return { type: p.type, requestId: p.requestId, data: { protocolData } } as Parameters<
        typeof btpOracle.serialize
      >[0];
    case 2:
      return {
        type: 2,
        requestId: p.requestId,
        data: {
          code: p.code,
          name: p.name,
          triggeredAt: p.triggeredAt.toISOString(),
          data: new TextDecoder().decode(p.data),
          protocolData,
        },
      } as Parameters<typeof btpOracle.serialize>[0];
    case 7:
      return {
        type: 7,
        requestId: p.requestId,
        data: { amount: p.amount.toString(), protocolData },
      } as Parameters<typeof btpOracle.serialize>[0];
    default:
      throw new Error(`btp-packet 2.2.1 has no type ${p.type}`);
  }
}

function fromOracleBtp(o: OracleBtp): BtpPacket {
  const d = o.data as Record<string, unknown> & {
    protocolData: { protocolName: string; contentType: number; data: Buffer }[];
  };
  const protocolData = d.protocolData.map((e) => ({
    protocolName: e.protocolName,
    contentType: e.contentType,
    data: new Uint8Array(e.data),
  }));
  if (o.type === 2) {
    return {
      type: 2,
      requestId: o.requestId,
      code: d.code as string,
      name: d.name as string,
      triggeredAt: d.triggeredAt as Date,
      data: new TextEncoder().encode(d.data as string),
      protocolData,
    };
  }
  if (o.type === 7)
    return { type: 7, requestId: o.requestId, amount: BigInt(d.amount as string), protocolData };
  return { type: o.type as 1 | 6, requestId: o.requestId, protocolData };
}

describe('BTP: same bytes and same packets as btp-packet', () => {
  it('random valid Response/Error/Message/Transfer packets agree both ways', () => {
    fc.assert(
      fc.property(btpCommonPacket, (p) => {
        const ours = serializeBtpPacket(p);
        const theirs = btpOracle.serialize(toOracleBtp(p));
        expect(toHex(ours)).toBe(theirs.toString('hex'));
        expect(deserializeBtpPacket(theirs)).toEqual(p);
        expect(fromOracleBtp(btpOracle.deserialize(buf(ours)))).toEqual(p);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
  it('where btp-packet is lenient (month 13 in triggeredAt), we reject', () => {
    const good = serializeBtpPacket({
      type: 2,
      requestId: 1,
      code: 'F00',
      name: 'x',
      triggeredAt: new Date('2017-08-28T18:32:00.000Z'),
      data: new Uint8Array(),
      protocolData: [],
    });
    const bad = Buffer.from(
      toHex(good).replace(Buffer.from('201708').toString('hex'), Buffer.from('201713').toString('hex')),
      'hex',
    );
    expect(() => btpOracle.deserialize(bad)).not.toThrow();
    expect(() => deserializeBtpPacket(bad)).toThrow(IlpCodecError);
  });
});
