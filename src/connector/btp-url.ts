// BTP URLs. interledgerjs plugins (ilp-plugin-btp) only take `btp+ws://` / `btp+wss://`, so that is the form the
// node advertises; the plain `ws://` / `wss://` form stays accepted everywhere a BTP URL is read.

const BTP_PREFIX = 'btp+';

/** The URL to open the WebSocket on: `btp+ws://h:p` -> `ws://h:p` (a plain ws:// URL is returned as is). */
export function toWebSocketUrl(url: string): string {
  return url.startsWith(BTP_PREFIX) ? url.slice(BTP_PREFIX.length) : url;
}

/** The advertised form: `ws://h:p` -> `btp+ws://h:p` (a btp+ URL is returned as is). */
export function toBtpUrl(url: string): string {
  return url.startsWith(BTP_PREFIX) ? url : `${BTP_PREFIX}${url}`;
}
