import { ToonError } from './errors.js';

/**
 * peekKind: the event kind from TOON text without decoding the event (DESIGN §3).
 *
 * TOON has no multi-line strings (a newline inside a string is escaped as `\n`), so every physical line is
 * one TOON line, and in strict mode (indent 2, no tabs) a line is top-level exactly when it starts with a
 * non-space character. The scan therefore only looks at the first character of each line, and parses the
 * one top-level line whose key is `kind`. It mirrors @toon-format/toon 4.4.0's decoder where the decoder
 * would produce a kind, and refuses (throws ToonError) wherever the decoder would reject the top-level
 * shape: root not an object, `kind` missing or repeated, `kind` not a number literal that decodes to an
 * integer 0..65535, indented content under the `kind` line or on the first line, tabs at the top level.
 * It does not validate the rest of the document: callers still run decodeEvent before trusting an event.
 */

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const HASH = 0x23;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const BRACKET = 0x5b;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_K = 0x6b;

/** The decoder's number grammar (isNumericLiteral in @toon-format/toon). */
const NUMERIC_LITERAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:e[+-]?\d+)?$/i;

function refuse(code: 'TOON_SYNTAX' | 'TOON_SHAPE', message: string): ToonError {
  return new ToonError(code, `peekKind: ${message}`);
}

/**
 * Returns the top-level `kind` of a TOON-encoded event. Throws ToonError where the decoder would reject the
 * top-level shape; never returns a kind different from what `decodeEvent` would return.
 */
export function peekKind(input: string | Uint8Array): number {
  if (typeof input === 'string') {
    return scan(input, input.charCodeAt(0) === 0xfeff ? 1 : 0);
  }
  if (!(input instanceof Uint8Array)) throw refuse('TOON_SYNTAX', 'input must be a string or a Uint8Array');
  // latin1 maps each byte to one char, so ASCII structure and offsets are preserved and no byte >= 0x80 can
  // look like a delimiter; it is a native copy, much cheaper than UTF-8 decoding or a JS byte loop.
  const bom = input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf;
  return scan(latin1(input), bom ? 3 : 0);
}

// Buffer's latin1Slice works on any Uint8Array and skips creating a Buffer view (half the cost at 2 KB).
// It is undocumented, so fall back to the documented toString('latin1') if a runtime lacks it.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (start: number, end: number) => string })
  .latin1Slice;

