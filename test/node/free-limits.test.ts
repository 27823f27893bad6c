// Issue 14 item 3: the free paths of a real node (anvil, relay, connector, SPSP over Nostr and HTTP) through real
// sockets. Fresh connections and fresh keys share a per-IP and a global budget of SPSP handshake events; a 100 KB
// free "handshake" is refused and never delivered; SPSP over HTTP is budgeted per IP and its unused accounts lapse;
// a peer SPSP made for a key that never uses it is removed. Different client IPs are real: Linux routes all of
// 127.0.0.0/8 to loopback, so sockets bind 127.0.0.x as their source address.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { BtpClient, createSpspHttpHandler, SPSP_CONTENT_TYPE } from '../../src/connector/index.js';
import { createLogger, type RunningNode, startNode } from '../../src/node/index.js';
import { finalizeEvent, generateSecretKey, getPublicKey } from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { AccountSecretStore } from '../../src/relay/index.js';
import { spspOverNostr } from '../devnet/helpers.js';
import { startTestRelay } from '../relay/helpers.js';
import { testNodeConfig } from '../support/node-config.js';

let chain: DevChain;
let dir: string;
let node: RunningNode;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  chain = await startDevChain({ accounts: 2 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-limits-'));
  node = await startNode(testNodeConfig(chain, dir, { unusedPeerTtlSeconds: 1 }), {
    logger: createLogger({ write: () => {} }),
  });
}, 60_000);

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await node?.stop();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A WebSocket to `url` from source address `from`, with its frames collected. */
async function open(url: string, from: string): Promise<{ ws: WebSocket; frames: unknown[][] }> {
  const ws = new WebSocket(url, { localAddress: from });
  sockets.push(ws);
  const frames: unknown[][] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as unknown[]));
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, frames };
}

