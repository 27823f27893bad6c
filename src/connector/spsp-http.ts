// RFC 0009 SPSP over HTTP for ordinary ILP senders: GET with `Accept: application/spsp4+json` returns
// `{ destination_account, shared_secret }` (base64), a fresh account of the relay's secret store, which is a
// STREAM receiver: money sent to it tops up the account's prepaid balance for later writes. A sender that wants
// RFC 0039 receipts sends `Receipt-Nonce` (16 bytes) and `Receipt-Secret` (32 bytes), base64, and gets
// `receipts_enabled: true`. Anyone may ask, so it is budgeted (per client IP and for the node) and the accounts
// lapse when unused, unless money was put in them (docs/node.md "Limits").
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReceiptSetup } from '../ilp/stream/index.js';
import { ipBudgetKey, type RateLimit, RateLimiter } from '../relay/rate-limit.js';
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
  /** Asset of the account, told in `asset_info` (default M2M, scale 18). */
  asset?: { code: string; scale: number };
  /** The client's address for the per-IP budget (default: the socket's peer; the node trusts configured proxies). */
  clientAddress?: (req: IncomingMessage) => string;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limits = { ...DEFAULT_SPSP_HTTP_LIMITS, ...options.limits };
  const perIp = new RateLimiter(limits.perIp, options.now);
  const global = new RateLimiter(limits.global, options.now);
  const refuse = (res: ServerResponse, status: number, message: string) =>
    res
      .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '10' })
      .end(`${message}\n`);
  const asset = options.asset ?? { code: 'M2M', scale: 18 };
  return (req, res) => {
    const accept = req.headers.accept ?? '';
    if (!accept.includes(SPSP_CONTENT_TYPE)) return false;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (options.path !== undefined && path !== options.path) return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('SPSP queries use GET\n');
      return true;
    }
    const receipt = receiptSetupOf(req);
    if (typeof receipt === 'string') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`${receipt}\n`);
      return true;
    }
    if (!perIp.take(ipBudgetKey(options.clientAddress?.(req) ?? req.socket.remoteAddress ?? ''))) {
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
    const a = options.secrets.issue(undefined, {
      expireUnusedAfterMs: limits.unusedAccountTtlMs,
      ...(receipt ? { receipt } : {}),
    });
    const body = JSON.stringify({
      destination_account: a.destination,
      shared_secret: Buffer.from(a.sharedSecret).toString('base64'),
      asset_info: { code: asset.code, scale: asset.scale },
      ...(receipt && { receipts_enabled: true }),
    });
    res.writeHead(200, { 'content-type': SPSP_CONTENT_TYPE, 'cache-control': 'no-store' }).end(body);
    return true;
  };
}

/** The receipt headers (both or neither), or a message saying what is wrong with them. */
function receiptSetupOf(req: IncomingMessage): ReceiptSetup | undefined | string {
  const nonce = req.headers['receipt-nonce'];
  const secret = req.headers['receipt-secret'];
  if (nonce === undefined && secret === undefined) return undefined;
  if (typeof nonce !== 'string' || typeof secret !== 'string')
    return 'send both Receipt-Nonce and Receipt-Secret (base64), once each, or neither';
  const n = Buffer.from(nonce, 'base64');
  const s = Buffer.from(secret, 'base64');
  if (n.length !== 16) return 'Receipt-Nonce must be 16 bytes, base64';
  if (s.length !== 32) return 'Receipt-Secret must be 32 bytes, base64';
  return { nonce: new Uint8Array(n), secret: new Uint8Array(s) };
}
