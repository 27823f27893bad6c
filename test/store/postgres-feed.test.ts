// Two store instances on one database, each with its own pool, as two relay processes would have: replaceable races
// and the live feed between them. Real PostgreSQL (test/support/postgres.ts).
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/nostr/types.js';
import { supersedes } from '../../src/store/kinds.js';
import { createPgLiveFeed, type FeedEventInfo, type PgLiveFeed } from '../../src/store/live-feed.js';
import { openPostgresStore, type PostgresEventStore } from '../../src/store/postgres.js';
import { type PostgresHandle, startPostgres } from '../support/postgres.js';

let server: PostgresHandle;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

const BASE = 1_700_000_000;
const sign = (sk: Uint8Array, kind: number, createdAt: number, tags: string[][] = []): NostrEvent =>
  JSON.parse(
    JSON.stringify(finalizeEvent({ kind, created_at: createdAt, tags, content: `c${Math.random()}` }, sk)),
  ) as NostrEvent;

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('two PostgreSQL store instances on one database', () => {
  let a: PostgresEventStore;
  let b: PostgresEventStore;
  let feed: PgLiveFeed | undefined;
  let url: string;
  const received: { event: NostrEvent; info: FeedEventInfo }[] = [];
  const startFeed = async (options: { pollIntervalMs?: number } = {}) => {
    // A long safety-net poll, so the tests show delivery driven by NOTIFY (and catch-up on start).
    feed = createPgLiveFeed(a.pool, {
      skipOrigin: a.origin,
      pollIntervalMs: options.pollIntervalMs ?? 60_000,
      onEvent: (event, info) => {
        received.push({ event, info });
      },
    });
    await feed.start();
    return feed;
  };

  beforeEach(async () => {
    url = await server.createDatabase();
    a = await openPostgresStore({ url, poolSize: 4 });
    b = await openPostgresStore({ url, poolSize: 4 });
    received.length = 0;
    feed = undefined;
  });
  afterEach(async () => {
    await feed?.stop();
    await a.close();
    await b.close();
  });

  it('resolves a replaceable race between the two to the right winner, with one event in the slot', async () => {
    const sk = generateSecretKey();
    // Many versions of one slot, several at each created_at (so the lowest-id tie rule decides), saved from both
    // instances at once in shuffled order.
    const versions = Array.from({ length: 60 }, (_, i) => sign(sk, 10002, BASE + (i % 7)));
    const addressable = Array.from({ length: 60 }, (_, i) =>
      sign(sk, 30023, BASE + (i % 5), [['d', 'slot']]),
    );
    const all = [...versions, ...addressable].sort(() => Math.random() - 0.5);
    const outcomes = await Promise.all(all.map((e, i) => (i % 2 === 0 ? a : b).save(e)));
    expect(outcomes.every((o) => o.status === 'stored' || o.status === 'stale')).toBe(true);

    const best = (events: NostrEvent[]) => events.reduce((w, e) => (supersedes(e, w) ? e : w));
    for (const [kind, events] of [
      [10002, versions],
      [30023, addressable],
    ] as const) {
      const stored = await b.query([{ kinds: [kind] }]);
      expect(stored.map((e) => e.id)).toEqual([best(events).id]);
      expect((await a.query([{ kinds: [kind] }])).map((e) => e.id)).toEqual([best(events).id]);
    }
    // Every replaced id was the slot's holder once: each version is reported replaced at most once overall.
    const replaced = outcomes.flatMap((o) => (o.status === 'stored' ? o.replaced : []));
    expect(new Set(replaced).size).toBe(replaced.length);
    expect(replaced.length).toBe(outcomes.filter((o) => o.status === 'stored').length - 2);
  });

  it('saves the same event through both at once: one stored, one duplicate', async () => {
    const sk = generateSecretKey();
    for (let i = 0; i < 20; i++) {
      const e = sign(sk, 1, BASE + i);
      const statuses = (await Promise.all([a.save(e), b.save(e)])).map((o) => o.status).sort();
      expect(statuses).toEqual(['duplicate', 'stored']);
    }
    expect(await a.count([{}])).toBe(20);
  });

  it("A's live feed receives every event saved through B exactly once, in order, and skips A's own", async () => {
    await startFeed();
    const sk = generateSecretKey();
    const fromB: NostrEvent[] = [];
    for (let i = 0; i < 100; i++) {
      const e = sign(sk, 1, BASE + i, [['t', 'feed']]);
      fromB.push(e);
      await b.save(e);
      // Some of A's own saves in between: A delivered those itself, its feed must skip them.
      if (i % 10 === 0) await a.save(sign(sk, 1, BASE + i));
    }
    // Concurrent saves from B too: all delivered once (their relative order is the commit order, not checked).
    const burst = Array.from({ length: 50 }, (_, i) => sign(sk, 7, BASE + i));
    await Promise.all(burst.map((e) => b.save(e)));
    await waitFor(() => received.length >= 150, '150 events on the feed');
    await new Promise((r) => setTimeout(r, 200)); // anything extra would show up now
    const got = received.map((r) => r.event.id);
    expect(got.length).toBe(150);
    expect(new Set(got).size).toBe(150);
    expect(got.slice(0, 100)).toEqual(fromB.map((e) => e.id));
    expect(new Set(got.slice(100))).toEqual(new Set(burst.map((e) => e.id)));
    expect(received.every((r) => r.info.origin === b.origin && !r.info.ephemeral)).toBe(true);
    // Cursors strictly increase.
    for (let i = 1; i < received.length; i++) {
      const [p, c] = [received[i - 1]!.info.cursor, received[i]!.info.cursor];
      expect(c.xid > p.xid || (c.xid === p.xid && c.seq > p.seq)).toBe(true);
    }
  });

  it('carries ephemeral events (never stored) from B to A', async () => {
    await startFeed();
    const e = sign(generateSecretKey(), 23194, BASE, [['p', 'a'.repeat(64)]]);
    expect(await b.save(e)).toEqual({ status: 'ephemeral' });
    await waitFor(() => received.length === 1, 'the ephemeral event');
    expect(received[0]!.event).toEqual(e);
    expect(received[0]!.info.ephemeral).toBe(true);
    expect(await a.get(e.id)).toBeUndefined();
  });

  it('catches up after a stop: no loss, no duplicate', async () => {
    const f = await startFeed();
    const sk = generateSecretKey();
    const first = Array.from({ length: 10 }, (_, i) => sign(sk, 1, BASE + i));
    for (const e of first) await b.save(e);
    await waitFor(() => received.length === 10, 'the first 10');
    await f.stop();
    const whileStopped = Array.from({ length: 25 }, (_, i) => sign(sk, 1, BASE + 100 + i));
    for (const e of whileStopped) await b.save(e);
    await new Promise((r) => setTimeout(r, 100));
    expect(received.length).toBe(10); // stopped means stopped
    await f.start();
    const after = Array.from({ length: 5 }, (_, i) => sign(sk, 1, BASE + 200 + i));
    for (const e of after) await b.save(e);
    await waitFor(() => received.length >= 40, 'catch-up and new events');
    await new Promise((r) => setTimeout(r, 200));
    expect(received.map((r) => r.event.id)).toEqual([...first, ...whileStopped, ...after].map((e) => e.id));
  });

  it('resumes in a new feed (a restarted process) from a saved cursor', async () => {
    const f = await startFeed();
    const sk = generateSecretKey();
    const before = sign(sk, 1, BASE);
    await b.save(before);
    await waitFor(() => received.length === 1, 'the first event');
    await f.stop();
    const saved = f.cursor!;
    const missed = [sign(sk, 1, BASE + 1), sign(sk, 1, BASE + 2)];
    for (const e of missed) await b.save(e);
    const later: string[] = [];
    feed = createPgLiveFeed(a.pool, { from: saved, onEvent: (e) => void later.push(e.id) });
    await feed.start();
    await waitFor(() => later.length === 2, 'the missed events');
    expect(later).toEqual(missed.map((e) => e.id));
  });

  it('never passes over an event whose transaction commits after a later one (seq order is not commit order)', async () => {
    await startFeed();
    const sk = generateSecretKey();
    const slow = sign(sk, 1, BASE);
    const fast = sign(sk, 1, BASE + 1);
    // A transaction that draws its feed seq first but commits last.
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    try {
      await raw.query('BEGIN');
      await raw.query("INSERT INTO event_feed (origin, ephemeral, raw) VALUES ('slow-writer', false, $1)", [
        JSON.stringify(slow),
      ]);
      await b.save(fast); // commits while the slow one is open
      await new Promise((r) => setTimeout(r, 300));
      // Held back, not skipped: delivering `fast` now would put the cursor past `slow`'s seq.
      expect(received.map((r) => r.event.id)).toEqual([]);
      await raw.query("SELECT pg_notify('crosstown_feed', '')");
      await raw.query('COMMIT');
    } finally {
      await raw.end();
    }
    await waitFor(() => received.length === 2, 'both events');
    expect(received.map((r) => r.event.id)).toEqual([slow.id, fast.id]);
  });

  it('keeps delivering after its LISTEN connection is killed', async () => {
    await startFeed();
    const sk = generateSecretKey();
    await b.save(sign(sk, 1, BASE));
    await waitFor(() => received.length === 1, 'the first event');
    const killed = await b.pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN crosstown_feed' AND datname = current_database()",
    );
    expect(killed.rowCount).toBe(1);
    const next = Array.from({ length: 5 }, (_, i) => sign(sk, 1, BASE + 1 + i));
    for (const e of next) await b.save(e);
    await waitFor(() => received.length === 6, 'events after the reconnect');
    await new Promise((r) => setTimeout(r, 200));
    expect(received.slice(1).map((r) => r.event.id)).toEqual(next.map((e) => e.id));
  });
});
