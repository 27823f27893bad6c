// BTP 2.0 (RFC 0023) packets in canonical OER: type octet, uint32 requestId, contents as a
// var-octet-string. Decoding failures throw IlpCodecError with a 'BTP_' or 'OER_' code, so one
// catch covers ILP and BTP alike.
import { randomInt } from 'node:crypto';
import { IlpCodecError } from './codec-error.js';
import { OerReader, OerWriter } from './oer.js';
import { decodeGeneralizedTime, encodeGeneralizedTime } from './timestamp.js';

export const BtpPacketType = {
  Response: 1,
  Error: 2,
  Prepare: 3,
  Fulfill: 4,
  Reject: 5,
  Message: 6,
  Transfer: 7,
} as const;
export type BtpPacketType = (typeof BtpPacketType)[keyof typeof BtpPacketType];

export const BtpContentType = { OctetStream: 0, TextPlainUtf8: 1, ApplicationJson: 2 } as const;

/** RFC 0023: the data of an Error is at most 8192 bytes. */
export const BTP_ERROR_MAX_DATA = 8192;

export interface BtpProtocolData {
  /** IA5 (ASCII) name; unique within one packet. 'ilp' carries an ILPv4 packet. */
  protocolName: string;
  /** 0 octet-stream, 1 UTF-8 text, 2 JSON (other values 3..255 are allowed and passed through). */
  contentType: number;
  data: Uint8Array;
}

interface BtpBase {
  /** uint32 chosen by the requester; a Response/Error echoes it. */
  requestId: number;
  protocolData: BtpProtocolData[];
}

export interface BtpResponse extends BtpBase {
  type: typeof BtpPacketType.Response;
}
export interface BtpError extends BtpBase {
  type: typeof BtpPacketType.Error;
  /** Three IA5 characters, e.g. 'F00'. */
  code: string;
  name: string;
  triggeredAt: Date;
  data: Uint8Array;
}
export interface BtpPrepare extends BtpBase {
  type: typeof BtpPacketType.Prepare;
  /** UInt128 as 16 bytes. */
  transferId: Uint8Array;
  amount: bigint;
  executionCondition: Uint8Array;
  expiresAt: Date;
}
export interface BtpFulfill extends BtpBase {
  type: typeof BtpPacketType.Fulfill;
  transferId: Uint8Array;
  fulfillment: Uint8Array;
}
export interface BtpReject extends BtpBase {
  type: typeof BtpPacketType.Reject;
  transferId: Uint8Array;
}
export interface BtpMessage extends BtpBase {
  type: typeof BtpPacketType.Message;
}
export interface BtpTransfer extends BtpBase {
  type: typeof BtpPacketType.Transfer;
  amount: bigint;
}
export type BtpPacket =
  | BtpResponse
  | BtpError
  | BtpPrepare
  | BtpFulfill
  | BtpReject
  | BtpMessage
  | BtpTransfer;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function asciiBytes(s: string, what: string): Uint8Array {
  if (typeof s !== 'string' || !isAscii(s))
    throw new IlpCodecError('BTP_NOT_ASCII', `${what} must be ASCII (IA5String)`);
  return utf8.encode(s);
}

function readAscii(bytes: Uint8Array, what: string): string {
  for (const b of bytes) {
    if (b > 0x7f)
      throw new IlpCodecError('BTP_NOT_ASCII', `${what} contains a non-ASCII byte 0x${b.toString(16)}`);
  }
  // Chunked to stay clear of the argument limit of fromCharCode on long fields.
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return s;
}

function checkFixed(bytes: Uint8Array, n: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== n) {
    throw new IlpCodecError('BTP_BAD_LENGTH', `${what} must be exactly ${n} bytes`);
  }
}

function writeProtocolData(w: OerWriter, entries: BtpProtocolData[]): void {
  if (!Array.isArray(entries))
    throw new IlpCodecError('BTP_BAD_PROTOCOL_DATA', 'protocolData must be an array');
  const seen = new Set<string>();
  w.writeVarUInt(BigInt(entries.length));
  for (const e of entries) {
    if (seen.has(e.protocolName)) {
      throw new IlpCodecError(
        'BTP_DUPLICATE_PROTOCOL',
        `protocolData names "${e.protocolName}" twice; names must be unique`,
      );
    }
    seen.add(e.protocolName);
    if (!(e.data instanceof Uint8Array))
      throw new IlpCodecError('BTP_BAD_PROTOCOL_DATA', 'protocolData data must be a Uint8Array');
    w.writeVarOctetString(asciiBytes(e.protocolName, 'protocolName'));
    w.writeUInt8(e.contentType);
    w.writeVarOctetString(e.data);
  }
}

