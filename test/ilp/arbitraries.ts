// fast-check generators for valid ILPv4 and BTP packets, shared by the property, differential and fuzz tests.
import fc from 'fast-check';
import type {
  BtpPacket,
  BtpProtocolData,
  IlpFulfill,
  IlpPacket,
  IlpPrepare,
  IlpReject,
} from '../../src/ilp/index.js';

const SEGMENT_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_~-'.split('');
const segment = fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS), minLength: 1, maxLength: 12 });

export const ilpAddress = fc
  .tuple(
    fc.constantFrom('g', 'private', 'example', 'peer', 'self', 'test', 'test1', 'test2', 'test3', 'local'),
    fc.array(segment, { minLength: 1, maxLength: 5 }),
  )
  .map(([scheme, segs]) => [scheme, ...segs].join('.'));

/** Whole milliseconds between 2000 and 2100 (the oracles format years < 1000 differently). */
export const ilpDate = fc
  .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) })
  .map((ms) => new Date(ms));

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const data = fc.uint8Array({ maxLength: 600 });

export const ilpPrepare: fc.Arbitrary<IlpPrepare> = fc.record({
  type: fc.constant(12 as const),
  amount: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  expiresAt: ilpDate,
  executionCondition: bytes32,
  destination: ilpAddress,
  data,
});

export const ilpFulfill: fc.Arbitrary<IlpFulfill> = fc.record({
  type: fc.constant(13 as const),
  fulfillment: bytes32,
  data,
});

export const rejectCode = fc
  .tuple(
    fc.constantFrom('F', 'T', 'R'),
    fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('')),
    fc.constantFrom(...'0123456789'.split('')),
  )
  .map((p) => p.join(''));

export const ilpReject: fc.Arbitrary<IlpReject> = fc.record({
  type: fc.constant(14 as const),
  code: rejectCode,
  triggeredBy: fc.oneof(fc.constant(''), ilpAddress),
  message: fc.string({ unit: 'grapheme', maxLength: 60 }),
  data,
});

export const ilpPacket: fc.Arbitrary<IlpPacket> = fc.oneof(ilpPrepare, ilpFulfill, ilpReject);

const asciiName = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_0123456789'.split('')),
  maxLength: 12,
});

export const protocolData: fc.Arbitrary<BtpProtocolData[]> = fc.uniqueArray(
  fc.record({
    protocolName: asciiName,
    contentType: fc.integer({ min: 0, max: 255 }),
    data: fc.uint8Array({ maxLength: 200 }),
  }),
  { maxLength: 5, selector: (p) => p.protocolName },
);

const requestId = fc.integer({ min: 0, max: 2 ** 32 - 1 });

/** The BTP types btp-packet 2.2.1 also implements (1, 2, 6, 7). */
export const btpCommonPacket: fc.Arbitrary<BtpPacket> = fc.oneof(
  fc.record({ type: fc.constantFrom(1 as const, 6 as const), requestId, protocolData }),
  fc.record({
    type: fc.constant(2 as const),
    requestId,
    code: fc.string({ unit: fc.constantFrom(...'FTRL0123456789'.split('')), minLength: 3, maxLength: 3 }),
    name: asciiName,
    triggeredAt: ilpDate,
    // btp-packet carries Error data as a UTF-8 string.
    data: fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => new TextEncoder().encode(s)),
    protocolData,
  }),
  fc.record({
    type: fc.constant(7 as const),
    requestId,
    amount: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    protocolData,
  }),
);

/** Every BTP type, including the RFC 0023 Prepare/Fulfill/Reject the oracle lacks. */
export const btpPacket: fc.Arbitrary<BtpPacket> = fc.oneof(
  btpCommonPacket,
  fc.record({
    type: fc.constant(3 as const),
    requestId,
    transferId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    amount: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    executionCondition: bytes32,
    expiresAt: ilpDate,
    protocolData,
  }),
  fc.record({
    type: fc.constant(4 as const),
    requestId,
    transferId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    fulfillment: bytes32,
    protocolData,
  }),
  fc.record({
    type: fc.constant(5 as const),
    requestId,
    transferId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    protocolData,
  }),
);
