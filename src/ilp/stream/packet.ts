// A STREAM packet (RFC 0029 §5.2), before encryption:
//   version uint8 (1) | ilpPacketType uint8 (12 prepare, 13 fulfill, 14 reject) | sequence var-uint |
//   prepareAmount var-uint | frame count var-uint | frames. Bytes after the frames are padding and ignored.
import { IlpCodecError } from '../codec-error.js';
import { OerReader, OerWriter } from '../oer.js';
import { IlpPacketType } from '../types.js';
import { decryptStream, encryptStream } from './crypto.js';
import { readFrame, type StreamFrame, writeFrame } from './frames.js';

export const STREAM_VERSION = 1;
/** Most frames one packet may carry; more is a hostile sender, not a client. */
const MAX_FRAMES = 256;

export interface StreamPacket {
  sequence: bigint;
  ilpPacketType: IlpPacketType;
  /** In a request: the least the receiver should accept. In a response: what arrived. */
  prepareAmount: bigint;
  frames: StreamFrame[];
}

export function serializeStreamPacket(p: StreamPacket): Uint8Array {
  const w = new OerWriter(128);
  w.writeUInt8(STREAM_VERSION)
    .writeUInt8(p.ilpPacketType)
    .writeVarUInt(p.sequence)
    .writeVarUInt(p.prepareAmount);
  w.writeVarUInt(BigInt(p.frames.length));
  for (const f of p.frames) writeFrame(w, f);
  return w.finish();
}

export function deserializeStreamPacket(bytes: Uint8Array): StreamPacket {
  const r = new OerReader(bytes);
  const version = r.readUInt8('version');
  if (version !== STREAM_VERSION)
    throw new IlpCodecError('STREAM_VERSION', `STREAM version ${version} is not supported (only 1)`);
  const ilpPacketType = r.readUInt8('ilp packet type');
  if (
    ilpPacketType !== IlpPacketType.Prepare &&
    ilpPacketType !== IlpPacketType.Fulfill &&
    ilpPacketType !== IlpPacketType.Reject
  ) {
    throw new IlpCodecError('STREAM_BAD_TYPE', `STREAM packet names ILP packet type ${ilpPacketType}`);
  }
  const sequence = r.readVarUInt('sequence');
  const prepareAmount = r.readVarUInt('prepare amount');
  const count = r.readVarUInt('frame count');
  if (count > BigInt(MAX_FRAMES))
    throw new IlpCodecError('STREAM_TOO_MANY_FRAMES', `${count} frames; at most ${MAX_FRAMES}`);
  const frames: StreamFrame[] = [];
  for (let i = 0; i < Number(count); i++) {
    const f = readFrame(r);
    if (f) frames.push(f);
  }
  return { sequence, ilpPacketType: ilpPacketType as IlpPacketType, prepareAmount, frames };
}

export function encryptStreamPacket(encryptionKey: Uint8Array, p: StreamPacket): Uint8Array {
  return encryptStream(encryptionKey, serializeStreamPacket(p));
}

/**
 * The STREAM packet in `data`, or undefined when `data` is not encrypted under this key (then it is not STREAM
 * for this account). Throws IlpCodecError when it decrypts but is malformed.
 */
export function decryptStreamPacket(encryptionKey: Uint8Array, data: Uint8Array): StreamPacket | undefined {
  const plain = decryptStream(encryptionKey, data);
  return plain === undefined ? undefined : deserializeStreamPacket(plain);
}
