// BTP over wss://: a Mayor's BtpClient reaches a connector serving a certificate from a throwaway CA (made with
// openssl at test time) when it is given that CA, and is refused with a certificate error without it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtpClient, ConnectorError } from '../../src/connector/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import { resetPlaintextWarnings, type TransportError } from '../../src/transport/index.js';
import { makeTestCertificates, nonLoopbackAddress, type TestCertificates } from '../support/tls.js';
import { addMayor, makeEvent, type Node, paidWrite, startNode } from './helpers.js';

let certs: TestCertificates;
let node: Node;
beforeAll(async () => {
  certs = await makeTestCertificates();
  node = await startNode({ btp: { tls: { cert: certs.cert, key: certs.key } } });
});
afterAll(async () => {
  await node?.close();
  certs?.cleanup();
});

describe('BTP over TLS', () => {
  it('serves wss:// and a BtpClient with the custom CA authenticates and gets a FULFILL', async () => {
    expect(node.connector.btpUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const m = addMayor(node, 'tls-alice');
    const client = await BtpClient.connect({
      url: node.connector.btpUrl,
      authToken: m.authToken,
      tls: { ca: certs.ca },
    });
    const event = makeEvent('over tls');
    const reply = await client.sendPrepare(paidWrite(event, m.destination, m.sharedSecret).prepare);
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    expect(await node.store.get(event.id)).toEqual(event);
    await client.close();
  });

  it('accepts the CA as a file path, and localhost as the host name (SAN)', async () => {
    const m = addMayor(node, 'tls-path');
    const url = node.connector.btpUrl.replace('127.0.0.1', 'localhost');
    const client = await BtpClient.connect({ url, authToken: m.authToken, tls: { caPath: certs.paths.ca } });
    expect(client.connected).toBe(true);
    await client.close();
  });

  it('refuses the connection with a certificate error without the CA, or with another CA', async () => {
    const m = addMayor(node, 'tls-bob');
    for (const tls of [undefined, { ca: certs.otherCa }]) {
      const err = await BtpClient.connect({
        url: node.connector.btpUrl,
        authToken: m.authToken,
        ...(tls && { tls }),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectorError);
      expect((err as ConnectorError).message).toMatch(
        /TLS certificate of wss:\/\/127\.0\.0\.1:\d+ was refused/,
      );
      expect((err as ConnectorError).message).toMatch(/tls\.ca/);
      expect(((err as ConnectorError).cause as TransportError).code).toBe('TLS_CERTIFICATE');
    }
    expect(node.connector.balance('tls-bob').owedByPeer).toBe(0n);
  });

  it('links two connectors over wss:// with clientTls', async () => {
    const upstream = await startNode(
      { btp: { tls: { certPath: certs.paths.cert, keyPath: certs.paths.key } } },
      'g.crosstown.up',
    );
    const downstream = await startNode({ clientTls: { ca: certs.ca } }, 'g.crosstown.down');
    try {
      upstream.connector.addPeer({ id: 'down', relation: 'peer', authToken: 'down-token' });
      await downstream.connector.connectPeer({
        id: 'up',
        relation: 'peer',
        url: upstream.connector.btpUrl,
        authToken: 'down-token',
      });
      downstream.connector.addRoute('g.crosstown.up', 'up');
      // A Mayor on downstream (plain loopback ws) pays the upstream relay through the wss link.
      downstream.connector.addPeer({
        id: 'mayor',
        relation: 'child',
        authToken: 'mayor-token',
        creditLimit: 10n ** 12n,
      });
      const mayor = await BtpClient.connect({ url: downstream.connector.btpUrl, authToken: 'mayor-token' });
      const account = upstream.secrets.issue('via-down');
      const event = makeEvent('via a wss link');
      const reply = await mayor.sendPrepare(
        paidWrite(event, account.destination, account.sharedSecret).prepare,
      );
      await mayor.close();
      expect(reply.type).toBe(IlpPacketType.Fulfill);
      expect(await upstream.store.get(event.id)).toEqual(event);
    } finally {
      await downstream.close();
      await upstream.close();
    }
  });

  it('warns about plain ws:// BTP to a non-loopback host, once per URL, and not for 127.0.0.1', async () => {
    resetPlaintextWarnings();
    // Listening on every interface, reached through a non-loopback address of this machine.
    const plain = await startNode({ btp: { host: '0.0.0.0' } }, 'g.crosstown.plain');
    const warnings: string[] = [];
    const logger = { warn: (msg: string) => warnings.push(msg) };
    try {
      const m = addMayor(plain, 'plain');
      const local = await BtpClient.connect({ url: plain.connector.btpUrl, authToken: m.authToken, logger });
      await local.close();
      expect(warnings).toEqual([]);
      const remote = `ws://${nonLoopbackAddress()}:${plain.connector.port}/`;
      for (let i = 0; i < 2; i++) {
        const client = await BtpClient.connect({ url: remote, authToken: m.authToken, logger });
        expect(client.connected).toBe(true);
        await client.close();
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`unencrypted connection to ${remote}`);
      expect(warnings[0]).toMatch(/use wss:\/\//);
    } finally {
      await plain.close();
    }
  });
});
