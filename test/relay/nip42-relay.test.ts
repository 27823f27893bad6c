// Issue 14 item 2 through real sockets: an AUTH event signed for another relay (the victim answered an evil relay
// that passed our challenge along) is refused, and the socket that sent it is served none of the victim's gift
// wraps; a challenge older than the AUTH window is replaced, not accepted. The relay has no public URL configured:
// it is derived from the Host header the client used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { IlpPacketType } from '../../src/ilp/index.js';
import { finalizeEvent, generateSecretKey, getPublicKey, KIND_CLIENT_AUTH } from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { certificateNames } from '../../src/relay/relay-url.js';
import { makeTestCertificates } from '../support/tls.js';
import { paidPrepare, sign, startTestRelay, TestClient, type TestRelay } from './helpers.js';

const victim = generateSecretKey();
const VICTIM = getPublicKey(victim);
let t: TestRelay;
let wrap: NostrEvent;
let clock = Date.now();
const clients: TestClient[] = [];

const authFor = (sk: Uint8Array, relay: string, challenge: string, createdAt = Math.floor(clock / 1000)) =>
  finalizeEvent(
    {
      kind: KIND_CLIENT_AUTH,
      tags: [
        ['relay', relay],
        ['challenge', challenge],
      ],
      content: '',
      created_at: createdAt,
    },
    sk,
  );

async function connect(url = t.relay.url, options?: WebSocket.ClientOptions): Promise<TestClient> {
  const c = await TestClient.connect(url, options);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  t = await startTestRelay({ now: () => clock });
  const account = t.secrets.issue();
  wrap = sign(generateSecretKey(), 1059, [['p', VICTIM]], 'sealed for the victim', Math.floor(clock / 1000));
  const reply = await t.relay.handlePrepare(paidPrepare(wrap, account));
  expect(reply.type).toBe(IlpPacketType.Fulfill);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await t?.close();
});

describe('NIP-42 AUTH names this relay (issue 14 item 2)', () => {
  it('refuses an AUTH signed for another relay and serves that socket no gift wraps', async () => {
    const thief = await connect();
    const challenge = (await thief.next((f) => f[0] === 'AUTH'))[1] as string;
    const [ok, reason] = await thief.auth(authFor(victim, 'wss://evil.example.com', challenge));
    expect(ok).toBe(false);
    expect(reason).toMatch(/^invalid: AUTH relay tag wss:\/\/evil\.example\.com is not this relay/);
    // Same host, other port: still another relay.
    const port = Number(new URL(t.relay.url).port);
    const [ok2] = await thief.auth(authFor(victim, `ws://127.0.0.1:${port + 1}`, challenge));
    expect(ok2).toBe(false);
    thief.send(['REQ', 'gw', { kinds: [1059], '#p': [VICTIM] }]);
    expect((await thief.next((f) => f[0] === 'CLOSED'))[2]).toMatch(/^auth-required:/);
    expect(await thief.req('by-id', { ids: [wrap.id] })).toEqual([]);
    expect(await thief.req('all', {})).toEqual([]);
  });

  it('refuses an AUTH replayed by a relay that forged the Host header of its own connection to us', async () => {
    // The evil relay connects to us saying `Host: evil.example.com`, hands our challenge to the victim as its own
    // and replays the victim's answer. The Host header is the client's word: it names no address the socket reached.
    const thief = await connect(t.relay.url, { headers: { host: 'evil.example.com' } });
    const challenge = (await thief.next((f) => f[0] === 'AUTH'))[1] as string;
    const [ok, reason] = await thief.auth(authFor(victim, 'ws://evil.example.com', challenge));
    expect(ok).toBe(false);
    expect(reason).toMatch(/^restricted: .*evil\.example\.com.*relay-public-url/);
    expect(await thief.req('by-id', { ids: [wrap.id] })).toEqual([]);
    // Same forgery with our port: still not an address the socket reached.
    const port = new URL(t.relay.url).port;
    const other = await connect(t.relay.url, { headers: { host: `evil.example.com:${port}` } });
    const ch = (await other.next((f) => f[0] === 'AUTH'))[1] as string;
    expect((await other.auth(authFor(victim, `ws://evil.example.com:${port}`, ch)))[0]).toBe(false);
    expect(await other.req('by-id', { ids: [wrap.id] })).toEqual([]);
  });

  it('accepts the URL the client used (Host header), with or without a trailing slash', async () => {
    const c = await connect();
    const challenge = (await c.next((f) => f[0] === 'AUTH'))[1] as string;
    expect(await c.auth(authFor(victim, `${t.relay.url}/`, challenge))).toEqual([true, '']);
    expect(await c.req('gw', { kinds: [1059], '#p': [VICTIM] })).toEqual([wrap]);
    // Reached as localhost, the relay is ws://localhost:<port>: a 127.0.0.1 AUTH is for another name.
    const local = await connect(t.relay.url.replace('127.0.0.1', 'localhost'));
    const ch = (await local.next((f) => f[0] === 'AUTH'))[1] as string;
    expect((await local.auth(authFor(victim, t.relay.url, ch)))[0]).toBe(false);
    expect(await local.auth(authFor(victim, t.relay.url.replace('127.0.0.1', 'localhost'), ch))).toEqual([
      true,
      '',
    ]);
  });

  it('over TLS believes a Host that is a DNS name of its certificate, and no other', async () => {
    const certs = await makeTestCertificates();
    expect(certificateNames(certs.cert)).toEqual(
      expect.arrayContaining(['127.0.0.1', 'localhost', 'relay.crosstown.test']),
    );
    const tls = await startTestRelay({ tls: { cert: certs.cert, key: certs.key }, now: () => clock });
    try {
      const port = tls.relay.port;
      const reach = (host: string) =>
        connect(tls.relay.url, { ca: certs.ca, headers: { host: `${host}:${port}` } });
      const named = await reach('relay.crosstown.test');
      const ch = (await named.next((f) => f[0] === 'AUTH'))[1] as string;
      const url = `wss://relay.crosstown.test:${port}`;
      expect(await named.auth(authFor(victim, url, ch))).toEqual([true, '']);
      const evil = await reach('evil.example.com');
      const ch2 = (await evil.next((f) => f[0] === 'AUTH'))[1] as string;
      const [ok, reason] = await evil.auth(authFor(victim, `wss://evil.example.com:${port}`, ch2));
      expect(ok).toBe(false);
      expect(reason).toMatch(/^restricted: .*relay-public-url/);
    } finally {
      await tls.close();
      certs.cleanup();
    }
  });

  it('replaces a challenge older than the AUTH window instead of accepting it', async () => {
    const c = await connect();
    const stale = (await c.next((f) => f[0] === 'AUTH'))[1] as string;
    clock += (t.relay.limits.authWindowSeconds + 1) * 1000;
    const [ok, reason] = await c.auth(authFor(victim, t.relay.url, stale));
    expect(ok).toBe(false);
    expect(reason).toMatch(/^restricted: AUTH challenge is older than/);
    // The new challenge was sent just before that OK.
    const fresh = c.frames.filter((f) => f[0] === 'AUTH').at(-1)![1] as string;
    expect(fresh).not.toBe(stale);
    expect(await c.auth(authFor(victim, t.relay.url, fresh))).toEqual([true, '']);
  });
});
