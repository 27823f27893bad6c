import type { NostrEvent } from '../nostr/types.js';
import { toonDecode, toonEncode } from './codec.js';
import { ToonError } from './errors.js';

/** Default cap on an encoded event; far above anything a relay or an ILP packet carries. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

export interface DecodeEventOptions {
  /** Reject inputs longer than this many UTF-8 bytes (default 1 MiB). */
  maxBytes?: number;
}

const EVENT_KEYS = ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig'] as const;
const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

// fatal: invalid UTF-8 throws instead of becoming U+FFFD. ignoreBOM: keep a BOM in the text so the TOON
// decoder (which strips one on line 1) sees exactly what peekKind sees.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function shapeError(message: string): ToonError {
  return new ToonError('TOON_SHAPE', `Not a NIP-01 event: ${message}`);
}

/**
 * Checks the exact NIP-01 shape and returns a fresh event object with the fields in NIP-01 order.
 * Does not verify the id or signature: that is src/nostr's job.
 */
export function assertEventShape(value: unknown): NostrEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw shapeError(`expected an object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  for (const key of keys) {
    if (!(EVENT_KEYS as readonly string[]).includes(key)) throw shapeError(`unexpected field "${key}"`);
  }
  for (const key of EVENT_KEYS) {
    if (!Object.hasOwn(record, key)) throw shapeError(`missing field "${key}"`);
  }
  const { id, pubkey, created_at, kind, tags, content, sig } = record;
  if (typeof id !== 'string' || !HEX64.test(id)) throw shapeError('id must be 64 lowercase hex characters');
  if (typeof pubkey !== 'string' || !HEX64.test(pubkey)) {
    throw shapeError('pubkey must be 64 lowercase hex characters');
  }
  if (typeof sig !== 'string' || !HEX128.test(sig))
    throw shapeError('sig must be 128 lowercase hex characters');
  if (typeof created_at !== 'number' || !Number.isSafeInteger(created_at) || created_at < 0) {
    throw shapeError('created_at must be a non-negative integer (unix seconds)');
  }
  if (typeof kind !== 'number' || !Number.isSafeInteger(kind) || kind < 0 || kind > 65535) {
    throw shapeError('kind must be an integer from 0 to 65535');
  }
  if (!Array.isArray(tags)) throw shapeError('tags must be an array of arrays of strings');
  for (const tag of tags) {
    if (!Array.isArray(tag) || !tag.every((item) => typeof item === 'string')) {
      throw shapeError('tags must be an array of arrays of strings');
    }
  }
  if (typeof content !== 'string') throw shapeError('content must be a string');
  return { id, pubkey, created_at, kind, tags: tags as string[][], content, sig };
}

/** Encodes a NIP-01 event as TOON text, fields in NIP-01 order. Throws `ToonError` on a malformed event. */
export function encodeEvent(event: NostrEvent): string {
  return toonEncode(assertEventShape(event));
}

/** `encodeEvent` as UTF-8 bytes (what goes into an ILP PREPARE's data). */
export function encodeEventBytes(event: NostrEvent): Uint8Array {
  return utf8Encoder.encode(encodeEvent(event));
}

/** Turns bytes into text, rejecting invalid UTF-8; checks the size limit either way. */
export function toonText(input: string | Uint8Array, maxBytes = DEFAULT_MAX_EVENT_BYTES): string {
  if (typeof input === 'string') {
    // UTF-16 length never exceeds the UTF-8 length, so this cheap test only skips the exact count when safe.
    if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) {
      throw new ToonError('TOON_TOO_LARGE', `TOON input is over ${maxBytes} bytes; refusing to decode it`);
    }
    if (!isWellFormed(input)) {
      throw new ToonError(
        'TOON_ENCODING',
        'TOON input contains an unpaired surrogate; it is not valid Unicode',
      );
    }
    return input;
  }
  if (!(input instanceof Uint8Array)) {
    throw new ToonError('TOON_SYNTAX', 'TOON input must be a string or a Uint8Array');
  }
  if (input.byteLength > maxBytes) {
    throw new ToonError(
      'TOON_TOO_LARGE',
      `TOON input is ${input.byteLength} bytes, over the ${maxBytes} limit`,
    );
  }
  try {
    return utf8.decode(input);
  } catch (error) {
    throw new ToonError('TOON_ENCODING', 'TOON input is not valid UTF-8; send the event as UTF-8 text', {
      cause: error,
    });
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/**
 * Decodes a TOON-encoded NIP-01 event (strict TOON) and checks its shape exactly.
 * Does not verify the signature. Throws `ToonError`.
 */
export function decodeEvent(input: string | Uint8Array, options?: DecodeEventOptions): NostrEvent {
  const text = toonText(input, options?.maxBytes);
  refuseRawControl(text);
  return assertEventShape(toonDecode(text, { strict: true }));
}

// Control characters other than tab, line feed and carriage return. Encoders escape them (`\u0001`); the TOON
// library's decoder takes them raw inside quoted strings, and then an event priced at 1 byte per character is
// stored and served as 6 (`\u0001` in JSON and in our own TOON).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const RAW_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;

function refuseRawControl(text: string): void {
  const at = text.search(RAW_CONTROL);
  if (at < 0) return;
  const code = text.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0');
  throw new ToonError(
    'TOON_SYNTAX',
    `TOON input has a raw control character U+${code} at offset ${at}: escape it (\\u${code.toLowerCase()}), as encoders do`,
  );
}
