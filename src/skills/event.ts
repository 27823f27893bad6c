import { getEventHash } from '../nostr/event.js';
import type { Rumor } from '../nostr/nip59.js';
import type { NostrEvent } from '../nostr/types.js';
import { verifyEventSync } from '../nostr/verify-fast.js';
import { decodeEvent, encodeEventBytes } from '../toon/index.js';
import type { SkillMetadata } from './types.js';

/**
 * A rumor (NIP-59) has no signature. To hand it to skills as an ordinary TOON event, the encrypted-DM skill
 * fills `sig` with this placeholder; `metadata.private` tells skills the author was proven by the seal.
 * It can never verify as a real signature, so a rumor cannot pass as a signed public event.
 */
export const UNSIGNED_RUMOR_SIG = '0'.repeat(128);

/** A rumor as TOON bytes, routable like any event (see UNSIGNED_RUMOR_SIG). */
export function rumorToToon(rumor: Rumor): Uint8Array {
  return encodeEventBytes({ ...rumor, sig: UNSIGNED_RUMOR_SIG });
}

export class SkillEventError extends Error {
  readonly code = 'invalid_event' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SkillEventError';
  }
}

/**
 * Decodes the payload a skill received and checks it is authentic: a public event must have a valid id and
 * signature; a private one (a decrypted rumor) must have a valid id (its author was proven by the seal).
 * Also checks the decoded kind is the one the router saw. Throws SkillEventError.
 */
export function decodeSkillEvent(
  payload: Uint8Array,
  metadata: Pick<SkillMetadata, 'kind' | 'private'>,
): NostrEvent {
  const event = decodeEvent(payload);
  if (event.kind !== metadata.kind) {
    throw new SkillEventError(`payload is kind ${event.kind} but was routed as kind ${metadata.kind}`);
  }
  // A public event's signature: libsecp256k1 (native, or wasm once this thread has loaded it: verifyEventSync), at a
  // fraction of the JS verifier's CPU on the way of every routed result (issue 17).
  if (metadata.private) {
    if (getEventHash(event) !== event.id)
      throw new SkillEventError('private event id does not match its fields');
    if (event.pubkey !== metadata.private.senderPubkey) {
      throw new SkillEventError('private event author is not the sender proven by the seal');
    }
  } else if (!verifyEventSync(event)) {
    throw new SkillEventError(`event ${event.id} has an invalid id or signature; dropping it`);
  }
  return event;
}
