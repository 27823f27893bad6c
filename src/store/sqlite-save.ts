// The write half of the SQLite event store: NIP-01 kind semantics and NIP-09 deletion on one connection, a batch of
// events per transaction (one fsync). Used on the main thread (SqliteEventStore) or on its writer thread
// (sqlite-writer-worker.ts), which opens its own connection to the same file.
import type Database from 'better-sqlite3';
import type { NostrEvent } from '../nostr/types.js';
import { addressKey, isIndexedTagName, replaceKeyOf, supersedes } from './kinds.js';
import type { SaveOutcome } from './types.js';

const KIND_DELETION = 5;

export interface EventSaver {
  /**
   * Saves `events` in one IMMEDIATE transaction; one failing event does not undo the others (the batch is then redone
   * with each event in its own savepoint). Returns an outcome or the Error per event; throws when the commit itself fails (nothing written).
   */
  saveBatch(events: readonly NostrEvent[]): (SaveOutcome | Error)[];
}

export function createEventSaver(db: Database.Database): EventSaver {
  const insertEvent = db.prepare(
    'INSERT INTO events (id, pubkey, created_at, kind, replace_key, raw) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertTag = db.prepare(
    'INSERT OR IGNORE INTO tags (event_seq, name, value, created_at) VALUES (?, ?, ?, ?)',
  );
  const selectId = db.prepare('SELECT 1 FROM events WHERE id = ?');
  const selectByReplaceKey = db.prepare('SELECT seq, id, created_at FROM events WHERE replace_key = ?');
  const deleteEvent = db.prepare('DELETE FROM events WHERE seq = ?');
  const deleteTags = db.prepare('DELETE FROM tags WHERE event_seq = ?');
  const selectTombstone = db.prepare('SELECT created_at FROM deletions WHERE target = ? AND pubkey = ?');
  const insertTombstone = db.prepare(
    'INSERT INTO deletions (target, pubkey, created_at) VALUES (?, ?, ?) ' +
      'ON CONFLICT (target, pubkey) DO UPDATE SET created_at = max(created_at, excluded.created_at)',
  );
  const selectMeta = db.prepare('SELECT seq, pubkey, kind FROM events WHERE id = ?');
  const selectAddressVersions = db.prepare(
    'SELECT seq, id FROM events WHERE replace_key = ? AND pubkey = ? AND created_at <= ?',
  );

  /** True when the author asked (NIP-09) to delete this id, or this address up to this event's created_at. */
  const isDeleted = (event: NostrEvent, replaceKey: string | undefined): boolean => {
    if (selectTombstone.get(event.id, event.pubkey)) return true;
    if (replaceKey === undefined) return false;
    const row = selectTombstone.get(replaceKey, event.pubkey) as { created_at: number } | undefined;
    return row !== undefined && event.created_at <= row.created_at;
  };

  /**
   * NIP-09: removes the stored events a kind 5 names (`e`: ids, `a`: addresses, versions up to the request's
   * created_at), only the requester's own and never another deletion request, and remembers the request so the
   * events cannot be stored again. Returns the removed ids.
   */
  const applyDeletion = (request: NostrEvent): string[] => {
    const removed: string[] = [];
    const remove = (seq: number, id: string) => {
      deleteTags.run(seq);
      deleteEvent.run(seq);
      removed.push(id);
    };
    for (const [name, value] of request.tags) {
      if (name === 'e' && value && /^[0-9a-f]{64}$/.test(value)) {
        insertTombstone.run(value, request.pubkey, request.created_at);
        const row = selectMeta.get(value) as { seq: number; pubkey: string; kind: number } | undefined;
        if (row && row.pubkey === request.pubkey && row.kind !== KIND_DELETION) remove(row.seq, value);
      } else if (name === 'a' && value) {
        const key = addressKey(value);
        if (key === undefined || key.pubkey !== request.pubkey) continue;
        insertTombstone.run(key.replaceKey, request.pubkey, request.created_at);
        const rows = selectAddressVersions.all(key.replaceKey, request.pubkey, request.created_at) as {
          seq: number;
          id: string;
        }[];
        for (const row of rows) remove(row.seq, row.id);
      }
    }
    return removed;
  };

  const saveOne = (event: NostrEvent): SaveOutcome => {
    if (selectId.get(event.id)) return { status: 'duplicate' };
    const replaceKey = replaceKeyOf(event);
    if (event.kind !== KIND_DELETION && isDeleted(event, replaceKey)) return { status: 'deleted' };
    const replaced: string[] = [];
    if (replaceKey !== undefined) {
      const current = selectByReplaceKey.get(replaceKey) as
        | { seq: number; id: string; created_at: number }
        | undefined;
      if (current) {
        if (!supersedes(event, current)) return { status: 'stale', newerId: current.id };
        deleteTags.run(current.seq);
        deleteEvent.run(current.seq);
        replaced.push(current.id);
      }
    }
    const { lastInsertRowid } = insertEvent.run(
      event.id,
      event.pubkey,
      event.created_at,
      event.kind,
      replaceKey ?? null,
      JSON.stringify(event),
    );
    for (const tag of event.tags) {
      const [name, value] = tag;
      if (isIndexedTagName(name) && typeof value === 'string') {
        insertTag.run(lastInsertRowid, name, value, event.created_at);
      }
    }
    if (event.kind === KIND_DELETION) return { status: 'stored', replaced, deleted: applyDeletion(event) };
    return { status: 'stored', replaced };
  };

  // The usual batch: every event saves, so no per-event SAVEPOINT. A savepoint makes SQLite copy each page the event
  // changes to a statement journal (a temp file: two pwrite64 per page, more writes than the WAL frames themselves),
  // which was most of the writer thread's system calls at 64 in flight. If any event throws, the whole transaction
  // is rolled back (nothing of it written) and the batch is redone below, each event in its own savepoint.
  const batchTx = db.transaction((events: readonly NostrEvent[]) =>
    events.map((event) => {
      try {
        return saveOne(event);
      } catch (err) {
        throw new EventFailed(err);
      }
    }),
  );
  // Nested inside the batch transaction, each event runs in its own SAVEPOINT: one failing event does not undo the
  // others.
  const saveTx = db.transaction(saveOne);
  const isolatedBatchTx = db.transaction((events: readonly NostrEvent[]) =>
    events.map((event) => {
      try {
        return saveTx(event);
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    }),
  );
  return {
    saveBatch: (events) => {
      try {
        return batchTx.immediate(events);
      } catch (err) {
        // A failed BEGIN or COMMIT is thrown to the caller as before (not retried: after a failed fsync a second
        // commit proves nothing); only an event's own failure takes the isolated path.
        if (!(err instanceof EventFailed)) throw err;
        return isolatedBatchTx.immediate(events);
      }
    },
  };
}

/** An event of a batch threw inside the transaction: the batch is rolled back and redone event by event. */
class EventFailed extends Error {
  constructor(readonly reason: unknown) {
    super('an event of the batch failed');
  }
}
