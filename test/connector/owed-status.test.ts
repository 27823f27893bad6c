// Issue 13: the `payment-owed-status` BTP request (a payee asks which of its packets the payer holds as owed to it).
// The codec is strict and bounded; over real WebSockets (a BtpServer on 127.0.0.1, port 0, and a BtpClient) an
// endpoint that does not answer it (an older node) refuses it clearly, a silent one times out, and an answer about
// packets that were not asked is refused. The node's own answer (only the asking peer's packets, budgeted) runs on
// a real node in test/mayor/lifecycle/double-crash.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { BtpClient } from '../../src/connector/btp-client.js';
import { BtpServer } from '../../src/connector/btp-server.js';
import type { BtpSessionHandlers } from '../../src/connector/btp-session.js';
import {
  decodeOwed,
  decodeOwedRequest,
  encodeOwed,
  encodeOwedRequest,
  MAX_OWED_CONDITIONS,
  owedAmong,
} from '../../src/connector/owed-message.js';

const A = 'a1'.repeat(32);
const B = 'b2'.repeat(32);
const bytes = (x: unknown) => new TextEncoder().encode(typeof x === 'string' ? x : JSON.stringify(x));
const stops: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s().catch(() => {});
});

async function endpoint(handlers: BtpSessionHandlers) {
  const server = await BtpServer.start({
    port: 0,
    host: '127.0.0.1',
    authenticate: (t) => (t === 'token' ? 'peer' : undefined),
    handlersFor: () => handlers,
  });
  stops.push(() => server.close());
  const client = await BtpClient.connect({ url: server.url, authToken: 'token' });
  stops.push(() => client.close());
  return client;
}

describe('payment-owed-status codec', () => {
  it('round-trips a request and an answer', () => {
    expect(decodeOwedRequest(encodeOwedRequest({ conditions: [A, A, B] }).data)).toEqual({
      conditions: [A, A, B],
    });
    const owed = [{ condition: A, amount: 10n ** 18n }];
    expect(decodeOwed(encodeOwed({ owed }).data)).toEqual({ owed });
  });

  it('refuses malformed requests and answers with a clear reason', () => {
    const bad: [unknown, RegExp][] = [
      ['{', /not UTF-8 JSON/],
      [[A], /not a JSON object/],
      [{ conditions: [] }, /empty/],
      [{ conditions: A }, /must be a list/],
      [{ conditions: [A.toUpperCase()] }, /64 lowercase hex/],
      [{ conditions: [`${A}00`] }, /64 lowercase hex/],
      [{ conditions: [A], peer: 'someone' }, /unknown field 'peer'/],
      [{ conditions: Array(MAX_OWED_CONDITIONS + 1).fill(A) }, /65 entries, at most 64/],
    ];
    for (const [x, why] of bad) expect(() => decodeOwedRequest(bytes(x)), String(x)).toThrow(why);
    expect(() => decodeOwed(bytes({ owed: [{ condition: A, amount: '-1' }] }))).toThrow(/decimal/);
    expect(() => decodeOwed(bytes({ owed: [{ condition: A, amount: '1', peer: 'x' }] }))).toThrow(/unknown/);
    expect(() => decodeOwed(bytes({ owed: [null] }))).toThrow(/must be an object/);
    expect(() => encodeOwedRequest({ conditions: [] })).toThrow(/1 to 64/);
  });

  it('answers at most as many packets of a condition as were asked, and only asked ones', () => {
    const held = [
      { condition: A, amount: 1n },
      { condition: A, amount: 2n },
      { condition: B, amount: 3n },
    ];
    expect(owedAmong([A], held).owed).toEqual([{ condition: A, amount: 1n }]);
    expect(owedAmong([A, A, A], held).owed).toHaveLength(2);
    expect(owedAmong(['cc'.repeat(32)], held).owed).toEqual([]);
  });
});

describe('payment-owed-status over BTP', () => {
  it('an endpoint that does not answer it (an older node) refuses it clearly and keeps serving', async () => {
    const client = await endpoint({});
    await expect(client.requestOwed([A])).rejects.toMatchObject({
      code: 'BTP_REMOTE_ERROR',
      message: expect.stringMatching(/does not answer payment-owed-status/),
    });
    await expect(client.requestOwed([A])).rejects.toMatchObject({ code: 'BTP_REMOTE_ERROR' });
  });

  it('a silent endpoint: the request times out', async () => {
    const client = await endpoint({ onOwed: () => new Promise(() => {}) });
    await expect(client.requestOwed([A], 200)).rejects.toMatchObject({ code: 'BTP_TIMEOUT' });
  });

  it('an answer about packets that were not asked (or more of them) is refused', async () => {
    const client = await endpoint({ onOwed: async () => ({ owed: [{ condition: B, amount: 1n }] }) });
    await expect(client.requestOwed([A])).rejects.toMatchObject({ code: 'OWED_MALFORMED' });
    const twice = await endpoint({
      onOwed: async () => ({
        owed: [
          { condition: A, amount: 1n },
          { condition: A, amount: 1n },
        ],
      }),
    });
    await expect(twice.requestOwed([A])).rejects.toMatchObject({ code: 'OWED_MALFORMED' });
    expect((await twice.requestOwed([A, A])).owed).toHaveLength(2);
  });

  it('a handler that throws becomes a BTP error, the session survives', async () => {
    let n = 0;
    const client = await endpoint({
      onOwed: async () => {
        if (n++ === 0) throw new Error('boom');
        return { owed: [] };
      },
    });
    await expect(client.requestOwed([A])).rejects.toThrow(/owed status refused \(ERROR\): boom/);
    expect(await client.requestOwed([A])).toEqual({ owed: [] });
  });
});
