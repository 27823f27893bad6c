// NIP-45 COUNT: one answer `["COUNT", <id>, {"count": n}]` per request, computed by the store (row ids only, never
// events sent back). Each filter counts at most `max` events by the bounded plan REQ uses, so a COUNT costs no more
// than a REQ: an exact COUNT(*) of a broad filter took 0.5 s of the main thread on 500,000 events. Gift wraps count only for their AUTHenticated recipient, as in REQ,
// so a count cannot reveal how many wraps someone else received.
import { KIND_GIFT_WRAP } from '../nostr/index.js';
import type { Filter } from '../nostr/types.js';
import type { EventStore } from '../store/types.js';
import type { Connection } from './connection.js';

export async function answerCount(
  conn: Connection,
  store: EventStore,
  subId: string,
  filters: Filter[],
  /** Most events counted per filter; reaching it answers `approximate: true` (the count is a lower bound). */
  max = 1_000,
): Promise<void> {
  try {
    const count = await store.count(filters, {
      hiddenUnlessTagged: { kind: KIND_GIFT_WRAP, tag: 'p', values: [...conn.authed] },
      max,
    });
    conn.send(['COUNT', subId, count >= max ? { count, approximate: true } : { count }]);
  } catch (err) {
    conn.send(['CLOSED', subId, `error: could not count stored events: ${(err as Error).message}`]);
  }
}
