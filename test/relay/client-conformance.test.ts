// Conformance with a real Nostr client: nostr-tools' Relay and SimplePool over loopback against the relay, following
// the checklist of a well-known relay tester (OK, verification, escapes, created_at window, ordering, lookups,
// since/until, limit 0, ephemeral, replaceable/addressable, NIP-09 deletion, CLOSED, EOSE). Storage-semantics items
// write through the operator's free-write exception (nostr-tools expects OK for EVENT); payment is tested apart,
// and paid writes go through handlePrepare with PREPAREs built here.
import { SimplePool, useWebSocketImplementation as setPoolWebSocket } from 'nostr-tools/pool';
import {
  type Relay,
  Relay as RelayClass,
  useWebSocketImplementation as setRelayWebSocket,
} from 'nostr-tools/relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { IlpPacketType, type IlpReject } from '../../src/ilp/index.js';
import { finalizeEvent, generateSecretKey, getEventHash, getPublicKey } from '../../src/nostr/index.js';
import type { Filter, NostrEvent } from '../../src/nostr/types.js';
import type { IssuedAccount } from '../../src/relay/index.js';
import { paidPrepare, sign, startTestRelay, type TestRelay } from './helpers.js';

setRelayWebSocket(WebSocket); // Node 20 has no global WebSocket
setPoolWebSocket(WebSocket);

const alice = generateSecretKey(); // free writer for storage-semantics items
const ALICE = getPublicKey(alice);
const bob = generateSecretKey(); // pays for everything
const BOB = getPublicKey(bob);
const FREE_KINDS = [0, 1, 5, 3, 7, 10002, 20001, 30023];
const now = () => Math.floor(Date.now() / 1000);

let t: TestRelay;
let account: IssuedAccount;
let client: Relay;

beforeAll(async () => {
  t = await startTestRelay({
    freeWrites: [{ pubkey: ALICE, kinds: FREE_KINDS }],
    limits: { maxFutureSeconds: 600, maxPastSeconds: 30 * 24 * 3600 },
  });
  account = t.secrets.issue('bob');
  client = await RelayClass.connect(t.relay.url);
});
afterAll(async () => {
  client.close();
  await t.close();
});

/** Stored events for `filters` up to EOSE, or the CLOSED reason. */
function fetch(filters: Filter[], relay: Relay = client): Promise<{ events: NostrEvent[]; closed?: string }> {
  return new Promise((resolve) => {
    const events: NostrEvent[] = [];
    const sub = relay.subscribe(filters, {
      onevent: (e) => events.push(e as NostrEvent),
      oneose: () => {
        sub.close();
        resolve({ events });
      },
      onclose: (reason) => resolve({ events, closed: reason }),
    });
  });
}

const ids = (events: NostrEvent[]) => events.map((e) => e.id);
/** Plain data: nostr-tools marks events it verified with a symbol property. */
const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

async function pay(event: NostrEvent): Promise<IlpPacketType> {
  return (await t.relay.handlePrepare(paidPrepare(event, account))).type;
}

