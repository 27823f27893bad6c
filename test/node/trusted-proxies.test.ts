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
import { ipBudgetKey } from '../../src/relay/rate-limit.js';

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

  it('counts IPv6 clients by /64: fresh addresses of one host share a budget', async () => {
    // An IPv6 host is given a /64: counted per address it would have 2^64 budgets.
    expect(await ask('127.0.0.1', '2001:db8:1:2::1')).toBe(200);
    expect(await ask('127.0.0.1', '2001:db8:1:2:ffff:ffff:ffff:fffe')).toBe(200);
    expect(await ask('127.0.0.1', '2001:0db8:0001:0002:0:0:0:9')).toBe(429);
    expect(await ask('127.0.0.1', '2001:db8:1:3::1')).toBe(200); // the next /64 is another client
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    expect(await ask('127.0.0.5', '198.51.100.50')).toBe(200);
    expect(await ask('127.0.0.5', '198.51.100.51')).toBe(200);
    expect(await ask('127.0.0.5', '198.51.100.52')).toBe(429);
  });
});

describe('SPSP over HTTP, global budget', () => {
  it('refuses every client once the node-wide budget is spent, whatever their addresses', async () => {
    const handler = createSpspHttpHandler({
      secrets: new AccountSecretStore('g.crosstown.test.relay'),
      limits: { perIp: { capacity: 100, perSecond: 0 }, global: { capacity: 5, perSecond: 0 } },
    });
    const small = createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => small.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(small.address() as AddressInfo).port}/`;
      const answers: [number, string][] = [];
      for (let i = 1; i <= 8; i++) {
        // Different source addresses: real sockets from 127.0.2.i (all of 127/8 is loopback on Linux).
        answers.push(
          await new Promise((resolve, reject) => {
            const req = request(
              url,
              { localAddress: `127.0.2.${i}`, headers: { accept: SPSP_CONTENT_TYPE } },
              (res) => {
                let body = '';
                res.on('data', (c: Buffer) => {
                  body += c;
                });
                res.on('end', () => resolve([res.statusCode ?? 0, body]));
              },
            );
            req.on('error', reject);
            req.end();
          }),
        );
      }
      expect(answers.map(([status]) => status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      expect(answers[7]![1]).toMatch(/^rate-limited: too many SPSP accounts asked of this node/);
    } finally {
      small.closeAllConnections();
      await new Promise((r) => small.close(r));
    }
  });
});

describe('ipBudgetKey', () => {
  it('keys IPv6 by /64 whatever its spelling, IPv4 and IPv4-mapped by address', () => {
    for (const ip of [
      '2001:db8:1:2::1',
      '2001:DB8:1:2:0:0:0:7',
      '2001:0db8:0001:0002::a:b',
      '2001:db8:1:2::192.0.2.1',
    ])
      expect(ipBudgetKey(ip)).toBe('2001:db8:1:2::/64');
    expect(ipBudgetKey('::1')).toBe('0:0:0:0::/64');
    expect(ipBudgetKey('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(ipBudgetKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(ipBudgetKey('192.0.2.1')).toBe('192.0.2.1');
    expect(ipBudgetKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
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
