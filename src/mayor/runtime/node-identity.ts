// Which Nostr pubkey is the node: the SPSP handshake (price, settlement contract, BTP token) is only trusted from
// it. A kind 10032 on the relay proves nothing (anyone may pay to publish one), so the pubkey is pinned: configured
// (node-pubkey, or the devnet's devnet.json), else read from the relay's NIP-11 document over a wss:// connection
// whose certificate verifies (the relay's TLS identity vouches for the operator's key).
import { request } from 'node:https';
import { type ClientTlsOptions, clientTlsOptions } from '../../transport/tls.js';
import { MayorError } from './errors.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** The `pubkey` of a relay's NIP-11 document fetched over verified TLS; undefined when it names none. */
export function fetchNip11Pubkey(
  relayUrl: string,
  tls?: ClientTlsOptions,
  timeoutMs = 5000,
): Promise<string | undefined> {
  const url = new URL(relayUrl);
  if (url.protocol !== 'wss:') return Promise.resolve(undefined);
  url.protocol = 'https:';
  const options = clientTlsOptions(tls);
  if (options.rejectUnauthorized === false) return Promise.resolve(undefined); // unverified TLS vouches for nothing
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        headers: { accept: 'application/nostr+json' },
        timeout: timeoutMs,
        ...options,
        rejectUnauthorized: true,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > 65536) req.destroy(new Error('NIP-11 document larger than 64 KiB'));
        });
        res.on('end', () => {
          try {
            const pubkey = (JSON.parse(body) as { pubkey?: unknown }).pubkey;
            resolve(typeof pubkey === 'string' && HEX64.test(pubkey) ? pubkey : undefined);
          } catch {
            resolve(undefined);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The configured pubkey, else the one the relays' NIP-11 documents name over verified TLS (they must agree). */
export async function pinNodePubkey(
  urls: string[],
  configured: string | undefined,
  tls?: ClientTlsOptions,
): Promise<string> {
  if (configured !== undefined) {
    if (!HEX64.test(configured))
      throw new MayorError('BAD_OPTIONS', `node pubkey "${configured}" is not 64 lowercase hex characters`);
    return configured;
  }
  const named = new Set<string>();
  const problems: string[] = [];
  for (const url of urls) {
    try {
      const pk = await fetchNip11Pubkey(url, tls);
      if (pk) named.add(pk);
    } catch (err) {
      problems.push(`${url}: ${(err as Error).message}`);
    }
  }
  if (named.size === 1) return [...named][0]!;
  const why =
    named.size > 1
      ? `the relays' NIP-11 documents name different pubkeys (${[...named].join(', ')})`
      : `no wss:// relay with a verified certificate names one in its NIP-11 document${problems.length ? ` (${problems.join('; ')})` : ''}`;
  throw new MayorError(
    'NODE_UNKNOWN',
    `The node's identity is not pinned: ${why}. Set node-pubkey (--node-pubkey or CROSSTOWN_NODE_PUBKEY) to the pubkey the node operator published. ` +
      'A kind 10032 peer info on the relay is not proof: anyone can pay to publish one.',
  );
}