describe('writes: OK, verification, payment', () => {
  it('answers OK true to a valid EVENT from a free writer, and the event is served back', async () => {
    const e = sign(alice, 1, [['t', 'ok']], 'hello');
    await expect(client.publish(e)).resolves.toBe('');
    expect(ids((await fetch([{ ids: [e.id] }])).events)).toEqual([e.id]);
  });

  it('refuses an EVENT whose id is not the hash of its fields, or whose signature is wrong', async () => {
    const e = sign(alice, 1, [], 'original');
    const forgedId = { ...e, content: 'changed' }; // id no longer matches
    const resigned = { ...e, content: 'changed', id: getEventHash({ ...e, content: 'changed' }) }; // sig of old id
    const badSig = { ...e, sig: e.sig.replace(/^./, e.sig[0] === 'a' ? 'b' : 'a') };
    for (const bad of [forgedId, resigned, badSig]) {
      await expect(client.publish(bad)).rejects.toThrow(/^invalid:/);
    }
    expect((await fetch([{ authors: [ALICE], '#x': ['never'] }])).events).toEqual([]);
    expect(await t.store.count([{ ids: [forgedId.id, resigned.id] }])).toBe(0);
  });

  it('refuses unpaid writes from anyone else with restricted: payment required; a paid PREPARE stores the same event', async () => {
    const e = sign(bob, 1, [], 'pay me');
    await expect(client.publish(e)).rejects.toThrow(/^restricted: payment required/);
    expect(await t.store.get(e.id)).toBeUndefined();
    expect(await pay(e)).toBe(IlpPacketType.Fulfill);
    expect(plain((await fetch([{ ids: [e.id] }])).events)).toEqual([e]);
  });

  it('round-trips JSON escapes and non-ASCII exactly (the client re-verifies the id)', async () => {
    const content = 'line\nquote" backslash\\ tab\t cr\r bs\b ff\f nul\u0000 ctl\u001f é 漢字 🎉 </script>';
    const e = sign(
      alice,
      1,
      [
        ['t', 'escapes'],
        ['x', '"\\\n'],
      ],
      content,
    );
    await client.publish(e);
    const got = (await fetch([{ '#t': ['escapes'] }])).events;
    expect(got).toHaveLength(1);
    expect(got[0]!.content).toBe(content);
    expect(plain(got[0])).toEqual(e);
  });

  it('refuses created_at too far in the future or the past (configurable), with invalid:', async () => {
    await expect(client.publish(sign(alice, 1, [], 'future', now() + 3600))).rejects.toThrow(
      /^invalid: created_at .* in the future/,
    );
    await expect(client.publish(sign(alice, 1, [], 'ancient', now() - 31 * 24 * 3600))).rejects.toThrow(
      /^invalid: created_at .* in the past/,
    );
    await expect(client.publish(sign(alice, 1, [], 'soon', now() + 300))).resolves.toBe('');
    // The paid path applies the same window: F99 with the same words, nothing stored.
    const future = sign(bob, 1, [], 'paid future', now() + 3600);
    const reply = (await t.relay.handlePrepare(paidPrepare(future, account))) as IlpReject;
    expect(reply.type).toBe(IlpPacketType.Reject);
    expect(reply.code).toBe('F99');
    expect(reply.message).toMatch(/^invalid: created_at/);
    expect(await t.store.get(future.id)).toBeUndefined();
  });
});

