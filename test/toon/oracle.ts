// The reference for peekKind: what the real decoder (@toon-format/toon via toonDecode, strict) says `kind` is.
import { ToonError, toonDecode } from '../../src/toon/index.js';

export type Oracle =
  | { type: 'kind'; kind: number } // decodes to an object with an integer kind 0..65535
  | { type: 'no-kind'; value: unknown } // decodes, but there is no usable top-level kind
  | { type: 'error'; error: ToonError }; // the decoder rejects the text

export function oracle(text: string): Oracle {
  let value: unknown;
  try {
    value = toonDecode(text, { strict: true });
  } catch (error) {
    if (!(error instanceof ToonError)) throw error;
    return { type: 'error', error };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'kind')) {
    const kind = (value as { kind: unknown }).kind;
    if (typeof kind === 'number' && Number.isInteger(kind) && kind >= 0 && kind <= 65535) {
      return { type: 'kind', kind };
    }
  }
  return { type: 'no-kind', value };
}

/** Decoder errors that are about the top-level shape or the kind entry itself: peekKind must refuse these. */
export function isTopLevelKindError(error: ToonError): boolean {
  return /"kind"|Top-level document|root/i.test(error.message);
}

export function tryPeek(fn: () => number): { ok: true; kind: number } | { ok: false; error: unknown } {
  try {
    return { ok: true, kind: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}
