// Relay conformance over a real WebSocket: ws client against the server on 127.0.0.1, port 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IlpPacketType } from '../../src/ilp/index.js';
import { finalizeEvent, generateSecretKey, getPublicKey, KIND_CLIENT_AUTH } from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import type { IssuedAccount } from '../../src/relay/index.js';
import { decodeEvent, encodeEvent } from '../../src/toon/index.js';
import { paidPrepare, sign, startTestRelay, TestClient, type TestRelay } from './helpers.js';

const node = generateSecretKey();
const NODE = getPublicKey(node);
const alice = generateSecretKey();
const ALICE = getPublicKey(alice);
const bob = generateSecretKey();
const BOB = getPublicKey(bob);

let t: TestRelay;
let account: IssuedAccount;
const clients: TestClient[] = [];
const connect = async (query = '') => {
  const c = await TestClient.connect(t.relay.url + query);
  clients.push(c);
  return c;
};
const pay = async (event: NostrEvent) => {
  const reply = await t.relay.handlePrepare(paidPrepare(event, account));
  expect(reply.type).toBe(IlpPacketType.Fulfill);
};
const authenticate = async (c: TestClient, sk: Uint8Array) => {
  const challenge = (await c.next((f) => f[0] === 'AUTH'))[1] as string;
  const auth = finalizeEvent(
    {
      kind: KIND_CLIENT_AUTH,
      tags: [
        ['relay', t.relay.url],
        ['challenge', challenge],
      ],
      content: '',
    },
    sk,
  );
  expect(await c.auth(auth)).toEqual([true, '']);
};

beforeAll(async () => {
  t = await startTestRelay({
    freeWrites: [{ pubkey: NODE, kinds: [10032, 1] }],
    handshakeLimits: {
      perConnection: { capacity: 3, perSecond: 0 },
      perPubkey: { capacity: 5, perSecond: 0 },
    },
    limits: {
      maxSubscriptions: 3,
      maxFilters: 2,
      maxFilterValues: 4,
      maxMessageBytes: 4096,
      hardMaxMessageBytes: 16384,
    },
    info: { name: 'test relay', pubkey: NODE },
  });
  account = t.secrets.issue('writer');
});
afterAll(async () => {
  for (const c of clients) c.close();
  await t.close();
});

describe('NIP-11 information document', () => {
  it('serves the document on the WebSocket port when asked for application/nostr+json', async () => {
    const httpUrl = t.relay.url.replace('ws://', 'http://');
    const res = await fetch(httpUrl, { headers: { accept: 'application/nostr+json' } });
    expect(res.headers.get('content-type')).toBe('application/nostr+json');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      name: 'test relay',
      pubkey: NODE,
      supported_nips: expect.arrayContaining([1, 11, 42]),
      basePricePerByte: '10',
      encodings: ['json', 'toon'],
      ilpAddress: 'g.crosstown.relay',
      limitation: {
        max_message_length: 4096,
        max_subscriptions: 3,
        max_filters: 2,
        payment_required: true,
        restricted_writes: true,
      },
    });
    const plain = await fetch(httpUrl);
    expect(await plain.text()).toMatch(/Nostr client/);
    expect((await fetch(httpUrl, { method: 'OPTIONS' })).status).toBe(204);
  });
});

