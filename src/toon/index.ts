export {
  type JsonValue,
  MAX_TOON_DEPTH,
  type ToonDecodeOptions,
  type ToonEncodeOptions,
  toonDecode,
  toonEncode,
} from './codec.js';
export { ToonError, type ToonErrorCode } from './errors.js';
export {
  assertEventShape,
  DEFAULT_MAX_EVENT_BYTES,
  type DecodeEventOptions,
  decodeEvent,
  encodeEvent,
  encodeEventBytes,
} from './event.js';
export { peekKind } from './peek.js';