function readProtocolData(r: OerReader): BtpProtocolData[] {
  const count = r.readVarUInt('protocolData count');
  // Each entry takes at least 3 bytes; a larger count cannot be honest, so stop before looping.
  if (count * 3n > BigInt(r.remaining)) {
    throw new IlpCodecError(
      'OER_TRUNCATED',
      `protocolData claims ${count} entries but only ${r.remaining} bytes remain`,
    );
  }
  const out: BtpProtocolData[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < Number(count); i++) {
    const protocolName = readAscii(r.readVarOctetString('protocolName'), 'protocolName');
    if (seen.has(protocolName)) {
      throw new IlpCodecError(
        'BTP_DUPLICATE_PROTOCOL',
        `protocolData names "${protocolName}" twice; names must be unique`,
      );
    }
    seen.add(protocolName);
    const contentType = r.readUInt8('contentType');
    const data = r.readVarOctetString('protocolData data');
    out.push({ protocolName, contentType, data });
  }
  return out;
}

function writeContents(w: OerWriter, p: BtpPacket): void {
  switch (p.type) {
    case BtpPacketType.Response:
    case BtpPacketType.Message:
      break;
    case BtpPacketType.Error: {
      const code = asciiBytes(p.code, 'error code');
      if (code.length !== 3)
        throw new IlpCodecError('BTP_BAD_ERROR_CODE', `error code must be 3 characters, got "${p.code}"`);
      if (!(p.data instanceof Uint8Array) || p.data.length > BTP_ERROR_MAX_DATA) {
        throw new IlpCodecError(
          'BTP_DATA_TOO_LONG',
          `error data must be a Uint8Array of at most ${BTP_ERROR_MAX_DATA} bytes`,
        );
      }
      w.writeOctets(code);
      w.writeVarOctetString(asciiBytes(p.name, 'error name'));
      w.writeVarOctetString(utf8.encode(encodeGeneralizedTime(p.triggeredAt)));
      w.writeVarOctetString(p.data);
      break;
    }
    case BtpPacketType.Prepare:
      checkFixed(p.transferId, 16, 'transferId');
      checkFixed(p.executionCondition, 32, 'executionCondition');
      w.writeOctets(p.transferId);
      w.writeUInt64(p.amount);
      w.writeOctets(p.executionCondition);
      w.writeVarOctetString(utf8.encode(encodeGeneralizedTime(p.expiresAt)));
      break;
    case BtpPacketType.Fulfill:
      checkFixed(p.transferId, 16, 'transferId');
      checkFixed(p.fulfillment, 32, 'fulfillment');
      w.writeOctets(p.transferId);
      w.writeOctets(p.fulfillment);
      break;
    case BtpPacketType.Reject:
      checkFixed(p.transferId, 16, 'transferId');
      w.writeOctets(p.transferId);
      break;
    case BtpPacketType.Transfer:
      w.writeUInt64(p.amount);
      break;
    default:
      throw new IlpCodecError(
        'BTP_UNKNOWN_TYPE',
        `unknown BTP packet type ${String((p as { type: unknown }).type)}`,
      );
  }
  writeProtocolData(w, p.protocolData);
}

export function serializeBtpPacket(p: BtpPacket): Uint8Array {
  const contents = new OerWriter();
  writeContents(contents, p);
  const body = contents.finish();
  const w = new OerWriter(body.length + 16);
  w.writeUInt8(p.type).writeUInt32(p.requestId).writeVarOctetString(body);
  return w.finish();
}

function readGeneralizedTime(r: OerReader, what: string): Date {
  const bytes = r.readVarOctetString(what);
  if (bytes.length !== 19) {
    throw new IlpCodecError(
      'BAD_TIMESTAMP',
      `${what} must be 19 characters YYYYMMDDHHmmss.SSSZ, got ${bytes.length}`,
    );
  }
  return decodeGeneralizedTime(readAscii(bytes, what));
}

