// NIP-45 COUNT: one answer `["COUNT", <id>, {"count": n}]` per request, computed by the store (an indexed
// COUNT(*), never a scan of rows sent back). Gift wraps count only for their AUTHenticated recipient, as in REQ,
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
): Promise<void> {
  try {
    const count = await store.count(filters, {
      hiddenUnlessTagged: { kind: KIND_GIFT_WRAP, tag: 'p', values: [...conn.authed] },
    });
    conn.send(['COUNT', subId, { count }]);
  } catch (err) {
    conn.send(['CLOSED', subId, `error: could not count stored events: ${(err as Error).message}`]);
  }
}
