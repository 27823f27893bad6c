// A write paid from a prepaid balance (issue 18) is charged once, even across a crash: a real `crosstown node
// start` child, an SPSP account topped up over STREAM, an underpaid ephemeral write (nothing in the event store
// to call it a duplicate) paid from the balance, then SIGKILL and a restart on the same data directory, and the
// same PREPARE replayed before it expires. The replay is answered FULFILL and charged nothing.
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generatePskEncryptionKey } from 'ilp-protocol-stream/dist/src/crypto.js';
import {
  Packet,
  IlpPacketType as StreamIlpType,
  StreamMoneyFrame,
} from 'ilp-protocol-stream/dist/src/packet.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { BtpClient } from '../../src/connector/index.js';
import { conditionOf, deriveFulfillment, IlpPacketType, type IlpPrepare } from '../../src/ilp/index.js';
import { finalizeEvent, generateSecretKey } from '../../src/nostr/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { openPayerChannel, spspOverNostr } from '../devnet/helpers.js';
import { killNodeProcess, type NodeProcess, startNodeProcess } from '../support/node-process.js';

const PRICE = 10n ** 13n; // the node's default basePricePerByte
const TOPUP = 10n ** 16n;
let chain: DevChain;
let dir: string;
const running: NodeProcess[] = [];
const clients: BtpClient[] = [];

beforeAll(async () => {
  chain = await startDevChain({ accounts: 3 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-prepaid-replay-'));
});

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  for (const p of running) await killNodeProcess(p);
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A STREAM money PREPARE (one money frame) to an SPSP account: the top-up. */
async function topUpPrepare(destination: string, secret: Buffer, amount: bigint): Promise<IlpPrepare> {
  const packet = new Packet(1, StreamIlpType.Prepare, amount.toString(), [new StreamMoneyFrame(1, 1)]);
  const data = await packet.serializeAndEncrypt(await generatePskEncryptionKey(secret));
  const key = createHmac('sha256', secret).update('ilp_stream_fulfillment').digest();
  const fulfillment = createHmac('sha256', key).update(data).digest();
  return {
    type: IlpPacketType.Prepare,
    amount,
    destination,
    executionCondition: new Uint8Array(createHash('sha256').update(fulfillment).digest()),
    expiresAt: new Date(Date.now() + 10_000),
    data: new Uint8Array(data),
  };
}

/** The balance prepaid.db holds for `account` (read-only, while the node runs: WAL). */
function savedBalance(account: string): bigint {
  const db = new Database(join(dir, 'prepaid.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT balance FROM prepaid_accounts WHERE account = ?').get(account) as
      | { balance: string }
      | undefined;
    return row ? BigInt(row.balance) : 0n;
  } finally {
    db.close();
  }
}

describe('a prepaid write replayed after a SIGKILL and restart', () => {
  it('is fulfilled and charged nothing', async () => {
    const start = async () => {
      const p = await startNodeProcess({
        chain,
        dataDir: dir,
        walletKey: chain.anvil.accounts[1]!.privateKey,
      });
      running.push(p);
      return p;
    };
    const first = await start();
    const payerKey = chain.anvil.accounts[2]!.privateKey;
    const spsp = await spspOverNostr(first.endpoints.relayUrl, first.endpoints.pubkey, generateSecretKey(), {
      supportedChains: [chain.network.chainId],
      walletKey: payerKey,
    });
    await openPayerChannel(spsp, chain.network.rpcUrl, payerKey);
    const client = await BtpClient.connect({ url: spsp.btpUrl, authToken: spsp.btpToken });
    clients.push(client);

    // An SPSP account (the HTTP endpoint), topped up over STREAM.
    const res = await fetch(first.endpoints.spspUrl, { headers: { accept: 'application/spsp4+json' } });
    const account = (await res.json()) as { destination_account: string; shared_secret: string };
    const secret = Buffer.from(account.shared_secret, 'base64');
    const name = account.destination_account.split('.').pop()!;
    const topUp = await client.sendPrepare(await topUpPrepare(account.destination_account, secret, TOPUP));
    expect(topUp.type).toBe(IlpPacketType.Fulfill);
    expect(savedBalance(name)).toBe(TOPUP);

    // An ephemeral write paying nothing in the PREPARE: the balance pays it. Long expiry: the replay comes later.
    const event = finalizeEvent(
      { kind: 20001, created_at: Math.floor(Date.now() / 1000), tags: [], content: 'paid once' },
      generateSecretKey(),
    );
    const data = encodeEventBytes(event);
    const price = BigInt(data.length) * PRICE;
    const write: IlpPrepare = {
      type: IlpPacketType.Prepare,
      amount: 0n,
      expiresAt: new Date(Date.now() + 120_000),
      executionCondition: conditionOf(deriveFulfillment(new Uint8Array(secret), data)),
      destination: account.destination_account,
      data,
    };
    expect((await client.sendPrepare(write)).type).toBe(IlpPacketType.Fulfill);
    expect(savedBalance(name)).toBe(TOPUP - price);
    // A replay while the node runs is free (the guard already held in memory).
    expect((await client.sendPrepare(write)).type).toBe(IlpPacketType.Fulfill);
    expect(savedBalance(name)).toBe(TOPUP - price);

    first.child.kill('SIGKILL');
    expect(await first.exit).toEqual({ code: null, signal: 'SIGKILL' });
    await client.close().catch(() => {});

    const second = await start();
    const again = await BtpClient.connect({ url: second.endpoints.btpUrl, authToken: spsp.btpToken });
    clients.push(again);
    const replay = await again.sendPrepare(write);
    expect(replay.type).toBe(IlpPacketType.Fulfill);
    expect(savedBalance(name)).toBe(TOPUP - price);

    // The account still pays new writes after the restart (the guard did not block real writes).
    const other = finalizeEvent(
      { kind: 20001, created_at: Math.floor(Date.now() / 1000), tags: [], content: 'a new write' },
      generateSecretKey(),
    );
    const otherData = encodeEventBytes(other);
    const fresh = await again.sendPrepare({
      ...write,
      expiresAt: new Date(Date.now() + 20_000),
      executionCondition: conditionOf(deriveFulfillment(new Uint8Array(secret), otherData)),
      data: otherData,
    });
    expect(fresh.type).toBe(IlpPacketType.Fulfill);
    expect(savedBalance(name)).toBe(TOPUP - price - BigInt(otherData.length) * PRICE);
  }, 60_000);
});
