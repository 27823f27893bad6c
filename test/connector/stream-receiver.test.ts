// The STREAM receiver and ILDCP behind a real connector + relay on loopback (in-memory SQLite, no chain: nothing
// here settles). Hostile STREAM packets are built with ilp-protocol-stream's own Packet class, the test oracle.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import * as ilpPacket from 'ilp-packet';
import { generatePskEncryptionKey } from 'ilp-protocol-stream/dist/src/crypto.js';
import {
  ConnectionNewAddressFrame,
  FrameType,
  Packet,
  StreamCloseFrame,
  IlpPacketType as StreamIlpType,
  type StreamMaxMoneyFrame,
  StreamMoneyFrame,
} from 'ilp-protocol-stream/dist/src/packet.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtpClient, toBtpUrl } from '../../src/connector/index.js';
import {
  deserializeIldcpResponse,
  IlpPacketType,
  type IlpPrepare,
  type IlpReply,
  serializeIldcpRequest,
  serializeIlpPacket,
} from '../../src/ilp/index.js';
import { deserializeIlpPrepare } from '../../src/ilp/packet.js';
import { finalizeEvent, generateSecretKey } from '../../src/nostr/index.js';
import { addMayor, type Node, paidWrite, startNode } from './helpers.js';

let node: Node;
let client: BtpClient;
beforeAll(async () => {
  node = await startNode();
  const m = addMayor(node, 'alice');
  // The advertised btp+ws:// form is what the client is given.
  client = await BtpClient.connect({ url: toBtpUrl(node.connector.btpUrl), authToken: m.authToken });
});
afterAll(async () => {
  await client.close();
  await node.close();
});

/** A STREAM money PREPARE to `account`, built by the oracle; `edit` may spoil it. */
async function moneyPrepare(
  account: { destination: string; sharedSecret: Uint8Array },
  amount: bigint,
  opts: { minimum?: bigint; frames?: 'money' | 'none'; condition?: 'good' | 'random' } = {},
): Promise<IlpPrepare> {
  const secret = Buffer.from(account.sharedSecret);
  const frames =
    opts.frames === 'none'
      ? [new ConnectionNewAddressFrame('g.crosstown.node1.alice')]
      : [new StreamMoneyFrame(1, 1)];
  const packet = new Packet(1, StreamIlpType.Prepare, (opts.minimum ?? amount).toString(), frames);
  const data = await packet.serializeAndEncrypt(await generatePskEncryptionKey(secret));
  const key = createHmac('sha256', secret).update('ilp_stream_fulfillment').digest();
  const fulfillment = createHmac('sha256', key).update(data).digest();
  const condition =
    opts.condition === 'random' ? randomBytes(32) : createHash('sha256').update(fulfillment).digest();
  return {
    type: IlpPacketType.Prepare,
    amount,
    destination: account.destination,
    executionCondition: new Uint8Array(condition),
    expiresAt: new Date(Date.now() + 10_000),
    data: new Uint8Array(data),
  };
}

async function decryptReply(reply: IlpReply, secret: Uint8Array) {
  const key = await generatePskEncryptionKey(Buffer.from(secret));
  return Packet.decryptAndDeserialize(key, Buffer.from(reply.data));
}

describe('ILDCP (peer.config)', () => {
  it('tells an authenticated child its address and the asset', async () => {
    const prepare = deserializeIlpPrepare(serializeIldcpRequest());
    const reply = await client.sendPrepare(prepare);
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    // Through ilp-packet's serializer as an ILP FULFILL, then our ILDCP decoder.
    const r = deserializeIldcpResponse(serializeIlpPacket(reply));
    expect(r).toEqual({ clientAddress: 'g.crosstown.node1.alice', assetScale: 18, assetCode: 'M2M' });
  });

  it('refuses an ILDCP request that carries money (F01) and one from a connector peer (F02)', async () => {
    const prepare = { ...deserializeIlpPrepare(serializeIldcpRequest()), amount: 5n };
    const reply = await client.sendPrepare(prepare);
    expect(reply.type === IlpPacketType.Reject && reply.code).toBe('F01');
    expect(node.connector.balance('alice').owedByPeer).toBe(0n);
    const peer = await node.connector.handlePrepare(deserializeIlpPrepare(serializeIldcpRequest()), 'alice');
    expect(peer.type).toBe(IlpPacketType.Fulfill);
    node.connector.addPeer({ id: 'other-connector', relation: 'peer', authToken: 'x'.repeat(20) });
    const fromPeer = await node.connector.handlePrepare(
      deserializeIlpPrepare(serializeIldcpRequest()),
      'other-connector',
    );
    expect(fromPeer.type === IlpPacketType.Reject && fromPeer.code).toBe('F02');
  });
});

