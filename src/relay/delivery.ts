import { KIND_GIFT_WRAP } from '../nostr/index.js';
import type { NostrEvent } from '../nostr/types.js';
import { encodeEvent } from '../toon/index.js';
import type { Connection } from './connection.js';
import type { Encoding } from './nip11.js';

/** Gift wraps (kind 1059) go only to a connection authenticated (NIP-42) as a `p`-tagged recipient. */
export function canDeliver(event: NostrEvent, conn: Connection): boolean {
  if (event.kind !== KIND_GIFT_WRAP) return true;
  return event.tags.some((t) => t[0] === 'p' && t[1] !== undefined && conn.authed.has(t[1]));
}

/**
 * Builds EVENT frames, serializing each event at most once per encoding however many subscribers it reaches.
 * TOON frames carry the TOON text as a JSON string: `["EVENT", subId, "<toon text>"]`.
 */
export class FrameCache {
  private readonly bodies = new Map<Encoding, string>();
  constructor(readonly event: NostrEvent) {}

  frame(subId: string, encoding: Encoding): string {
    let body = this.bodies.get(encoding);
    if (body === undefined) {
      body = JSON.stringify(encoding === 'toon' ? encodeEvent(this.event) : this.event);
      this.bodies.set(encoding, body);
    }
    return `["EVENT",${JSON.stringify(subId)},${body}]`;
  }
}
