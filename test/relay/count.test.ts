// NIP-45 COUNT on the relay, with nostr-tools' Relay as the client: count() settles with the store's count,
// gift wraps count only for their AUTHenticated recipient, and a bad filter settles it with CLOSED.
import { finalizeEvent as ntFinalize } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation as setRelayWebSocket } from 'nostr-tools/relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateSecretKey, getPublicKey } from '../../src/nostr/index.js';
import { DEFAULT_LIMITS } from '../../src/relay/index.js';
import { paidPrepare, sign, startTestRelay, TestClient, type TestRelay } from './helpers.js';

setRelayWebSocket(WebSocket); // Node 20 has no global WebSocket

const alice = generateSecretKey();
const ALICE = getPublicKey(alice);
const bob = generateSecretKey();
const BOB = getPublicKey(bob);
let t: TestRelay;
let client: Relay;

beforeAll(async () => {
  t = await startTestRelay();
  const account = t.secrets.issue('writer');
  const events = [
    sign(alice, 1, [['t', 'a']]),
    sign(alice, 1, [['t', 'b']]),
    sign(bob, 1, [['t', 'a']]),
    sign(bob, 1059, [['p', ALICE]]),
    sign(bob, 1059, [['p', BOB]]),
  ];
  for (const e of events) expect((await t.relay.handlePrepare(paidPrepare(e, account))).type).toBe(13);
  client = await Relay.connect(t.relay.url);
});
afterAll(async () => {
  client?.close();
  await t.close();
});

describe('COUNT (NIP-45)', () => {
  it('answers ["COUNT", id, {"count": n}] for indexed filters, OR across filters', async () => {
    expect(await client.count([{ authors: [ALICE] }], {})).toBe(2);
    expect(await client.count([{ '#t': ['a'] }], {})).toBe(2);
    expect(
      await client.count(
        [
          { authors: [ALICE], '#t': ['b'] },
          { authors: [BOB], kinds: [1] },
        ],
        {},
      ),
    ).toBe(2);
    expect(await client.count([{ authors: ['0'.repeat(64)] }], {})).toBe(0);
  });

  it('does not count gift wraps for anyone but the AUTHenticated recipient', async () => {
    expect(await client.count([{ kinds: [1059] }], {})).toBe(0);
    expect(await client.count([{}], {})).toBe(3);
    const authed = await Relay.connect(t.relay.url);
    try {
      await new Promise((r) => setTimeout(r, 50)); // the AUTH challenge arrives first
      await authed.auth(async (template) => ntFinalize(template, alice));
      expect(await authed.count([{ kinds: [1059] }], {})).toBe(1);
    } finally {
      authed.close();
    }
  });

  it('counts a broad filter up to max_count_rows and then says approximate (a COUNT costs no more than a REQ)', async () => {
    const small = await startTestRelay({ limits: { ...DEFAULT_LIMITS, maxCountRows: 2 } });
    try {
      const account = small.secrets.issue('writer');
      for (const e of [sign(alice, 1), sign(alice, 1, [['t', 'a']]), sign(bob, 1)])
        expect((await small.relay.handlePrepare(paidPrepare(e, account))).type).toBe(13);
      const raw = await TestClient.connect(small.relay.url);
      raw.send(['COUNT', 'all', {}]);
      expect((await raw.next((f) => f[1] === 'all'))[2]).toEqual({ count: 2, approximate: true });
      raw.send(['COUNT', 'one', { '#t': ['a'] }]);
      expect((await raw.next((f) => f[1] === 'one'))[2]).toEqual({ count: 1 });
      raw.ws.close();
    } finally {
      await small.close();
    }
  });

  it('settles count() with CLOSED for a bad filter, and keeps the connection usable', async () => {
    await expect(client.count([{ kinds: ['x' as unknown as number] }], {})).rejects.toThrow(/invalid/);
    expect(await client.count([{ authors: [BOB] }], {})).toBe(1); // its two gift wraps stay hidden
  });
});
