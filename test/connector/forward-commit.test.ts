// A packet the node forwards and gets fulfilled is recorded twice: the sender owes the node (incoming side) and the
// node owes the next hop (outgoing side). Both records are one commit of connector.db (issue 17: one fsync on the
// way of a provider's payment, not two), so a crash at any moment leaves both or neither: never the node owing
// the provider for a packet its payer does not owe (money lost), nor the reverse.
// Real SQLite file, real BTP over loopback. The store is observed, not replaced: each time one of its records is
// acknowledged (its commit returned), a second connection reads what is on disk at that moment, which is what a
// SIGKILL right then would leave. Twice: commits on the store's writer thread, and on the main thread while the
// connector is idle (what the node does for a payer 1 in flight: SqliteConnectorStore commitInline).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BtpClient,
  Connector,
  openConnectorStore,
  type SqliteConnectorStore,
} from '../../src/connector/index.js';
import { conditionOf, deriveFulfillment, IlpPacketType } from '../../src/ilp/index.js';

const NODE = 'g.crosstown.fwd';
const secret = new Uint8Array(randomBytes(32));

describe.each([
  { mode: 'on the writer thread', inline: false },
  { mode: 'on the main thread while the connector is idle', inline: true },
])('a forwarded, fulfilled packet, committed $mode', ({ inline }) => {
  const dir = mkdtempSync(join(tmpdir(), 'crosstown-forward-commit-'));
  const dbPath = join(dir, 'connector.db');
  let store: SqliteConnectorStore;
  let connector: Connector;
  let payer: BtpClient;
  let provider: BtpClient;
  let reader: Database.Database;
  /** What was on disk each time a record was acknowledged: [side acknowledged, rows in, rows out] per condition. */
  const seen: { side: string; condition: string; inRows: number; outRows: number }[] = [];

  beforeAll(async () => {
    store = openConnectorStore({
      path: dbPath,
      ...(inline && { commitInline: () => connector.packetsInFlight <= 1 }),
    });
    reader = new Database(dbPath, { readonly: true });
    const count = reader.prepare('SELECT count(*) AS n FROM unpaid WHERE direction = ? AND condition = ?');
    const addUnpaid = store.addUnpaid.bind(store);
    store.addUnpaid = (peerId, direction, packet) =>
      addUnpaid(peerId, direction, packet).then(() => {
        const rows = (d: string) => (count.get(d, packet.condition) as { n: number }).n;
        seen.push({ side: direction, condition: packet.condition, inRows: rows('in'), outRows: rows('out') });
      });
    connector = await Connector.start({ address: NODE, btp: { port: 0 }, store });
    connector.addPeer({ id: 'payer', relation: 'child', authToken: 'payer-token', creditLimit: 10n ** 18n });
    connector.addPeer({ id: 'provider', relation: 'child', authToken: 'provider-token' });
    connector.addRoute(`${NODE}.provider`, 'provider');
    payer = await BtpClient.connect({ url: connector.btpUrl, authToken: 'payer-token' });
    provider = await BtpClient.connect({
      url: connector.btpUrl,
      authToken: 'provider-token',
      onPrepare: async (p) => ({
        type: IlpPacketType.Fulfill,
        fulfillment: deriveFulfillment(secret, p.data),
        data: new Uint8Array(),
      }),
    });
  });

  afterAll(async () => {
    await payer?.close();
    await provider?.close();
    await connector?.close();
    store?.close();
    reader?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is on disk on both sides or on neither, whenever either record is acknowledged; sequential and in bursts', async () => {
    const send = async (i: number) => {
      const data = new Uint8Array(randomBytes(40));
      const condition = conditionOf(deriveFulfillment(secret, data));
      const reply = await payer.sendPrepare({
        type: IlpPacketType.Prepare,
        amount: 1000n + BigInt(i),
        destination: `${NODE}.provider.job`,
        executionCondition: condition,
        expiresAt: new Date(Date.now() + 10_000),
        data,
      });
      expect(reply.type).toBe(IlpPacketType.Fulfill);
      return Buffer.from(condition).toString('hex');
    };
    const conditions: string[] = [];
    for (let i = 0; i < 5; i++) conditions.push(await send(i));
    // One at a time: each packet's two records were one commit on the main thread (or none did, on the writer).
    expect(store.ranInline).toBe(inline ? 5 : 0);
    conditions.push(...(await Promise.all([5, 6, 7, 8, 9].map(send))));

    for (const c of conditions) {
      const acks = seen.filter((s) => s.condition === c);
      expect(acks.map((a) => a.side).sort()).toEqual(['in', 'out']);
      // A crash right after either acknowledgement keeps the payer's debt and the node's debt together.
      for (const a of acks)
        expect({ in: a.inRows, out: a.outRows }, `${a.side} of ${c}`).toEqual({ in: 1, out: 1 });
    }
    // And the connector's books agree: the payer owes what the node owes the provider.
    const total = [...Array(10).keys()].reduce((s, i) => s + 1000n + BigInt(i), 0n);
    expect(connector.balance('payer').owedByPeer).toBe(total);
    expect(connector.balance('provider').owedToPeer).toBe(total);
  }, 30_000);
});
