// A REQ or COUNT refused by the per-connection frame budget must be answered with its subscription id (NIP-01
// `CLOSED <id> "rate-limited: …"`), and an EVENT with its event id (`OK <id> false "rate-limited: …"`), or a standard
// client waits for it forever: nostr-tools' count() and publish() never settle and a subscription never learns it
// is dead. nostr-tools' Relay is the client.
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation as setRelayWebSocket } from 'nostr-tools/relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestRelay, type TestRelay } from './helpers.js';

setRelayWebSocket(WebSocket); // Node 20 has no global WebSocket

const BURST = 3;
let t: TestRelay;
const clients: Relay[] = [];

beforeAll(async () => {
  // A tiny budget that does not refill within the test: the frames after the burst are refused.
  t = await startTestRelay({ messageRate: { capacity: BURST, perSecond: 0.001 } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await t.close();
});

/** Fails instead of hanging when the relay never answers. */
const within = <T>(p: Promise<T>, ms = 2000) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  ]);

async function connect(): Promise<{ relay: Relay; notices: string[] }> {
  const relay = await Relay.connect(t.relay.url);
  clients.push(relay);
  const notices: string[] = [];
  relay.onnotice = (n) => notices.push(n);
  return { relay, notices };
}

describe('rate-limited REQ and COUNT are CLOSED with their id, an EVENT gets OK false', () => {
  it("a COUNT over the budget settles nostr-tools' count() with the rate-limited reason", async () => {
    const { relay } = await connect();
    for (let i = 0; i < BURST; i++) expect(await within(relay.count([{ kinds: [1] }], {}))).toBe(0);
    await expect(within(relay.count([{ kinds: [1] }], {}))).rejects.toThrow(/^rate-limited: .*messages\/s/);
  });

  it('a REQ over the budget closes the subscription (onclose gets the reason); no-id frames still get a NOTICE', async () => {
    const { relay, notices } = await connect();
    for (let i = 0; i < BURST; i++) await within(relay.count([{ kinds: [1] }], {}));
    const reason = await within(
      new Promise<string>((resolve) => {
        relay.subscribe([{ kinds: [1] }], { id: 'feed', onclose: resolve });
      }),
    );
    expect(reason).toMatch(/^rate-limited: /);
    // A frame without a subscription id (CLOSE) has nowhere else to go than a NOTICE.
    const before = notices.length;
    await relay.send('["CLOSE","feed"]');
    await within(
      (async () => {
        while (notices.length === before) await new Promise((r) => setTimeout(r, 10));
      })(),
    );
    expect(notices.at(-1)).toMatch(/^rate-limited: /);
  });

  it("an EVENT over the budget settles nostr-tools' publish() with OK false and the rate-limited reason", async () => {
    const { relay, notices } = await connect();
    for (let i = 0; i < BURST; i++) await within(relay.count([{ kinds: [1] }], {}));
    const event = finalizeEvent(
      { kind: 1, created_at: 1, tags: [], content: 'hi "id":"x"' },
      generateSecretKey(),
    );
    await expect(within(relay.publish(event))).rejects.toThrow(/^rate-limited: .*messages\/s/);
    expect(notices).toEqual([]);
  });
});
