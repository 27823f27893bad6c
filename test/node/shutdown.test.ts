// Graceful stop in-process, made deterministic: stop() is called while a paid write is inside the relay's
// gate (a spy on relay.handlePrepare tells us when). That write must finish and be durable; a write arriving
// after stop() is refused with T00; reopening the SQLite file shows exactly the first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { IlpPacketType, type IlpPrepare, type IlpReply } from '../../src/ilp/index.js';
import { createLogger, type NodeConfig, type RunningNode, startNode } from '../../src/node/index.js';
import { finalizeEvent, generateSecretKey, KIND_PEER_INFO } from '../../src/nostr/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import { jobEvent, openPayerChannel, paidWrite, spspOverNostr } from '../devnet/helpers.js';
import { testNodeConfig } from '../support/node-config.js';

const PRICE = 10n ** 13n;
let chain: DevChain;
let dir: string;

beforeAll(async () => {
  chain = await startDevChain({ accounts: 2 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-shutdown-'));
});

afterAll(async () => {
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('RunningNode.stop()', () => {
  it('finishes the write in flight, refuses the next with T00, closes the store', async () => {
    const lines: string[] = [];
    const config: NodeConfig = testNodeConfig(chain, dir, { basePricePerByte: PRICE, logLevel: 'debug' });
    const node: RunningNode = await startNode(config, {
      logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    });
    const sk = generateSecretKey();
    const payerKey = chain.anvil.accounts[0]!.privateKey;
    const spsp = await spspOverNostr(node.relayUrl, node.pubkey, sk, { walletKey: payerKey });
    await openPayerChannel(spsp, chain.network.rpcUrl, payerKey);
    const peerId = spsp.ilpAddress.split('.').at(-1)!;
    const first = jobEvent(sk, 'in flight at stop');
    const second = jobEvent(sk, 'after stop');

    // Spy: call stop() the moment the first write enters the relay's gate.
    const relay = node.relay as unknown as { handlePrepare: (p: IlpPrepare) => Promise<IlpReply> };
    const original = relay.handlePrepare;
    let stopped: Promise<void> | undefined;
    relay.handlePrepare = (p) => {
      stopped ??= node.stop();
      return original(p);
    };
    const firstReply = node.connector.handlePrepare(paidWrite(first, spsp, PRICE).prepare, peerId);
    while (!stopped) await new Promise((r) => setImmediate(r));
    const secondReply = await node.connector.handlePrepare(paidWrite(second, spsp, PRICE).prepare, peerId);
    expect(secondReply).toMatchObject({ type: IlpPacketType.Reject, code: 'T00' });
    expect((secondReply as { message: string }).message).toMatch(/shutting down/);
    expect((await firstReply).type).toBe(IlpPacketType.Fulfill);
    await stopped;

    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string; inFlight?: number }).msg);
    expect(msgs.slice(-2)).toEqual([expect.stringMatching(/^stopping/), 'stopped']);
    const stopping = JSON.parse(lines.at(-2)!) as { inFlight: number };
    expect(stopping.inFlight).toBe(1);

    const store = await openSqliteStore({ path: join(dir, 'relay.db') });
    try {
      expect(await store.get(first.id)).toMatchObject({ id: first.id });
      expect(await store.get(second.id)).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('starts again when its stored peer info is as new as now (a restart within the same second)', async () => {
    const restartDir = mkdtempSync(join(tmpdir(), 'crosstown-restart-'));
    try {
      const config: NodeConfig = testNodeConfig(chain, restartDir, {
        basePricePerByte: PRICE,
        logLevel: 'error',
      });
      // What a node that started a moment ago left behind: its replaceable peer info, stamped this very second
      // (a little ahead, so that the clock cannot move past it while this test runs).
      const stamp = Math.floor(Date.now() / 1000) + 30;
      const seeded = await openSqliteStore({ path: join(restartDir, 'relay.db') });
      await seeded.save(
        finalizeEvent(
          { kind: KIND_PEER_INFO, created_at: stamp, tags: [], content: '{}' },
          config.nostrSecretKey,
        ),
      );
      await seeded.close();
      const node = await startNode(config, { logger: createLogger({ level: 'error', write: () => {} }) });
      try {
        expect(node.peerInfo.created_at).toBe(stamp + 1);
      } finally {
        await node.stop();
      }
    } finally {
      rmSync(restartDir, { recursive: true, force: true });
    }
  });
});
