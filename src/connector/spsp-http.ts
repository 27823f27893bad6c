// RFC 0009 SPSP over HTTP for ordinary ILP senders: GET with `Accept: application/spsp4+json` returns
// `{ destination_account, shared_secret }` (base64), a fresh account of the relay's secret store.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountSecretStore } from '../relay/secrets.js';

export const SPSP_CONTENT_TYPE = 'application/spsp4+json';

/** Returns a handler that answers SPSP queries and returns false for other requests (so the caller can go on). */
export function createSpspHttpHandler(options: {
  secrets: AccountSecretStore;
  /** Only answer on this path (default any path). */
  path?: string;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const accept = req.headers.accept ?? '';
    if (!accept.includes(SPSP_CONTENT_TYPE)) return false;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (options.path !== undefined && path !== options.path) return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('SPSP queries use GET\n');
      return true;
    }
    const a = options.secrets.issue();
    const body = JSON.stringify({
      destination_account: a.destination,
      shared_secret: Buffer.from(a.sharedSecret).toString('base64'),
    });
    res.writeHead(200, { 'content-type': SPSP_CONTENT_TYPE, 'cache-control': 'no-store' }).end(body);
    return true;
  };
}
