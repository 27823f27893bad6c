import { describe, expect, it } from 'vitest';
import { IlpPacketType } from '../../src/ilp/index.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/index.js';
import type { Filter, NostrEvent } from '../../src/nostr/types.js';
import {
  AccountSecretStore,
  amountsData,
  DEFAULT_LIMITS,
  infoDocument,
  ProtocolError,
  parseClientMessage,
  priceOf,
  RateLimiter,
  readAmountsData,
} from '../../src/relay/index.js';
import { type EventStore, type QueryOptions, SqliteEventStore } from '../../src/store/index.js';
import { paidPrepare, sign, startTestRelay, TestClient } from './helpers.js';

describe('RateLimiter', () => {
  it('allows a burst of `capacity`, then refills at perSecond', () => {
    let now = 0;
    const rl = new RateLimiter({ capacity: 2, perSecond: 1 }, () => now);
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([true, true, false]);
    expect(rl.take('b')).toBe(true); // keys are independent
    now = 999;
    expect(rl.take('a')).toBe(false);
    now = 1000;
    expect(rl.take('a')).toBe(true);
    now = 60_000;
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([true, true, false]); // never above capacity
  });

  it('bounds the number of keys it remembers', () => {
    let now = 0;
    const rl = new RateLimiter({ capacity: 1, perSecond: 0 }, () => now, 3);
    for (const k of ['a', 'b', 'c', 'd']) expect(rl.take(k)).toBe(true);
    now = 1;
    // 'a' was evicted to make room, so it starts with a full bucket again; 'd' is still limited.
    expect(rl.take('a')).toBe(true);
    expect(rl.take('d')).toBe(false);
  });
});

