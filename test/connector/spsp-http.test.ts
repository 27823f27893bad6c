import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtpClient, createSpspHttpHandler, SPSP_CONTENT_TYPE } from '../../src/connector/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import type { AccountSecretStore } from '../../src/relay/index.js';
import { addMayor, makeEvent, type Node, paidWrite, startNode } from './helpers.js';

let node: Node;
beforeAll(async () => {
  // The handler is mounted on the connector's own HTTP port; it needs the relay's secret store, which the
  // fixture creates, so it is looked up lazily.
  let secrets: AccountSecretStore | undefined;
  node = await startNode({
    http: (req, res) => createSpspHttpHandler({ secrets: secrets!, path: '/.well-known/pay' })(req, res),
  });
  secrets = node.secrets;
});
afterAll(async () => {
  await node.close();
});

describe('SPSP over HTTP (RFC 0009)', () => {
  const url = () => `http://127.0.0.1:${node.connector.port}/.well-known/pay`;

  it('answers a GET with Accept: application/spsp4+json with a fresh account whose secret pays for a write', async () => {
    const res = await fetch(url(), { headers: { accept: SPSP_CONTENT_TYPE } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(SPSP_CONTENT_TYPE);
    const body = (await res.json()) as {
      destination_account: string;
      shared_secret: string;
      asset_info?: unknown;
    };
    expect(Object.keys(body).sort()).toEqual(['asset_info', 'destination_account', 'shared_secret']);
    expect(body.asset_info).toEqual({ code: 'M2M', scale: 18 });
    expect(body.destination_account.startsWith('g.crosstown.node1.relay.')).toBe(true);
    const secret = new Uint8Array(Buffer.from(body.shared_secret, 'base64'));
    expect(secret.length).toBe(32);
    const other = (await (
      await fetch(url(), { headers: { accept: SPSP_CONTENT_TYPE } })
    ).json()) as typeof body;
    expect(other.destination_account).not.toBe(body.destination_account);

    // An ordinary sender with that account pays through a BTP peer of the connector.
    const m = addMayor(node, 'plain');
    const client = await BtpClient.connect({ url: node.connector.btpUrl, authToken: m.authToken });
    const w = paidWrite(makeEvent(), body.destination_account, secret);
    expect((await client.sendPrepare(w.prepare)).type).toBe(IlpPacketType.Fulfill);
    await client.close();
  });

  it('takes the RFC 0009 receipt headers (receipts_enabled) and refuses malformed ones with 400', async () => {
    const headers = (nonce: number, secret: number) => ({
      accept: SPSP_CONTENT_TYPE,
      'receipt-nonce': Buffer.alloc(nonce, 1).toString('base64'),
      'receipt-secret': Buffer.alloc(secret, 2).toString('base64'),
    });
    const ok = await fetch(url(), { headers: headers(16, 32) });
    expect(((await ok.json()) as { receipts_enabled?: boolean }).receipts_enabled).toBe(true);
    const bad = await fetch(url(), { headers: headers(15, 32) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/Receipt-Nonce must be 16 bytes/);
    const half = await fetch(url(), { headers: { accept: SPSP_CONTENT_TYPE, 'receipt-nonce': 'AAAA' } });
    expect(half.status).toBe(400);
  });

  it('ignores other requests and refuses other methods', async () => {
    expect((await fetch(url())).status).toBe(426);
    expect((await fetch(url(), { method: 'POST', headers: { accept: SPSP_CONTENT_TYPE } })).status).toBe(405);
    expect(
      (
        await fetch(`http://127.0.0.1:${node.connector.port}/other`, {
          headers: { accept: SPSP_CONTENT_TYPE },
        })
      ).status,
    ).toBe(426);
  });
});
