// The per-IP budgets behind a reverse proxy: with the proxy trusted (`--trusted-proxies`), each client behind it
// has its own budget, named by the rightmost X-Forwarded-For entry the proxy added; what a client writes to the left
// of it counts for nothing; an untrusted peer's X-Forwarded-For is ignored. Real HTTP server and sockets; different
// source addresses are real (Linux routes 127.0.0.0/8 to loopback).
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpspHttpHandler, SPSP_CONTENT_TYPE } from '../../src/connector/index.js';
import { clientAddressOf, parseTrustedProxies } from '../../src/node/client-address.js';
import { AccountSecretStore } from '../../src/relay/index.js';

let server: Server;
let port: number;
beforeAll(async () => {
  const handler = createSpspHttpHandler({
    secrets: new AccountSecretStore('g.crosstown.test.relay'),
    limits: { perIp: { capacity: 2, perSecond: 0 } },
    clientAddress: clientAddressOf(parseTrustedProxies('127.0.0.1, ::1')),
  });
  server = createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** Status of one SPSP query from source address `from`, with an X-Forwarded-For header if given. */
function ask(from: string, forwardedFor?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress: from,
        headers: { accept: SPSP_CONTENT_TYPE, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('per-IP budgets behind a trusted proxy', () => {
  it('gives each client behind the proxy its own budget', async () => {
    // The proxy (127.0.0.1) forwards two clients: each gets its 2 accounts, then 429.
    expect([await ask('127.0.0.1', '198.51.100.1'), await ask('127.0.0.1', '198.51.100.1')]).toEqual([
      200, 200,
    ]);
    expect(await ask('127.0.0.1', '198.51.100.1')).toBe(429);
    expect(await ask('127.0.0.1', '198.51.100.2')).toBe(200);
  });

  it('counts a client that writes its own X-Forwarded-For entries as the address the proxy saw', async () => {
    // The client sent "X-Forwarded-For: <random>"; the proxy appended the address it saw.
    expect(await ask('127.0.0.1', '203.0.113.9, 198.51.100.3')).toBe(200);
    expect(await ask('127.0.0.1', '203.0.113.10, 198.51.100.3')).toBe(200);
    expect(await ask('127.0.0.1', '203.0.113.11, 198.51.100.3')).toBe(429);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    expect(await ask('127.0.0.5', '198.51.100.50')).toBe(200);
    expect(await ask('127.0.0.5', '198.51.100.51')).toBe(200);
    expect(await ask('127.0.0.5', '198.51.100.52')).toBe(429);
  });
});

describe('trusted-proxies setting', () => {
  it('takes IP addresses only, and says how to write them', () => {
    expect(parseTrustedProxies('10.0.0.1,::1')).toEqual(['10.0.0.1', '::1']);
    expect(() => parseTrustedProxies('proxy.example.org')).toThrow(/not an IP address/);
  });

  it('treats an IPv4-mapped IPv6 peer as the same proxy', () => {
    const of = clientAddressOf(['127.0.0.1']);
    const req = (peer: string, xff?: string) =>
      ({ socket: { remoteAddress: peer }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as never;
    expect(of(req('::ffff:127.0.0.1', '192.0.2.7'))).toBe('192.0.2.7');
    expect(of(req('::ffff:127.0.0.1', 'not-an-ip'))).toBe('127.0.0.1');
    expect(of(req('::ffff:127.0.0.1'))).toBe('127.0.0.1');
  });
});
