// ILPv4 packets (RFC 0027) in canonical OER: a type octet, then the contents as one var-octet-string.
import { assertIlpAddress, ILP_ADDRESS_MAX_LENGTH } from './address.js';
import { IlpCodecError } from './codec-error.js';
import { assertRejectCode } from './errors.js';
import { OerReader, OerWriter } from './oer.js';
import { decodeTimestamp, encodeTimestamp } from './timestamp.js';
import { type IlpFulfill, type IlpPacket, IlpPacketType, type IlpPrepare, type IlpReject } from './types.js';

/** RFC 0027: data in every ILPv4 packet is at most 32767 bytes. */
export const ILP_MAX_DATA_LENGTH = 32767;

const utf8 = new TextEncoder();
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: keep a leading BOM so re-encoding gives the same bytes.
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// Callers bound the length first (addresses <= 1023 bytes), so apply() stays within argument limits.
const ascii = (bytes: Uint8Array): string => String.fromCharCode.apply(null, bytes as unknown as number[]);

/** Reads an address field; the length check comes first so a huge field is never turned into a string. */
function readAddress(r: OerReader, what: string, allowEmpty: boolean): string {
  const bytes = r.readVarOctetString(what);
  if (bytes.length > ILP_ADDRESS_MAX_LENGTH) {
    throw new IlpCodecError(
      'BAD_ADDRESS',
      `${what} is ${bytes.length} bytes; an ILP address has at most ${ILP_ADDRESS_MAX_LENGTH}`,
    );
  }
  const address = ascii(bytes);
  if (!(allowEmpty && address === '')) assertIlpAddress(address, what);
  return address;
}

function checkData(data: Uint8Array, what: string): void {
  if (!(data instanceof Uint8Array)) throw new IlpCodecError('BAD_DATA', `${what} must be a Uint8Array`);
  if (data.length > ILP_MAX_DATA_LENGTH) {
    throw new IlpCodecError(
      'DATA_TOO_LONG',
      `${what} is ${data.length} bytes; ILPv4 allows at most ${ILP_MAX_DATA_LENGTH}. Split the payload or shrink it`,
    );
  }
}

function check32(bytes: Uint8Array, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new IlpCodecError('BAD_LENGTH', `${what} must be exactly 32 bytes`);
  }
}

/** Length of a var-octet-string holding `n` bytes. */
function varLen(n: number): number {
  if (n < 0x80) return 1 + n;
  let k = 0;
  for (let v = n; v > 0; v = Math.floor(v / 256)) k++;
  return 1 + k + n;
}

/** Wraps contents in the envelope; sized exactly so no copy is needed. */
function envelope(type: number, contentsLen: number, write: (w: OerWriter) => void): Uint8Array {
  const w = new OerWriter(1 + varLen(contentsLen));
  w.writeUInt8(type).writeLengthPrefix(contentsLen);
  write(w);
  return w.finish();
}

export function serializeIlpPrepare(p: Omit<IlpPrepare, 'type'>): Uint8Array {
  assertIlpAddress(p.destination, 'destination');
  check32(p.executionCondition, 'executionCondition');
  checkData(p.data, 'PREPARE data');
  const expiresAt = encodeTimestamp(p.expiresAt);
  const dest = utf8.encode(p.destination);
  const len = 8 + 17 + 32 + varLen(dest.length) + varLen(p.data.length);
  return envelope(IlpPacketType.Prepare, len, (w) => {
    w.writeUInt64(p.amount);
    w.writeOctets(utf8.encode(expiresAt));
    w.writeOctets(p.executionCondition);
    w.writeVarOctetString(dest);
    w.writeVarOctetString(p.data);
  });
}

export function serializeIlpFulfill(p: Omit<IlpFulfill, 'type'>): Uint8Array {
  check32(p.fulfillment, 'fulfillment');
  checkData(p.data, 'FULFILL data');
  return envelope(IlpPacketType.Fulfill, 32 + varLen(p.data.length), (w) => {
    w.writeOctets(p.fulfillment);
    w.writeVarOctetString(p.data);
  });
}

export function serializeIlpReject(p: Omit<IlpReject, 'type'>): Uint8Array {
  assertRejectCode(p.code);
  if (p.triggeredBy !== '') assertIlpAddress(p.triggeredBy, 'triggeredBy');
  checkData(p.data, 'REJECT data');
  if (typeof p.message !== 'string')
    throw new IlpCodecError('BAD_MESSAGE', 'REJECT message must be a string');
  const by = utf8.encode(p.triggeredBy);
  const message = utf8.encode(p.message);
  const len = 3 + varLen(by.length) + varLen(message.length) + varLen(p.data.length);
  return envelope(IlpPacketType.Reject, len, (w) => {
    w.writeOctets(utf8.encode(p.code));
    w.writeVarOctetString(by);
    w.writeVarOctetString(message);
    w.writeVarOctetString(p.data);
  });
}

