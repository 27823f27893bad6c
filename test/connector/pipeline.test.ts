import IlpPacketNpm from 'ilp-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BtpClient,
  compose,
  type Middleware,
  type PacketContext,
  RoutingTable,
} from '../../src/connector/index.js';
import {
  btpAuthMessage,
  btpIlpMessage,
  deserializeBtpPacket,
  deserializeIlpReply,
  IlpError,
  IlpPacketType,
  type IlpPrepare,
  type IlpReject,
  serializeBtpPacket,
} from '../../src/ilp/index.js';
import {
  addMayor,
  makeEvent,
  type Node,
  nextFrame,
  PRICE,
  paidWrite,
  RELAY,
  rawSocket,
  startNode,
} from './helpers.js';

describe('compose', () => {
  it('runs middlewares in order, inner replies flow back out, and a throw short-circuits', async () => {
    const seen: string[] = [];
    const mw =
      (name: string): Middleware =>
      async (_ctx, next) => {
        seen.push(`in ${name}`);
        const r = await next();
        seen.push(`out ${name}`);
        return r;
      };
    const last: Middleware = async () => ({
      type: IlpPacketType.Fulfill,
      fulfillment: new Uint8Array(32),
      data: new Uint8Array(),
    });
    const ctx = {} as PacketContext;
    await compose([mw('a'), mw('b'), last])(ctx);
    expect(seen).toEqual(['in a', 'in b', 'out b', 'out a']);
    const stop: Middleware = () => {
      throw new IlpError('T05', 'stop');
    };
    seen.length = 0;
    await expect(compose([mw('a'), stop, mw('never')])(ctx)).rejects.toMatchObject({ code: 'T05' });
    expect(seen).toEqual(['in a']);
  });
});

describe('RoutingTable', () => {
  it('matches the longest prefix on segment boundaries', () => {
    const t = new RoutingTable();
    t.set('g.a', { kind: 'peer', peerId: 'A' });
    t.set('g.a.b', { kind: 'peer', peerId: 'B' });
    expect(t.lookup('g.a.b.c')).toEqual({ kind: 'peer', peerId: 'B' });
    expect(t.lookup('g.a.bc')).toEqual({ kind: 'peer', peerId: 'A' });
    expect(t.lookup('g.a')).toEqual({ kind: 'peer', peerId: 'A' });
    expect(t.lookup('g.ab')).toBeUndefined();
    t.deletePeer('B');
    expect(t.lookup('g.a.b.c')).toEqual({ kind: 'peer', peerId: 'A' });
    expect(() => t.set('not an address', { kind: 'peer', peerId: 'x' })).toThrow(/not a valid ILP address/);
  });
});

