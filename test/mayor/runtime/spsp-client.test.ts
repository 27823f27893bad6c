// The requesting side of SPSP over Nostr against a real relay (in this process, real WebSockets) whose handshake
// budget is tight: a request the relay refuses as rate-limited ("slow down and retry") is published again once the
// budget allows, within the handshake's timeout, instead of failing the attach or the payment that needed it. The
// answering side is played by a second client that answers every request addressed to it.
import { afterEach, describe, expect, it } from 'vitest';
import { RelayPool } from '../../../src/mayor/runtime/index.js';
import { spspHandshake } from '../../../src/mayor/runtime/spsp-client.js';
import { generateSecretKey, getPublicKey } from '../../../src/nostr/index.js';
import { buildSpspResponse, parseSpspRequest } from '../../../src/nostr/spsp.js';
import { startTestRelay, type TestRelay } from '../../relay/helpers.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s().catch(() => {});
});

async function setUp(perSecond: number) {
  const t: TestRelay = await startTestRelay({
    handshakeLimits: { perConnection: { capacity: 1, perSecond } },
  });
  stops.push(() => t.close());
  const answererSk = generateSecretKey();
  const answerer = new RelayPool({ urls: [t.relay.url], secretKey: answererSk });
  answerer.start();
  stops.push(() => answerer.close());
  answerer.subscribe('spsp-in', [{ kinds: [23194], '#p': [getPublicKey(answererSk)] }], ({ event }) => {
    parseSpspRequest(event, answererSk);
    const answer = buildSpspResponse(answererSk, event, {
      destinationAccount: 'g.test.relay.acct',
      sharedSecret: Buffer.alloc(32, 7).toString('base64'),
      basePricePerByte: 1n,
      settlement: {
        chainId: 31337,
        token: `0x${'11'.repeat(20)}`,
        channelContract: `0x${'22'.repeat(20)}`,
        settlementAddress: `0x${'33'.repeat(20)}`,
      },
      ilpAddress: 'g.test.requester',
      btpUrl: 'ws://127.0.0.1:1',
      btpToken: 'token',
    });
    void answerer.publish(answer).catch(() => {});
  });
  const sk = generateSecretKey();
  const pool = new RelayPool({ urls: [t.relay.url], secretKey: sk });
  pool.start();
  stops.push(() => pool.close());
  await Promise.all([pool.waitConnected(), answerer.waitConnected()]);
  await new Promise((r) => setTimeout(r, 100)); // the answerer's subscription is open
  const ask = (timeoutMs = 10_000) =>
    spspHandshake({ pool, secretKey: sk, recipient: getPublicKey(answererSk), request: {}, timeoutMs });
  return { ask };
}

describe('spspHandshake on a relay that rate-limits handshakes', () => {
  it('publishes a request refused "rate-limited" again once the budget allows, and gets its answer', async () => {
    const { ask } = await setUp(2); // one at once, then one every 500 ms per connection
    expect((await ask()).destinationAccount).toBe('g.test.relay.acct');
    const started = Date.now();
    // Refused at once (the bucket is empty); it used to fail: "Every relay refused the SPSP request: … rate-limited".
    expect((await ask()).destinationAccount).toBe('g.test.relay.acct');
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('still fails with the relay reason when the budget does not come back within the timeout', async () => {
    const { ask } = await setUp(0.1); // one every 10 s
    await ask();
    await expect(ask(1_500)).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      message: expect.stringMatching(/rate-limited: too many SPSP handshake events/),
    });
  });
});