describe('reads: ordering, limits, lookups, EOSE', () => {
  const base = now() - 10_000;
  const events: NostrEvent[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 6; i++) {
      const e = sign(
        alice,
        i % 2 ? 7 : 1,
        [
          ['t', 'order'],
          ['e', 'f'.repeat(64)],
        ],
        `ordered ${i}`,
        base + i,
      );
      events.push(e);
      await client.publish(e);
    }
  });

  it('returns newest first, applies limit, and sends EOSE', async () => {
    const { events: got } = await fetch([{ '#t': ['order'], limit: 3 }]);
    expect(got.map((e) => e.content)).toEqual(['ordered 5', 'ordered 4', 'ordered 3']);
  });

  it('looks events up by id, author, kind and tag', async () => {
    expect(ids((await fetch([{ ids: [events[2]!.id] }])).events)).toEqual([events[2]!.id]);
    expect((await fetch([{ authors: [ALICE], '#t': ['order'] }])).events).toHaveLength(6);
    expect((await fetch([{ kinds: [7], '#t': ['order'] }])).events.map((e) => e.content)).toEqual([
      'ordered 5',
      'ordered 3',
      'ordered 1',
    ]);
    expect((await fetch([{ '#e': ['f'.repeat(64)] }])).events).toHaveLength(6);
    expect((await fetch([{ authors: [BOB], '#t': ['order'] }])).events).toEqual([]);
  });

  it('treats since and until as inclusive', async () => {
    const got = (await fetch([{ '#t': ['order'], since: base + 2, until: base + 4 }])).events;
    expect(got.map((e) => e.created_at)).toEqual([base + 4, base + 3, base + 2]);
  });

  it('limit: 0 sends no stored events and EOSE at once, then live events', async () => {
    const live: NostrEvent[] = [];
    let eose = false;
    const sub = client.subscribe([{ '#t': ['order'], limit: 0 }], {
      onevent: (e) => live.push(e as NostrEvent),
      oneose: () => {
        eose = true;
      },
    });
    await expect.poll(() => eose).toBe(true);
    expect(live).toEqual([]);
    const fresh = sign(alice, 1, [['t', 'order']], 'live one');
    await client.publish(fresh);
    await expect.poll(() => live.map((e) => e.id)).toEqual([fresh.id]);
    sub.close();
  });

  it('SimplePool.querySync gets the same answer as a single Relay', async () => {
    const pool = new SimplePool();
    const got = await pool.querySync([t.relay.url], { '#t': ['order'], limit: 2 });
    pool.close([t.relay.url]);
    expect(got).toHaveLength(2);
  });

  it('answers a refused REQ with CLOSED and a reason (unknown field, too many filters)', async () => {
    const search = await fetch([{ kinds: [1], search: 'x' } as Filter]);
    expect(search.closed).toMatch(/invalid/);
    const many = await fetch(Array.from({ length: 11 }, () => ({ kinds: [1] })));
    expect(many.closed).toMatch(/^invalid: 11 filters/);
  });
});

describe('kind semantics', () => {
  it('delivers ephemeral events live and never stores them', async () => {
    const live: NostrEvent[] = [];
    const sub = client.subscribe([{ kinds: [20001], authors: [ALICE] }], {
      onevent: (e) => live.push(e as NostrEvent),
    });
    await new Promise((r) => setTimeout(r, 50));
    const e = sign(alice, 20001, [], 'ephemeral');
    await client.publish(e);
    await expect.poll(() => live.length).toBe(1);
    sub.close();
    expect((await fetch([{ kinds: [20001] }])).events).toEqual([]);
  });

  it('keeps only the newest replaceable event; at equal created_at the lowest id wins', async () => {
    const at = now() - 500;
    const older = sign(alice, 0, [], 'profile v1', at - 10);
    const [x, y] = [sign(alice, 0, [], 'profile tie a', at), sign(alice, 0, [], 'profile tie b', at)];
    const [low, high] = x.id < y.id ? [x, y] : [y, x];
    await client.publish(older);
    await client.publish(high);
    await client.publish(low); // same second, lower id: replaces `high`
    await expect(client.publish(high)).rejects.toThrow(/^duplicate:/);
    await expect(client.publish(older)).rejects.toThrow(/^duplicate:/);
    expect(ids((await fetch([{ kinds: [0], authors: [ALICE] }])).events)).toEqual([low.id]);
  });

  it('keeps the newest addressable event per d tag, and the lowest id at a tie', async () => {
    const at = now() - 400;
    const a1 = sign(alice, 30023, [['d', 'post']], 'v1', at);
    const a2 = sign(alice, 30023, [['d', 'post']], 'v2', at + 1);
    const other = sign(alice, 30023, [['d', 'other']], 'other', at);
    for (const e of [a1, a2, other]) await client.publish(e);
    const got = (await fetch([{ kinds: [30023], authors: [ALICE] }])).events;
    expect(ids(got)).toEqual([a2.id, other.id]);
    const [x, y] = [sign(alice, 30023, [['d', 'tie']], 'p', at), sign(alice, 30023, [['d', 'tie']], 'q', at)];
    const [low, high] = x.id < y.id ? [x, y] : [y, x];
    await client.publish(high);
    await client.publish(low);
    expect(ids((await fetch([{ kinds: [30023], '#d': ['tie'] }])).events)).toEqual([low.id]);
  });
});

