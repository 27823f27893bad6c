import { randomBytes } from 'node:crypto';
import { KIND_CLIENT_AUTH, validateEventShape, verifyEvent } from '../nostr/index.js';
import type { NostrEvent } from '../nostr/types.js';

export const newChallenge = (): string => randomBytes(16).toString('hex');

/**
 * Checks a NIP-42 AUTH event and returns the authenticated pubkey, or throws an Error whose message is the
 * OK reason. The event's `relay` tag must name `relayUrl` (scheme, host, port and path): an AUTH signed for
 * another relay and replayed here proves nothing (issue 14).
 */
export function verifyAuth(
  raw: unknown,
  challenge: string,
  relayUrl: string,
  nowSeconds: number,
  windowSeconds: number,
): NostrEvent {
  const event = validateEventShape(raw);
  if (event.kind !== KIND_CLIENT_AUTH)
    throw new Error(`invalid: AUTH event must be kind ${KIND_CLIENT_AUTH}`);
  if (!verifyEvent(event)) throw new Error('invalid: AUTH event id or signature does not verify');
  if (Math.abs(event.created_at - nowSeconds) > windowSeconds) {
    throw new Error(`invalid: AUTH event created_at must be within ${windowSeconds}s of now`);
  }
  const tag = (name: string) => event.tags.find((t) => t[0] === name)?.[1];
  if (tag('challenge') !== challenge)
    throw new Error('invalid: AUTH challenge does not match this connection’s');
  const relay = tag('relay');
  if (!relay) throw new Error('invalid: AUTH event needs a relay tag');
  if (normalizeUrl(relay) !== normalizeUrl(relayUrl)) {
    throw new Error(`invalid: AUTH relay tag ${relay} is not this relay (${relayUrl})`);
  }
  return event;
}

function normalizeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`.toLowerCase();
  } catch {
    return url;
  }
}
