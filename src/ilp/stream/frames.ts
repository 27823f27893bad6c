// STREAM frames (RFC 0029 §5.3) this receiver reads or writes. Each frame on the wire is a uint8 type and a
// var-octet-string of contents; frames of other types are skipped, as the RFC asks of unknown frames.
import { IlpCodecError } from '../codec-error.js';
import { OerReader, OerWriter } from '../oer.js';

export const FrameType = {
  ConnectionClose: 0x01,
  ConnectionNewAddress: 0x02,
  ConnectionMaxStreamId: 0x05,
  ConnectionAssetDetails: 0x07,
  StreamClose: 0x10,
  StreamMoney: 0x11,
  StreamMaxMoney: 0x12,
  StreamData: 0x14,
  StreamReceipt: 0x17,
} as const;

/** RFC 0029 error codes used in close frames. */
export const StreamErrorCode = {
  NoError: 0x01,
  InternalError: 0x02,
  StreamStateError: 0x06,
  ApplicationError: 0x08,
} as const;

export type StreamFrame =
  | { type: typeof FrameType.ConnectionClose; code: number; message: string }
  | { type: typeof FrameType.ConnectionNewAddress; sourceAccount: string }
  | { type: typeof FrameType.ConnectionMaxStreamId; maxStreamId: bigint }
  | { type: typeof FrameType.ConnectionAssetDetails; assetCode: string; assetScale: number }
  | { type: typeof FrameType.StreamClose; streamId: bigint; code: number; message: string }
  | { type: typeof FrameType.StreamMoney; streamId: bigint; shares: bigint }
  | { type: typeof FrameType.StreamMaxMoney; streamId: bigint; receiveMax: bigint; totalReceived: bigint }
  | { type: typeof FrameType.StreamData; streamId: bigint; offset: bigint; data: Uint8Array }
  | { type: typeof FrameType.StreamReceipt; streamId: bigint; receipt: Uint8Array };

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function text(bytes: Uint8Array, what: string): string {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw new IlpCodecError('STREAM_BAD_UTF8', `${what} is not UTF-8`);
  }
}

/** Reads one frame; undefined for a frame type this receiver does not use (skipped whole). */
export function readFrame(r: OerReader): StreamFrame | undefined {
  const type = r.readUInt8('frame type');
  const c = new OerReader(r.readVarOctetString('frame contents'));
  let frame: StreamFrame | undefined;
  switch (type) {
    case FrameType.ConnectionClose:
      frame = { type, code: c.readUInt8('error code'), message: text(c.readVarOctetString(), 'message') };
      break;
    case FrameType.ConnectionNewAddress:
      frame = { type, sourceAccount: text(c.readVarOctetString(), 'source account') };
      break;
    case FrameType.ConnectionAssetDetails:
      frame = { type, assetCode: text(c.readVarOctetString(), 'asset code'), assetScale: c.readUInt8() };
      break;
    case FrameType.StreamClose:
      frame = {
        type,
        streamId: c.readVarUInt('stream id'),
        code: c.readUInt8('error code'),
        message: text(c.readVarOctetString(), 'message'),
      };
      break;
    case FrameType.StreamMoney:
      frame = { type, streamId: c.readVarUInt('stream id'), shares: c.readVarUInt('shares') };
      break;
    case FrameType.StreamData:
      frame = {
        type,
        streamId: c.readVarUInt('stream id'),
        offset: c.readVarUInt('offset'),
        data: c.readVarOctetString('data'),
      };
      break;
    default:
      return undefined;
  }
  // Newer versions may append fields to a frame: the RFC lets a reader ignore bytes after the ones it knows.
  return frame;
}

export function writeFrame(w: OerWriter, f: StreamFrame): void {
  const c = new OerWriter(64);
  switch (f.type) {
    case FrameType.ConnectionClose:
      c.writeUInt8(f.code).writeVarOctetString(utf8.encode(f.message));
      break;
    case FrameType.ConnectionNewAddress:
      c.writeVarOctetString(utf8.encode(f.sourceAccount));
      break;
    case FrameType.ConnectionMaxStreamId:
      c.writeVarUInt(f.maxStreamId);
      break;
    case FrameType.ConnectionAssetDetails:
      c.writeVarOctetString(utf8.encode(f.assetCode)).writeUInt8(f.assetScale);
      break;
    case FrameType.StreamClose:
      c.writeVarUInt(f.streamId).writeUInt8(f.code).writeVarOctetString(utf8.encode(f.message));
      break;
    case FrameType.StreamMoney:
      c.writeVarUInt(f.streamId).writeVarUInt(f.shares);
      break;
    case FrameType.StreamMaxMoney:
      c.writeVarUInt(f.streamId).writeVarUInt(f.receiveMax).writeVarUInt(f.totalReceived);
      break;
    case FrameType.StreamData:
      c.writeVarUInt(f.streamId).writeVarUInt(f.offset).writeVarOctetString(f.data);
      break;
    case FrameType.StreamReceipt:
      c.writeVarUInt(f.streamId).writeVarOctetString(f.receipt);
      break;
  }
  w.writeUInt8(f.type).writeVarOctetString(c.finish());
}