describe('writes over WebSocket', () => {
  it('sends a NIP-42 challenge on connect', async () => {
    const c = await connect();
    const auth = await c.next((f) => f[0] === 'AUTH');
    expect(auth[1]).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses unpaid writes with restricted: payment required and stores nothing', async () => {
    const c = await connect();
    const note = sign(alice, 1, [], 'free lunch?');
    const [ok, reason] = await c.publish(note);
    expect(ok).toBe(false);
    expect(reason).toMatch(/^restricted: payment required/);
    // The node's free kinds are free only for the node's pubkey.
    const [ok2] = await c.publish(sign(alice, 10032, [], '{}'));
    expect(ok2).toBe(false);
    expect(await t.store.count([{ authors: [ALICE] }])).toBe(0);
  });

  it('accepts operator-configured free events, stores and delivers them, and reports duplicates', async () => {
    const reader = await connect();
    await reader.req('peer', { kinds: [10032] });
    const c = await connect();
    const info = sign(node, 10032, [], '{"ilpAddress":"g.crosstown.node"}');
    expect(await c.publish(info)).toEqual([true, '']);
    expect((await reader.next((f) => f[0] === 'EVENT' && f[1] === 'peer'))[2]).toEqual(info);
    expect(await t.store.get(info.id)).toEqual(info);
    const [ok, reason] = await c.publish(info);
    expect(ok).toBe(true);
    expect(reason).toMatch(/^duplicate:/);
    // A forged free event is refused.
    const forged = { ...sign(node, 1, [], 'real'), content: 'forged' };
    const [okForged, whyForged] = await c.publish(forged);
    expect(okForged).toBe(false);
    expect(whyForged).toMatch(/^invalid:/);
  });

  it('accepts a free event sent as TOON text', async () => {
    const c = await connect();
    const note = sign(node, 1, [], 'toon write');
    expect(await c.publish(encodeEvent(note), note.id)).toEqual([true, '']);
    expect(await t.store.get(note.id)).toEqual(note);
  });

  it('forwards SPSP handshake kinds 23194/23195 to subscribers without storing them', async () => {
    const reader = await connect();
    await reader.req('spsp', { kinds: [23194, 23195], '#p': [BOB] });
    const writer = await connect();
    const request = sign(alice, 23194, [['p', BOB]], 'nip44-ciphertext');
    const response = sign(bob, 23195, [['p', BOB]], 'nip44-ciphertext');
    expect(await writer.publish(request)).toEqual([true, '']);
    expect(await writer.publish(response)).toEqual([true, '']);
    const got = [await reader.next((f) => f[0] === 'EVENT'), await reader.next((f) => f[0] === 'EVENT')];
    expect(got.map((f) => (f[2] as NostrEvent).id)).toEqual([request.id, response.id]);
    expect(await t.store.count([{ kinds: [23194, 23195] }])).toBe(0);
    expect(await reader.req('spsp-history', { kinds: [23194, 23195] })).toEqual([]);
  });

  it('rate-limits handshake events per connection and per pubkey', async () => {
    const hasty = generateSecretKey();
    const c1 = await connect();
    const results: boolean[] = [];
    for (let i = 0; i < 4; i++) results.push((await c1.publish(sign(hasty, 23194, [['p', BOB]], `${i}`)))[0]);
    expect(results).toEqual([true, true, true, false]);
    const [, reason] = await c1.publish(
      sign(generateSecretKey(), 23194, [['p', BOB]], 'other key, same socket'),
    );
    expect(reason).toMatch(/^rate-limited:/);
    // Same pubkey on a fresh connection: 2 more allowed (5 per pubkey), then refused.
    const c2 = await connect();
    const more: boolean[] = [];
    for (let i = 0; i < 3; i++) more.push((await c2.publish(sign(hasty, 23194, [['p', BOB]], `b${i}`)))[0]);
    expect(more).toEqual([true, true, false]);
  });
});

describe('subscriptions', () => {
  const base = 1_700_000_000; // in the past: the relay refuses events dated more than 15 min ahead
  const stored: NostrEvent[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) {
      const e = sign(alice, 5065, [['t', i % 2 ? 'odd' : 'even']], `job ${i}`, base + i);
      stored.push(e);
      await pay(e);
    }
  });

  it('returns stored events newest first up to limit, then EOSE', async () => {
    const c = await connect();
    const got = (await c.req('s1', { kinds: [5065], limit: 3 })) as NostrEvent[];
    expect(got.map((e) => e.created_at)).toEqual([base + 4, base + 3, base + 2]);
    expect(got[0]).toEqual(stored[4]);
  });

  it('ORs multiple filters and applies each limit to its own filter', async () => {
    const c = await connect();
    const got = (await c.req(
      's2',
      { '#t': ['odd'], limit: 1 },
      { '#t': ['even'], since: base, until: base + 2 },
    )) as NostrEvent[];
    expect(got.map((e) => e.content)).toEqual(['job 3', 'job 2', 'job 0']);
  });

  it('delivers matching live events after EOSE, and stops after CLOSE', async () => {
    const c = await connect();
    await c.req('live', { kinds: [5065], '#t': ['urgent'] });
    const miss = sign(alice, 5065, [['t', 'later']]);
    const hit = sign(alice, 5065, [['t', 'urgent']]);
    await pay(miss);
    await pay(hit);
    expect((await c.next((f) => f[0] === 'EVENT'))[2]).toEqual(hit);
    c.send(['CLOSE', 'live']);
    await c.quiet(50);
    await pay(sign(alice, 5065, [['t', 'urgent']], 'after close'));
    await c.quiet();
    expect(c.eventsFor('live')).toHaveLength(1);
  });

  it('replaces a subscription that reuses its id', async () => {
    const c = await connect();
    await c.req('same', { kinds: [5065], '#t': ['x-one'] });
    await c.req('same', { kinds: [5065], '#t': ['x-two'] });
    await pay(sign(alice, 5065, [['t', 'x-one']]));
    const two = sign(alice, 5065, [['t', 'x-two']]);
    await pay(two);
    const frame = await c.next((f) => f[0] === 'EVENT');
    expect(frame[2]).toEqual(two);
  });

  it('keeps only the latest replaceable (0, 3) and addressable events, and never stores ephemeral ones', async () => {
    const c = await connect();
    for (const kind of [0, 3]) {
      await pay(sign(bob, kind, [], 'v1', base));
      const v2 = sign(bob, kind, [], 'v2', base + 1);
      await pay(v2);
      expect(await c.req('q', { kinds: [kind], authors: [BOB] })).toEqual([v2]);
    }
    await pay(sign(bob, 30023, [['d', 'post']], 'draft', base));
    const final = sign(bob, 30023, [['d', 'post']], 'final', base + 1);
    const other = sign(bob, 30023, [['d', 'other']], 'other', base);
    await pay(final);
    await pay(other);
    expect(await c.req('q', { kinds: [30023] })).toEqual([final, other]);
    const eph = sign(bob, 25000, [], 'ephemeral');
    await pay(eph);
    expect(await c.req('q', { kinds: [25000] })).toEqual([]);
  });

  it('refuses more than max subscriptions per connection', async () => {
    const c = await connect();
    for (const id of ['a', 'b', 'c']) await c.req(id, { kinds: [1] });
    c.send(['REQ', 'd', { kinds: [1] }]);
    const closed = await c.next((f) => f[0] === 'CLOSED');
    expect(closed.slice(0, 2)).toEqual(['CLOSED', 'd']);
    expect(closed[2]).toMatch(/^restricted: at most 3/);
    // Reusing an open id is still allowed, and closing one frees a slot.
    await c.req('a', { kinds: [2] });
    c.send(['CLOSE', 'b']);
    await c.req('d', { kinds: [1] });
  });
});

