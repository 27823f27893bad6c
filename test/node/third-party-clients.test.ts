// Issue 18 "Show": a real node (anvil chain, relay, connector) driven only by third-party client code —
// nostr-tools (SPSP over Nostr, COUNT, reads), ilp-plugin-btp (BTP), ilp-protocol-spsp (SPSP query),
// ilp-protocol-stream (STREAM top-up, receipts), ilp-packet (the paid write), @toon-format/toon (the event
// bytes) and node:crypto (the standard STREAM fulfillment derivation). Nothing from src/ on the client side.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as toonEncode } from '@toon-format/toon';
import * as ilpPacket from 'ilp-packet';
import BtpModule from 'ilp-plugin-btp';
import * as spsp from 'ilp-protocol-spsp';
// The 1.x copy ilp-protocol-spsp brings (and pay() uses); the package has no `exports`, so its files are reachable.
import { DataAndMoneyStream as DataAndMoneyStreamV1 } from 'ilp-protocol-spsp/node_modules/ilp-protocol-stream/src/stream.js';
import { createConnection, DataAndMoneyStream, verifyReceipt } from 'ilp-protocol-stream';
import * as nip44 from 'nostr-tools/nip44';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation as setRelayWebSocket } from 'nostr-tools/relay';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { type NodeConfig, type RunningNode, startNode } from '../../src/node/index.js';
import { openPayerChannel } from '../devnet/helpers.js';
import { testNodeConfig } from '../support/node-config.js';

setRelayWebSocket(WebSocket); // Node 20 has no global WebSocket
// A CommonJS package: its class is module.exports, also reachable as `.default` (which its types describe).
const BtpPlugin = BtpModule.default;
// ilp-protocol-stream (1.x and 2.7.1, unmaintained) assigns `this.closed` on its Duplex streams, and since Node 18
// `closed` is a getter-only property of every stream: createStream() throws "Cannot set property closed". Any user of
// the library on Node 20 needs this: an own writable `closed` on its stream class, its code left as published.
for (const Stream of [DataAndMoneyStream, DataAndMoneyStreamV1]) {
  Object.defineProperty(Stream.prototype, 'closed', { value: false, writable: true, configurable: true });
}

const PRICE = 10n ** 13n; // testNodeConfig's basePricePerByte
const TOPUP = 10n ** 16n; // enough for two small writes

let chain: DevChain;
let dir: string;
let config: NodeConfig;
let node: RunningNode;
let btpToken: string;
let relay: Relay;
type Plugin = InstanceType<typeof BtpPlugin>;
/** The plugin writes go through; a STREAM connection gets its own (ilp-protocol-stream disconnects it on end()). */
let plugin: Plugin;
let btpServer: string;
const me = generateSecretKey();

interface SpspOverNostr {
  destinationAccount: string;
  sharedSecret: string;
  btpUrl: string;
  btpToken: string;
  ilpAddress: string;
  settlement: {
    chainId: number;
    token: `0x${string}`;
    channelContract: `0x${string}`;
    settlementAddress: `0x${string}`;
  };
}

/** The SPSP-over-Nostr handshake exactly as docs/connector.md describes it, with nostr-tools only. */
async function handshake(walletKey: `0x${string}`): Promise<SpspOverNostr> {
  const key = nip44.getConversationKey(me, node.pubkey);
  // The node gives credit only against a channel from an address the requester proves it controls (EIP-191, viem).
  const wallet = privateKeyToAccount(walletKey);
  const settlementProof = await wallet.signMessage({
    message: [
      'crosstown: I control this settlement address',
      `address: ${wallet.address.toLowerCase()}`,
      `nostr pubkey: ${getPublicKey(me)}`,
      `node: ${node.pubkey}`,
    ].join('\n'),
  });
  const request = finalizeEvent(
    {
      kind: 23194,
      created_at: Math.floor(Date.now() / 1000),
      tags: [['p', node.pubkey]],
      content: nip44.encrypt(
        JSON.stringify({ requestId: 'third-party-1', settlementAddress: wallet.address, settlementProof }),
        key,
      ),
    },
    me,
  );
  const answer = new Promise<SpspOverNostr>((resolve) => {
    const sub = relay.subscribe([{ kinds: [23195], '#p': [getPublicKey(me)], '#e': [request.id] }], {
      onevent: (e) => {
        sub.close();
        resolve(JSON.parse(nip44.decrypt(e.content, key)) as SpspOverNostr);
      },
    });
  });
  await relay.publish(request);
  return answer;
}

