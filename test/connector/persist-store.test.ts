// The two ConnectorStore implementations behave alike (SQLite on a real file, reopened), SQLite's commits on its
// writer thread and, while the node is idle, on the main thread (commitInline), and the payment-channel-status codec
// refuses malformed JSON.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Hex } from 'viem';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  type ConnectorStore,
  decodeStatus,
  decodeStatusRequest,
  encodeStatus,
  MemoryConnectorStore,
  openConnectorStore,
  UnpaidPackets,
} from '../../src/connector/index.js';

const dir = mkdtempSync(join(tmpdir(), 'crosstown-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cond = (n: number) => n.toString(16).padStart(64, '0');
const ch = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex;
const sig = `0x${'11'.repeat(65)}` as Hex;

function exercise(store: ConnectorStore, reopen: () => ConnectorStore) {
  store.savePeer({
    id: 'a',
    relation: 'child',
    authToken: 't',
    creditLimit: 10n ** 30n,
    settleThreshold: 5n,
  });
  store.savePeer({ id: 'a', relation: 'child', authToken: 't2', creditLimit: 7n });
  store.addUnpaid('a', 'in', { condition: cond(1), amount: 10n });
  store.addUnpaid('a', 'in', { condition: cond(2), amount: 20n, fulfillment: cond(0xf2) });
  store.addUnpaid('a', 'in', { condition: cond(1), amount: 11n }); // the same condition fulfilled twice
  store.addUnpaid('a', 'out', { condition: cond(3), amount: 30n });
  store.addUnpaid('b', 'in', { condition: cond(1), amount: 99n });
  store.acceptClaim('a', { channelId: ch(1), cumulativeAmount: 10n, signature: sig }, [cond(1)]);
  store.saveOutgoing('a', { channelId: ch(9), deposit: 1000n, cumulative: 30n }, [cond(3)]);
  const s = reopen();
  expect(s.peers()).toEqual([{ id: 'a', relation: 'child', authToken: 't2', creditLimit: 7n }]);
  // The oldest packet of the condition went, the second one and the other peer's stay.
  expect(s.unpaid('a', 'in')).toEqual([
    { condition: cond(2), amount: 20n, fulfillment: cond(0xf2) },
    { condition: cond(1), amount: 11n },
  ]);
  expect(s.unpaid('b', 'in')).toEqual([{ condition: cond(1), amount: 99n }]);
  expect(s.unpaid('a', 'out')).toEqual([]);
  expect(s.acceptedClaims('a')).toEqual([{ channelId: ch(1), cumulativeAmount: 10n, signature: sig }]);
  expect(s.acceptedClaims('b')).toEqual([]);
  expect(s.acceptedClaim(ch(1))?.cumulativeAmount).toBe(10n);
  expect(s.acceptedClaim(ch(2))).toBeUndefined();
  expect(s.outgoing('a')).toEqual({ channelId: ch(9), deposit: 1000n, cumulative: 30n });
  s.acceptClaim('a', { channelId: ch(1), cumulativeAmount: 41n, signature: sig }, [cond(2), cond(1)]);
  expect(s.unpaid('a', 'in')).toEqual([]);
  expect(s.acceptedClaim(ch(1))?.cumulativeAmount).toBe(41n);
  s.deletePeer('a');
  expect(s.peers()).toEqual([]);
  s.close();
}

describe('ConnectorStore', () => {
  it('memory', () => {
    const m = new MemoryConnectorStore();
    exercise(m, () => m);
  });

  it('SQLite: the same after closing and reopening the file', () => {
    const path = join(dir, 'c.db');
    const first = openConnectorStore({ path });
    exercise(first, () => {
      first.close();
      return openConnectorStore({ path });
    });
  });

  it('SQLite: a file from before fulfillments were kept opens, its packets without one, new ones with it', () => {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE unpaid (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      peer TEXT NOT NULL, direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
      condition TEXT NOT NULL, amount TEXT NOT NULL
    )`);
    old
      .prepare('INSERT INTO unpaid (peer, direction, condition, amount) VALUES (?, ?, ?, ?)')
      .run('a', 'in', cond(1), '10');
    old.close();
    const s = openConnectorStore({ path });
    s.addUnpaid('a', 'in', { condition: cond(2), amount: 20n, fulfillment: cond(0xf2) });
    expect(s.unpaid('a', 'in')).toEqual([
      { condition: cond(1), amount: 10n },
      { condition: cond(2), amount: 20n, fulfillment: cond(0xf2) },
    ]);
    s.close();
  });

  it('SQLite: a directory that does not exist is a BAD_CONFIG error saying so', () => {
    expect(() => openConnectorStore({ path: join(dir, 'missing', 'c.db') })).toThrow(
      expect.objectContaining({ code: 'BAD_CONFIG', message: expect.stringMatching(/writable/) }),
    );
  });
});

describe('UnpaidPackets durability hooks', () => {
  it('a failing onAdd adds nothing; putBack and initial packets do not call it; merge adds only what is missing', async () => {
    const written: string[] = [];
    let fail = false;
    const u = new UnpaidPackets(
      (c) => {
        if (fail) throw new Error('disk full');
        written.push(c);
      },
      [{ condition: cond(1), amount: 5n }],
    );
    expect(u.total).toBe(5n);
    fail = true;
    expect(() => u.add(cond(2), 7n)).toThrow(/disk full/);
    expect(u.total).toBe(5n);
    fail = false;
    u.putBack(cond(3), 1n);
    expect(written).toEqual([]);
    await expect(
      u.merge([
        { condition: cond(1), amount: 5n },
        { condition: cond(1), amount: 6n },
        { condition: cond(4), amount: 2n },
      ]),
    ).resolves.toBe(8n);
    expect(written).toEqual([cond(1), cond(4)]);
    expect(u.total).toBe(5n + 1n + 6n + 2n);
  });
});

describe('SqliteConnectorStore group commit', () => {
  it('commits the packets of one turn together, counts them only after the commit, and a failed commit adds none', async () => {
    const path = join(dir, 'group.db');
    const store = openConnectorStore({ path });
    const ledger = new UnpaidPackets((c, a) => store.addUnpaid('p', 'in', { condition: c, amount: a }));
    const adds = [1, 2, 3].map((n) => ledger.add(cond(n), BigInt(n)));
    // Not yet committed: the packets do not count, so neither a claim nor a FULFILL can rely on them.
    expect(ledger.total).toBe(0n);
    await Promise.all(adds);
    expect(ledger.total).toBe(6n);
    // Another connection sees them: they are in the file, not only in this process.
    const other = openConnectorStore({ path });
    expect(other.unpaid('p', 'in').map((p) => p.amount)).toEqual([1n, 2n, 3n]);
    other.close();
    // A write queued before a claim is committed before the claim's transaction, which may then pay it.
    const pending = store.addUnpaid('p', 'in', { condition: cond(4), amount: 4n });
    store.acceptClaim('p', { channelId: ch(1), cumulativeAmount: 4n, signature: sig }, [cond(4)]);
    await pending;
    expect(store.unpaid('p', 'in').map((p) => p.condition)).toEqual([cond(1), cond(2), cond(3)]);
    store.close();
    // Closed: the write is refused, so the FULFILL it guards is never sent.
    await expect(ledger.add(cond(5), 5n)).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    expect(ledger.total).toBe(6n);
  });
});

describe('SqliteConnectorStore claims on the writer thread', () => {
  it('commits a claim behind the packets it pays, accepts it only once on disk, and refuses it when the commit fails', async () => {
    const path = join(dir, 'claims-writer.db');
    const store = openConnectorStore({ path });
    const other = new Database(path);
    try {
      const packet = store.addUnpaid('p', 'in', { condition: cond(1), amount: 1n });
      const claim = store.acceptClaim('p', { channelId: ch(2), cumulativeAmount: 1n, signature: sig }, [
        cond(1),
      ]);
      expect(claim).toBeInstanceOf(Promise);
      // Queued, not accepted yet: nobody reads it as the channel's best claim before its commit returns.
      expect(store.acceptedClaim(ch(2))).toBeUndefined();
      await Promise.all([packet, claim]);
      // On disk, seen through another connection: the claim, and the packet it paid gone.
      expect(other.prepare('SELECT cumulative FROM claims_in WHERE channel_id = ?').get(ch(2))).toEqual({
        cumulative: '1',
      });
      expect(other.prepare('SELECT count(*) AS n FROM unpaid').get()).toEqual({ n: 0 });
      expect(store.acceptedClaim(ch(2))?.cumulativeAmount).toBe(1n);
      // A claim whose commit fails is refused (the error names the file) and changes nothing.
      other.exec(
        "CREATE TRIGGER disk_full BEFORE INSERT ON claims_in BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
      );
      await store.addUnpaid('p', 'in', { condition: cond(5), amount: 5n });
      await expect(
        store.acceptClaim('p', { channelId: ch(3), cumulativeAmount: 5n, signature: sig }, [cond(5)]),
      ).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringContaining(path) });
      expect(store.unpaid('p', 'in')).toEqual([{ condition: cond(5), amount: 5n }]);
      expect(store.acceptedClaim(ch(3))).toBeUndefined();
    } finally {
      other.close();
      store.close();
    }
  });
});

describe('SqliteConnectorStore commits on the main thread while the node is idle', () => {
  it('records packets and claims in order, on disk and fsynced before their promises resolve; refuses a failed commit', async () => {
    const path = join(dir, 'inline.db');
    let idle = true;
    const store = openConnectorStore({ path, commitInline: () => idle });
    const other = new Database(path);
    try {
      // synchronous = FULL on the connection that commits inline: the WAL is fsynced before the promise resolves.
      const main = (store as unknown as { db: Database.Database }).db;
      expect(main.pragma('synchronous', { simple: true })).toBe(2);
      const initialSize = statSync(path).size;
      const count = other.prepare('SELECT count(*) AS n FROM unpaid');
      await store.addUnpaid('p', 'in', { condition: cond(1), amount: 1n });
      expect(store.ranInline).toBe(1);
      // Seen through another connection the moment the promise resolved: what a SIGKILL then would leave.
      expect(count.get()).toEqual({ n: 1 });
      // A packet and the claim queued after it: one commit, in that order (the claim pays the packet).
      const packet = store.addUnpaid('p', 'in', { condition: cond(2), amount: 2n });
      const claim = store.acceptClaim('p', { channelId: ch(4), cumulativeAmount: 3n, signature: sig }, [
        cond(1),
        cond(2),
      ]);
      expect(store.acceptedClaim(ch(4))).toBeUndefined();
      await Promise.all([packet, claim]);
      expect(store.ranInline).toBe(2);
      expect(count.get()).toEqual({ n: 0 });
      expect(store.acceptedClaim(ch(4))?.cumulativeAmount).toBe(3n);
      // Not idle: the writer thread commits.
      idle = false;
      await store.addUnpaid('p', 'in', { condition: cond(3), amount: 3n });
      expect(store.ranInline).toBe(2);
      idle = true;
      // A commit that fails rejects (the FULFILL it guards is not sent) and leaves nothing.
      other.exec(
        "CREATE TRIGGER disk_full BEFORE INSERT ON unpaid WHEN NEW.amount = '7' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
      );
      await expect(store.addUnpaid('p', 'in', { condition: cond(7), amount: 7n })).rejects.toMatchObject({
        code: 'BAD_CONFIG',
        message: expect.stringContaining(path),
      });
      expect(store.unpaid('p', 'in')).toEqual([{ condition: cond(3), amount: 3n }]);
      // This connection never checkpoints; the writer thread does, asked every 128 inline commits: the rows reach
      // the database file itself and the WAL does not grow without bound.
      for (let i = 0; i < 130; i++) await store.addUnpaid('q', 'in', { condition: cond(i), amount: 1n });
      await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(initialSize), { timeout: 5000 });
      // Commits back to back overtake each checkpoint pass; the short last pass (writes held back behind it) lets the
      // WAL start again from its beginning: about 16 KB per commit without it (over 6 MB here), under 3 MB with.
      for (let i = 130; i < 530; i++) await store.addUnpaid('q', 'in', { condition: cond(i), amount: 1n });
      expect(statSync(`${path}-wal`).size).toBeLessThan(3 * 1024 * 1024);
      expect(store.unpaid('q', 'in')).toHaveLength(530);
    } finally {
      other.close();
      store.close();
    }
  });
});

describe('payment-channel-status codec', () => {
  const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
  it('round-trips and refuses malformed input', () => {
    const s = {
      channelId: ch(1),
      cumulativeAmount: 12n,
      signature: null,
      owed: [{ condition: cond(1), amount: 3n }],
    };
    expect(decodeStatus(encodeStatus(s).data)).toEqual(s);
    const proven = { ...s, owed: [{ condition: cond(1), amount: 3n, fulfillment: cond(0xf1) }] };
    expect(decodeStatus(encodeStatus(proven).data)).toEqual(proven);
    expect(decodeStatusRequest(enc({ channelId: ch(2) }))).toEqual({ channelId: ch(2) });
    for (const bad of [{ channelId: 'x' }, { channelId: ch(1), extra: 1 }, [ch(1)]]) {
      expect(() => decodeStatusRequest(enc(bad))).toThrow(
        expect.objectContaining({ code: 'STATUS_MALFORMED' }),
      );
    }
    for (const bad of [
      { ...s, cumulativeAmount: 12 },
      { ...s, cumulativeAmount: '-1' },
      { ...s, signature: '0x12' },
      { ...s, owed: [{ condition: cond(0xab).toUpperCase(), amount: '1' }] },
      { ...s, owed: [{ condition: cond(1), amount: 1 }] },
      { ...s, owed: [{ condition: cond(1), amount: '1', fulfillment: cond(0xab).toUpperCase() }] },
      { ...s, owed: [{ condition: cond(1), amount: '1', fulfillment: 7 }] },
      { ...s, owed: 'none' },
    ]) {
      const json = JSON.stringify(bad, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      expect(() => decodeStatus(new TextEncoder().encode(json))).toThrow(
        expect.objectContaining({ code: 'STATUS_MALFORMED' }),
      );
    }
    expect(() => decodeStatus(new Uint8Array([0xff]))).toThrow(/not UTF-8 JSON/);
  });
});