describe('TOON delivery', () => {
  it('sends TOON text in EVENT frames to connections that opt in with ?encoding=toon', async () => {
    const toon = await connect('?encoding=toon');
    const json = await connect();
    const job = sign(alice, 5065, [['t', 'toon-test']], 'multi\nline "content"');
    await pay(job);
    const [asToon] = await toon.req('t', { '#t': ['toon-test'] });
    const [asJson] = await json.req('j', { '#t': ['toon-test'] });
    expect(typeof asToon).toBe('string');
    expect(asToon).toBe(encodeEvent(job));
    expect(decodeEvent(asToon as string)).toEqual(job);
    expect(asJson).toEqual(job);
    // Live delivery uses the connection's encoding too.
    const live = sign(alice, 5065, [['t', 'toon-test']], 'live');
    await pay(live);
    expect((await toon.next((f) => f[0] === 'EVENT'))[2]).toBe(encodeEvent(live));
    expect((await json.next((f) => f[0] === 'EVENT'))[2]).toEqual(live);
  });

  it('warns about an unknown encoding and falls back to JSON', async () => {
    const c = await connect('?encoding=xml');
    const notice = await c.next((f) => f[0] === 'NOTICE');
    expect(notice[1]).toMatch(/unknown encoding 'xml'/);
  });
});

describe('gift wraps (kind 1059) and NIP-42', () => {
  let wrap: NostrEvent;
  beforeAll(async () => {
    wrap = sign(generateSecretKey(), 1059, [['p', BOB]], 'sealed');
    await pay(wrap);
  });

  it('asks for AUTH when an unauthenticated client subscribes to gift wraps only', async () => {
    const c = await connect();
    c.send(['REQ', 'gw', { kinds: [1059] }]);
    const closed = await c.next((f) => f[0] === 'CLOSED');
    expect(closed[2]).toMatch(/^auth-required:/);
  });

  it('hides gift wraps from broad queries by anyone but the authenticated recipient', async () => {
    const anon = await connect();
    expect(await anon.req('all', { ids: [wrap.id] })).toEqual([]);
    const asAlice = await connect();
    await authenticate(asAlice, alice);
    expect(await asAlice.req('gw', { kinds: [1059] })).toEqual([]);
    const asBob = await connect();
    await authenticate(asBob, bob);
    expect(await asBob.req('gw', { kinds: [1059], '#p': [BOB] })).toEqual([wrap]);
    // Live delivery follows the same rule.
    await anon.req('live', { limit: 0 });
    await asAlice.req('live', { kinds: [1059] });
    await asBob.req('live', { kinds: [1059] });
    const fresh = sign(generateSecretKey(), 1059, [['p', BOB]], 'sealed again');
    await pay(fresh);
    expect((await asBob.next((f) => f[0] === 'EVENT' && f[1] === 'live'))[2]).toEqual(fresh);
    await anon.quiet();
    expect(asAlice.eventsFor('live')).toEqual([]);
    expect(anon.eventsFor('live')).toEqual([]);
  });

  it('rejects AUTH events with the wrong challenge, kind, age or signature', async () => {
    const c = await connect();
    const challenge = (await c.next((f) => f[0] === 'AUTH'))[1] as string;
    const now = Math.floor(Date.now() / 1000);
    const auth = (tags: string[][], kind = KIND_CLIENT_AUTH, created_at = now) =>
      finalizeEvent({ kind, tags, content: '', created_at }, bob);
    const relayTag = ['relay', t.relay.url];
    const cases: [NostrEvent, RegExp][] = [
      [auth([relayTag, ['challenge', 'nope']]), /challenge/],
      [auth([relayTag, ['challenge', challenge]], 1), /kind 22242/],
      [auth([relayTag, ['challenge', challenge]], KIND_CLIENT_AUTH, now - 3600), /created_at/],
      [auth([['challenge', challenge]]), /relay tag/],
      [{ ...auth([relayTag, ['challenge', challenge]]), content: 'x' }, /does not verify/],
    ];
    for (const [event, why] of cases) {
      const [ok, reason] = await c.auth(event);
      expect(ok).toBe(false);
      expect(reason).toMatch(why);
    }
    // None of those authenticated the connection.
    c.send(['REQ', 'gw', { kinds: [1059] }]);
    expect((await c.next((f) => f[0] === 'CLOSED'))[2]).toMatch(/^auth-required/);
  });

  it('checks the relay tag against the configured relay URL', async () => {
    const strict = await startTestRelay({ relayUrl: 'wss://relay.example.com/' });
    const c = await TestClient.connect(strict.relay.url);
    const challenge = (await c.next((f) => f[0] === 'AUTH'))[1] as string;
    const make = (relay: string) =>
      finalizeEvent(
        {
          kind: KIND_CLIENT_AUTH,
          tags: [
            ['relay', relay],
            ['challenge', challenge],
          ],
          content: '',
        },
        bob,
      );
    const [bad, reason] = await c.auth(make('wss://evil.example.com'));
    expect(bad).toBe(false);
    expect(reason).toMatch(/not this relay/);
    expect((await c.auth(make('wss://RELAY.example.com')))[0]).toBe(true);
    c.close();
    await strict.close();
  });
});

