// NIP-59 gift wrap: rumor (unsigned event) -> seal (kind 13, signed by the author, NIP-44 to the recipient)
// -> wrap (kind 1059, signed by a one-time key, NIP-44 to the recipient, `p` tag names the recipient).
import { NostrError } from './errors.js';
import { finalizeEvent, getEventHash, validateEventShape } from './event.js';
import { generateSecretKey, getPublicKey } from './keys.js';
import { KIND_GIFT_WRAP, KIND_SEAL } from './kinds.js';
import { decrypt, encrypt, getConversationKey } from './nip44.js';
import type { EventTemplate, NostrEvent } from './types.js';
import { isHex64, isPlainObject, parseJson } from './validate.js';
import { verifyEventSync } from './verify-fast.js';

/** An event with an id but no signature, so it is deniable if leaked. */
export type Rumor = Omit<NostrEvent, 'sig'>;

export interface Unwrapped {
  rumor: Rumor;
  /** The author, proven by the seal's signature (and equal to rumor.pubkey). */
  senderPubkey: string;
  seal: NostrEvent;
}

const TWO_DAYS = 2 * 24 * 60 * 60;

// Seal and wrap timestamps are pushed up to two days into the past so they do not reveal when the
// message was written (NIP-59 "tweak created_at").
function randomPastTimestamp(): number {
  const now = Math.floor(Date.now() / 1000);
  return now - Math.floor(Math.random() * TWO_DAYS);
}

export function createRumor(template: EventTemplate, senderSecretKey: Uint8Array): Rumor {
  const rumor = {
    pubkey: getPublicKey(senderSecretKey),
    created_at: template.created_at ?? Math.floor(Date.now() / 1000),
    kind: template.kind,
    tags: template.tags.map((t) => [...t]),
    content: template.content,
  };
  return { id: getEventHash(rumor), ...rumor };
}

/**
 * The seal's conversation key (an ECDH, the costliest step of sealing or opening) between two long-lived keys:
 * remembered per secret-key array for the peers it talks to (a Mayor seals to and opens from the same few). The
 * wrap's key involves a one-time key every time and is never remembered.
 */
const sealKeys = new WeakMap<Uint8Array, { bytes: Uint8Array; byPeer: Map<string, Uint8Array> }>();
const MAX_SEAL_PEERS = 256;
function sealConversationKey(secretKey: Uint8Array, peerPubkey: string): Uint8Array {
  let known = secretKey instanceof Uint8Array ? sealKeys.get(secretKey) : undefined;
  if (known && !sameBytes(known.bytes, secretKey)) known = undefined;
  const cached = known?.byPeer.get(peerPubkey);
  if (cached) return cached;
  const key = getConversationKey(secretKey, peerPubkey);
  if (!known) {
    known = { bytes: new Uint8Array(secretKey), byPeer: new Map() };
    sealKeys.set(secretKey, known);
  }
  if (known.byPeer.size >= MAX_SEAL_PEERS) known.byPeer.clear();
  known.byPeer.set(peerPubkey, key);
  return key;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function createSeal(rumor: Rumor, senderSecretKey: Uint8Array, recipientPubkey: string): NostrEvent {
  const key = sealConversationKey(senderSecretKey, recipientPubkey);
  return finalizeEvent(
    {
      kind: KIND_SEAL,
      tags: [],
      content: encrypt(JSON.stringify(rumor), key),
      created_at: randomPastTimestamp(),
    },
    senderSecretKey,
  );
}

/** Wraps a seal with a fresh one-time key that is discarded afterwards. */
export function createWrap(seal: NostrEvent, recipientPubkey: string): NostrEvent {
  const oneTime = generateSecretKey();
  const key = getConversationKey(oneTime, recipientPubkey);
  return finalizeEvent(
    {
      kind: KIND_GIFT_WRAP,
      tags: [['p', recipientPubkey]],
      content: encrypt(JSON.stringify(seal), key),
      created_at: randomPastTimestamp(),
    },
    oneTime,
  );
}

export function wrapEvent(
  template: EventTemplate,
  senderSecretKey: Uint8Array,
  recipientPubkey: string,
): NostrEvent {
  const rumor = createRumor(template, senderSecretKey);
  return createWrap(createSeal(rumor, senderSecretKey, recipientPubkey), recipientPubkey);
}

/**
 * Opens a gift wrap addressed to `recipientSecretKey`. Checks the wrap and seal signatures (recomputing ids),
 * the kinds, the rumor's id, and that the seal's signer is the rumor's author: otherwise anyone could seal
 * a rumor claiming someone else wrote it.
 */
export function unwrapEvent(wrap: NostrEvent, recipientSecretKey: Uint8Array): Unwrapped {
  if (wrap.kind !== KIND_GIFT_WRAP) fail(`gift wrap must be kind ${KIND_GIFT_WRAP}, got ${wrap.kind}`);
  // Two signatures per wrap, on the path of every private job and result: wasm (about 2x-5x noble) once loaded.
  if (!verifyEventSync(wrap)) fail('gift wrap id or signature is invalid');
  const sealJson = decrypt(wrap.content, getConversationKey(recipientSecretKey, wrap.pubkey));
  const seal = validateEventShape(parseJson(sealJson, 'seal', 'nip59_invalid'));
  if (seal.kind !== KIND_SEAL) fail(`seal must be kind ${KIND_SEAL}, got ${seal.kind}`);
  if (seal.tags.length !== 0) fail('seal tags must be empty (NIP-59)');
  if (!verifyEventSync(seal)) fail('seal id or signature is invalid');
  const rumorJson = decrypt(seal.content, sealConversationKey(recipientSecretKey, seal.pubkey));
  const rumor = validateRumor(parseJson(rumorJson, 'rumor', 'nip59_invalid'));
  if (rumor.pubkey !== seal.pubkey) {
    fail(`rumor author ${rumor.pubkey} is not the seal signer ${seal.pubkey}: impersonation attempt`);
  }
  return { rumor, senderPubkey: seal.pubkey, seal };
}

function validateRumor(x: unknown): Rumor {
  if (!isPlainObject(x)) fail('rumor must be a JSON object');
  if (x.sig !== undefined) fail('rumor must not be signed (NIP-59)');
  if (!isHex64(x.id)) fail('rumor id must be 64 lowercase hex characters');
  // Reuse the event shape check with a placeholder signature; the id is checked against the fields below.
  const { sig: _sig, ...rumor } = validateEventShape({ ...x, sig: '0'.repeat(128) });
  if (getEventHash(rumor) !== rumor.id) fail('rumor id does not match its fields');
  return rumor;
}

function fail(message: string): never {
  throw new NostrError('nip59_invalid', message);
}
