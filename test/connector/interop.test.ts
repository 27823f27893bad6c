// An ordinary Interledger client built only on npm's btp-packet + ilp-packet over a plain ws socket talks
// BTP 2.0 to our connector and pays for a write.
import * as btpNpm from 'btp-packet';
import * as ilpNpm from 'ilp-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { conditionOf, deriveFulfillment } from '../../src/ilp/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { addMayor, makeEvent, type Node, PRICE, startNode } from './helpers.js';

let node: Node;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node.close();
});

function request(ws: WebSocket, frame: Buffer): Promise<ReturnType<typeof btpNpm.deserialize>> {
  return new Promise((resolve) => {
    ws.once('message', (data: Buffer) => resolve(btpNpm.deserialize(data)));
    ws.send(frame);
  });
}

describe('interop with btp-packet + ilp-packet', () => {
  it('authenticates, pays for a write and gets a FULFILL whose fulfillment matches', async () => {
    const m = addMayor(node, 'legacy');
    const ws = new WebSocket(node.connector.btpUrl);
    await new Promise((r) => ws.once('open', r));
    const auth = await request(
      ws,
      btpNpm.serialize({
        type: btpNpm.TYPE_MESSAGE,
        requestId: 1,
        data: {
          protocolData: [
            {
              protocolName: 'auth',
              contentType: btpNpm.MIME_APPLICATION_OCTET_STREAM,
              data: Buffer.alloc(0),
            },
            {
              protocolName: 'auth_token',
              contentType: btpNpm.MIME_TEXT_PLAIN_UTF8,
              data: Buffer.from(m.authToken),
            },
          ],
        },
      }),
    );
    expect(auth.type).toBe(btpNpm.TYPE_RESPONSE);

    const event = makeEvent();
    const data = Buffer.from(encodeEventBytes(event));
    const fulfillment = deriveFulfillment(m.sharedSecret, data);
    const prepare = ilpNpm.serializeIlpPrepare({
      amount: String(BigInt(data.length) * PRICE),
      expiresAt: new Date(Date.now() + 10_000),
      executionCondition: Buffer.from(conditionOf(fulfillment)),
      destination: m.destination,
      data,
    });
    const res = await request(
      ws,
      btpNpm.serialize({
        type: btpNpm.TYPE_MESSAGE,
        requestId: 2,
        data: {
          protocolData: [
            { protocolName: 'ilp', contentType: btpNpm.MIME_APPLICATION_OCTET_STREAM, data: prepare },
          ],
        },
      }),
    );
    expect(res.type).toBe(btpNpm.TYPE_RESPONSE);
    expect(res.requestId).toBe(2);
    const ilp = (res.data as { protocolData: { protocolName: string; data: Buffer }[] }).protocolData.find(
      (p) => p.protocolName === 'ilp',
    )!;
    const reply = ilpNpm.deserializeIlpFulfill(ilp.data);
    expect(new Uint8Array(reply.fulfillment)).toEqual(fulfillment);
    expect(await node.store.get(event.id)).toEqual(event);

    // And a REJECT decodes too (unknown destination).
    const bad = ilpNpm.serializeIlpPrepare({
      amount: '1',
      expiresAt: new Date(Date.now() + 10_000),
      executionCondition: Buffer.alloc(32),
      destination: 'g.nowhere',
      data: Buffer.alloc(0),
    });
    const res2 = await request(
      ws,
      btpNpm.serialize({
        type: btpNpm.TYPE_MESSAGE,
        requestId: 3,
        data: {
          protocolData: [
            { protocolName: 'ilp', contentType: btpNpm.MIME_APPLICATION_OCTET_STREAM, data: bad },
          ],
        },
      }),
    );
    const rej = ilpNpm.deserializeIlpReject(
      (res2.data as { protocolData: { data: Buffer }[] }).protocolData[0]!.data,
    );
    expect(rej.code).toBe('F02');
    ws.close();
  });
});