/** Decodes one BTP packet; every failure is an IlpCodecError. */
export function deserializeBtpPacket(bytes: Uint8Array): BtpPacket {
  if (!(bytes instanceof Uint8Array)) throw new IlpCodecError('BAD_INPUT', 'BTP packet must be a Uint8Array');
  const outer = new OerReader(bytes);
  const type = outer.readUInt8('BTP type');
  if (type < 1 || type > 7) {
    throw new IlpCodecError(
      'BTP_UNKNOWN_TYPE',
      `BTP type ${type} is not one of 1 (Response) .. 7 (Transfer)`,
    );
  }
  const requestId = outer.readUInt32('requestId');
  const r = new OerReader(outer.readVarOctetString('BTP contents'));
  outer.assertEnd('BTP packet');
  let packet: BtpPacket;
  switch (type) {
    case BtpPacketType.Error: {
      const code = readAscii(r.readOctets(3, 'error code'), 'error code');
      const name = readAscii(r.readVarOctetString('error name'), 'error name');
      const triggeredAt = readGeneralizedTime(r, 'triggeredAt');
      const data = r.readVarOctetString('error data');
      if (data.length > BTP_ERROR_MAX_DATA) {
        throw new IlpCodecError(
          'BTP_DATA_TOO_LONG',
          `error data is ${data.length} bytes; at most ${BTP_ERROR_MAX_DATA}`,
        );
      }
      packet = { type, requestId, code, name, triggeredAt, data, protocolData: readProtocolData(r) };
      break;
    }
    case BtpPacketType.Prepare: {
      const transferId = r.readOctets(16, 'transferId');
      const amount = r.readUInt64('amount');
      const executionCondition = r.readOctets(32, 'executionCondition');
      const expiresAt = readGeneralizedTime(r, 'expiresAt');
      packet = {
        type,
        requestId,
        transferId,
        amount,
        executionCondition,
        expiresAt,
        protocolData: readProtocolData(r),
      };
      break;
    }
    case BtpPacketType.Fulfill: {
      const transferId = r.readOctets(16, 'transferId');
      const fulfillment = r.readOctets(32, 'fulfillment');
      packet = { type, requestId, transferId, fulfillment, protocolData: readProtocolData(r) };
      break;
    }
    case BtpPacketType.Reject:
      packet = {
        type,
        requestId,
        transferId: r.readOctets(16, 'transferId'),
        protocolData: readProtocolData(r),
      };
      break;
    case BtpPacketType.Transfer:
      packet = { type, requestId, amount: r.readUInt64('amount'), protocolData: readProtocolData(r) };
      break;
    default:
      packet = { type: type as 1 | 6, requestId, protocolData: readProtocolData(r) };
  }
  r.assertEnd('BTP contents');
  return packet;
}

/** A random uint32 request id. */
export function randomRequestId(): number {
  return randomInt(0, 2 ** 32 - 1);
}

/** The first entry named `protocolName`, if any. */
export function getProtocolData(packet: BtpPacket, protocolName: string): BtpProtocolData | undefined {
  return packet.protocolData.find((e) => e.protocolName === protocolName);
}

/**
 * The authentication Message RFC 0023 requires as the first packet on a connection:
 * `auth` (empty, octet-stream) first, then `auth_token` (UTF-8 text).
 */
export function btpAuthMessage(token: string, requestId: number = randomRequestId()): BtpMessage {
  return {
    type: BtpPacketType.Message,
    requestId,
    protocolData: [
      { protocolName: 'auth', contentType: BtpContentType.OctetStream, data: new Uint8Array(0) },
      { protocolName: 'auth_token', contentType: BtpContentType.TextPlainUtf8, data: utf8.encode(token) },
    ],
  };
}

/**
 * The token of an authentication Message, or undefined when `packet` is not one (not a Message,
 * `auth` not first, no `auth_token`, or the token is not UTF-8). A server drops the peer then.
 */
export function readBtpAuthToken(packet: BtpPacket): string | undefined {
  if (packet.type !== BtpPacketType.Message || packet.protocolData[0]?.protocolName !== 'auth')
    return undefined;
  const token = getProtocolData(packet, 'auth_token');
  if (!token) return undefined;
  try {
    return utf8Strict.decode(token.data);
  } catch {
    return undefined;
  }
}

/** A BTP Message carrying one ILPv4 packet (the usual request on a BTP link). */
export function btpIlpMessage(ilpPacket: Uint8Array, requestId: number = randomRequestId()): BtpMessage {
  return {
    type: BtpPacketType.Message,
    requestId,
    protocolData: [{ protocolName: 'ilp', contentType: BtpContentType.OctetStream, data: ilpPacket }],
  };
}