/** A write paid in the PREPARE (amount may be short: the account's prepaid balance covers the rest). */
function writePrepare(event: object, destination: string, sharedSecretB64: string, amount: bigint) {
  const data = Buffer.from(toonEncode(event));
  const key = createHmac('sha256', Buffer.from(sharedSecretB64, 'base64'))
    .update('ilp_stream_fulfillment')
    .digest();
  const fulfillment = createHmac('sha256', key).update(data).digest();
  const prepare = ilpPacket.serializeIlpPrepare({
    amount: amount.toString(),
    destination,
    executionCondition: createHash('sha256').update(fulfillment).digest(),
    expiresAt: new Date(Date.now() + 20_000),
    data,
  });
  return { prepare, fulfillment, price: BigInt(data.length) * PRICE };
}

/** Ids of stored events with this id (nostr-tools subscribe up to EOSE). */
function storedIds(id: string): Promise<string[]> {
  return new Promise((resolve) => {
    const ids: string[] = [];
    const sub = relay.subscribe([{ ids: [id] }], {
      onevent: (e) => ids.push(e.id),
      oneose: () => {
        sub.close();
        resolve(ids);
      },
    });
  });
}

function note(kind: number, content: string) {
  return finalizeEvent({ kind, created_at: Math.floor(Date.now() / 1000), tags: [], content }, me);
}

async function newPlugin(): Promise<Plugin> {
  const p = new BtpPlugin({ server: btpServer });
  await p.connect();
  return p;
}

/** Tops up an SPSP account over STREAM with its own BTP connection (which replaces the writer's: same token). */
async function topUp(destinationAccount: string, sharedSecretB64: string, amount: bigint) {
  await plugin.disconnect();
  const streamPlugin = await newPlugin();
  try {
    const conn = await createConnection({
      plugin: streamPlugin,
      destinationAccount,
      sharedSecret: Buffer.from(sharedSecretB64, 'base64'),
    });
    const sourceAccount = conn.sourceAccount;
    const stream = conn.createStream();
    await stream.sendTotal(amount.toString());
    await conn.end();
    return { stream, sourceAccount };
  } finally {
    // Even when the payment failed: a plugin left connected would reconnect and push out the writer's (same token).
    await streamPlugin.disconnect();
    plugin = await newPlugin();
  }
}

async function send(prepare: Buffer) {
  return ilpPacket.deserializeIlpPacket(await plugin.sendData(prepare));
}

async function spspQueryWithReceipts(receiptNonce: Buffer, receiptSecret: Buffer) {
  // RFC 0009 receipt headers; ilp-protocol-spsp's query() does not send them, so plain fetch.
  const res = await fetch(node.spspUrl, {
    headers: {
      accept: 'application/spsp4+json',
      'receipt-nonce': receiptNonce.toString('base64'),
      'receipt-secret': receiptSecret.toString('base64'),
    },
  });
  return (await res.json()) as {
    destination_account: string;
    shared_secret: string;
    receipts_enabled?: boolean;
  };
}