function latin1(bytes: Uint8Array): string {
  if (latin1Slice !== undefined) return latin1Slice.call(bytes, 0, bytes.length);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function scan(s: string, start: number): number {
  const length = s.length;
  let kind = -1;
  let sawFirst = false; // seen the first significant (non-blank, non-comment) line
  let afterKind = false; // the previous significant line was the kind line
  let p = start;
  while (true) {
    let e = s.indexOf('\n', p);
    if (e === -1) e = length;
    const c = p < e ? s.charCodeAt(p) : -1;
    if (c === SPACE) {
      // Indented: ignorable unless it is the first significant line or sits under `kind: n`, where the
      // decoder throws an over-indentation error.
      if ((!sawFirst || afterKind) && isSignificantIndented(s, p, e)) {
        throw refuse(
          'TOON_SYNTAX',
          sawFirst ? 'indented line under the top-level kind line' : 'the first line is indented',
        );
      }
    } else if (c === -1 || c === HASH || (c === CR && e === p + 1)) {
      // blank line, comment line, or a line holding only the CR of a CRLF
    } else if (c === TAB) {
      throw refuse(
        'TOON_SYNTAX',
        'tab at the start of a top-level line (strict TOON forbids tab indentation)',
      );
    } else {
      const end = contentEnd(s, p, e);
      if (!sawFirst) {
        sawFirst = true;
        if (c === BRACKET) throw refuse('TOON_SHAPE', 'the document root is an array, not an event object');
        if (findUnquotedColon(s, p, end) === -1) {
          throw refuse('TOON_SHAPE', 'the first line is not a key-value line, so the root is not an object');
        }
      }
      afterKind = false;
      let valueStart = -1;
      if (c === LOWER_K && s.startsWith('kind', p)) {
        valueStart = afterKindKey(s, p + 4, end);
      } else if (c === QUOTE) {
        valueStart = afterQuotedKey(s, p, end);
      } else if (c === BRACKET) {
        throw refuse('TOON_SYNTAX', 'keyless array header at the top level');
      }
      if (valueStart !== -1) {
        if (kind !== -1) throw refuse('TOON_SHAPE', 'duplicate top-level kind');
        kind = parseKindValue(s, valueStart, end);
        afterKind = true;
      }
    }
    if (e === length) break;
    p = e + 1;
  }
  if (kind === -1) throw refuse('TOON_SHAPE', 'no top-level kind');
  return kind;
}

/** End of a line's content as the decoder sees it: one trailing CR removed, then trailing spaces. */
function contentEnd(s: string, p: number, e: number): number {
  let end = e;
  if (end > p && s.charCodeAt(end - 1) === CR) end--;
  while (end > p && s.charCodeAt(end - 1) === SPACE) end--;
  return end;
}

/** For a line starting with a space: false when the decoder skips it (blank, or a comment). */
function isSignificantIndented(s: string, p: number, e: number): boolean {
  const end = contentEnd(s, p, e);
  let i = p;
  while (i < end && s.charCodeAt(i) === SPACE) i++;
  return i < end && s.charCodeAt(i) !== HASH;
}

/** The decoder's findUnquotedChar(content, ':'): quotes toggle, backslash escapes inside quotes. */
function findUnquotedColon(s: string, p: number, end: number): number {
  const colon = s.indexOf(':', p);
  if (colon === -1 || colon >= end) return -1;
  let i = p;
  while (i < colon && s.charCodeAt(i) !== QUOTE) i++;
  if (i === colon) return colon; // common case: no quote before the first colon
  let inQuotes = false;
  for (let i = p; i < end; i++) {
    const c = s.charCodeAt(i);
    if (inQuotes && c === BACKSLASH && i + 1 < end) {
      i++;
    } else if (c === QUOTE) {
      inQuotes = !inQuotes;
    } else if (c === COLON && !inQuotes) {
      return i;
    }
  }
  return -1;
}

/**
 * After an unquoted `kind` at the start of a top-level line: returns where the value starts. Anything but
 * `kind` + spaces + `:` is refused: `kind[..]` makes kind an array, and `kinda:` or `kind x:` is a key no
 * NIP-01 event has, so decodeEvent would reject the document anyway.
 */
function afterKindKey(s: string, i: number, end: number): number {
  while (i < end && s.charCodeAt(i) === SPACE) i++;
  if (i >= end || s.charCodeAt(i) !== COLON) {
    throw refuse('TOON_SHAPE', 'top-level line starting with "kind" is not a plain "kind: <integer>" line');
  }
  return i + 1;
}

/**
 * A top-level line with a quoted key (our encoder never writes one for events, but other encoders may):
 * returns where the value starts when the key is `kind`, -1 for another key. Malformed keys are refused.
 */
function afterQuotedKey(s: string, p: number, end: number): number {
  let close = -1;
  let escaped = false;
  for (let i = p + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH && i + 1 < end) {
      escaped = true;
      i++;
    } else if (c === QUOTE) {
      close = i;
      break;
    }
  }
  if (close === -1) throw refuse('TOON_SYNTAX', 'unterminated quoted key at the top level');
  const raw = s.slice(p + 1, close);
  const key = escaped ? unescapeKey(raw) : raw;
  let i = close + 1;
  if (key === 'kind' && s.charCodeAt(i) === BRACKET) throw refuse('TOON_SHAPE', 'top-level kind is an array');
  while (i < end && s.charCodeAt(i) === SPACE) i++;
  if (i >= end || s.charCodeAt(i) !== COLON)
    throw refuse('TOON_SYNTAX', 'missing colon after a top-level key');
  return key === 'kind' ? i + 1 : -1;
}

/** The decoder's escape rules: \n \t \r \\ \" and \uXXXX (no lone surrogates); anything else throws. */
function unescapeKey(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = raw[i + 1];
    i++;
    if (next === 'n') out += '\n';
    else if (next === 't') out += '\t';
    else if (next === 'r') out += '\r';
    else if (next === '\\' || next === '"') out += next;
    else if (next === 'u') {
      const hex = raw.slice(i + 1, i + 5);
      const unit = /^[0-9a-f]{4}$/i.test(hex) ? Number.parseInt(hex, 16) : -1;
      if (unit === -1 || (unit >= 0xd800 && unit <= 0xdfff)) {
        throw refuse('TOON_SYNTAX', 'invalid \\u escape in a top-level key');
      }
      out += String.fromCharCode(unit);
      i += 4;
    } else {
      throw refuse('TOON_SYNTAX', 'invalid escape in a top-level key');
    }
  }
  return out;
}

/**
 * Parses the value of the kind line exactly as the decoder would, then requires an integer 0..65535.
 * Fast path: plain digits without a leading zero. Other number forms (1.0, 5.065e3, -0) go through the
 * decoder's own grammar and Number.parseFloat, so the result is the same double the decoder builds.
 */
function parseKindValue(s: string, i: number, end: number): number {
  while (i < end && s.charCodeAt(i) === SPACE) i++;
  const digits = end - i;
  if (digits >= 1 && digits <= 5) {
    let value = 0;
    let j = i;
    for (; j < end; j++) {
      const c = s.charCodeAt(j);
      if (c < ZERO || c > NINE) break;
      value = value * 10 + (c - ZERO);
    }
    const leadingZero = digits > 1 && s.charCodeAt(i) === ZERO;
    if (j === end && !leadingZero) {
      if (value > 65535) throw refuse('TOON_SHAPE', `kind ${value} is over 65535`);
      return value;
    }
  }
  const token = s.slice(i, end);
  if (NUMERIC_LITERAL.test(token)) {
    const value = Number.parseFloat(token);
    if (Number.isInteger(value) && value >= 0 && value <= 65535) return value === 0 ? 0 : value; // -0 -> 0
  }
  throw refuse(
    'TOON_SHAPE',
    `top-level kind must be an integer from 0 to 65535, got ${JSON.stringify(token)}`,
  );
}
