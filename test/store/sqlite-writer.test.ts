// The SQLite event store as the node runs it (writerThread: commits on a writer thread with its own connection,
// reads on the main one): outcomes, read-after-save, group commit, durability at close, per-event errors with their
// SQLite code, a writer thread that dies, and commits on the main thread while the node is idle (commitInline).
// Real files, real threads.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { afterAll, describe, expect, it, vi } from 'vitest';
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

  it('a failing event in the middle of a batch leaves nothing of itself and undoes nothing of the others (tags included)', async () => {
    const path = join(dir, 'errors-middle.db');
    const store = await openSqliteStore({ path, writerThread: true });
    const other = new Database(path);
    try {
      // The trigger fires on the bad event's first tag row, after its events row: a half-written event to undo.
      other.exec(
        "CREATE TRIGGER no_tag_bad BEFORE INSERT ON tags WHEN NEW.value = 'bad' BEGIN SELECT RAISE(ABORT, 'refused tag'); END;",
      );
      const before = event(1, [['t', 'one']], 'before');
      const bad = event(1, [['t', 'bad']], 'bad');
      const after = event(1, [['t', 'two']], 'after');
      const outcomes = await Promise.allSettled([
        store.save(before),
        store.save(bad),
        store.save(after),
        store.save(before),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((outcomes[3] as PromiseFulfilledResult<unknown>).value).toEqual({ status: 'duplicate' });
      expect(((outcomes[1] as PromiseRejectedResult).reason as Error).message).toBe('refused tag');
      expect(idsOnDisk(path)).toEqual([before.id, after.id]);
      const tags = other.prepare('SELECT value FROM tags ORDER BY event_seq').all() as { value: string }[];
      expect(tags.map((r) => r.value)).toEqual(['one', 'two']);
      // The next batch, without a failure, commits as usual.
      const later = event(1, [['t', 'three']], 'later');
      expect(await store.save(later)).toEqual({ status: 'stored', replaced: [] });
      expect(idsOnDisk(path)).toEqual([before.id, after.id, later.id]);
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

  it('commits a lone save on the calling thread when commitInline says idle: on disk and fsynced when it resolves', async () => {
    const path = join(dir, 'inline.db');
    let idle = true;
    const store = await openSqliteStore({ path, writerThread: true, commitInline: () => idle });
    const other = new Database(path, { readonly: true });
    try {
      // synchronous = FULL on the connection that commits inline: the WAL is fsynced before save resolves.
      const main = (store as unknown as { db: Database.Database }).db;
      expect(main.pragma('synchronous', { simple: true })).toBe(2);
      const initialSize = statSync(path).size;
      const lone = event(1, [], 'alone');
      expect(await store.save(lone)).toEqual({ status: 'stored', replaced: [] });
      expect(store.ranInline).toBe(1);
      // Another connection sees it the moment save resolved: what a SIGKILL then would leave.
      expect(other.prepare('SELECT id FROM events WHERE id = ?').get(lone.id)).toEqual({ id: lone.id });
      // Outcomes are the same as on the writer thread.
      expect(await store.save(lone)).toEqual({ status: 'duplicate' });
      // Several saves in one turn are a group: the writer thread commits them.
      const burst = [event(1, [], 'b1'), event(1, [], 'b2')];
      await Promise.all(burst.map((e) => store.save(e)));
      expect(store.ranInline).toBe(2);
      // Not idle: a lone save goes to the writer thread too.
      idle = false;
      await store.save(event(1, [], 'busy'));
      expect(store.ranInline).toBe(2);
      idle = true;
      // The main connection never checkpoints; the writer thread does, asked every 64 inline commits: the rows
      // reach the database file itself and the WAL does not grow without bound.
      for (let i = 0; i < 66; i++) await store.save(event(1, [], `lone ${i}`));
      await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(initialSize), { timeout: 5000 });
      // Commits back to back overtake each checkpoint pass; the short last pass (commits held back behind it) lets
      // the WAL start again from its beginning: about 40 KB per lone event without it (6-12 MB here), under 4.5 MB with.
      for (let i = 0; i < 300; i++) await store.save(event(1, [], `more ${i}`));
      expect(statSync(`${path}-wal`).size).toBeLessThan(4.5 * 1024 * 1024);
      expect(store.ranInline).toBeGreaterThan(350); // a few went to the writer thread behind a last pass
      expect(idsOnDisk(path)).toHaveLength(370);
    } finally {
      other.close();
      await store.close();
    }
  });
});
