// RFC 0009 SPSP over HTTP for ordinary ILP senders: GET with `Accept: application/spsp4+json` returns
// `{ destination_account, shared_secret }` (base64), a fresh account of the relay's secret store. Anyone may ask,
// so it is budgeted (per client IP and for the node) and the accounts lapse when unused (docs/node.md "Limits").
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type RateLimit, RateLimiter } from '../relay/rate-limit.js';
import type { AccountSecretStore } from '../relay/secrets.js';

export const SPSP_CONTENT_TYPE = 'application/spsp4+json';

export interface SpspHttpLimits {
  /** Accounts one client IP may ask for (token bucket). Default burst 20, then one per 10 s. */
  perIp: RateLimit;
  /** Accounts all clients together may ask for. Default burst 200, then 5 per second. */
  global: RateLimit;
  /** An account nobody paid through for this long is forgotten. Default 15 minutes. */
  unusedAccountTtlMs: number;
  /** Most accounts alive at once; beyond it requests wait for expiries. Default 10 000. */
  maxAccounts: number;
}

export const DEFAULT_SPSP_HTTP_LIMITS: SpspHttpLimits = {
  perIp: { capacity: 20, perSecond: 0.1 },
  global: { capacity: 200, perSecond: 5 },
  unusedAccountTtlMs: 15 * 60_000,
  maxAccounts: 10_000,
};

/** Returns a handler that answers SPSP queries and returns false for other requests (so the caller can go on). */
export function createSpspHttpHandler(options: {
  secrets: AccountSecretStore;
  /** Only answer on this path (default any path). */
  path?: string;
  limits?: Partial<SpspHttpLimits>;
  /** Clock in ms (tests). */
  now?: () => number;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limits = { ...DEFAULT_SPSP_HTTP_LIMITS, ...options.limits };
  const perIp = new RateLimiter(limits.perIp, options.now);
  const global = new RateLimiter(limits.global, options.now);
  const refuse = (res: ServerResponse, status: number, message: string) =>
    res
      .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '10' })
      .end(`${message}\n`);
  return (req, res) => {
    const accept = req.headers.accept ?? '';
    if (!accept.includes(SPSP_CONTENT_TYPE)) return false;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (options.path !== undefined && path !== options.path) return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('SPSP queries use GET\n');
      return true;
    }
    if (!perIp.take(req.socket.remoteAddress ?? '')) {
      refuse(res, 429, 'rate-limited: too many SPSP accounts asked from this IP address; retry later');
      return true;
    }
    if (!global.take('*')) {
      refuse(res, 429, 'rate-limited: too many SPSP accounts asked of this node; retry later');
      return true;
    }
    if (options.secrets.sweep() >= limits.maxAccounts) {
      refuse(res, 503, 'rate-limited: too many unused SPSP accounts are open; retry later');
      return true;
    }
    const a = options.secrets.issue(undefined, { expireUnusedAfterMs: limits.unusedAccountTtlMs });
    const body = JSON.stringify({
      destination_account: a.destination,
      shared_secret: Buffer.from(a.sharedSecret).toString('base64'),
    });
    res.writeHead(200, { 'content-type': SPSP_CONTENT_TYPE, 'cache-control': 'no-store' }).end(body);
    return true;
  };
}
