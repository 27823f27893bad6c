// The connector store is group-committed (one transaction per event-loop turn), and still no FULFILL leaves the
// node before the packet it credits is on disk: a real `crosstown node start` child takes a stream of paid writes
// over BTP (40 in flight) and is SIGKILLed after 40 FULFILLs, with 40 still in it; after the kill every FULFILLed packet is in
// connector.db (the Mayor's debt, `unpaid` `in`), and after a restart every FULFILLed write is served.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { BtpClient, openConnectorStore } from '../../src/connector/index.js';
import { IlpPacketType, type IlpReply } from '../../src/ilp/index.js';
import { generateSecretKey } from '../../src/nostr/index.js';
import { jobEvent, openPayerChannel, paidWrite, readEvents, spspOverNostr } from '../devnet/helpers.js';
import { killNodeProcess, type NodeProcess, startNodeProcess } from '../support/node-process.js';

const PRICE = 10n ** 13n;
/** Writes prepared (their prices stay within the channel's deposit), how many are in flight, and the kill point. */
const WRITES = 240;
const WINDOW = 40;
const KILL_AT = 40;
let chain: DevChain;
let dir: string;
const running: NodeProcess[] = [];

beforeAll(async () => {
  chain = await startDevChain({ accounts: 3 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-sigkill-'));
});

afterAll(async () => {
  for (const p of running) await killNodeProcess(p);
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGKILL of a node after FULFILLs', () => {
  it('every FULFILLed packet is in connector.db, and every FULFILLed write is served after restart', async () => {
    const start = () =>
      startNodeProcess({ chain, dataDir: dir, walletKey: chain.anvil.accounts[1]!.privateKey });
    const first = await start();
    running.push(first);
    const sk = generateSecretKey();
    // A Mayor with a proven settlement address and a channel: the node gives no credit without them.
    const payerKey = chain.anvil.accounts[2]!.privateKey;
    const spsp = await spspOverNostr(first.endpoints.relayUrl, first.endpoints.pubkey, sk, {
      supportedChains: [chain.network.chainId],
      walletKey: payerKey,
    });
    await openPayerChannel(spsp, chain.network.rpcUrl, payerKey);
    const peerId = spsp.ilpAddress.split('.').at(-1)!;
    const client = await BtpClient.connect({ url: spsp.btpUrl, authToken: spsp.btpToken });

    const writes = Array.from({ length: WRITES }, (_, i) => {
      const event = jobEvent(sk, `write ${i}`);
      const { prepare, price } = paidWrite(event, spsp, PRICE);
      return { event, prepare, price, condition: Buffer.from(prepare.executionCondition).toString('hex') };
    });
    // One write first: the node finds and binds the channel on it (a burst before that is refused T04).
    const first1 = writes.shift()!;
    expect((await client.sendPrepare(first1.prepare)).type).toBe(IlpPacketType.Fulfill);
    const fulfilled: typeof writes = [first1];
    let killed = false;
    // WINDOW in flight at all times, the next one sent as each answer comes back, so the kill always finds writes
    // inside the node (a single burst could be answered whole before a loaded test process saw its 10th FULFILL).
    await new Promise<void>((resolve) => {
      let next = 0;
      let active = 0;
      const pump = () => {
        while (!killed && active < WINDOW && next < writes.length) {
          const w = writes[next++]!;
          active++;
          client
            .sendPrepare(w.prepare)
            .then((reply: IlpReply) => {
              if (reply.type !== IlpPacketType.Fulfill) return;
              fulfilled.push(w);
              if (!killed && fulfilled.length >= KILL_AT) {
                killed = true;
                first.child.kill('SIGKILL');
              }
            })
            .catch(() => undefined)
            .finally(() => {
              active--;
              pump();
              if (active === 0) resolve();
            });
        }
      };
      pump();
    });
    if (!killed) first.child.kill('SIGKILL'); // fewer than KILL_AT FULFILLs: the expectations below say so
    expect(await first.exit).toEqual({ code: null, signal: 'SIGKILL' });
    await client.close().catch(() => {});
    expect(fulfilled.length).toBeGreaterThanOrEqual(KILL_AT);
    // The kill cut the stream: at most the writes in flight came back after it (else the test proves nothing about
    // a crash mid-batch).
    expect(fulfilled.length).toBeLessThanOrEqual(KILL_AT + WINDOW);
    writes.push(first1);

    // On disk: every FULFILLed packet is the Mayor's debt in connector.db (read as the next start reads it).
    const store = openConnectorStore({ path: join(dir, 'connector.db') });
    const owed = store.unpaid(peerId, 'in');
    store.close();
    const onDisk = new Set(owed.map((p) => p.condition));
    const missing = fulfilled.filter((w) => !onDisk.has(w.condition));
    expect(missing.map((w) => w.event.id)).toEqual([]);
    // Nothing credited twice and nothing credited that was never sent.
    const sent = new Map(writes.map((w) => [w.condition, w.price]));
    expect(owed.length).toBe(onDisk.size);
    for (const p of owed) expect(p.amount).toBe(sent.get(p.condition));

    // After a restart on the same data dir the node serves every FULFILLed write.
    const second = await start();
    running.push(second);
    const ids = fulfilled.map((w) => w.event.id);
    const stored = await readEvents(second.endpoints.relayUrl, { ids });
    expect(stored.map((e) => e.id).sort()).toEqual([...ids].sort());
    second.child.kill('SIGTERM');
    expect(await second.exit).toEqual({ code: 0, signal: null });
  }, 120_000);
});
