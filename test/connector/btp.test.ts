import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BtpClient, ConnectorError } from '../../src/connector/index.js';
import {
  BtpPacketType,
  btpAuthMessage,
  btpIlpMessage,
  deserializeBtpPacket,
  IlpPacketType,
  type IlpReject,
  serializeBtpPacket,
  serializeIlpPrepare,
} from '../../src/ilp/index.js';
import {
  addMayor,
  closed,
  makeEvent,
  type Node,
  nextFrame,
  paidWrite,
  rawSocket,
  startNode,
} from './helpers.js';

let node: Node;
beforeEach(async () => {
  node = await startNode({ btp: { authTimeoutMs: 1000 } });
});
afterEach(async () => {
  await node.close();
});

async function assertServerAlive(): Promise<void> {
  const m = addMayor(node, `alive${Math.floor(Math.random() * 1e9)}`);
  const client = await BtpClient.connect({ url: node.connector.btpUrl, authToken: m.authToken });
  const { prepare } = paidWrite(makeEvent(), m.destination, m.sharedSecret);
  const reply = await client.sendPrepare(prepare);
  expect(reply.type).toBe(IlpPacketType.Fulfill);
  await client.close();
}

describe('BTP authentication', () => {
  it('authenticates with the token and gets a FULFILL for a paid write the relay stores', async () => {
    const m = addMayor(node, 'alice');
    const client = await BtpClient.connect({ url: node.connector.btpUrl, authToken: m.authToken });
    const event = makeEvent();
    const { prepare, price } = paidWrite(event, m.destination, m.sharedSecret);
    const reply = await client.sendPrepare(prepare);
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    expect(await node.store.get(event.id)).toEqual(event);
    expect(node.connector.balance('alice').owedByPeer).toBe(price);
    await client.close();
  });

  it('drops a peer whose first message is not auth', async () => {
    const ws = await rawSocket(node.connector.btpUrl);
    const done = closed(ws);
    ws.send(serializeBtpPacket(btpIlpMessage(new Uint8Array([1, 2, 3]), 7)));
    const { code, reason } = await done;
    expect(code).toBe(1008);
    expect(reason).toMatch(/unauthenticated/);
  });

  it('drops a peer with an unknown token, and BtpClient reports BTP_AUTH_FAILED', async () => {
    const ws = await rawSocket(node.connector.btpUrl);
    const done = closed(ws);
    ws.send(serializeBtpPacket(btpAuthMessage('not-a-token', 1)));
    expect((await done).reason).toMatch(/authentication failed/);
    await expect(BtpClient.connect({ url: node.connector.btpUrl, authToken: 'nope' })).rejects.toMatchObject({
      code: 'BTP_AUTH_FAILED',
    });
  });

  it('drops text frames, malformed first frames and silent peers with a reason', async () => {
    const text = await rawSocket(node.connector.btpUrl);
    const t = closed(text);
    text.send('hello');
    expect(await t).toMatchObject({ code: 1003 });

    const bad = await rawSocket(node.connector.btpUrl);
    const b = closed(bad);
    bad.send(new Uint8Array([6, 0, 0, 0, 1, 200]));
    expect((await b).reason).toMatch(/malformed BTP frame/);

    const silent = await rawSocket(node.connector.btpUrl);
    expect((await closed(silent)).reason).toMatch(/authentication timeout/);
    await assertServerAlive();
  });
});

describe('malformed frames after auth', () => {
  it('answers each bad frame with a BTP Error and keeps serving', async () => {
    const m = addMayor(node, 'bob');
    const ws = await rawSocket(node.connector.btpUrl);
    ws.send(serializeBtpPacket(btpAuthMessage(m.authToken, 1)));
    expect(deserializeBtpPacket(await nextFrame(ws)).type).toBe(BtpPacketType.Response);
    const frames = [
      new Uint8Array([6, 0, 0, 0, 9]), // truncated contents
      new Uint8Array([99, 0, 0, 0, 9, 0]), // unknown type
      new Uint8Array([6, 0, 0, 0, 9, 3, 1, 0xff, 0]), // count claims 1 entry, bytes missing
      new Uint8Array(0),
    ];
    for (const f of frames) {
      ws.send(f);
      const reply = deserializeBtpPacket(await nextFrame(ws));
      expect(reply.type).toBe(BtpPacketType.Error);
      if (reply.type === BtpPacketType.Error)
        expect(new TextDecoder().decode(reply.data)).toMatch(/malformed/);
    }
    // An ilp protocol entry that is not a valid ILP packet gets an F01 REJECT.
    ws.send(serializeBtpPacket(btpIlpMessage(new Uint8Array([12, 1, 0]), 5)));
    const r = deserializeBtpPacket(await nextFrame(ws));
    expect(r.type).toBe(BtpPacketType.Response);
    // The same connection still pays for writes.
    const { prepare } = paidWrite(makeEvent(), m.destination, m.sharedSecret);
    ws.send(serializeBtpPacket(btpIlpMessage(serializeIlpPrepare(prepare), 6)));
    const ok = deserializeBtpPacket(await nextFrame(ws));
    expect(ok.requestId).toBe(6);
    expect(ok.protocolData[0]?.data[0]).toBe(IlpPacketType.Fulfill);
    ws.close();
  });

  it('closes a connection sending a frame over 64 KiB and stays up for others', async () => {
    const m = addMayor(node, 'carol');
    const ws = await rawSocket(node.connector.btpUrl);
    ws.send(serializeBtpPacket(btpAuthMessage(m.authToken, 1)));
    await nextFrame(ws);
    const done = closed(ws);
    ws.send(new Uint8Array(70_000));
    expect((await done).code).toBe(1009); // ws: message too big
    await assertServerAlive();
  });
});

