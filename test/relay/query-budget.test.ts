// Reads are free, but they take the relay's main thread (SQLite answers synchronously): one client address must not
// keep it busy. Each REQ and COUNT is charged the time its store query took to the client's address (IPv6 by /64);
// an address that used its budget gets CLOSED "rate-limited:" until it refills, and others are served meanwhile.
// Real relay and sockets, a real SQLite store; the expensive query shape is the one thing made up: the store is
// wrapped so that each query takes 200 ms more (a busy wait, as a slow SQLite plan would hold the thread). The budget
// (500 ms) leaves room for a query measured up to 50 ms slower than that on a loaded machine (the time charged is
// the time it took): with 40 ms against 100, one descheduling of 10 ms made a CI run refuse the third query.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateSecretKey } from '../../src/nostr/index.js';
import type { EventStore } from '../../src/store/types.js';
import { sign, startTestRelay } from './helpers.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s().catch(() => {});
});

const SLOW_MS = 200;
const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

/** The store, each query and count taking SLOW_MS more on the calling thread. */
function slow(store: EventStore): EventStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'query' && prop !== 'count')
        return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        busy(SLOW_MS);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

async function client(url: string, ip: string) {
  const ws = new WebSocket(url, { headers: { 'x-test-ip': ip } });
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  stops.push(async () => ws.terminate());
  /** Sends a REQ or COUNT and resolves with its answer: EOSE, CLOSED (with reason) or COUNT. */
  const ask = (verb: 'REQ' | 'COUNT', id: string, kinds = [1]): Promise<unknown[]> =>
    new Promise((resolve) => {
      const onMessage = (data: WebSocket.RawData) => {
        const msg = JSON.parse(data.toString()) as unknown[];
        if (msg[1] !== id || !['EOSE', 'CLOSED', 'COUNT'].includes(msg[0] as string)) return;
        ws.off('message', onMessage);
        resolve(msg);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify([verb, id, { kinds }]));
    });
  return { ask };
}

describe('query time per client address', () => {
  it('an address that used its budget is refused (REQ and COUNT) until it refills; another is served meanwhile', async () => {
    let now = Date.now();
    const t = await startTestRelay({
      clientAddress: (req) => String(req.headers['x-test-ip'] ?? req.socket.remoteAddress),
      queryTime: { capacity: 500, perSecond: 50 }, // ms of query time: 500 at once, 50 more each second
      now: () => now,
    });
    stops.push(() => t.close());
    await t.store.save(sign(generateSecretKey(), 1, [], 'hello'));
    const wrapped = slow(t.store);
    (t.relay as unknown as { options: { store: EventStore } }).options.store = wrapped;

    const a = await client(t.relay.url, '198.51.100.1');
    const answers: unknown[][] = [];
    for (let i = 0; i < 5; i++) answers.push(await a.ask('REQ', `a${i}`));
    // 200-250 ms each: the third brings the address below zero, the fourth and fifth are refused.
    expect(answers.map((m) => m[0])).toEqual(['EOSE', 'EOSE', 'EOSE', 'CLOSED', 'CLOSED']);
    expect(answers[3]![2]).toMatch(/^rate-limited: queries from your address used their time/);
    expect(await a.ask('COUNT', 'c0')).toMatchObject([
      'CLOSED',
      'c0',
      expect.stringMatching(/^rate-limited:/),
    ]);
    // A subscription to ephemeral kinds only (an SPSP handshake's answer) reads nothing stored: still served. The
    // node's own SPSP listener is such a client, on 127.0.0.1 like every local one.
    expect((await a.ask('REQ', 'spsp', [23195]))[0]).toBe('EOSE');

    // Another address (the same /64 would share the budget) is served.
    const b = await client(t.relay.url, '2001:db8:1:2::1');
    expect((await b.ask('REQ', 'b0'))[0]).toBe('EOSE');
    expect((await b.ask('COUNT', 'b1'))[0]).toBe('COUNT');

    // Twenty seconds later, the first address has its 500 ms again (its debt was at most one budget).
    now += 20_000;
    expect((await a.ask('REQ', 'a5'))[0]).toBe('EOSE');
  });
});
