import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conditionOf, IlpPacketType, type IlpReject } from '../../src/ilp/index.js';
import { generateSecretKey, getEventHash } from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { type IssuedAccount, readAmountsData } from '../../src/relay/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import {
  PRICE,
  paidPrepare,
  RELAY_ADDRESS,
  sign,
  startTestRelay,
  TestClient,
  type TestRelay,
} from './helpers.js';

const sk = generateSecretKey();
const utf8 = new TextEncoder();

describe('write gate (handlePrepare)', () => {
  let t: TestRelay;
  let account: IssuedAccount;
  beforeEach(async () => {
    t = await startTestRelay();
    account = t.secrets.issue('alice');
  });
  afterEach(() => t.close());

  const rejectOf = (reply: unknown) => {
    expect((reply as { type: number }).type).toBe(IlpPacketType.Reject);
    return reply as IlpReject;
  };

  it('stores a paid write, delivers it live, and fulfills with the event id', async () => {
    const client = await TestClient.connect(t.relay.url);
    await client.req('jobs', { kinds: [5065] });
    const job = sign(sk, 5065, [['t', 'ci-cd-linux']], 'build it');
    const prepare = paidPrepare(job, account);
    const reply = await t.relay.handlePrepare(prepare);
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    if (reply.type !== IlpPacketType.Fulfill) return;
    // The fulfillment is the preimage of the condition, and data names the event.
    expect(conditionOf(reply.fulfillment)).toEqual(prepare.executionCondition);
    expect(Buffer.from(reply.data).toString('hex')).toBe(job.id);
    expect(await t.store.get(job.id)).toEqual(job);
    const live = await client.next((f) => f[0] === 'EVENT' && f[1] === 'jobs');
    expect(live[2]).toEqual(job);
    client.close();
  });

  it('charges exactly bytes x basePricePerByte: one unit less is F04 with both amounts', async () => {
    const job = sign(sk, 5065, [], 'x'.repeat(100));
    const bytes = encodeEventBytes(job).length;
    const required = BigInt(bytes) * PRICE;
    const reply = rejectOf(await t.relay.handlePrepare(paidPrepare(job, account, { amount: required - 1n })));
    expect(reply.code).toBe('F04');
    expect(reply.triggeredBy).toBe(RELAY_ADDRESS);
    expect(reply.message).toContain(`received ${required - 1n}, required ${required}`);
    expect(readAmountsData(reply.data)).toEqual({ received: required - 1n, required });
    expect(await t.store.get(job.id)).toBeUndefined();
    // Paying exactly the price succeeds; overpaying is accepted too.
    expect((await t.relay.handlePrepare(paidPrepare(job, account, { amount: required }))).type).toBe(
      IlpPacketType.Fulfill,
    );
  });

  it('rejects a bad signature and a forged id with F06 and stores nothing', async () => {
    const real = sign(sk, 1, [], 'hello');
    const badSig: NostrEvent = { ...real, sig: (real.sig[0] === '0' ? '1' : '0') + real.sig.slice(1) };
    // Forged: content changed, id left as claimed (the anchor relay accepted this).
    const forged: NostrEvent = { ...real, content: 'pay me instead' };
    // Forged consistently: id recomputed but the signature is for the old id.
    const rehashed: NostrEvent = { ...forged, id: getEventHash(forged) };
    for (const event of [badSig, forged, rehashed]) {
      const reply = rejectOf(await t.relay.handlePrepare(paidPrepare(event, account)));
      expect(reply.code).toBe('F06');
      expect(reply.message).toMatch(/does not verify/);
    }
    expect(await t.store.count([{}])).toBe(0);
  });

  it('rejects malformed TOON and empty data with F01', async () => {
    for (const data of [
      utf8.encode('kind: [oops'),
      utf8.encode('hello: world'),
      new Uint8Array([0xff, 0xfe]),
    ]) {
      const reply = rejectOf(await t.relay.handlePrepare(paidPrepare(sign(sk, 1), account, { data })));
      expect(reply.code).toBe('F01');
      expect(reply.message).toMatch(/not a TOON-encoded Nostr event/);
    }
    const empty = rejectOf(
      await t.relay.handlePrepare(paidPrepare(sign(sk, 1), account, { data: new Uint8Array(0) })),
    );
    expect(empty.code).toBe('F01');
    expect(await t.store.count([{}])).toBe(0);
  });

  it('refuses raw control characters in TOON strings: priced at 1 byte each, they are stored and served as 6', async () => {
    const event = sign(sk, 1, [], '\x01'.repeat(4000));
    const canonical = new TextDecoder().decode(encodeEventBytes(event));
    expect(canonical).toContain('\\u0001'); // the encoder escapes them
    const data = utf8.encode(canonical.replaceAll('\\u0001', '\x01'));
    expect(data.length).toBeLessThan(5000);
    const reply = rejectOf(await t.relay.handlePrepare(paidPrepare(event, account, { data })));
    expect(reply.code).toBe('F01');
    expect(reply.message).toMatch(/control character U\+0001/);
    expect(await t.store.count([{}])).toBe(0);
    // Escaped, as every TOON encoder writes it, the same event is priced at its real size and stored.
    expect((await t.relay.handlePrepare(paidPrepare(event, account))).type).toBe(IlpPacketType.Fulfill);
  });

  it('rejects data over maxEventBytes with F01 naming both sizes', async () => {
    const small = await startTestRelay({ limits: { maxEventBytes: 600 } });
    const acct = small.secrets.issue('bob');
    const big = sign(sk, 1, [], 'y'.repeat(1000));
    const reply = rejectOf(await small.relay.handlePrepare(paidPrepare(big, acct)));
    expect(reply.code).toBe('F01');
    expect(reply.message).toMatch(/\d+ bytes; this relay accepts at most 600/);
    expect(await small.store.count([{}])).toBe(0);
    await small.close();
  });

  it('rejects a condition not derived from the account secret with F05', async () => {
    const event = sign(sk, 1, [], 'x');
    const other = t.secrets.issue('mallory');
    // Condition made with another account's secret, sent to alice's destination.
    const wrong = paidPrepare(event, other, { destination: account.destination });
    expect(rejectOf(await t.relay.handlePrepare(wrong)).code).toBe('F05');
    // Condition over different data than carried.
    const swapped = paidPrepare(event, account, {
      executionCondition: paidPrepare(sign(sk, 1, [], 'other'), account).executionCondition,
    });
    expect(rejectOf(await t.relay.handlePrepare(swapped)).code).toBe('F05');
    expect(await t.store.count([{}])).toBe(0);
  });

  it('derives the fulfillment from the current bytes of a secret changed in place (no stale cached key)', async () => {
    const before = sign(sk, 1, [], 'before');
    expect((await t.relay.handlePrepare(paidPrepare(before, account))).type).toBe(IlpPacketType.Fulfill);
    const after = sign(sk, 1, [], 'after');
    const underOldSecret = paidPrepare(after, { ...account, sharedSecret: account.sharedSecret.slice() });
    account.sharedSecret.fill(9); // the very object the secret store holds
    expect(rejectOf(await t.relay.handlePrepare(underOldSecret)).code).toBe('F05');
    expect((await t.relay.handlePrepare(paidPrepare(after, account))).type).toBe(IlpPacketType.Fulfill);
    expect(await t.store.get(after.id)).toEqual(after);
  });

  it('rejects an unknown destination with F02', async () => {
    const reply = rejectOf(
      await t.relay.handlePrepare(
        paidPrepare(sign(sk, 1), account, { destination: `${RELAY_ADDRESS}.nobody` }),
      ),
    );
    expect(reply.code).toBe('F02');
  });

  it('accepts destinations with extra segments after the account', async () => {
    const event = sign(sk, 1, [], 'segments');
    const reply = await t.relay.handlePrepare(
      paidPrepare(event, account, { destination: `${account.destination}.x.y` }),
    );
    expect(reply.type).toBe(IlpPacketType.Fulfill);
  });

  it('rejects an expired packet with R00 and stores nothing', async () => {
    const event = sign(sk, 1);
    const reply = rejectOf(
      await t.relay.handlePrepare(paidPrepare(event, account, { expiresAt: new Date(Date.now() - 1) })),
    );
    expect(reply.code).toBe('R00');
    // The context clock decides: a packet valid now is expired an hour later.
    const later = rejectOf(
      await t.relay.handlePrepare(paidPrepare(event, account), { now: new Date(Date.now() + 3_600_000) }),
    );
    expect(later.code).toBe('R00');
    expect(await t.store.get(event.id)).toBeUndefined();
  });

  it('fulfills a duplicate without storing it twice, and does not charge again', async () => {
    const client = await TestClient.connect(t.relay.url);
    await client.req('all', { kinds: [1] });
    const event = sign(sk, 1, [], 'once');
    expect((await t.relay.handlePrepare(paidPrepare(event, account))).type).toBe(IlpPacketType.Fulfill);
    const again = await t.relay.handlePrepare(paidPrepare(event, account));
    expect(again.type).toBe(IlpPacketType.Fulfill);
    // The relay demands no price for a duplicate: a zero-amount resend is fulfilled too.
    expect((await t.relay.handlePrepare(paidPrepare(event, account, { amount: 0n }))).type).toBe(
      IlpPacketType.Fulfill,
    );
    expect(await t.store.count([{}])).toBe(1);
    await client.quiet();
    expect(client.eventsFor('all')).toHaveLength(1);
    client.close();
  });

  it('rejects a stale replaceable event with F99 and keeps the newer one', async () => {
    const newer = sign(sk, 0, [], '{"name":"new"}', 2000);
    const older = sign(sk, 0, [], '{"name":"old"}', 1000);
    expect((await t.relay.handlePrepare(paidPrepare(newer, account))).type).toBe(IlpPacketType.Fulfill);
    const reply = rejectOf(await t.relay.handlePrepare(paidPrepare(older, account)));
    expect(reply.code).toBe('F99');
    expect((await t.store.query([{ kinds: [0] }])).map((e) => e.id)).toEqual([newer.id]);
  });

  it('delivers a paid ephemeral event without storing it', async () => {
    const client = await TestClient.connect(t.relay.url);
    await client.req('eph', { kinds: [20001] });
    const event = sign(sk, 20001, [], 'now only');
    expect((await t.relay.handlePrepare(paidPrepare(event, account))).type).toBe(IlpPacketType.Fulfill);
    expect((await client.next((f) => f[0] === 'EVENT'))[2]).toEqual(event);
    expect(await t.store.get(event.id)).toBeUndefined();
    client.close();
  });

  it('answers T00 when the store fails, without throwing', async () => {
    await t.store.close();
    const reply = rejectOf(await t.relay.handlePrepare(paidPrepare(sign(sk, 1), account)));
    expect(reply.code).toBe('T00');
  });
});
