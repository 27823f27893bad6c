// The relay pool with several relays (real relays on loopback, SQLite stores): catch-up per relay from when
// that relay dropped (the others keep `since` moving meanwhile), the restart resume point while a relay is
// down, a query that does not wait for a relay that went away, and wss:// with a custom CA (refused without).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayPool } from '../../src/mayor/runtime/index.js';
import { finalizeEvent, generateSecretKey, getPublicKey } from '../../src/nostr/index.js';
import { AccountSecretStore, type NostrRelay, startRelay } from '../../src/relay/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import { resetPlaintextWarnings } from '../../src/transport/index.js';
import { makeTestCertificates, nonLoopbackAddress, type TestCertificates } from '../support/tls.js';
import { proxy, waitFor } from './runtime/helpers.js';

const writer = generateSecretKey();
const relays: NostrRelay[] = [];
const now = () => Math.floor(Date.now() / 1000);
const note = (text: string, created_at = now()) =>
  finalizeEvent({ kind: 1, tags: [], content: text, created_at }, writer);

async function relay(tls?: { cert: string; key: string }): Promise<NostrRelay> {
  const dir = mkdtempSync(join(tmpdir(), 'multi-pool-'));
  const r = await startRelay({
    store: await openSqliteStore({ path: join(dir, 'r.sqlite') }),
    secrets: new AccountSecretStore('g.test.relay'),
    basePricePerByte: 1n,
    freeWrites: [{ pubkey: getPublicKey(writer), kinds: [1] }],
    ...(tls ? { tls } : {}),
  });
  relays.push(r);
  return r;
}

/** Publishes straight to one relay (not through the pool under test). */
async function publishTo(url: string, event: ReturnType<typeof note>, tls?: { ca: string }) {
  const p = new RelayPool({ urls: [url], toon: false, ...(tls ? { tls } : {}) });
  p.start();
  await p.waitConnected(5000);
  const [r] = await p.publish(event);
  await p.close();
  expect(r).toMatchObject({ ok: true });
}

let x: NostrRelay;
let y: NostrRelay;
beforeAll(async () => {
  x = await relay();
  y = await relay();
});
afterAll(async () => {
  for (const r of relays) await r.close();
});

describe('several relays: catch-up per relay', () => {
  it('catches up a relay from when it dropped, even after the others moved `since` far ahead', async () => {
    const py = await proxy(y.url);
    // Margin 0: only the per-relay resume point can bring the event below.
    const pool = new RelayPool({
      urls: [x.url, py.url()],
      backoff: { minMs: 100, maxMs: 300 },
      catchUpMarginSeconds: 0,
    });
    pool.start();
    await waitFor(() => pool.states().every((s) => s.status === 'connected'), 5000, 'both connected');
    const got: { id: string; relay: string }[] = [];
    const start = now() - 5;
    pool.subscribe(
      'notes',
      [{ kinds: [1], authors: [getPublicKey(writer)] }],
      (e) => got.push({ id: e.event.id, relay: e.relayUrl }),
      { since: start },
    );
    const first = note('before the outage');
    await pool.publish(first);
    await waitFor(() => got.some((g) => g.id === first.id), 5000, 'live event');

    await py.down();
    await waitFor(() => pool.states()[1]!.status !== 'connected', 5000, 'y shown down');
    const droppedAt = now();
    expect(pool.states()[1]!.downSince).toBeGreaterThan(0);
    // x keeps the subscription's newest created_at moving: ten minutes ahead (within the 900 s the relay allows).
    const ahead = note('from the future, on x', droppedAt + 600);
    await publishTo(x.url, ahead);
    await waitFor(() => got.some((g) => g.id === ahead.id), 5000, 'event on x');
    expect(pool.sinceOf('notes')).toBeLessThanOrEqual(droppedAt);
    // Only y holds this one, written while the pool was away from y.
    const onlyY = note('only on y', droppedAt + 1);
    await publishTo(y.url, onlyY);
    await new Promise((r) => setTimeout(r, 200));
    expect(got.some((g) => g.id === onlyY.id)).toBe(false);

    await py.up();
    await waitFor(() => got.some((g) => g.id === onlyY.id), 10_000, 'caught up from y');
    expect(got.filter((g) => g.id === onlyY.id)).toEqual([{ id: onlyY.id, relay: py.url() }]);
    expect(pool.states()[1]).toMatchObject({ status: 'connected', connects: 2 });
    expect(pool.states()[1]!.downSince).toBeUndefined();
    // Every event once, though `first` was on both relays and re-sent by y's catch-up.
    expect(new Set(got.map((g) => g.id)).size).toBe(got.length);
    // The event dated ahead moved the resume point only up to the pool's clock (a later REQ asks from there).
    const since = pool.sinceOf('notes')!;
    expect(since).toBeGreaterThanOrEqual(droppedAt);
    expect(since).toBeLessThanOrEqual(now());
    await pool.close();
    await py.down();
  });

  it('a query does not wait for a relay that goes away before answering', async () => {
    const py = await proxy(y.url);
    const pool = new RelayPool({ urls: [x.url, py.url()], backoff: { minMs: 5000, maxMs: 5000 } });
    pool.start();
    await waitFor(() => pool.connected && pool.states().every((s) => s.status === 'connected'), 5000, 'up');
    const q = pool.query([{ kinds: [1], authors: [getPublicKey(writer)] }], 8000);
    // Cut y at once: it may or may not have answered; either way the query ends well before its timeout.
    const t0 = Date.now();
    await py.down();
    const found = await q;
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(found.length).toBeGreaterThan(0);
    await pool.close();
  });
});

