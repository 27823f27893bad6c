// Whose request is this? The per-IP budgets of the free paths (SPSP handshakes, SPSP over HTTP) count by client
// address. Behind a reverse proxy every socket comes from the proxy, so one client could spend everyone's budget;
// when the socket's peer is a proxy the operator trusts, the client is the rightmost X-Forwarded-For entry that is
// not itself a trusted proxy (entries to its left are whatever the client chose to send, so they count for nothing).

import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export type ClientAddressOf = (req: IncomingMessage) => string;

/** `::ffff:127.0.0.1` and `127.0.0.1` are one address. */
const normal = (ip: string) =>
  ip
    .trim()
    .replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '')
    .toLowerCase();

/** Refuses anything that is not a literal IPv4 or IPv6 address (a proxy is trusted by address, not by name). */
export function parseTrustedProxies(list: string): string[] {
  const out = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ip of out) {
    if (!isIP(ip))
      throw new Error(`trusted proxy '${ip}' is not an IP address: list proxies by address, comma-separated`);
  }
  return out.map(normal);
}

export function clientAddressOf(trustedProxies: readonly string[]): ClientAddressOf {
  const trusted = new Set(trustedProxies.map(normal));
  return (req) => {
    const peer = normal(req.socket.remoteAddress ?? '');
    if (!trusted.has(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map(normal);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (!hop) continue;
      if (!isIP(hop)) return peer; // garbage from a misconfigured proxy: count it as the proxy itself
      if (!trusted.has(hop)) return hop;
    }
    return peer;
  };
}
