// A client that opens sockets without end must not take the node's file descriptors (nothing would be left for its
// stores or honest peers). The relay and the BTP server cap open WebSockets in all and per client address (IPv6
// by /64); a refused upgrade gets HTTP 503 saying why, and a closed socket frees its place. Real servers, real
// sockets on 127.0.0.1; other addresses come from a trusted-proxy header (the relay's clientAddress option).

import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BtpServer } from '../../src/connector/btp-server.js';
import { startTestRelay } from './helpers.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s().catch(() => {});
});

/** Opens a socket: 'open', or the HTTP status and body of a refused upgrade. */
function open(
  url: string,
  headers: Record<string, string> = {},
): Promise<WebSocket | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      stops.push(async () => ws.terminate());
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

const closed = (ws: WebSocket) =>
  new Promise<void>((r) => {
    ws.once('close', () => r());
    ws.close();
  });

describe('open connection caps', () => {
  it('the relay refuses a fourth socket from one address with 503, and takes one again after a close', async () => {
    const t = await startTestRelay({ limits: { maxConnectionsPerIp: 3, maxConnections: 5 } });
    stops.push(() => t.close());
    const url = t.relay.url;
    const first = await Promise.all([open(url), open(url), open(url)]);
    for (const ws of first) expect(ws).toBeInstanceOf(WebSocket);
    const refused = await open(url);
    expect(refused).toMatchObject({ status: 503 });
    expect((refused as { body: string }).body).toMatch(/too many connections from your address \(3\)/);
    await closed(first[0] as WebSocket);
    // The server sees the close a moment after the client.
    let again: Awaited<ReturnType<typeof open>> = { status: 0, body: '' };
    for (let i = 0; i < 50 && !(again instanceof WebSocket); i++) {
      again = await open(url);
      if (!(again instanceof WebSocket)) await new Promise((r) => setTimeout(r, 20));
    }
    expect(again).toBeInstanceOf(WebSocket);
  });

  it('the relay caps all connections together, whatever address a trusted proxy names', async () => {
    const t = await startTestRelay({
      limits: { maxConnectionsPerIp: 3, maxConnections: 4 },
      clientAddress: (req) => String(req.headers['x-test-ip'] ?? req.socket.remoteAddress),
    });
    stops.push(() => t.close());
    const url = t.relay.url;
    // One /64: two IPv6 addresses in it share a budget.
    expect(await open(url, { 'x-test-ip': '2001:db8:1:2::1' })).toBeInstanceOf(WebSocket);
    expect(await open(url, { 'x-test-ip': '2001:db8:1:2::2' })).toBeInstanceOf(WebSocket);
    expect(await open(url, { 'x-test-ip': '2001:db8:1:2:ffff::3' })).toBeInstanceOf(WebSocket);
    expect(await open(url, { 'x-test-ip': '2001:db8:1:2::4' })).toMatchObject({ status: 503 });
    // Another address is welcome, up to the total.
    expect(await open(url, { 'x-test-ip': '198.51.100.7' })).toBeInstanceOf(WebSocket);
    const full = await open(url, { 'x-test-ip': '198.51.100.8' });
    expect(full).toMatchObject({ status: 503, body: expect.stringMatching(/too many connections \(4\)/) });
  });

  it('the BTP server caps unauthenticated sockets per address', async () => {
    const server = await BtpServer.start({
      authenticate: () => undefined,
      handlersFor: () => ({}) as never,
      maxConnectionsPerIp: 2,
      authTimeoutMs: 60_000,
    });
    stops.push(() => server.close());
    expect(await open(server.url)).toBeInstanceOf(WebSocket);
    expect(await open(server.url)).toBeInstanceOf(WebSocket);
    expect(await open(server.url)).toMatchObject({ status: 503 });
  });
});