describe('wss:// relays', () => {
  let certs: TestCertificates;
  let secure: NostrRelay;
  beforeAll(async () => {
    certs = await makeTestCertificates();
    secure = await relay({ cert: certs.cert, key: certs.key });
  });
  afterAll(() => certs?.cleanup());

  it('connects with the custom CA (PEM or path) and receives events', async () => {
    expect(secure.url.startsWith('wss://')).toBe(true);
    for (const tls of [{ ca: certs.ca }, { caPath: certs.paths.ca }]) {
      const pool = new RelayPool({ urls: [secure.url], tls });
      pool.start();
      await pool.waitConnected(5000);
      const got: string[] = [];
      pool.subscribe('notes', [{ kinds: [1], authors: [getPublicKey(writer)], since: now() - 5 }], (e) =>
        got.push(e.event.id),
      );
      const ev = note(`over tls ${Object.keys(tls)[0]}`);
      const [ok] = await pool.publish(ev);
      expect(ok).toMatchObject({ ok: true });
      await waitFor(() => got.includes(ev.id), 5000, 'event over wss');
      await pool.close();
    }
  });

  it('refuses the relay without the CA or with another CA, and says what to configure', async () => {
    for (const tls of [undefined, { ca: certs.otherCa }]) {
      const pool = new RelayPool({
        urls: [secure.url],
        backoff: { minMs: 100, maxMs: 200 },
        ...(tls ? { tls } : {}),
      });
      pool.start();
      await expect(pool.waitConnected(1500)).rejects.toMatchObject({ code: 'RELAY_UNAVAILABLE' });
      const [state] = pool.states();
      expect(state!.status).not.toBe('connected');
      expect(state!.connects).toBe(0);
      expect(state!.lastError).toMatch(/TLS certificate of wss:\/\/127\.0\.0\.1:\d+.* was refused/);
      expect(state!.lastError).toMatch(/tls\.ca/);
      await pool.close();
    }
  });

  it('warns once about plain ws:// to another machine, through the given logger', async () => {
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m) };
    const host = nonLoopbackAddress();
    const url = `ws://${host}:${new URL(x.url).port}`;
    resetPlaintextWarnings();
    const pool = new RelayPool({ urls: [url, x.url], logger, backoff: { minMs: 50, maxMs: 100 } });
    pool.start();
    await pool.waitConnected(5000);
    // Several connection attempts later (or one live connection), still one warning, and none for 127.0.0.1.
    await new Promise((r) => setTimeout(r, 400));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`unencrypted connection to ws://${host}`);
    await pool.close();
  });
});