describe('STREAM receiver: hostile senders credit nothing', () => {
  it('credits a good money packet, and answers with an encrypted FULFILL naming what arrived', async () => {
    const account = node.secrets.issue('good');
    const owed = node.connector.balance('alice').owedByPeer;
    const reply = await client.sendPrepare(await moneyPrepare(account, 1000n));
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    const answer = await decryptReply(reply, account.sharedSecret);
    expect(answer.ilpPacketType).toBe(StreamIlpType.Fulfill);
    expect(answer.prepareAmount.toString()).toBe('1000');
    expect(node.relay.prepaid!.balance('good')).toBe(1000n);
    // What the account was credited is what the paying peer now owes the node: no money from nowhere.
    expect(node.connector.balance('alice').owedByPeer - owed).toBe(1000n);
  });

  it('a test packet (random condition) is F99 with the amount that arrived, and credits nothing', async () => {
    const account = node.secrets.issue('probe');
    const reply = await client.sendPrepare(await moneyPrepare(account, 777n, { condition: 'random' }));
    expect(reply.type === IlpPacketType.Reject && reply.code).toBe('F99');
    expect((await decryptReply(reply, account.sharedSecret)).prepareAmount.toString()).toBe('777');
    expect(node.relay.prepaid!.balance('probe')).toBe(0n);
  });

  it('less than the packet’s minimum is F99; money without a StreamMoney frame is F99', async () => {
    const account = node.secrets.issue('short');
    const short = await client.sendPrepare(await moneyPrepare(account, 999n, { minimum: 1000n }));
    expect(short.type === IlpPacketType.Reject && short.code).toBe('F99');
    const noFrame = await client.sendPrepare(await moneyPrepare(account, 500n, { frames: 'none' }));
    expect(noFrame.type === IlpPacketType.Reject && noFrame.code).toBe('F99');
    expect(node.relay.prepaid!.balance('short')).toBe(0n);
  });

  it('a malleated packet (one bit flipped, condition recomputed) is not STREAM and is refused by the gate', async () => {
    const account = node.secrets.issue('malleated');
    const good = await moneyPrepare(account, 1000n);
    const data = good.data.slice();
    data[data.length - 1]! ^= 1;
    const key = createHmac('sha256', Buffer.from(account.sharedSecret))
      .update('ilp_stream_fulfillment')
      .digest();
    const fulfillment = createHmac('sha256', key).update(data).digest();
    const reply = await client.sendPrepare({
      ...good,
      data,
      executionCondition: new Uint8Array(createHash('sha256').update(fulfillment).digest()),
    });
    expect(reply.type === IlpPacketType.Reject && reply.code).toBe('F01');
    expect(node.relay.prepaid!.balance('malleated')).toBe(0n);
  });

  it("money encrypted under another account's key, sent to this account, is refused and credits neither", async () => {
    const victim = node.secrets.issue('victim');
    const thief = node.secrets.issue('thief');
    const p = await moneyPrepare(thief, 1000n);
    const reply = await client.sendPrepare({ ...p, destination: victim.destination });
    expect(reply.type).toBe(IlpPacketType.Reject);
    expect(['F01', 'F05']).toContain((reply as { code: string }).code);
    expect(node.relay.prepaid!.balance('victim')).toBe(0n);
    expect(node.relay.prepaid!.balance('thief')).toBe(0n);
  });

  it('an expired STREAM packet is R00 before anything is credited', async () => {
    const account = node.secrets.issue('late');
    const p = await moneyPrepare(account, 1000n);
    const reply = await node.relay.handlePrepare({ ...p, expiresAt: new Date(Date.now() - 1) });
    expect(reply.type === IlpPacketType.Reject && reply.code).toBe('R00');
    expect(node.relay.prepaid!.balance('late')).toBe(0n);
  });
});