describe('AccountSecretStore', () => {
  it('maps <base>.<account>[.more] to the account secret and nothing else', () => {
    const s = new AccountSecretStore('g.relay');
    const issued = s.issue('alice');
    expect(issued.destination).toBe('g.relay.alice');
    expect(issued.sharedSecret).toHaveLength(32);
    expect(s.secretFor('g.relay.alice')).toBe(issued.sharedSecret);
    expect(s.secretFor('g.relay.alice.stream.1')).toBe(issued.sharedSecret);
    expect(s.secretFor('g.relay.alicex')).toBeUndefined();
    expect(s.secretFor('g.relayx.alice')).toBeUndefined();
    expect(s.secretFor('g.relay')).toBeUndefined();
    expect(s.delete('alice')).toBe(true);
    expect(s.secretFor('g.relay.alice')).toBeUndefined();
    expect(s.issue().account).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(() => s.set('a.b', new Uint8Array(32))).toThrow(/one ILP address segment/);
    expect(() => s.set('a', new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => new AccountSecretStore('not an address')).toThrow(/not a valid ILP address/);
  });
});

describe('price', () => {
  it('is bytes x basePricePerByte in bigint, with F04 amounts round-tripping as uint64', () => {
    expect(priceOf(875, 10_000_000_000_000n)).toBe(8_750_000_000_000_000n);
    expect(readAmountsData(amountsData(5n, 875n))).toEqual({ received: 5n, required: 875n });
    // Above uint64 the data saturates; the message still carries the exact figure.
    expect(readAmountsData(amountsData(0n, 1n << 70n))?.required).toBe((1n << 64n) - 1n);
    expect(readAmountsData(new Uint8Array(3))).toBeUndefined();
  });
});

describe('parseClientMessage', () => {
  const parse = (text: string) => parseClientMessage(text, DEFAULT_LIMITS);
  const replyOf = (text: string) => {
    try {
      parse(text);
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      return (err as ProtocolError).reply;
    }
    throw new Error('expected a ProtocolError');
  };

  it('parses the four client messages', () => {
    expect(parse('["EVENT",{"a":1}]')).toEqual({ type: 'EVENT', event: { a: 1 } });
    expect(parse('["REQ","s",{"kinds":[1]},{"#t":["x"]}]')).toEqual({
      type: 'REQ',
      subId: 's',
      filters: [{ kinds: [1] }, { '#t': ['x'] }],
    });
    expect(parse('["CLOSE","s"]')).toEqual({ type: 'CLOSE', subId: 's' });
    expect(parse('["AUTH",{}]')).toEqual({ type: 'AUTH', event: {} });
  });

  it('turns bad input into a NOTICE or a CLOSED for the subscription', () => {
    expect(replyOf('{')[0]).toBe('NOTICE');
    expect(replyOf('["REQ","s",{"limit":-1}]')).toEqual([
      'CLOSED',
      's',
      expect.stringMatching(/^invalid: .*limit/),
    ]);
    expect(replyOf('["REQ","s",{"ids":["ABC"]}]')[0]).toBe('CLOSED');
    expect(replyOf('["REQ",5,{}]')[0]).toBe('NOTICE');
  });
});

/** The SQLite store with a delay before each query: lets a test publish while a REQ is being answered. */
class SlowStore extends SqliteEventStore {
  release: (() => void) | undefined;
  override async query(filters: Filter[], options?: QueryOptions): Promise<NostrEvent[]> {
    await new Promise<void>((resolve) => {
      this.release = resolve;
    });
    return super.query(filters, options);
  }
}

describe('REQ racing with writes', () => {
  it('delivers events published during the stored-events query exactly once, live ones after EOSE', async () => {
    const store = new SlowStore({ path: ':memory:' });
    const t = await startTestRelay({ store: store as EventStore });
    const account = t.secrets.issue('w');
    const sk = generateSecretKey();
    const c = await TestClient.connect(t.relay.url);
    c.send(['REQ', 'r', { kinds: [1, 20001] }]);
    while (!store.release) await new Promise((r) => setTimeout(r, 5));
    // Stored and published while the REQ's query is pending: it is both in the query result and live.
    const during = sign(sk, 1, [], 'during');
    expect((await t.relay.handlePrepare(paidPrepare(during, account))).type).toBe(IlpPacketType.Fulfill);
    // Ephemeral: never in the query result, so it can only arrive as a buffered live event.
    const live = sign(sk, 20001, [], 'live');
    expect((await t.relay.handlePrepare(paidPrepare(live, account))).type).toBe(IlpPacketType.Fulfill);
    store.release();
    await c.next((f) => f[0] === 'EOSE');
    await c.quiet();
    const relevant = c.frames.filter((f) => f[0] === 'EVENT' || f[0] === 'EOSE');
    expect(relevant).toEqual([
      ['EVENT', 'r', during],
      ['EOSE', 'r'],
      ['EVENT', 'r', live],
    ]);
    c.close();
    await t.close();
    await store.close();
  });
});

describe('store failures over WebSocket', () => {
  it('answers a free write with OK false "error:" when the store fails, and a REQ with CLOSED', async () => {
    const sk = generateSecretKey();
    const t = await startTestRelay({ freeWrites: [{ pubkey: getPublicKey(sk), kinds: [1] }] });
    const c = await TestClient.connect(t.relay.url);
    await t.store.close();
    const [ok, reason] = await c.publish(sign(sk, 1, [], 'x'));
    expect(ok).toBe(false);
    expect(reason).toMatch(/^error: could not store the event: .*closed/);
    c.send(['REQ', 'r', {}]);
    expect((await c.next((f) => f[0] === 'CLOSED'))[2]).toMatch(/^error: could not query/);
    c.close();
    await t.relay.close();
  });
});

describe('NIP-11 fees (issue 18)', () => {
  it('gives the per-byte publication fee in M2M base units: a JSON number while exact, a decimal string above 2^53', () => {
    const fee = (price: bigint) =>
      (infoDocument({}, DEFAULT_LIMITS, price, 'g.x.relay').fees as { publication: { amount: unknown }[] })
        .publication[0];
    expect(fee(10n ** 13n)).toEqual({
      amount: 10_000_000_000_000,
      unit: 'M2M',
      per_byte: true,
      asset_scale: 18,
    });
    expect(fee(2n ** 53n - 1n)?.amount).toBe(Number.MAX_SAFE_INTEGER);
    expect(fee(2n ** 53n)?.amount).toBe('9007199254740992');
    expect(fee(10n ** 18n)?.amount).toBe('1000000000000000000');
    const doc = infoDocument({ paymentsUrl: 'http://n/.well-known/pay' }, DEFAULT_LIMITS, 1n, 'g.x.relay');
    expect(doc.payments_url).toBe('http://n/.well-known/pay');
    expect(new URL(doc.software as string).protocol).toBe('https:');
  });
});
