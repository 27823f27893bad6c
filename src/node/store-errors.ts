// Store failures (disk full, I/O errors, a read-only file) logged at error level with where the data lives, so an
// operator sees why writes are refused. The relay refuses such a write T00 and charges nothing; the connector, whose
// write is already committed by the relay, answers the FULFILL and keeps the amount owed in memory (see balance.ts).
import type { NostrEvent } from '../nostr/types.js';
import type { Logger } from './logger.js';

export interface StoreErrorHooks {
  relay: (error: Error, event: NostrEvent) => void;
  connector: (error: unknown, packet: { peerId: string; condition: string; amount: bigint }) => void;
}

/** A database URL without its password, fit for a log line. */
export function storeLocationForLog(location: string): string {
  return location.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

export function storeErrorLogging(
  log: Logger,
  where: { eventStore: string; connectorDb: string },
): StoreErrorHooks {
  const eventStore = storeLocationForLog(where.eventStore);
  return {
    relay: (error, event) =>
      log.error('event store failed: write refused T00, nothing charged; check the disk', {
        store: eventStore,
        event: event.id,
        kind: event.kind,
        error,
      }),
    connector: (error, packet) =>
      log.error(
        'connector store failed to record a fulfilled packet: the write stands, the amount is owed in memory only until a claim pays it; check the disk',
        {
          path: where.connectorDb,
          peer: packet.peerId,
          condition: packet.condition,
          amount: packet.amount,
          error,
        },
      ),
  };
}