describe('NIP-09 deletion', () => {
  it('a paid kind 5 deletes the author’s own events by e tag; they are not served and cannot be re-stored', async () => {
    const target = sign(bob, 1, [['t', 'doomed']], 'to delete');
    const keep = sign(bob, 1, [['t', 'doomed']], 'to keep');
    expect(await pay(target)).toBe(IlpPacketType.Fulfill);
    expect(await pay(keep)).toBe(IlpPacketType.Fulfill);
    const deletion = sign(
      bob,
      5,
      [
        ['e', target.id],
        ['k', '1'],
      ],
      'no longer true',
    );
    // The deletion request is itself a paid write: unpaid over WebSocket it is refused.
    await expect(client.publish(deletion)).rejects.toThrow(/^restricted: payment required/);
    expect((await fetch([{ '#t': ['doomed'] }])).events).toHaveLength(2);
    expect(await pay(deletion)).toBe(IlpPacketType.Fulfill);
    expect(ids((await fetch([{ '#t': ['doomed'] }])).events)).toEqual([keep.id]);
    expect(ids((await fetch([{ kinds: [5], authors: [BOB] }])).events)).toEqual([deletion.id]);
    const again = (await t.relay.handlePrepare(paidPrepare(target, account))) as IlpReject;
    expect(again.type).toBe(IlpPacketType.Reject);
    expect(again.message).toMatch(/^blocked: .*NIP-09/);
    expect((await fetch([{ ids: [target.id] }])).events).toEqual([]);
  });

  it('ignores deletion requests for someone else’s events', async () => {
    const bobs = sign(bob, 1, [], 'bob owns this');
    expect(await pay(bobs)).toBe(IlpPacketType.Fulfill);
    await client.publish(sign(alice, 5, [['e', bobs.id]], 'not yours'));
    expect(ids((await fetch([{ ids: [bobs.id] }])).events)).toEqual([bobs.id]);
  });

  it('an a tag deletes an addressable event’s versions up to the request; newer versions are accepted', async () => {
    const at = now() - 300;
    const v1 = sign(alice, 30023, [['d', 'gone']], 'v1', at);
    await client.publish(v1);
    await client.publish(sign(alice, 5, [['a', `30023:${ALICE}:gone`]], '', at + 5));
    expect((await fetch([{ kinds: [30023], '#d': ['gone'] }])).events).toEqual([]);
    await expect(client.publish(sign(alice, 30023, [['d', 'gone']], 'older', at + 1))).rejects.toThrow(
      /^blocked:/,
    );
    const v2 = sign(alice, 30023, [['d', 'gone']], 'v2', at + 10);
    await client.publish(v2);
    expect(ids((await fetch([{ kinds: [30023], '#d': ['gone'] }])).events)).toEqual([v2.id]);
  });
});

describe('gift wraps and limits', () => {
  it('a limited query returns the reader’s gift wraps even when many newer ones are hidden from it', async () => {
    const at = now() - 200;
    const mine = [0, 1].map((i) => sign(bob, 1059, [['p', ALICE]], `for alice ${i}`, at + i));
    const others = [0, 1, 2, 3, 4].map((i) => sign(bob, 1059, [['p', BOB]], `for bob ${i}`, at + 10 + i));
    for (const e of [...mine, ...others]) expect(await pay(e)).toBe(IlpPacketType.Fulfill);
    const reader = await RelayClass.connect(t.relay.url);
    await new Promise((r) => setTimeout(r, 50)); // the AUTH challenge arrives first
    await reader.auth(async (template) => finalizeEvent(template as never, alice) as never);
    const got = (await fetch([{ kinds: [1059], limit: 2 }], reader)).events;
    expect(new Set(ids(got))).toEqual(new Set(ids(mine)));
    const broad = (await fetch([{ limit: 2, authors: [BOB], since: at, until: at + 20 }], reader)).events;
    expect(ids(broad)).toEqual([mine[1]!.id, mine[0]!.id]);
    reader.close();
  });
});
