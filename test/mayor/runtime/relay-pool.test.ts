// The relay pool against real relays on loopback (src/relay with SQLite): TOON delivery, deduplication across
// relays, NIP-42 AUTH for gift wraps, status, reconnect with backoff and catch-up with `since`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conditionOf, deriveFulfillment, IlpPacketType } from '../../../src/ilp/index.js';
import { backoffDelay, RelayPool, type RelayState } from '../../../src/mayor/runtime/index.js';
import { finalizeEvent, generateSecretKey, getPublicKey, wrapEvent } from '../../../src/nostr/index.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { AccountSecretStore, type NostrRelay, startRelay } from '../../../src/relay/index.js';
import { openSqliteStore } from '../../../src/store/index.js';
import { encodeEventBytes } from '../../../src/toon/index.js';
import { proxy, waitFor } from './helpers.js';

const writer = generateSecretKey();
const relays: NostrRelay[] = [];
const secrets: AccountSecretStore[] = [];

async function relay(): Promise<NostrRelay> {
  const dir = mkdtempSync(join(tmpdir(), 'pool-relay-'));
  const s = new AccountSecretStore('g.test.relay');
  const r = await startRelay({
    store: await openSqliteStore({ path: join(dir, 'r.sqlite') }),
    secrets: s,
    basePricePerByte: 1n,
    freeWrites: [{ pubkey: getPublicKey(writer), kinds: [1] }],
  });
  relays.push(r);
  secrets.push(s);
  return r;
}

/** A paid write straight into a relay's gate (for events no free-write rule covers, e.g. gift wraps). */
async function paidWrite(index: number, event: NostrEvent) {
  const data = encodeEventBytes(event);
  const account = secrets[index]!.issue();
  const reply = await relays[index]!.handlePrepare({
    type: IlpPacketType.Prepare,
    amount: BigInt(data.length),
    expiresAt: new Date(Date.now() + 10_000),
    executionCondition: conditionOf(deriveFulfillment(account.sharedSecret, data)),
    destination: account.destination,
    data,
  });
  expect(reply.type).toBe(IlpPacketType.Fulfill);
}

const note = (text: string, created_at = Math.floor(Date.now() / 1000)) =>
  finalizeEvent({ kind: 1, tags: [], content: text, created_at }, writer);

beforeAll(async () => {
  await relay();
  await relay();
});
afterAll(async () => {
  for (const r of relays) await r.close();
});

describe('backoff', () => {
  it('doubles from 1 s to a 30 s cap, with jitter in the upper half', () => {
    const lo = (a: number) => backoffDelay(a, { random: () => 0 });
    const hi = (a: number) => backoffDelay(a, { random: () => 0.999999 });
    expect([0, 1, 2, 3, 4, 5, 6].map(lo)).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000]);
    expect(hi(0)).toBe(1000);
    expect(hi(10)).toBe(30000);
  });
});

describe('RelayPool', () => {
  it('opts in to TOON, deduplicates an event published on two relays, reports status', async () => {
    const states: RelayState[] = [];
    const pool = new RelayPool({ urls: relays.map((r) => r.url), onStatus: (s) => states.push(s) });
    pool.start();
    await waitFor(() => pool.states().every((s) => s.status === 'connected'), 5000, 'both connected');
    const got: { id: string; toon: string }[] = [];
    pool.subscribe('notes', [{ kinds: [1], authors: [getPublicKey(writer)] }], (e) =>
      got.push({ id: e.event.id, toon: new TextDecoder().decode(e.toon) }),
    );
    const ev = note('hello twice');
    const acks = await pool.publish(ev);
    expect(acks.map((a) => a.ok)).toEqual([true, true]);
    await waitFor(() => got.length > 0, 5000, 'event');
    await new Promise((r) => setTimeout(r, 300));
    expect(got.map((g) => g.id)).toEqual([ev.id]);
    // TOON text, not JSON, and it is the event.
    expect(got[0]!.toon.trimStart().startsWith('{')).toBe(false);
    expect(got[0]!.toon).toContain(ev.id);
    expect(pool.states().map((s) => s.subscriptions)).toEqual([1, 1]);
    expect(states.filter((s) => s.status === 'connected')).toHaveLength(2);
    await pool.close();
  });

  it('answers NIP-42 AUTH, so gift wraps addressed to it are delivered', async () => {
    const me = generateSecretKey();
    const wrap = wrapEvent({ kind: 14, tags: [], content: 'psst' }, generateSecretKey(), getPublicKey(me));
    await paidWrite(0, wrap);
    const pool = new RelayPool({ urls: [relays[0]!.url], secretKey: me });
    pool.start();
    await pool.waitConnected();
    const got: string[] = [];
    pool.subscribe('dm', [{ kinds: [1059], '#p': [getPublicKey(me)] }], (e) => got.push(e.event.id));
    await waitFor(() => got.length === 1, 5000, 'gift wrap after AUTH');
    expect(got).toEqual([wrap.id]);
    await pool.close();
  });

  it('survives a relay going down: shows it, reconnects, and catches up with since', async () => {
    const p = await proxy(relays[1]!.url);
    const pool = new RelayPool({ urls: [p.url()], backoff: { minMs: 100, maxMs: 400 } });
    pool.start();
    await pool.waitConnected();
    const got: string[] = [];
    pool.subscribe(
      'notes',
      [{ kinds: [1], authors: [getPublicKey(writer)], since: Math.floor(Date.now() / 1000) }],
      (e) => got.push(e.event.id),
    );
    const before = note('before the outage');
    await pool.publish(before);
    await waitFor(() => got.includes(before.id), 5000, 'live event');
    await p.down();
    await waitFor(() => pool.states()[0]!.status !== 'connected', 5000, 'disconnected');
    expect(pool.connected).toBe(false);
    await expect(pool.publish(note('nowhere'))).rejects.toMatchObject({ code: 'RELAY_UNAVAILABLE' });
    // Written while we are away: only a catch-up can deliver it.
    const during = note('during the outage');
    const direct = new RelayPool({ urls: [relays[1]!.url] });
    direct.start();
    await direct.waitConnected();
    await direct.publish(during);
    await direct.close();
    await p.up();
    await waitFor(() => got.includes(during.id), 10_000, 'caught-up event');
    expect(pool.states()[0]).toMatchObject({ status: 'connected' });
    expect(pool.states()[0]!.connects).toBeGreaterThanOrEqual(2);
    // Deduplicated: the catch-up window re-sends `before`, delivered once.
    expect(got.filter((id) => id === before.id)).toHaveLength(1);
    await pool.close();
    await p.down();
  });
});
