// The SQLite event store as the node runs it (writerThread: commits on a writer thread with its own connection,
// reads on the main one): outcomes, read-after-save, group commit, durability at close, per-event errors with their
// SQLite code, and a writer thread that dies. Real files, real threads.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { afterAll, describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/nostr/types.js';
import { openSqliteStore, SqliteEventStore } from '../../src/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'crosstown-store-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sk = generateSecretKey();
let t = 1_700_000_000;
const event = (kind: number, tags: string[][] = [], content = 'hi', created_at = t++) =>
  JSON.parse(JSON.stringify(finalizeEvent({ kind, created_at, tags, content }, sk))) as NostrEvent;

/** Rows in the file, read through a connection of its own (what a restart would find). */
function idsOnDisk(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT id FROM events ORDER BY seq').all() as { id: string }[]).map((r) => r.id);
  } finally {
    db.close();
  }
}

describe('SqliteEventStore with a writer thread', () => {
  it('gives each save its outcome, visible to reads on the main connection once it resolves', async () => {
    const path = join(dir, 'outcomes.db');
    const store = await openSqliteStore({ path, writerThread: true });
    try {
      const a = event(1, [['t', 'x']]);
      expect(await store.save(a)).toEqual({ status: 'stored', replaced: [] });
      expect(await store.get(a.id)).toEqual(a);
      expect((await store.query([{ '#t': ['x'] }])).map((e) => e.id)).toEqual([a.id]);
      expect(await store.save(a)).toEqual({ status: 'duplicate' });
      // Replaceable: a newer version replaces, an older one is stale.
      const v2 = event(0, [], 'v2', 1_800_000_002);
      const v1 = event(0, [], 'v1', 1_800_000_001);
      expect(await store.save(v2)).toEqual({ status: 'stored', replaced: [] });
      expect(await store.save(v1)).toEqual({ status: 'stale', newerId: v2.id });
      // NIP-09 in the writer thread: deleted, then refused.
      const del = event(5, [['e', a.id]]);
      expect(await store.save(del)).toEqual({ status: 'stored', replaced: [], deleted: [a.id] });
      expect(await store.get(a.id)).toBeUndefined();
      expect(await store.save(a)).toEqual({ status: 'deleted' });
      expect(await store.save(event(20001))).toEqual({ status: 'ephemeral' });
    } finally {
      await store.close();
    }
  });

  it('gives concurrent saves each its own outcome, and writes them all before close', async () => {
    const path = join(dir, 'burst.db');
    const store = await openSqliteStore({ path, writerThread: true });
    const events = Array.from({ length: 300 }, (_, i) => event(1, [], `burst ${i}`));
    const first = events[0]!;
    const outcomes = [...events.map((e) => store.save(e)), store.save(first)];
    // Not awaited: close must still write every save it accepted before the file closes.
    await store.close();
    const settled = await Promise.all(outcomes);
    expect(settled.slice(0, 300).every((o) => o.status === 'stored')).toBe(true);
    expect(settled[300]).toEqual({ status: 'duplicate' });
    expect(idsOnDisk(path)).toEqual(events.map((e) => e.id));
    await expect(store.save(event(1))).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });

  it('refuses only the event whose insert fails, with its SQLite error, and stores the others of the batch', async () => {
    const path = join(dir, 'errors.db');
    const store = await openSqliteStore({ path, writerThread: true });
    const other = new Database(path);
    try {
      other.exec(
        "CREATE TRIGGER no_kind_7 BEFORE INSERT ON events WHEN NEW.kind = 7 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
      );
      const ok = event(1, [], 'kept');
      const bad = event(7, [], 'refused');
      const [okOutcome, badOutcome] = await Promise.allSettled([store.save(ok), store.save(bad)]);
      expect(okOutcome).toEqual({ status: 'fulfilled', value: { status: 'stored', replaced: [] } });
      expect(badOutcome.status).toBe('rejected');
      const reason = (badOutcome as PromiseRejectedResult).reason as Error & { code?: string };
      expect(reason).toBeInstanceOf(Error);
      expect(reason.message).toBe('database or disk is full');
      expect(reason.code).toMatch(/^SQLITE_CONSTRAINT/);
      expect(idsOnDisk(path)).toEqual([ok.id]);
    } finally {
      other.close();
      await store.close();
    }
  });

  it('when the writer thread dies, refuses what it held and commits later saves on the main thread', async () => {
    const path = join(dir, 'dead.db');
    const store = new SqliteEventStore({ path, writerThread: true });
    await store.ready();
    // The thread is private: reached here only to kill it, as a crash of the thread would.
    const worker = (store as unknown as { writer: { worker: import('node:worker_threads').Worker } }).writer
      .worker;
    await worker.terminate();
    const later = event(1, [], 'after the thread died');
    expect(await store.save(later)).toEqual({ status: 'stored', replaced: [] });
    expect(idsOnDisk(path)).toEqual([later.id]);
    await store.close();
  });
});