export function serializeIlpPacket(p: IlpPacket): Uint8Array {
  switch (p.type) {
    case IlpPacketType.Prepare:
      return serializeIlpPrepare(p);
    case IlpPacketType.Fulfill:
      return serializeIlpFulfill(p);
    case IlpPacketType.Reject:
      return serializeIlpReject(p);
    default:
      throw new IlpCodecError(
        'UNKNOWN_TYPE',
        `unknown ILP packet type ${String((p as { type: unknown }).type)}`,
      );
  }
}

function readData(r: OerReader, what: string): Uint8Array {
  const data = r.readVarOctetString(what);
  checkData(data, what);
  return data;
}

function readPrepare(r: OerReader): IlpPrepare {
  const amount = r.readUInt64('amount');
  const expiresAt = decodeTimestamp(ascii(r.readOctets(17, 'expiresAt')));
  const executionCondition = r.readOctets(32, 'executionCondition');
  const destination = readAddress(r, 'destination', false);
  const data = readData(r, 'PREPARE data');
  return { type: IlpPacketType.Prepare, amount, expiresAt, executionCondition, destination, data };
}

function readFulfill(r: OerReader): IlpFulfill {
  const fulfillment = r.readOctets(32, 'fulfillment');
  const data = readData(r, 'FULFILL data');
  return { type: IlpPacketType.Fulfill, fulfillment, data };
}

function readReject(r: OerReader): IlpReject {
  const code = ascii(r.readOctets(3, 'code'));
  assertRejectCode(code);
  const triggeredBy = readAddress(r, 'triggeredBy', true);
  const messageBytes = r.readVarOctetString('message');
  let message: string;
  try {
    message = utf8Strict.decode(messageBytes);
  } catch {
    throw new IlpCodecError('BAD_UTF8', 'REJECT message is not valid UTF-8');
  }
  const data = readData(r, 'REJECT data');
  return { type: IlpPacketType.Reject, code, triggeredBy, message, data };
}

/** Decodes any ILPv4 packet; every failure is an IlpCodecError. */
export function deserializeIlpPacket(bytes: Uint8Array): IlpPacket {
  if (!(bytes instanceof Uint8Array)) throw new IlpCodecError('BAD_INPUT', 'ILP packet must be a Uint8Array');
  const outer = new OerReader(bytes);
  const type = outer.readUInt8('packet type');
  if (type !== IlpPacketType.Prepare && type !== IlpPacketType.Fulfill && type !== IlpPacketType.Reject) {
    throw new IlpCodecError(
      'UNKNOWN_TYPE',
      `packet type ${type} is not PREPARE (12), FULFILL (13) or REJECT (14)`,
    );
  }
  const r = new OerReader(outer.readVarOctetString('packet contents'));
  outer.assertEnd('ILP packet');
  const packet =
    type === IlpPacketType.Prepare
      ? readPrepare(r)
      : type === IlpPacketType.Fulfill
        ? readFulfill(r)
        : readReject(r);
  r.assertEnd('ILP packet contents');
  return packet;
}

function expectType<T extends IlpPacket>(bytes: Uint8Array, type: T['type'], name: string): T {
  const p = deserializeIlpPacket(bytes);
  if (p.type !== type)
    throw new IlpCodecError('UNEXPECTED_TYPE', `expected an ILP ${name} but got type ${p.type}`);
  return p as T;
}

export function deserializeIlpPrepare(bytes: Uint8Array): IlpPrepare {
  return expectType<IlpPrepare>(bytes, IlpPacketType.Prepare, 'PREPARE');
}

export function deserializeIlpFulfill(bytes: Uint8Array): IlpFulfill {
  return expectType<IlpFulfill>(bytes, IlpPacketType.Fulfill, 'FULFILL');
}

export function deserializeIlpReject(bytes: Uint8Array): IlpReject {
  return expectType<IlpReject>(bytes, IlpPacketType.Reject, 'REJECT');
}

/** A FULFILL or REJECT (what comes back for a PREPARE). */
export function deserializeIlpReply(bytes: Uint8Array): IlpFulfill | IlpReject {
  const p = deserializeIlpPacket(bytes);
  if (p.type === IlpPacketType.Prepare)
    throw new IlpCodecError('UNEXPECTED_TYPE', 'expected FULFILL or REJECT, got PREPARE');
  return p;
}
