// Private work requests (NIP-59): a job request, its feedback and its result travel as gift wraps (kind 1059)
// addressed to one recipient, so only the provider reads the request and only the requester reads the result.
// The signed event's id is also its rumor's id (the id never covers the signature), so a private job keeps
// the same job id on both sides and results correlate exactly like public ones.
import { KIND_GIFT_WRAP, KIND_JOB_FEEDBACK, KIND_JOB_RESULT } from '../../nostr/kinds.js';
import { createSeal, createWrap, type Rumor, type Unwrapped, unwrapEvent } from '../../nostr/nip59.js';
import type { NostrEvent } from '../../nostr/types.js';

/** Gift-wraps an already signed (or unsigned) event to `recipient`: the signature never leaves this process. */
export function giftWrapSigned(
  event: NostrEvent | Rumor,
  secretKey: Uint8Array,
  recipientPubkey: string,
): NostrEvent {
  const { sig: _sig, ...rest } = event as NostrEvent;
  const rumor: Rumor = rest;
  return createWrap(createSeal(rumor, secretKey, recipientPubkey), recipientPubkey);
}

export type OpenedWrap = { ok: true; opened: Unwrapped } | { ok: false; reason: string };

/**
 * Opens a wrap addressed to us. Never throws: a tampered wrap (bad MAC, seal signer not the rumor author,
 * bad signatures) or one addressed to someone else comes back as `{ ok: false, reason }` for the log.
 */
export function openWrap(wrap: NostrEvent, secretKey: Uint8Array, ownPubkey: string): OpenedWrap {
  if (wrap.kind !== KIND_GIFT_WRAP) return { ok: false, reason: `kind ${wrap.kind} is not a gift wrap` };
  const recipients = wrap.tags.filter((t) => t[0] === 'p').map((t) => t[1]);
  if (!recipients.includes(ownPubkey))
    return { ok: false, reason: `addressed to ${recipients.join(', ') || 'nobody'}, not to us` };
  try {
    return { ok: true, opened: unwrapEvent(wrap, secretKey) };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

/** A private result or feedback for a job this Mayor requested (the requester side handles those itself). */
export function isJobAnswerKind(kind: number): boolean {
  return kind === KIND_JOB_RESULT || kind === KIND_JOB_FEEDBACK;
}

/** The job a result or feedback event answers (its `e` tag). */
export function answeredJob(event: { tags: string[][] }): string | undefined {
  return event.tags.find((t) => t[0] === 'e')?.[1];
}
