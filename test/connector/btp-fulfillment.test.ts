// The sender of a PREPARE checks the FULFILL it gets back: SHA-256(fulfillment) must equal the condition. Every
// hop of the connector checked it, but the original sender (a Mayor paying a provider through the node) took any
// FULFILL as proof and owed the node the amount: a hostile node could answer 32 zero bytes and keep the payment
// (the provider never saw it; a sealed result's key was missing, and was paid for anyway). Real WebSockets on
// 127.0.0.1; the node is a bare BTP server that answers what the test says.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BtpClient } from '../../src/connector/btp-client.js';
import { BtpServer } from '../../src/connector/btp-server.js';
import { conditionOf, IlpPacketType, type IlpPrepare, type IlpReply } from '../../src/ilp/index.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s().catch(() => {});
});

async function nodeAnswering(answer: (p: IlpPrepare) => IlpReply) {
  const server = await BtpServer.start({
    port: 0,
    host: '127.0.0.1',
    authenticate: (t) => (t === 'token' ? 'mayor' : undefined),
    handlersFor: () => ({ onPrepare: async (p) => answer(p) }),
  });
  stops.push(() => server.close());
  const client = await BtpClient.connect({ url: server.url, authToken: 'token' });
  stops.push(() => client.close());
  return client;
}

describe('a PREPARE sender checks the fulfillment', () => {
  const fulfillment = randomBytes(32);
  const prepare: IlpPrepare = {
    type: IlpPacketType.Prepare,
    amount: 5000n,
    destination: 'g.crosstown.node1.provider.jobs',
    executionCondition: conditionOf(fulfillment),
    expiresAt: new Date(Date.now() + 30_000),
    data: new Uint8Array(),
  };
  const fulfill = (f: Uint8Array): IlpReply => ({
    type: IlpPacketType.Fulfill,
    fulfillment: f,
    data: new Uint8Array(),
  });

  it('a FULFILL that does not hash to the condition comes back as an F05 reject (not paid)', async () => {
    for (const wrong of [new Uint8Array(32), randomBytes(32)]) {
      const client = await nodeAnswering(() => fulfill(wrong));
      const reply = await client.sendPrepare(prepare);
      expect(reply).toMatchObject({ type: IlpPacketType.Reject, code: 'F05' });
      expect(reply.type === IlpPacketType.Reject && reply.message).toMatch(
        /does not hash to the execution condition/,
      );
    }
  });

  it('the right fulfillment is a FULFILL', async () => {
    const client = await nodeAnswering(() => fulfill(fulfillment));
    const reply = await client.sendPrepare(prepare);
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    expect(reply.type === IlpPacketType.Fulfill && Buffer.from(reply.fulfillment).equals(fulfillment)).toBe(
      true,
    );
  });
});
