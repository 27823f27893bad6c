// An idle node (one packet in its connector: a payer 1 in flight) commits relay.db and connector.db on its main
// thread instead of handing the commits to its writer threads (docs/node.md "Idle fast path"). The promises hold on
// that path too: a real `crosstown node start` child is paid one write at a time and SIGKILLed the moment a FULFILL
// arrives; every FULFILLed write is then in relay.db (the event) and in connector.db (the Mayor's debt), read from
// the files as the next start reads them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { BtpClient, openConnectorStore } from '../../src/connector/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import { generateSecretKey } from '../../src/nostr/index.js';
import { jobEvent, openPayerChannel, paidWrite, spspOverNostr } from '../devnet/helpers.js';
import { killNodeProcess, type NodeProcess, startNodeProcess } from '../support/node-process.js';

const PRICE = 10n ** 13n;
/** FULFILLs before the kill: the last one is killed on arrival, with nothing else in the node. */
const KILL_AT = 12;
let chain: DevChain;
let dir: string;
let node: NodeProcess | undefined;

beforeAll(async () => {
  chain = await startDevChain({ accounts: 3 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-sigkill-idle-'));
});

afterAll(async () => {
  await killNodeProcess(node);
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGKILL of an idle node right after a FULFILL', () => {
  it('every FULFILLed write is in relay.db and every FULFILLed packet in connector.db', async () => {
    node = await startNodeProcess({ chain, dataDir: dir, walletKey: chain.anvil.accounts[1]!.privateKey });
    const running = node;
    const sk = generateSecretKey();
    const payerKey = chain.anvil.accounts[2]!.privateKey;
    const spsp = await spspOverNostr(running.endpoints.relayUrl, running.endpoints.pubkey, sk, {
      supportedChains: [chain.network.chainId],
      walletKey: payerKey,
    });
    await openPayerChannel(spsp, chain.network.rpcUrl, payerKey);
    const peerId = spsp.ilpAddress.split('.').at(-1)!;
    const client = await BtpClient.connect({ url: spsp.btpUrl, authToken: spsp.btpToken });

    const fulfilled: { id: string; condition: string; price: bigint }[] = [];
    for (let i = 0; i < KILL_AT; i++) {
      const event = jobEvent(sk, `idle write ${i}`);
      const { prepare, price } = paidWrite(event, spsp, PRICE);
      const reply = await client.sendPrepare(prepare).then((r) => {
        // Killed in the callback that sees the last FULFILL: the node gets no time after sending it.
        if (i === KILL_AT - 1) running.child.kill('SIGKILL');
        return r;
      });
      expect(reply.type).toBe(IlpPacketType.Fulfill);
      fulfilled.push({
        id: event.id,
        condition: Buffer.from(prepare.executionCondition).toString('hex'),
        price,
      });
    }
    expect(await running.exit).toEqual({ code: null, signal: 'SIGKILL' });
    await client.close().catch(() => {});

    // The events, read from relay.db as a restart reads it (its WAL included).
    const relayDb = new Database(join(dir, 'relay.db'));
    const stored = relayDb
      .prepare(`SELECT id FROM events WHERE id IN (${fulfilled.map(() => '?').join(',')})`)
      .all(...fulfilled.map((w) => w.id)) as { id: string }[];
    relayDb.close();
    expect(stored.map((r) => r.id).sort()).toEqual(fulfilled.map((w) => w.id).sort());
    // The Mayor's debt, read from connector.db.
    const store = openConnectorStore({ path: join(dir, 'connector.db') });
    const owed = store.unpaid(peerId, 'in');
    store.close();
    // This payer sends no claims: every FULFILLed packet is owed, once, at its price, and nothing else is.
    expect(owed.map((p) => p.condition).sort()).toEqual(fulfilled.map((w) => w.condition).sort());
    for (const p of owed) expect(p.amount).toBe(fulfilled.find((w) => w.condition === p.condition)!.price);
  }, 60_000);
});
