// Two real connectors linked over BTP: sender attached to A, receiver attached to B.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtpClient, Connector } from '../../src/connector/index.js';
import {
  conditionOf,
  deriveFulfillment,
  IlpPacketType,
  type IlpPrepare,
  type IlpReject,
} from '../../src/ilp/index.js';

const secret = new Uint8Array(randomBytes(32));
let a: Connector;
let b: Connector;
let sender: BtpClient;
let receiver: BtpClient;
/** What the receiver does with the next PREPARE: 'good' fulfills, 'bad' returns a wrong fulfillment. */
let mode: 'good' | 'bad' = 'good';

beforeAll(async () => {
  a = await Connector.start({ address: 'g.crosstown.a' });
  b = await Connector.start({ address: 'g.crosstown.b' });
  // B knows A by a token; A dials B with it. Each routes the other's prefix over the link.
  b.addPeer({ id: 'a', relation: 'peer', authToken: 'a-to-b' });
  b.addRoute('g.crosstown.a', 'a');
  await a.connectPeer({ id: 'b', relation: 'peer', url: b.btpUrl, authToken: 'a-to-b' });
  a.addRoute('g.crosstown.b', 'b');
  a.addPeer({ id: 'sender', relation: 'child', authToken: 'sender-token', creditLimit: 10_000n });
  b.addPeer({ id: 'receiver', relation: 'child', authToken: 'receiver-token' });
  sender = await BtpClient.connect({ url: a.btpUrl, authToken: 'sender-token' });
  receiver = await BtpClient.connect({
    url: b.btpUrl,
    authToken: 'receiver-token',
    onPrepare: async (p) =>
      mode === 'good'
        ? {
            type: IlpPacketType.Fulfill,
            fulfillment: deriveFulfillment(secret, p.data),
            data: new Uint8Array(),
          }
        : {
            type: IlpPacketType.Fulfill,
            fulfillment: new Uint8Array(randomBytes(32)),
            data: new Uint8Array(),
          },
  });
});

afterAll(async () => {
  await sender.close();
  await receiver.close();
  await a.close();
  await b.close();
});

function prepare(amount: bigint): IlpPrepare {
  const data = new Uint8Array(randomBytes(64));
  return {
    type: IlpPacketType.Prepare,
    amount,
    expiresAt: new Date(Date.now() + 10_000),
    executionCondition: conditionOf(deriveFulfillment(secret, data)),
    destination: 'g.crosstown.b.receiver.inbox',
    data,
  };
}

const balances = () => ({
  senderOwesA: a.balance('sender').owedByPeer,
  aOwesB: a.balance('b').owedToPeer,
  aOwesBByB: b.balance('a').owedByPeer,
  bOwesReceiver: b.balance('receiver').owedToPeer,
});

describe('multi-hop', () => {
  it('delivers a payment across two connectors and credits every hop the same amount', async () => {
    mode = 'good';
    const p = prepare(700n);
    const reply = await sender.sendPrepare(p);
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    if (reply.type === IlpPacketType.Fulfill)
      expect(conditionOf(reply.fulfillment)).toEqual(p.executionCondition);
    expect(balances()).toEqual({ senderOwesA: 700n, aOwesB: 700n, aOwesBByB: 700n, bOwesReceiver: 700n });
  });

  it('rejects a wrong fulfillment at the last hop (F05 from B) and credits nobody', async () => {
    mode = 'bad';
    const before = balances();
    const reply = (await sender.sendPrepare(prepare(500n))) as IlpReject;
    expect(reply.type).toBe(IlpPacketType.Reject);
    expect(reply.code).toBe('F05');
    expect(reply.triggeredBy).toBe('g.crosstown.b');
    expect(balances()).toEqual(before);
    expect(a.balance('sender').inFlight).toBe(0n);
  });

  it('A checks the fulfillment too: a lying next hop gets F05 from A', async () => {
    // A raw BTP peer standing in for a dishonest connector C, reached by a static route.
    a.addPeer({ id: 'liar', relation: 'peer', authToken: 'liar-token' });
    a.addRoute('g.crosstown.c', 'liar');
    const liar = await BtpClient.connect({
      url: a.btpUrl,
      authToken: 'liar-token',
      onPrepare: async () => ({
        type: IlpPacketType.Fulfill,
        fulfillment: new Uint8Array(32),
        data: new Uint8Array(),
      }),
    });
    const before = balances();
    const reply = (await sender.sendPrepare({
      ...prepare(300n),
      destination: 'g.crosstown.c.x',
    })) as IlpReject;
    expect(reply).toMatchObject({ code: 'F05', triggeredBy: 'g.crosstown.a' });
    expect(balances()).toEqual(before);
    expect(a.balance('liar').owedToPeer).toBe(0n);
    await liar.close();
  });

  it('passes a downstream reject back unchanged (F02 from B)', async () => {
    const reply = (await sender.sendPrepare({
      ...prepare(1n),
      destination: 'g.crosstown.b.nobody',
    })) as IlpReject;
    expect(reply).toMatchObject({ code: 'F02', triggeredBy: 'g.crosstown.b' });
  });

  it('keeps many payments in flight across both hops', async () => {
    mode = 'good';
    const before = balances();
    const replies = await Promise.all(Array.from({ length: 40 }, () => sender.sendPrepare(prepare(10n))));
    expect(replies.every((r) => r.type === IlpPacketType.Fulfill)).toBe(true);
    expect(balances().bOwesReceiver - before.bOwesReceiver).toBe(400n);
  });
});
