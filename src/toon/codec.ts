import { type DecodeOptions, decode, type EncodeOptions, encode, type JsonValue } from '@toon-format/toon';
import { ToonError } from './errors.js';

export type { DecodeOptions as ToonDecodeOptions, EncodeOptions as ToonEncodeOptions, JsonValue };

/** A stack overflow in the library's recursive decoder/encoder means the input nests too deeply. */
function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/** Encodes any JSON-like value as TOON text. Library failures become `ToonError`. */
export function toonEncode(value: unknown, options?: EncodeOptions): string {
  try {
    return encode(value, options);
  } catch (error) {
    if (isStackOverflow(error)) {
      throw new ToonError('TOON_TOO_LARGE', 'TOON encode failed: the value nests too deeply', {
        cause: error,
      });
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ToonError('TOON_ENCODING', `TOON encode failed: ${reason}`, { cause: error });
  }
}

/** Decodes TOON text (strict mode unless `options.strict === false`). Library failures become `ToonError`. */
export function toonDecode(text: string, options?: DecodeOptions): JsonValue {
  if (typeof text !== 'string') {
    throw new ToonError('TOON_SYNTAX', `TOON decode expects a string, got ${typeof text}`);
  }
  try {
    return decode(text, options);
  } catch (error) {
    if (isStackOverflow(error)) {
      throw new ToonError('TOON_TOO_LARGE', 'TOON decode failed: the document nests too deeply', {
        cause: error,
      });
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ToonError('TOON_SYNTAX', `TOON decode failed: ${reason}`, { cause: error });
  }
}