beforeAll(async () => {
  chain = await startDevChain({ accounts: 3 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-3p-'));
  config = testNodeConfig(chain, dir);
  node = await startNode(config);
  relay = await Relay.connect(node.relayUrl);
  const walletKey = chain.anvil.accounts[2]!.privateKey;
  const hs = await handshake(walletKey);
  // No credit without a channel (issue 13): the client's wallet opens one to the node's settlement address. The
  // on-chain part uses the project's test helper; the Nostr and ILP client code above and below is third-party only.
  await openPayerChannel(hs as never, chain.network.rpcUrl, walletKey);
  expect(hs.btpUrl).toMatch(/^btp\+ws:\/\/127\.0\.0\.1:\d+$/);
  const url = new URL(hs.btpUrl);
  btpToken = hs.btpToken;
  btpServer = `btp+ws://:${encodeURIComponent(btpToken)}@${url.host}`;
  plugin = await newPlugin();
}, 60_000);

afterAll(async () => {
  await plugin?.disconnect();
  relay?.close();
  await node?.stop();
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an unmodified Interledger client tops up an account over STREAM, then writes from it', () => {
  it('SPSP query, STREAM payment with receipts, then a write paid from the prepaid balance', async () => {
    const queried = await spsp.query(node.spspUrl);
    expect(queried.content_type).toContain('application/spsp4+json');
    expect(queried.destination_account).toMatch(/^g\.crosstown\.node1\.relay\./);

    const receiptNonce = randomBytes(16);
    const receiptSecret = randomBytes(32);
    const account = await spspQueryWithReceipts(receiptNonce, receiptSecret);
    expect(account.receipts_enabled).toBe(true);

    const owed = node.connector.balance(conn0Peer()).owedByPeer;
    const { stream, sourceAccount } = await topUp(account.destination_account, account.shared_secret, TOPUP);
    // The top-up is charged to the paying peer (settled by its channel claims), exactly what the account got.
    expect(node.connector.balance(conn0Peer()).owedByPeer - owed).toBe(TOPUP);
    expect(sourceAccount).toMatch(/^g\.crosstown\.node1\.[0-9a-f]{16}$/); // learnt over ILDCP
    expect(stream.totalSent).toBe(TOPUP.toString());
    const receipt = verifyReceipt(stream.receipt!, receiptSecret);
    expect(receipt.nonce.equals(receiptNonce)).toBe(true);
    expect(receipt.totalReceived.toString()).toBe(TOPUP.toString());

    // A write carrying 0: the whole price comes from the balance.
    const event = note(1, 'paid from a STREAM top-up');
    const w = writePrepare(event, account.destination_account, account.shared_secret, 0n);
    const reply = await send(w.prepare);
    expect(reply.type).toBe(ilpPacket.Type.TYPE_ILP_FULFILL);
    expect((reply.data as { fulfillment: Buffer }).fulfillment.equals(w.fulfillment)).toBe(true);
    expect(await storedIds(event.id)).toEqual([event.id]);
    const a = account.destination_account.split('.').pop()!;
    expect(node.relay.prepaid!.balance(a)).toBe(TOPUP - w.price);

    // The same PREPARE again (a replay): answered, nothing taken twice.
    expect((await send(w.prepare)).type).toBe(ilpPacket.Type.TYPE_ILP_FULFILL);
    expect(node.relay.prepaid!.balance(a)).toBe(TOPUP - w.price);
  }, 60_000);

  it('a replayed ephemeral write is not charged twice; an overdraft is F04 and takes nothing', async () => {
    const account = await spsp.query(node.spspUrl);
    await topUp(account.destination_account, account.shared_secret, TOPUP);
    const a = account.destination_account.split('.').pop()!;
    expect(node.relay.prepaid!.balance(a)).toBe(TOPUP);

    const eph = writePrepare(
      note(20001, 'ephemeral'),
      account.destination_account,
      account.shared_secret,
      0n,
    );
    expect((await send(eph.prepare)).type).toBe(ilpPacket.Type.TYPE_ILP_FULFILL);
    expect((await send(eph.prepare)).type).toBe(ilpPacket.Type.TYPE_ILP_FULFILL);
    expect(node.relay.prepaid!.balance(a)).toBe(TOPUP - eph.price);

    const big = writePrepare(
      note(1, 'x'.repeat(2000)),
      account.destination_account,
      account.shared_secret,
      0n,
    );
    expect(big.price).toBeGreaterThan(TOPUP - eph.price);
    const refused = await send(big.prepare);
    expect(refused.type).toBe(ilpPacket.Type.TYPE_ILP_REJECT);
    expect((refused.data as { code: string }).code).toBe('F04');
    expect(node.relay.prepaid!.balance(a)).toBe(TOPUP - eph.price);

    // Another account's secret cannot spend this balance: its condition does not match this destination.
    const other = await spsp.query(node.spspUrl);
    const stolen = writePrepare(note(1, 'thief'), account.destination_account, other.shared_secret, 0n);
    const r = await send(stolen.prepare);
    expect((r.data as { code: string }).code).toBe('F05');
    expect(node.relay.prepaid!.balance(a)).toBe(TOPUP - eph.price);
  }, 60_000);

  it('the same account is topped up twice, by two STREAM connections (their stream ids are the same)', async () => {
    const account = await spsp.query(node.spspUrl);
    const a = account.destination_account.split('.').pop()!;
    await topUp(account.destination_account, account.shared_secret, TOPUP);
    const { stream } = await topUp(account.destination_account, account.shared_secret, TOPUP);
    expect(stream.totalSent).toBe(TOPUP.toString());
    expect(node.relay.prepaid!.balance(a)).toBe(2n * TOPUP);
  }, 60_000);

  it('ilp-protocol-spsp pay() (its own ilp-protocol-stream 1.x) pays an SPSP account end to end', async () => {
    const before = node.connector.balance(conn0Peer()).owedByPeer;
    await plugin.disconnect();
    const { totalSent } = await spsp.pay(await newPlugin(), {
      receiver: node.spspUrl,
      sourceAmount: '5000000',
    });
    plugin = await newPlugin();
    expect(totalSent).toBe('5000000');
    expect(node.connector.balance(conn0Peer()).owedByPeer - before).toBe(5_000_000n);
  }, 60_000);
});

describe('Nostr clients', () => {
  it('nostr-tools count() settles with the number of matching events (NIP-45)', async () => {
    const n = await relay.count([{ authors: [getPublicKey(me)], kinds: [1] }], {});
    expect(n).toBe(1);
    const none = await relay.count([{ authors: ['f'.repeat(64)] }], {});
    expect(none).toBe(0);
  });

  it('NIP-11 has fees in the relay asset, payments_url and a software URL', async () => {
    const res = await fetch(node.relayUrl.replace(/^ws/, 'http'), {
      headers: { accept: 'application/nostr+json' },
    });
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc.payments_url).toBe(node.spspUrl);
    expect(new URL(doc.software as string).protocol).toBe('https:');
    expect(doc.supported_nips).toContain(45);
    expect(doc.fees).toEqual({
      publication: [{ amount: Number(PRICE), unit: 'M2M', per_byte: true, asset_scale: 18 }],
    });
  });
});

describe('restart', () => {
  it('a STREAM top-up survives a node restart: the same account and secret still write from it', async () => {
    const account = await spsp.query(node.spspUrl);
    await topUp(account.destination_account, account.shared_secret, TOPUP);
    await plugin.disconnect();
    relay.close();
    await node.stop();

    node = await startNode(config); // same data directory; new ports
    relay = await Relay.connect(node.relayUrl);
    btpServer = `btp+ws://:${encodeURIComponent(btpToken)}@${new URL(node.btpUrl).host}`;
    plugin = await newPlugin();
    const a = account.destination_account.split('.').pop()!;
    expect(node.relay.prepaid!.balance(a)).toBe(TOPUP);
    const event = note(1, 'written after a restart');
    const w = writePrepare(event, account.destination_account, account.shared_secret, 0n);
    expect((await send(w.prepare)).type).toBe(ilpPacket.Type.TYPE_ILP_FULFILL);
    expect(await storedIds(event.id)).toEqual([event.id]);
    expect(node.relay.prepaid!.balance(a)).toBe(TOPUP - w.price);
  }, 60_000);
});

/** The id of the Mayor peer the handshake created (first 16 hex characters of our pubkey). */
function conn0Peer(): string {
  return getPublicKey(me).slice(0, 16);
}
