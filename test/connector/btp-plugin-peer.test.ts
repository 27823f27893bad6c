// Issue 18, BTP URLs: the connector opens a link to an unmodified ilp-plugin-btp server given the btp+ws:// form
// interledgerjs uses, and packets flow both ways over it (the plugin pays for a write; a Mayor, connected with the
// plain ws:// form that stays accepted, pays through the node to the plugin). Client-side packets via ilp-packet.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ilpPacket from 'ilp-packet';
import BtpModule from 'ilp-plugin-btp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtpClient } from '../../src/connector/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { addMayor, makeEvent, type Node, PRICE, RELAY, startNode } from './helpers.js';

const BtpPlugin = BtpModule.default; // CommonJS: the class is module.exports, typed as `.default`
const SECRET = randomBytes(16).toString('hex');

let node: Node;
let http: Server;
let plugin: InstanceType<typeof BtpPlugin>;
let mayor: BtpClient;
let mayorAccount: ReturnType<typeof addMayor>;

beforeAll(async () => {
  node = await startNode();
  // The plugin listens on our HTTP server so that port 0 works (it calls listen() itself in connect()).
  http = createServer();
  plugin = new BtpPlugin({ listener: { port: 0, secret: SECRET, wsOpts: { server: http } } });
  const pluginUp = plugin.connect(); // settles when the first peer has authenticated
  if (!http.listening) await new Promise((r) => http.once('listening', r));
  const port = (http.address() as AddressInfo).port;
  await node.connector.connectPeer({
    id: 'plugin',
    relation: 'peer',
    url: `btp+ws://127.0.0.1:${port}`,
    authToken: SECRET,
  });
  await pluginUp;
  node.connector.addRoute('g.plugin', 'plugin');
  mayorAccount = addMayor(node, 'mayor');
  mayor = await BtpClient.connect({ url: node.connector.btpUrl, authToken: mayorAccount.authToken });
  expect(node.connector.btpUrl).toMatch(/^ws:\/\//); // the plain form still opens a session
});

afterAll(async () => {
  await mayor?.close();
  await plugin?.disconnect();
  await node?.close();
  await new Promise((r) => http?.close(r));
});

describe('a link to an ilp-plugin-btp server given as btp+ws://', () => {
  it('the plugin pays for a write through the link (plugin -> node)', async () => {
    const account = node.secrets.issue('plugin-writer');
    const event = makeEvent('written by an ilp-plugin-btp peer');
    const data = Buffer.from(encodeEventBytes(event));
    const key = createHmac('sha256', Buffer.from(account.sharedSecret))
      .update('ilp_stream_fulfillment')
      .digest();
    const fulfillment = createHmac('sha256', key).update(data).digest();
    const reply = ilpPacket.deserializeIlpPacket(
      await plugin.sendData(
        ilpPacket.serializeIlpPrepare({
          amount: (BigInt(data.length) * PRICE).toString(),
          destination: account.destination,
          executionCondition: createHash('sha256').update(fulfillment).digest(),
          expiresAt: new Date(Date.now() + 10_000),
          data,
        }),
      ),
    );
    expect(reply.type).toBe(ilpPacket.Type.TYPE_ILP_FULFILL);
    expect((reply.data as { fulfillment: Buffer }).fulfillment.equals(fulfillment)).toBe(true);
    expect(await node.store.get(event.id)).toEqual(event);
    expect(account.destination.startsWith(`${RELAY}.`)).toBe(true);
    expect(node.connector.balance('plugin').owedByPeer).toBe(BigInt(data.length) * PRICE);
  });

  it('a Mayor pays the plugin through the node (node -> plugin), and the plugin is owed it', async () => {
    const fulfillment = randomBytes(32);
    let seen: ReturnType<typeof ilpPacket.deserializeIlpPrepare> | undefined;
    plugin.registerDataHandler(async (data: Buffer) => {
      seen = ilpPacket.deserializeIlpPrepare(data);
      return ilpPacket.serializeIlpFulfill({ fulfillment, data: Buffer.from('thanks') });
    });
    const reply = await mayor.sendPrepare({
      type: IlpPacketType.Prepare,
      amount: 1234n,
      destination: 'g.plugin.alice',
      executionCondition: new Uint8Array(createHash('sha256').update(fulfillment).digest()),
      expiresAt: new Date(Date.now() + 10_000),
      data: new Uint8Array(0),
    });
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    expect(seen?.destination).toBe('g.plugin.alice');
    expect(seen?.amount).toBe('1234');
    expect(node.connector.balance('mayor').owedByPeer).toBe(1234n);
    expect(node.connector.balance('plugin').owedToPeer).toBe(1234n);
  });
});
