// SPSP over Nostr on the node's own relay: a request for another chain is refused (logged, not answered);
// when the node's subscription connection drops, it resubscribes and answers again. The node is given a public BTP
// URL (as behind a proxy): peer info, SPSP answers and NIP-11 payments_url advertise it, not the loopback listener.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { createLogger, type RunningNode, startNode } from '../../src/node/index.js';
import { buildSpspRequest, generateSecretKey, parsePeerInfo } from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { publishOverSocket, spspOverNostr } from '../devnet/helpers.js';
import { testNodeConfig } from '../support/node-config.js';

const PUBLIC_BTP = 'btp+wss://node.example.org:7443';
let chain: DevChain;
let dir: string;
let node: RunningNode;
const lines: string[] = [];

async function logged(msg: string, ms = 10_000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    const line = lines.find((l) => l.includes(`"msg":"${msg}"`));
    if (line) return JSON.parse(line) as Record<string, unknown>;
    if (Date.now() > end) throw new Error(`no log "${msg}" within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  chain = await startDevChain({ accounts: 2 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-spsp-'));
  node = await startNode(testNodeConfig(chain, dir, { btpPublicUrl: PUBLIC_BTP }), {
    logger: createLogger({ write: (l) => lines.push(l) }),
  });
});

afterAll(async () => {
  await node?.stop();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('SPSP over Nostr on the node relay', () => {
  it('refuses a request for a chain the node does not settle on, saying why in the log', async () => {
    const sk = generateSecretKey();
    const request = buildSpspRequest(sk, node.pubkey, { requestId: 'wrong-chain', supportedChains: [1] });
    expect(await publishOverSocket(node.relayUrl, request)).toEqual([true, '']);
    const refused = await logged('spsp request refused');
    expect(refused).toMatchObject({
      request: request.id,
      error: { message: expect.stringMatching(/settles on/) },
    });
  });

  it('resubscribes after its relay connection drops, then answers again', async () => {
    // Test-only reach into the relay's private connection set: drop every socket, the node's included.
    const relay = node.relay as unknown as { connections: Set<{ ws: { terminate(): void } }> };
    expect(relay.connections.size).toBeGreaterThan(0);
    for (const c of relay.connections) c.ws.terminate();
    await logged('SPSP subscription on the node relay closed; reconnecting in 1 s');
    await logged('SPSP subscription restored');
    const response = await spspOverNostr(node.relayUrl, node.pubkey, generateSecretKey(), {});
    expect(response.destinationAccount.startsWith('g.crosstown.node1.relay.')).toBe(true);
  });
});

describe('the public BTP URL (a node behind a proxy)', () => {
  it('is what peer info, the SPSP answer and NIP-11 payments_url give clients elsewhere', async () => {
    const response = await spspOverNostr(node.relayUrl, node.pubkey, generateSecretKey(), {});
    expect(response.btpUrl).toBe(PUBLIC_BTP);
    const res = await fetch(node.relayUrl.replace(/^ws/, 'http'), {
      headers: { accept: 'application/nostr+json' },
    });
    const doc = (await res.json()) as { payments_url?: string };
    expect(doc.payments_url).toBe('https://node.example.org:7443/.well-known/pay');
    const info = await new Promise<NostrEvent>((resolve, reject) => {
      const ws = new WebSocket(node.relayUrl);
      ws.on('error', reject);
      ws.on('open', () => ws.send(JSON.stringify(['REQ', 'pi', { kinds: [10032], authors: [node.pubkey] }])));
      ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as unknown[];
        if (msg[0] === 'EVENT') {
          ws.close();
          resolve(msg[2] as NostrEvent);
        }
      });
    });
    expect(parsePeerInfo(info).btpUrl).toBe(PUBLIC_BTP);
    expect(node.btpUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/); // the listener itself is unchanged
  });
});
