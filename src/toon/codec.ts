import { type DecodeOptions, decode, type EncodeOptions, encode, type JsonValue } from '@toon-format/toon';
import { ToonError } from './errors.js';

export type { DecodeOptions as ToonDecodeOptions, EncodeOptions as ToonEncodeOptions, JsonValue };

/** Deepest nesting a decoded document may have: far above any event's, far below what overflows the stack. */
export const MAX_TOON_DEPTH = 256;

/** A stack overflow in the library's recursive decoder/encoder (or one it wrapped) means the input nests too deeply. */
function isStackOverflow(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) return true;
  }
  return false;
}

/**
 * How deep `text` nests, from its indentation (TOON nests by indentation; a string never spans lines). Where the
 * stack overflows depends on what ran before (a warm JIT uses smaller frames), and an overflow inside the library can
 * surface as another error: the depth is checked before decoding, the same for every input.
 */
function depthOf(text: string, indent: number): number {
  let deepest = 0;
  let spaces = 0;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      atLineStart = true;
      spaces = 0;
    } else if (atLineStart && c === 32) {
      spaces++;
      if (spaces > deepest) deepest = spaces;
    } else atLineStart = false;
  }
  return Math.floor(deepest / indent);
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
  // The library's own reading of the indent (indentSize, then the deprecated indent, then 2).
  const depth = depthOf(text, Math.max(1, options?.indentSize ?? options?.indent ?? 2));
  if (depth > MAX_TOON_DEPTH) {
    throw new ToonError(
      'TOON_TOO_LARGE',
      `TOON decode refused: the document nests ${depth} levels deep, over the ${MAX_TOON_DEPTH} limit`,
    );
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