// ilp-packet agrees with our framing of the replies (a second, independent parser).
it('replies parse with ilp-packet', async () => {
  const account = node.secrets.issue('parsed');
  const reply = await client.sendPrepare(await moneyPrepare(account, 5n));
  const parsed = ilpPacket.deserializeIlpPacket(Buffer.from(serializeIlpPacket(reply)));
  expect(parsed.type).toBe(ilpPacket.Type.TYPE_ILP_FULFILL);
});

describe('STREAM receiver: closing streams', () => {
  /** A fulfillable 0-amount packet that closes `ids` (then optionally money on `moneyOn`). */
  async function framesPrepare(
    account: { destination: string; sharedSecret: Uint8Array },
    frames: (StreamCloseFrame | StreamMoneyFrame)[],
    amount: bigint,
  ): Promise<IlpPrepare> {
    const secret = Buffer.from(account.sharedSecret);
    const packet = new Packet(1, StreamIlpType.Prepare, '0', frames);
    const data = await packet.serializeAndEncrypt(await generatePskEncryptionKey(secret));
    const key = createHmac('sha256', secret).update('ilp_stream_fulfillment').digest();
    const fulfillment = createHmac('sha256', key).update(data).digest();
    return {
      type: IlpPacketType.Prepare,
      amount,
      destination: account.destination,
      executionCondition: new Uint8Array(createHash('sha256').update(fulfillment).digest()),
      expiresAt: new Date(Date.now() + 10_000),
      data: new Uint8Array(data),
    };
  }

  it('a close is answered, not remembered: made-up ids cost no memory, and a later connection reuses stream ids', async () => {
    const account = node.secrets.issue('closer');
    // Free packets each closing 200 made-up stream ids (256 frames at most per packet): remembering them would
    // cost memory for nothing, at the packet rate, for as long as the account lives.
    for (let batch = 0; batch < 10; batch++) {
      const ids = Array.from(
        { length: 200 },
        (_, i) => new StreamCloseFrame(1000 + batch * 200 + i, 0x01, ''),
      );
      const closes = await client.sendPrepare(await framesPrepare(account, ids, 0n));
      expect(closes.type).toBe(IlpPacketType.Fulfill);
    }
    // Stream 1500 was never open: money on it is credited, not refused as "closed".
    const money = await client.sendPrepare(
      await framesPrepare(account, [new StreamMoneyFrame(1500, 1)], 300n),
    );
    expect(money.type).toBe(IlpPacketType.Fulfill);
    expect(node.relay.prepaid!.balance('closer')).toBe(300n);
    // A second connection to the same account (a second top-up) reuses the stream ids of the first, which closed
    // them: its money is credited too, and the stream's total (and so its receipts) keeps growing.
    await client.sendPrepare(await framesPrepare(account, [new StreamCloseFrame(1500, 0x01, '')], 0n));
    const again = await client.sendPrepare(
      await framesPrepare(account, [new StreamMoneyFrame(1500, 1)], 300n),
    );
    expect(again.type).toBe(IlpPacketType.Fulfill);
    const answer = await decryptReply(again, account.sharedSecret);
    const max = answer.frames.find((f) => f.type === FrameType.StreamMaxMoney) as StreamMaxMoneyFrame;
    expect(max.totalReceived.toString()).toBe('600');
    expect(node.relay.prepaid!.balance('closer')).toBe(600n);
  });
});

describe('prepaid writes: concurrent replays', () => {
  it('the same underpaid ephemeral PREPARE sent twice at once is charged once', async () => {
    const account = node.secrets.issue('twice');
    expect((await client.sendPrepare(await moneyPrepare(account, 10_000n))).type).toBe(IlpPacketType.Fulfill);
    const event = finalizeEvent(
      { kind: 20001, created_at: Math.floor(Date.now() / 1000), tags: [], content: 'ephemeral, sent twice' },
      generateSecretKey(),
    );
    const w = paidWrite(event, account.destination, account.sharedSecret, { amount: 0n });
    // Both arrive before either is answered (a sender retrying on a slow link, or anyone replaying it).
    const replies = await Promise.all([
      node.relay.handlePrepare(w.prepare),
      node.relay.handlePrepare(w.prepare),
    ]);
    expect(replies.map((r) => r.type)).toEqual([IlpPacketType.Fulfill, IlpPacketType.Fulfill]);
    expect(node.relay.prepaid!.balance('twice')).toBe(10_000n - w.price);
  });
});
