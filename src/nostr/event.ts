import { schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { NostrError } from './errors.js';
import { getPublicKey } from './keys.js';
import { nativeSchnorr } from './schnorr-native.js';
import type { EventTemplate, NostrEvent } from './types.js';
import { isHex64, isHex128, isPlainObject } from './validate.js';

export { NostrError } from './errors.js';

/** The fields the id commits to. */
export type UnsignedEvent = Pick<NostrEvent, 'pubkey' | 'created_at' | 'kind' | 'tags' | 'content'>;

/**
 * NIP-01 serialization: `[0, pubkey, created_at, kind, tags, content]` as compact JSON, UTF-8.
 *
 * Escaping is JSON.stringify's: `\n \" \\ \r \t \b \f` as NIP-01 lists, other characters below U+0020 as
 * `\u00XX` (NIP-01's text says "verbatim", but a raw control character is not valid JSON and every
 * widespread client and relay, nostr-tools included, uses `\u00XX`; ids must agree with theirs), and
 * everything else, non-ASCII included, verbatim.
 */
export function serializeEvent(e: UnsignedEvent): string {
  return JSON.stringify([0, e.pubkey, e.created_at, e.kind, e.tags, e.content]);
}

/** The event id: SHA-256 of the serialization, lowercase hex. */
export function getEventHash(e: UnsignedEvent): string {
  return bytesToHex(sha256(utf8ToBytes(serializeEvent(e))));
}

/** Fills in pubkey, created_at (now, if absent), id and a BIP-340 signature. Does not mutate `template`. */
export function finalizeEvent(template: EventTemplate, secretKey: Uint8Array): NostrEvent {
  const unsigned: UnsignedEvent = {
    pubkey: publicKeyOf(secretKey),
    created_at: template.created_at ?? Math.floor(Date.now() / 1000),
    kind: template.kind,
    tags: template.tags.map((t) => [...t]),
    content: template.content,
  };
  checkFields(unsigned);
  const id = getEventHash(unsigned);
  const native =
    secretKey instanceof Uint8Array ? nativeSchnorr()?.sign?.(hexToBytes(id), secretKey) : undefined;
  const sig = native
    ? bytesToHex(native)
    : (fastSigner?.(unsigned, id, secretKey) ?? bytesToHex(schnorr.sign(hexToBytes(id), secretKey)));
  return { id, ...unsigned, sig };
}

/**
 * A faster signer (libsecp256k1 in wasm, about 4x the JS one), set by verify-fast.ts once this thread has loaded
 * it. Given the event and the id computed here; undefined when it computed another id or pubkey (the JS signer
 * then signs), so the id rule of this file holds whatever the wasm serializes.
 */
export type FastSigner = (unsigned: UnsignedEvent, id: string, secretKey: Uint8Array) => string | undefined;
let fastSigner: FastSigner | undefined;
export function useFastSigner(signer: FastSigner | undefined): void {
  fastSigner = signer;
}

/**
 * getPublicKey, remembered per key array: a point multiplication (about a third of a signature's cost) that every
 * event a Mayor signs repeated for the same key. The bytes are compared on each use, so an array changed in place
 * is never mistaken for the key it held; one-time keys (gift wraps) go with their arrays.
 */
const publicKeys = new WeakMap<Uint8Array, { bytes: Uint8Array; pub: string }>();
function publicKeyOf(secretKey: Uint8Array): string {
  if (!(secretKey instanceof Uint8Array)) return getPublicKey(secretKey);
  const known = publicKeys.get(secretKey);
  if (known && equalBytes(known.bytes, secretKey)) return known.pub;
  const pub = getPublicKey(secretKey);
  publicKeys.set(secretKey, { bytes: new Uint8Array(secretKey), pub });
  return pub;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * True when `e` is well formed, its id equals the hash of its fields (recomputed here, every call, never
 * cached) and its signature is a valid BIP-340 signature of that id by `pubkey`.
 */
export function verifyEvent(e: NostrEvent): boolean {
  let event: NostrEvent;
  try {
    event = validateEventShape(e);
  } catch {
    return false;
  }
  if (getEventHash(event) !== event.id) return false;
  try {
    return schnorr.verify(hexToBytes(event.sig), hexToBytes(event.id), hexToBytes(event.pubkey));
  } catch {
    // noble throws on a pubkey that is not on the curve; that is simply an invalid event.
    return false;
  }
}

/**
 * Checks that `x` has the NIP-01 event shape (types, lowercase hex lengths, integer ranges) and returns a
 * copy holding exactly the seven event fields. Does not check the id or signature: use verifyEvent.
 */
export function validateEventShape(x: unknown): NostrEvent {
  if (!isPlainObject(x)) throw new NostrError('invalid_event', 'event must be a JSON object');
  if (!isHex64(x.id)) throw new NostrError('invalid_event', 'event id must be 64 lowercase hex characters');
  if (!isHex128(x.sig))
    throw new NostrError('invalid_event', 'event sig must be 128 lowercase hex characters');
  const fields = {
    pubkey: x.pubkey,
    created_at: x.created_at,
    kind: x.kind,
    tags: x.tags,
    content: x.content,
  };
  checkFields(fields);
  return { id: x.id, ...fields, tags: fields.tags.map((t) => [...t]), sig: x.sig };
}

function checkFields(x: Record<string, unknown>): asserts x is UnsignedEvent {
  if (!isHex64(x.pubkey)) {
    throw new NostrError('invalid_event', 'event pubkey must be 64 lowercase hex characters');
  }
  if (!Number.isSafeInteger(x.created_at) || (x.created_at as number) < 0) {
    throw new NostrError('invalid_event', 'event created_at must be a non-negative integer (unix seconds)');
  }
  if (!Number.isInteger(x.kind) || (x.kind as number) < 0 || (x.kind as number) > 65535) {
    throw new NostrError('invalid_event', 'event kind must be an integer between 0 and 65535');
  }
  if (!Array.isArray(x.tags)) throw new NostrError('invalid_event', 'event tags must be an array of arrays');
  for (const [i, tag] of x.tags.entries()) {
    if (!Array.isArray(tag) || !tag.every((v) => typeof v === 'string')) {
      throw new NostrError('invalid_event', `event tag ${i} must be an array of strings`);
    }
  }
  if (typeof x.content !== 'string') throw new NostrError('invalid_event', 'event content must be a string');
}