describe('malformed input never kills the server', () => {
  it('answers every bad frame and keeps the connection usable', async () => {
    const c = await connect();
    const notice = async (frame: string | unknown[], pattern: RegExp) => {
      c.send(frame);
      const reply = await c.next((f) => f[0] === 'NOTICE' || f[0] === 'CLOSED' || f[0] === 'OK');
      expect(JSON.stringify(reply)).toMatch(pattern);
      return reply;
    };
    await notice('not json', /NOTICE.*not valid JSON/);
    await notice('{"a":1}', /NOTICE.*JSON array/);
    await notice('[]', /NOTICE.*JSON array/);
    await notice('[42]', /NOTICE/);
    await notice(['HELLO'], /NOTICE.*unknown message type/);
    await notice(['EVENT'], /NOTICE.*exactly one event/);
    await notice(['EVENT', 'not toon at all: ['], /NOTICE.*invalid/);
    await notice(['EVENT', { id: 'a'.repeat(64), kind: 'x' }], /OK.*a{64}.*false.*invalid/);
    await notice(['EVENT', null], /NOTICE.*invalid/);
    await notice(['REQ'], /NOTICE.*subscription id/);
    await notice(['REQ', 'x'.repeat(65), {}], /NOTICE.*subscription id/);
    await notice(['REQ', 'nofilter'], /CLOSED.*nofilter.*at least one filter/);
    await notice(['REQ', 'bad', { kinds: 'x' }], /CLOSED.*bad.*invalid/);
    await notice(['REQ', 'bad', { search: 'x' }], /CLOSED.*unknown filter field/);
    await notice(['REQ', 'many', {}, {}, {}], /CLOSED.*many.*at most 2/);
    await notice(['REQ', 'wide', { kinds: [1, 2, 3, 4, 5] }], /CLOSED.*wide.*limit is 4/);
    await notice(['CLOSE'], /NOTICE.*CLOSE/);
    await notice(['AUTH', 'x'], /OK.*false.*invalid/);
    await notice(
      JSON.stringify(['REQ', 'big', { '#t': ['x'.repeat(5000)] }]),
      /CLOSED.*big.*exceeds max_message_length 4096/, // a REQ refused unparsed is still CLOSED with its id
    );
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await c.next((f) => f[0] === 'NOTICE'))[1]).toMatch(/binary/);
    // Still serving.
    expect(await c.req('ok', { kinds: [5065], limit: 1 })).toHaveLength(1);
  });

  it('drops a connection that sends a frame above the hard cap, and keeps serving others', async () => {
    const c = await connect();
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    c.send(JSON.stringify(['EVENT', { content: 'z'.repeat(20000) }]));
    expect(await closed).toBe(1009);
    const other = await connect();
    expect(await other.req('alive', { kinds: [5065], limit: 1 })).toHaveLength(1);
  });
});
