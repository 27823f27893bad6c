// The URL a client reached this relay at, which a NIP-42 AUTH must name in its `relay` tag (issue 14). Without a
// configured public URL it is derived from the Host header, but the Host header is the client's own word: a hostile
// relay connects to us saying `Host: evil.example.com`, hands our challenge to its victim and replays the victim's
// AUTH for wss://evil.example.com. So a Host is believed only when it names where the socket really arrived (the
// local address and port, or a loopback name on a loopback socket) or, over TLS, a name or IP of our certificate.
// Any other Host gets no URL: AUTH is refused, saying the operator should set relay-public-url.
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export type RelayUrlSeen = { url: string } | { refused: string };

/** The DNS names and IP addresses of a PEM certificate's subjectAltName, lowercased (`*.example.org` kept as is). */
export function certificateNames(pem: string | Buffer): string[] {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  return san
    .split(/,\s*/)
    .map((entry) => /^(?:DNS:|IP Address:)(.+)$/.exec(entry)?.[1]?.toLowerCase())
    .filter((name): name is string => name !== undefined);
}

const unmapped = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '').toLowerCase();
const isLoopbackAddress = (address: string) => /^127\./.test(address) || address === '::1';
/** Names that reach this machine only: a client using one talks to a relay on its own host. */
const isLocalName = (name: string) =>
  name === 'localhost' || name.endsWith('.localhost') || name === '0.0.0.0' || name === '::';

/** `name` is one of the certificate's names (a `*.` wildcard stands for exactly one label). */
function matchesCertName(name: string, certNames: string[]): boolean {
  return certNames.some((c) => {
    if (!c.startsWith('*.')) return c === name;
    const label = name.slice(0, name.length - (c.length - 1));
    return name.endsWith(c.slice(1)) && label !== '' && !label.includes('.');
  });
}

/** What this request's client reached, or why its Host is not believed. `certNames`: undefined without TLS. */
export function relayUrlSeenBy(req: IncomingMessage, certNames: string[] | undefined): RelayUrlSeen {
  const scheme = certNames ? 'wss' : 'ws';
  const path = new URL(req.url ?? '/', 'ws://relay').pathname;
  const local = unmapped(req.socket.localAddress ?? '');
  const localPort = req.socket.localPort ?? 0;
  const host = req.headers.host;
  if (!host) return { url: `${scheme}://${isIP(local) === 6 ? `[${local}]` : local}:${localPort}${path}` };
  let parsed: URL;
  try {
    parsed = new URL(`${scheme}://${host}`);
  } catch {
    return { refused: `restricted: the Host header ${JSON.stringify(host)} is not a host name` };
  }
  const name = parsed.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = parsed.port === '' ? (scheme === 'wss' ? 443 : 80) : Number(parsed.port);
  const believed =
    (port === localPort && isIP(name) !== 0 && unmapped(name) === local) ||
    (port === localPort && isLocalName(name) && isLoopbackAddress(local)) ||
    (certNames !== undefined && matchesCertName(name, certNames));
  if (believed) return { url: `${scheme}://${parsed.host}${path}` };
  return {
    refused:
      `restricted: this relay does not know ${host} as its own address, so an AUTH naming it proves nothing here; ` +
      'connect by the address the relay listens on, or its operator sets relay-public-url (--relay-public-url)',
  };
}
