// Two nodes linked by a static route (real BTP link between them, real relays, real anvil): a Mayor attached
// to node1 pays for a write on node2's relay; node1 forwards it over the link and node2's relay stores it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { BtpClient } from '../../src/connector/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import { createLogger, type NodeConfig, type RunningNode, startNode } from '../../src/node/index.js';
import { generateSecretKey, type SpspResponse } from '../../src/nostr/index.js';
import { jobEvent, openPayerChannel, paidWrite, readEvents, spspOverNostr } from '../devnet/helpers.js';
import { testNodeConfig } from '../support/node-config.js';

const PRICE = 10n ** 13n;
const LINK_TOKEN = 'link-token-0123456789';
let chain: DevChain;
let dir: string;
let node1: RunningNode;
let node2: RunningNode;
const node1Logs: string[] = [];

function config(name: string, account: number, peers: NodeConfig['peers']): NodeConfig {
  return testNodeConfig(chain, join(dir, name), { name, account, peers, basePricePerByte: PRICE });
}

beforeAll(async () => {
  chain = await startDevChain({ accounts: 3 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-routes-'));
  // node2 waits for node1 to dial in; node1 dials node2 and routes g.crosstown.node2 there.
  node2 = await startNode(config('node2', 2, [{ id: 'node1', authToken: LINK_TOKEN, routes: [] }]), {
    logger: createLogger({ write: () => {} }),
  });
  node1 = await startNode(
    config('node1', 1, [
      { id: 'node2', authToken: LINK_TOKEN, url: node2.btpUrl, routes: ['g.crosstown.node2'] },
    ]),
    { logger: createLogger({ write: (l) => node1Logs.push(l) }) },
  );
});

afterAll(async () => {
  await node1?.stop();
  await node2?.stop();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('static routes between nodes', () => {
  it("a Mayor on node1 pays for a write on node2's relay through the link", async () => {
    const deadline = Date.now() + 10_000;
    while (!node1Logs.some((l) => l.includes('"msg":"peer link up"')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(node1Logs.some((l) => l.includes('"msg":"peer link up"'))).toBe(true);

    const sk = generateSecretKey();
    const payerKey = chain.anvil.accounts[0]!.privateKey;
    const onNode1: SpspResponse = await spspOverNostr(node1.relayUrl, node1.pubkey, sk, {
      walletKey: payerKey,
    });
    await openPayerChannel(onNode1, chain.network.rpcUrl, payerKey);
    // SPSP with node2's relay over HTTP (RFC 0009), as an ordinary ILP sender would.
    const res = await fetch(node2.spspUrl, { headers: { accept: 'application/spsp4+json' } });
    const remote = (await res.json()) as { destination_account: string; shared_secret: string };
    expect(remote.destination_account.startsWith('g.crosstown.node2.relay.')).toBe(true);

    const client = await BtpClient.connect({ url: onNode1.btpUrl, authToken: onNode1.btpToken });
    try {
      const event = jobEvent(sk, 'routed');
      const w = paidWrite(
        event,
        { ...onNode1, destinationAccount: remote.destination_account, sharedSecret: remote.shared_secret },
        PRICE,
      );
      const reply = await client.sendPrepare(w.prepare);
      expect(reply.type).toBe(IlpPacketType.Fulfill);
      expect(await readEvents(node2.relayUrl, { ids: [event.id] })).toHaveLength(1);
      expect(await readEvents(node1.relayUrl, { ids: [event.id] })).toHaveLength(0);
      // node1 fronted the payment: its Mayor owes it, and it owes node2 the same amount.
      const mayorId = onNode1.ilpAddress.split('.').at(-1)!;
      expect(node1.connector.balance(mayorId).owedByPeer).toBe(w.price);
      expect(node1.connector.balance('node2').owedToPeer).toBe(w.price);
      expect(node2.connector.balance('node1').owedByPeer).toBe(w.price);
      // An address with no route is F02.
      const lost = await client.sendPrepare({ ...w.prepare, destination: 'g.crosstown.node9.relay.x' });
      expect(lost).toMatchObject({ type: IlpPacketType.Reject, code: 'F02' });
    } finally {
      await client.close();
    }
  });
});