describe('pipeline refusals over BTP', () => {
  let node: Node;
  let client: BtpClient;
  let m: ReturnType<typeof addMayor>;
  beforeEach(async () => {
    node = await startNode({ maxPacketAmount: 1_000_000n, rateLimitPerSecond: 1000 });
    m = addMayor(node, 'alice', { creditLimit: 100_000n });
    client = await BtpClient.connect({ url: node.connector.btpUrl, authToken: m.authToken });
  });
  afterEach(async () => {
    await client.close();
    await node.close();
  });

  const send = async (prepare: IlpPrepare) => (await client.sendPrepare(prepare)) as IlpReject;

  it('R00 for an expired packet, R02 when less than the hop margin is left', async () => {
    const expired = paidWrite(makeEvent(), m.destination, m.sharedSecret, { expiresInMs: -1 });
    const r = await send(expired.prepare);
    expect(r).toMatchObject({ type: IlpPacketType.Reject, code: 'R00', triggeredBy: 'g.crosstown.node1' });
    const tight = paidWrite(makeEvent(), m.destination, m.sharedSecret, { expiresInMs: 500 });
    expect((await send(tight.prepare)).code).toBe('R02');
    expect(node.connector.balance('alice')).toMatchObject({ owedByPeer: 0n, inFlight: 0n });
  });

  it('forwards with the expiry shortened by the margin', async () => {
    let seen: Date | undefined;
    node.connector.addLocalRoute('g.crosstown.node1.probe', async (p) => {
      seen = p.expiresAt;
      return {
        type: IlpPacketType.Reject,
        code: 'F99',
        triggeredBy: 'g.crosstown.node1.probe',
        message: 'probe',
        data: new Uint8Array(),
      };
    });
    const w = paidWrite(makeEvent(), 'g.crosstown.node1.probe.x', m.sharedSecret, { expiresInMs: 5000 });
    expect((await send(w.prepare)).code).toBe('F99');
    expect(w.prepare.expiresAt.getTime() - seen!.getTime()).toBe(1000);
  });

  it('F02 for an unknown destination and for the connector itself', async () => {
    const w = paidWrite(makeEvent(), 'g.elsewhere.bob', m.sharedSecret);
    const r = await send(w.prepare);
    expect(r.code).toBe('F02');
    expect(r.message).toMatch(/no route to g\.elsewhere\.bob/);
    expect((await send({ ...w.prepare, destination: 'g.crosstown.node1' })).code).toBe('F02');
  });

  it('F08 above the max packet amount, with amounts in the data', async () => {
    const w = paidWrite(makeEvent(), m.destination, m.sharedSecret, { amount: 1_000_001n });
    const r = await send(w.prepare);
    expect(r.code).toBe('F08');
    const view = new DataView(r.data.buffer, r.data.byteOffset);
    expect([view.getBigUint64(0), view.getBigUint64(8)]).toEqual([1_000_001n, 1_000_000n]);
  });

  it('F01 for data over 32767 bytes (encoded with the lenient npm ilp-packet) and over the connector limit', async () => {
    const ws = await rawSocket(node.connector.btpUrl);
    ws.send(serializeBtpPacket(btpAuthMessage(m.authToken, 1)));
    await nextFrame(ws);
    const big = IlpPacketNpm.serializeIlpPrepare({
      amount: '10',
      expiresAt: new Date(Date.now() + 10_000),
      executionCondition: Buffer.alloc(32),
      destination: RELAY,
      data: Buffer.alloc(32768),
    });
    ws.send(serializeBtpPacket(btpIlpMessage(new Uint8Array(big), 2)));
    const reply = deserializeBtpPacket(await nextFrame(ws));
    const r = deserializeIlpReply(reply.protocolData[0]!.data) as IlpReject;
    expect(r.code).toBe('F01');
    ws.close();

    const small = await startNode({ maxDataBytes: 100 }, 'g.crosstown.small');
    const sm = addMayor(small, 'a');
    const c = await BtpClient.connect({ url: small.connector.btpUrl, authToken: sm.authToken });
    const w = paidWrite(makeEvent(), sm.destination, sm.sharedSecret);
    const r2 = (await c.sendPrepare(w.prepare)) as IlpReject;
    expect(r2.code).toBe('F01');
    expect(r2.message).toMatch(/at most 100/);
    await c.close();
    await small.close();
  });

  it('T04 once fulfilled-and-unpaid plus this packet would exceed the credit limit', async () => {
    let owed = 0n;
    let t04: IlpReject | undefined;
    for (let i = 0; i < 200 && !t04; i++) {
      const w = paidWrite(makeEvent(), m.destination, m.sharedSecret);
      const r = await client.sendPrepare(w.prepare);
      if (r.type === IlpPacketType.Fulfill) owed += w.price;
      else t04 = r;
    }
    expect(t04?.code).toBe('T04');
    expect(t04?.message).toMatch(/insufficient liquidity: send a claim/);
    expect(owed).toBeLessThanOrEqual(100_000n);
    expect(node.connector.balance('alice').owedByPeer).toBe(owed);
  });

  it('T05 when a peer exceeds its rate (frozen clock, so the bucket does not refill)', async () => {
    const frozen = Date.now();
    const slow = await startNode({ now: () => frozen, rateLimitPerSecond: 5 }, 'g.crosstown.slow');
    const sm = addMayor(slow, 'a');
    const c = await BtpClient.connect({ url: slow.connector.btpUrl, authToken: sm.authToken });
    const codes: string[] = [];
    for (let i = 0; i < 15; i++) {
      const r = await c.sendPrepare(paidWrite(makeEvent(), sm.destination, sm.sharedSecret).prepare);
      codes.push(r.type === IlpPacketType.Reject ? r.code : 'ok');
    }
    expect(codes).toEqual([...Array(10).fill('ok'), ...Array(5).fill('T05')]); // burst = 2 s worth
    await c.close();
    await slow.close();
  });

  it('passes the relay reject through (underpaid write: F04) and credits nothing', async () => {
    const w = paidWrite(makeEvent(), m.destination, m.sharedSecret);
    const r = await send({ ...w.prepare, amount: w.price - PRICE });
    expect(r.code).toBe('F04');
    expect(r.triggeredBy).toBe(RELAY);
    expect(node.connector.balance('alice').owedByPeer).toBe(0n);
  });
});
