// STREAM receipts (RFC 0039) across a restart, on real SQLite files (prepaid.db, relay.db). A receipt proves the
// total a stream received; a verifier keeps the highest total it saw per nonce and stream and credits only an
// increase. Before, the receiver kept its per-stream totals in memory: after a restart the same account (restored
// from prepaid.db with its secret and receipt setup) started again at 0, so the sender's next 50 came with a
// receipt for 50, below the 100 the verifier had, and it credited nothing for money the node kept. The totals are
// now saved with the credit, in the same transaction, and a restart continues from them. Packets are built with
// ilp-protocol-stream's Packet class (the oracle); receipts are checked with its verifier's layout.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generatePskEncryptionKey } from 'ilp-protocol-stream/dist/src/crypto.js';
import {
  FrameType,
  Packet,
  IlpPacketType as StreamIlpType,
  StreamMoneyFrame,
  type StreamReceiptFrame,
} from 'ilp-protocol-stream/dist/src/packet.js';
import { decodeReceipt, verifyReceipt } from 'ilp-protocol-stream/dist/src/util/receipt.js';
import { afterAll, describe, expect, it } from 'vitest';
import { IlpPacketType, type IlpPrepare, type IlpReply } from '../../src/ilp/index.js';
import { withStreamReceiver } from '../../src/relay/stream-route.js';
import { openPrepaidStore } from '../../src/store/index.js';
import { openPrepaidRelay } from './prepaid-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'crosstown-prepaid-receipts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The relay's STREAM route over the files in `dir` (a fresh process's view). */
async function open() {
  const relay = await openPrepaidRelay(dir);
  const route = withStreamReceiver(relay.gate, {
    secrets: relay.secrets,
    prepaid: relay.prepaid,
    address: 'g.test.relay',
    asset: { code: 'M2M', scale: 18 },
    now: Date.now,
  });
  return { ...relay, route };
}

/** A STREAM money PREPARE of `amount` on stream `streamId`, built by the oracle. */
async function money(
  account: { destination: string; sharedSecret: Uint8Array },
  amount: bigint,
  streamId = 1,
) {
  const secret = Buffer.from(account.sharedSecret);
  const packet = new Packet(1, StreamIlpType.Prepare, amount.toString(), [new StreamMoneyFrame(streamId, 1)]);
  const data = await packet.serializeAndEncrypt(await generatePskEncryptionKey(secret));
  const key = createHmac('sha256', secret).update('ilp_stream_fulfillment').digest();
  const fulfillment = createHmac('sha256', key).update(data).digest();
  const prepare: IlpPrepare = {
    type: IlpPacketType.Prepare,
    amount,
    destination: account.destination,
    executionCondition: new Uint8Array(createHash('sha256').update(fulfillment).digest()),
    expiresAt: new Date(Date.now() + 10_000),
    data: new Uint8Array(data),
  };
  return prepare;
}

/** The total received that the FULFILL's receipt for `streamId` proves (checked with the receipt secret). */
async function receiptTotal(reply: IlpReply, sharedSecret: Uint8Array, receiptSecret: Buffer, streamId = 1) {
  expect(reply.type).toBe(IlpPacketType.Fulfill);
  const key = await generatePskEncryptionKey(Buffer.from(sharedSecret));
  const p = await Packet.decryptAndDeserialize(key, Buffer.from(reply.data));
  const frame = p.frames.find(
    (f) => f.type === FrameType.StreamReceipt && Number((f as StreamReceiptFrame).streamId) === streamId,
  ) as StreamReceiptFrame | undefined;
  expect(frame, 'a receipt frame').toBeDefined();
  const receipt = verifyReceipt(frame!.receipt, receiptSecret);
  return BigInt(receipt.totalReceived.toString());
}

describe('STREAM receipts across a restart', () => {
  it('continue from the total received before the restart, for the same receipt setup', async () => {
    const receipt = { nonce: randomBytes(16), secret: randomBytes(32) };
    const first = await open();
    const acct = first.secrets.issue('alice', { receipt });
    expect(
      await receiptTotal(await first.route(await money(acct, 100n)), acct.sharedSecret, receipt.secret),
    ).toBe(100n);
    expect(
      await receiptTotal(await first.route(await money(acct, 7n, 2)), acct.sharedSecret, receipt.secret, 2),
    ).toBe(7n);
    await first.close();

    const second = await open();
    expect(second.prepaid.balance('alice')).toBe(107n);
    const after = await second.route(await money(acct, 50n));
    expect(await receiptTotal(after, acct.sharedSecret, receipt.secret)).toBe(150n);
    expect(
      await receiptTotal(await second.route(await money(acct, 1n, 2)), acct.sharedSecret, receipt.secret, 2),
    ).toBe(8n);
    // A debit (a write paid from the balance) rewrites the account's row: the totals stay.
    expect(second.prepaid.debit(acct.destination, 10n)).toBe(true);
    await second.close();

    const third = await open();
    expect(third.prepaid.balance('alice')).toBe(148n);
    expect(
      await receiptTotal(await third.route(await money(acct, 2n)), acct.sharedSecret, receipt.secret),
    ).toBe(152n);
    // The same account re-issued to another sender (a new secret and receipt setup) starts its receipts at 0.
    const other = { nonce: randomBytes(16), secret: randomBytes(32) };
    const reissued = third.secrets.issue('alice', { receipt: other });
    const fresh = await third.route(await money(reissued, 5n));
    expect(await receiptTotal(fresh, reissued.sharedSecret, other.secret)).toBe(5n);
    expect(
      decodeReceipt(
        (
          (
            await Packet.decryptAndDeserialize(
              await generatePskEncryptionKey(Buffer.from(reissued.sharedSecret)),
              Buffer.from(fresh.data),
            )
          ).frames.find((f) => f.type === FrameType.StreamReceipt) as StreamReceiptFrame
        ).receipt,
      ).nonce.equals(other.nonce),
    ).toBe(true);
    await third.close();
  });

  it('opens a prepaid.db made before the totals were kept, and keeps its balances', () => {
    const path = join(dir, 'old-prepaid.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE prepaid_accounts (account TEXT PRIMARY KEY, shared_secret BLOB NOT NULL,
      receipt_nonce BLOB, receipt_secret BLOB, balance TEXT NOT NULL) STRICT`);
    old
      .prepare('INSERT INTO prepaid_accounts VALUES (?, ?, NULL, NULL, ?)')
      .run('bob', Buffer.alloc(32, 1), '42');
    old.close();
    const store = openPrepaidStore(path);
    try {
      expect(store.load()).toEqual([
        { account: 'bob', sharedSecret: new Uint8Array(32).fill(1), balance: 42n },
      ]);
      store.save({
        account: 'bob',
        sharedSecret: new Uint8Array(32).fill(1),
        balance: 40n,
        streams: new Map([[1n, 9n]]),
      });
      expect(store.load()[0]?.streams).toEqual(new Map([[1n, 9n]]));
    } finally {
      store.close();
    }
  });
});