/** Publishes `event` on a fresh connection from `from`; resolves with the OK frame. */
async function publishFresh(url: string, from: string, event: NostrEvent): Promise<[boolean, string]> {
  const { ws, frames } = await open(url, from);
  ws.send(JSON.stringify(['EVENT', event]));
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = frames.find((f) => f[0] === 'OK' && f[1] === event.id);
    if (ok) {
      ws.close();
      return [ok[2] as boolean, ok[3] as string];
    }
    if (Date.now() > deadline) throw new Error('no OK within 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A 23194 from a fresh key to a random recipient (nobody answers: only the relay's budgets matter). */
const freshHandshake = (content = 'x') =>
  finalizeEvent(
    { kind: 23194, tags: [['p', getPublicKey(generateSecretKey())]], content },
    generateSecretKey(),
  );

describe('free-path limits (issue 14 item 3)', () => {
  it('budgets SPSP handshakes per IP across fresh connections and keys; what is refused is not delivered', async () => {
    const listener = await open(node.relayUrl, '127.0.0.9');
    listener.ws.send(JSON.stringify(['REQ', 'hs', { kinds: [23194], since: 0 }]));
    const outcomes: [boolean, string][] = [];
    const started = Date.now();
    for (let i = 0; i < 120; i++)
      outcomes.push(await publishFresh(node.relayUrl, '127.0.0.5', freshHandshake()));
    const seconds = (Date.now() - started) / 1000;
    const accepted = outcomes.filter(([ok]) => ok).length;
    // Burst 60, refilled at 1 per second while the loop runs.
    expect(accepted).toBeGreaterThanOrEqual(60);
    expect(accepted).toBeLessThanOrEqual(60 + Math.ceil(seconds));
    expect(accepted).toBeLessThan(120);
    for (const [, reason] of outcomes.filter(([ok]) => !ok))
      expect(reason).toMatch(/^rate-limited: too many SPSP handshake events from this IP address/);
    await new Promise((r) => setTimeout(r, 200));
    expect(listener.frames.filter((f) => f[0] === 'EVENT')).toHaveLength(accepted);
    // Another IP is not held back by the first one's budget.
    expect((await publishFresh(node.relayUrl, '127.0.0.6', freshHandshake()))[0]).toBe(true);
  }, 60_000);

  it('has a global budget that many IPs share', async () => {
    const t = await startTestRelay({
      handshakeLimits: { global: { capacity: 30, perSecond: 0 } },
    });
    try {
      let accepted = 0;
      for (let i = 0; i < 60; i++) {
        const [ok, reason] = await publishFresh(t.relay.url, `127.0.1.${i + 1}`, freshHandshake());
        if (ok) accepted++;
        else expect(reason).toMatch(/^rate-limited: .* on this relay \(all clients\)/);
      }
      expect(accepted).toBe(30);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('refuses a 100 KB free handshake event and does not broadcast it', async () => {
    const listener = await open(node.relayUrl, '127.0.0.10');
    listener.ws.send(JSON.stringify(['REQ', 'big', { kinds: [23194], since: 0 }]));
    const big = freshHandshake('A'.repeat(100 * 1024));
    const [ok, reason] = await publishFresh(node.relayUrl, '127.0.0.11', big);
    expect(ok).toBe(false);
    expect(reason).toMatch(/^restricted: free events are at most 8192 bytes/);
    await new Promise((r) => setTimeout(r, 200));
    expect(listener.frames.some((f) => f[0] === 'EVENT' && (f[2] as NostrEvent).id === big.id)).toBe(false);
  });

  it('budgets SPSP over HTTP per IP', async () => {
    const statuses: number[] = [];
    let refusal = '';
    for (let i = 0; i < 100; i++) {
      const res = await fetch(node.spspUrl, { headers: { accept: SPSP_CONTENT_TYPE } });
      statuses.push(res.status);
      const body = await res.text();
      if (res.status === 429) refusal = body;
    }
    const ok = statuses.filter((s) => s === 200).length;
    expect(ok).toBeGreaterThanOrEqual(20);
    expect(ok).toBeLessThanOrEqual(22);
    expect(statuses.filter((s) => s === 429)).toHaveLength(100 - ok);
    expect(refusal).toMatch(/^rate-limited: too many SPSP accounts asked from this IP address/);
  }, 30_000);

  it('forgets SPSP-over-HTTP accounts nobody paid through, keeps used ones, and caps how many are open', async () => {
    let clock = 0;
    const secrets = new AccountSecretStore('g.crosstown.test.relay', () => clock);
    const handler = createSpspHttpHandler({
      secrets,
      now: () => clock,
      limits: { unusedAccountTtlMs: 60_000, maxAccounts: 5, perIp: { capacity: 1000, perSecond: 0 } },
    });
    const server: Server = createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const ask = () => fetch(url, { headers: { accept: SPSP_CONTENT_TYPE } });
    try {
      const accounts: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await ask();
        expect(res.status).toBe(200);
        accounts.push(((await res.json()) as { destination_account: string }).destination_account);
      }
      const full = await ask();
      expect(full.status).toBe(503);
      expect(await full.text()).toMatch(/^rate-limited: too many unused SPSP accounts/);
      clock = 50_000;
      expect(secrets.secretFor(accounts[0]!)).toBeDefined(); // a PREPARE named it: it stays
      clock = 100_000;
      for (const a of accounts.slice(1)) expect(secrets.secretFor(a)).toBeUndefined();
      expect(secrets.secretFor(accounts[0]!)).toBeDefined();
      expect((await ask()).status).toBe(200); // room again
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('keeps at most maxUnusedPeers unused peers, dropping the longest idle first; a connected peer stays', async () => {
    // A fresh key per handshake makes a persisted peer; within the TTL (a day by default) one IP at 1 handshake/s
    // would leave 86,400 of them. The cap bounds them; a Mayor that connects over BTP is in use and never dropped.
    const dir2 = mkdtempSync(join(tmpdir(), 'crosstown-limits-cap-'));
    const capped = await startNode(
      testNodeConfig(chain, dir2, { name: 'node2', account: 0, maxUnusedPeers: 3 }),
      {
        logger: createLogger({ write: () => {} }),
        peerSweepMs: 100,
      },
    );
    let btp: BtpClient | undefined;
    try {
      const made: string[] = [];
      for (let i = 0; i < 6; i++) {
        const spsp = await spspOverNostr(capped.relayUrl, capped.pubkey, generateSecretKey(), {});
        made.push(spsp.ilpAddress.split('.').at(-1)!);
        if (i === 0)
          btp = await BtpClient.connect({
            url: spsp.btpUrl,
            authToken: spsp.btpToken,
            address: spsp.ilpAddress,
          });
        await new Promise((r) => setTimeout(r, 150)); // a sweep between handshakes: each has its own idle start
      }
      const present = () => made.filter((id) => capped.connector.peer(id) !== undefined);
      const deadline = Date.now() + 5000;
      while (present().length > 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // The connected one and the 3 made last; the 2 made first after it went.
      expect(present()).toEqual([made[0], ...made.slice(3)]);
    } finally {
      await btp?.close();
      await capped.stop();
      rmSync(dir2, { recursive: true, force: true });
    }
  }, 30_000);

  it('removes a persisted peer a fresh Nostr key made and never used', async () => {
    const sk = generateSecretKey();
    const spsp = await spspOverNostr(node.relayUrl, node.pubkey, sk, {});
    const id = spsp.ilpAddress.split('.').at(-1)!;
    expect(node.connector.peer(id)?.nostrPubkey).toBe(getPublicKey(sk));
    // TTL 1 s, swept every second.
    const deadline = Date.now() + 6000;
    while (node.connector.peer(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(node.connector.peer(id)).toBeUndefined();
    // Its relay account went with it; a new handshake makes a new peer and account.
    const again = await spspOverNostr(node.relayUrl, node.pubkey, sk, {});
    expect(again.sharedSecret).not.toBe(spsp.sharedSecret);
    expect(node.connector.peer(id)).toBeDefined();
  }, 30_000);
});
