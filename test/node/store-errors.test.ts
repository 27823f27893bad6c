// Store failures on a real relay + connector (real SQLite files, real BTP over loopback). The failure is a real
// SQLite error raised inside the real stores: a trigger added through a second connection aborts the INSERT with
// "database or disk is full" (a full disk cannot be made here; the trigger stands in for SQLITE_FULL on that table).
// - the event store fails: the write is refused T00, nothing is stored or owed, and an error line names relay.db;
// - the connector store fails after the relay committed: the payer gets its FULFILL (the event is stored and
//   served), the amount is still owed (in memory), and an error line names connector.db.
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
import { IlpPacketType, type IlpReject } from '../../src/ilp/index.js';
import { createLogger } from '../../src/node/logger.js';
import { storeErrorLogging } from '../../src/node/store-errors.js';
import { AccountSecretStore, type NostrRelay, startRelay } from '../../src/relay/index.js';
import { SqliteEventStore } from '../../src/store/index.js';
import { makeEvent, NODE, PRICE, paidWrite, RELAY } from '../connector/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'crosstown-store-errors-'));
const relayDb = join(dir, 'relay.db');
const connectorDb = join(dir, 'connector.db');
const lines: Record<string, unknown>[] = [];
let events: SqliteEventStore;
let connectorStore: SqliteConnectorStore;
let relay: NostrRelay;
let connector: Connector;
let client: BtpClient;
let destination: string;
let sharedSecret: Uint8Array;

/** Makes every INSERT into `table` of the database file fail with SQLite's disk-full message, until undone. */
function failInserts(path: string, table: string): () => void {
  const db = new Database(path);
  db.exec(
    `CREATE TRIGGER disk_full BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`,
  );
  return () => {
    db.exec('DROP TRIGGER disk_full');
    db.close();
  };
}

beforeAll(async () => {
  const log = createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l)) });
  const hooks = storeErrorLogging(log, { eventStore: relayDb, connectorDb });
  events = new SqliteEventStore({ path: relayDb, writerThread: true }); // as the node opens it
  connectorStore = openConnectorStore({ path: connectorDb });
  const secrets = new AccountSecretStore(RELAY);
  relay = await startRelay({
    store: events,
    secrets,
    basePricePerByte: PRICE,
    ilpAddress: RELAY,
    onStoreError: hooks.relay,
  });
  connector = await Connector.start({ address: NODE, store: connectorStore, onStoreError: hooks.connector });
  connector.addLocalRoute(RELAY, (p) => relay.handlePrepare(p), 'relay');
  connector.addPeer({ id: 'alpha', relation: 'child', authToken: 'alpha-token' });
  ({ destination, sharedSecret } = secrets.issue('alpha'));
  client = await BtpClient.connect({ url: connector.btpUrl, authToken: 'alpha-token' });
});

afterAll(async () => {
  await client?.close();
  await connector?.close();
  await relay?.close();
  connectorStore?.close();
  await events?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('store failures', () => {
  it('a failing event store refuses the write T00, stores and charges nothing, and logs an error naming relay.db', async () => {
    const owedBefore = connector.balance('alpha').owedByPeer;
    const event = makeEvent('refused while the disk is full');
    const undo = failInserts(relayDb, 'events');
    let reply: Awaited<ReturnType<BtpClient['sendPrepare']>>;
    try {
      reply = await client.sendPrepare(paidWrite(event, destination, sharedSecret).prepare);
    } finally {
      undo();
    }
    expect(reply.type).toBe(IlpPacketType.Reject);
    expect((reply as IlpReject).code).toBe('T00');
    expect(await events.get(event.id)).toBeUndefined();
    expect(connector.balance('alpha').owedByPeer).toBe(owedBefore);
    const line = lines.find((l) => l.level === 'error' && l.event === event.id);
    expect(line).toMatchObject({ store: relayDb });
    expect(JSON.stringify(line)).toContain('database or disk is full');
  });

  it('a failing connector store after the relay committed: FULFILL, event served, amount owed, error names connector.db', async () => {
    const owedBefore = connector.balance('alpha').owedByPeer;
    const event = makeEvent('stored while the connector disk is full');
    const write = paidWrite(event, destination, sharedSecret);
    const undo = failInserts(connectorDb, 'unpaid');
    let reply: Awaited<ReturnType<BtpClient['sendPrepare']>>;
    try {
      reply = await client.sendPrepare(write.prepare);
    } finally {
      undo();
    }
    // The relay committed the event and serves it: the payer must not be told it was refused.
    expect(await events.get(event.id)).toBeDefined();
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    expect(connector.balance('alpha').owedByPeer).toBe(owedBefore + write.price);
    const line = lines.find((l) => l.level === 'error' && l.path === connectorDb);
    expect(line).toMatchObject({ peer: 'alpha', amount: write.price.toString() });
    expect(JSON.stringify(line)).toContain('database or disk is full');

    // Once the disk is back, the next write is recorded durably as before.
    const next = paidWrite(makeEvent('after the disk is back'), destination, sharedSecret);
    expect((await client.sendPrepare(next.prepare)).type).toBe(IlpPacketType.Fulfill);
    expect(connector.balance('alpha').owedByPeer).toBe(owedBefore + write.price + next.price);
    expect(connectorStore.unpaid('alpha', 'in').map((p) => p.amount)).toContain(next.price);
  });
});