describe('BtpClient', () => {
  it('keeps many PREPAREs in flight and matches each answer to its request', async () => {
    const m = addMayor(node, 'dave');
    const client = await BtpClient.connect({ url: node.connector.btpUrl, authToken: m.authToken });
    const writes = Array.from({ length: 50 }, () => paidWrite(makeEvent(), m.destination, m.sharedSecret));
    const replies = await Promise.all(writes.map((w) => client.sendPrepare(w.prepare)));
    replies.forEach((r, i) => {
      expect(r.type).toBe(IlpPacketType.Fulfill);
      if (r.type === IlpPacketType.Fulfill) expect(r.fulfillment).toEqual(writes[i]!.fulfillment);
    });
    await client.close();
    await expect(client.sendPrepare(writes[0]!.prepare)).rejects.toBeInstanceOf(ConnectorError);
  });

  it('times out a PREPARE nobody answers', async () => {
    const m = addMayor(node, 'erin');
    const peer = addMayor(node, 'sleepy');
    const sleepy = await BtpClient.connect({
      url: node.connector.btpUrl,
      authToken: peer.authToken,
      onPrepare: () => new Promise(() => {}),
    });
    const client = await BtpClient.connect({ url: node.connector.btpUrl, authToken: m.authToken });
    const { prepare } = paidWrite(makeEvent(), 'g.crosstown.node1.sleepy.x', m.sharedSecret, {
      expiresInMs: 2500,
    });
    const reply = (await client.sendPrepare(prepare)) as IlpReject;
    expect(reply.code).toBe('R00');
    const slow = paidWrite(makeEvent(), 'g.crosstown.node1.sleepy.x', m.sharedSecret, { expiresInMs: 5000 });
    await expect(client.sendPrepare(slow.prepare, 50)).rejects.toMatchObject({ code: 'BTP_TIMEOUT' });
    await sleepy.close();
    await client.close();
  });

  it('reconnects after the server drops it', async () => {
    const m = addMayor(node, 'frank');
    let connects = 0;
    const client = await BtpClient.connect({
      url: node.connector.btpUrl,
      authToken: m.authToken,
      reconnectDelayMs: 20,
      onConnect: () => connects++,
    });
    node.connector.disconnect('frank', 'test drop');
    for (let i = 0; i < 100 && (connects < 2 || !client.connected); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(connects).toBe(2);
    const { prepare } = paidWrite(makeEvent(), m.destination, m.sharedSecret);
    expect((await client.sendPrepare(prepare)).type).toBe(IlpPacketType.Fulfill);
    await client.close();
  });

  it('reconnects only slowly once another connection of the same peer replaced it (the two would take turns)', async () => {
    // A Mayor started twice with one key (two homes): each connect replaces the other's session. A client that
    // reconnected after its usual delay kicked the other out in turn, every delay, and the payments of both failed.
    // It now waits `replacedRetryMs` (60 s by default), and the link still comes back once the other is gone.
    const m = addMayor(node, 'twice');
    const closes: number[] = [];
    let firstConnects = 0;
    const first = await BtpClient.connect({
      url: node.connector.btpUrl,
      authToken: m.authToken,
      reconnectDelayMs: 20,
      replacedRetryMs: 600,
      onConnect: () => firstConnects++,
      onDisconnect: (code) => closes.push(code),
    });
    let secondDrops = 0;
    const second = await BtpClient.connect({
      url: node.connector.btpUrl,
      authToken: m.authToken,
      reconnectDelayMs: 20,
      onDisconnect: () => secondDrops++,
    });
    await new Promise((r) => setTimeout(r, 400)); // 20 reconnect delays
    expect(closes).toEqual([4000]);
    expect(firstConnects).toBe(1);
    expect(first.connected).toBe(false);
    expect(secondDrops).toBe(0);
    const { prepare } = paidWrite(makeEvent(), m.destination, m.sharedSecret);
    expect((await second.sendPrepare(prepare)).type).toBe(IlpPacketType.Fulfill);
    await expect(first.sendPrepare(prepare)).rejects.toMatchObject({ code: 'BTP_CLOSED' });
    // The other one stops: the first is back after its slow retry.
    await second.close();
    for (let i = 0; i < 100 && !first.connected; i++) await new Promise((r) => setTimeout(r, 20));
    expect(firstConnects).toBe(2);
    const again = paidWrite(makeEvent(), m.destination, m.sharedSecret);
    expect((await first.sendPrepare(again.prepare)).type).toBe(IlpPacketType.Fulfill);
    await first.close();
  });
});
