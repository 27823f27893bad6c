// Limits answered with clear messages, slow readers dropped, and a seeded fuzz run of thousands of malformed frames
// against a relay in its own process, while a well-behaved client keeps writing and receiving its events.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateSecretKey, getPublicKey } from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { sign, startTestRelay, TestClient, type TestRelay } from './helpers.js';

const alice = generateSecretKey();
const ALICE = getPublicKey(alice);

describe('limits with clear messages', () => {
  let t: TestRelay;
  beforeAll(async () => {
    t = await startTestRelay({
      freeWrites: [{ pubkey: ALICE, kinds: [1] }],
      limits: { maxMessageBytes: 4096, maxSubscriptions: 2, maxFilters: 2, maxLimit: 3 },
      messageRate: { capacity: 30, perSecond: 1 },
    });
    for (let i = 0; i < 5; i++)
      await t.store.save(sign(alice, 1, [['t', 'lim']], `n${i}`, 1_700_000_000 + i));
  });
  afterAll(() => t.close());

  it('CLOSED for an oversized REQ, too many subscriptions or filters, limit capped', async () => {
    const c = await TestClient.connect(t.relay.url);
    c.send(['REQ', 'big', { '#t': ['x'.repeat(5000)] }]);
    expect((await c.next((f) => f[0] === 'CLOSED' && f[1] === 'big'))[2]).toMatch(
      /^invalid: message of \d+ bytes exceeds/,
    );
    expect(await c.req('a', { '#t': ['lim'], limit: 100 })).toHaveLength(3);
    await c.req('b', { kinds: [1] });
    c.send(['REQ', 'c', { kinds: [1] }]);
    expect(await c.next((f) => f[0] === 'CLOSED' && f[1] === 'c')).toEqual([
      'CLOSED',
      'c',
      expect.stringMatching(/^restricted: at most 2 open subscriptions/),
    ]);
    c.send(['CLOSE', 'a']);
    c.send(['REQ', 'd', { kinds: [1] }, { kinds: [2] }, { kinds: [3] }]);
    expect((await c.next((f) => f[0] === 'CLOSED' && f[1] === 'd'))[2]).toMatch(/^invalid: 3 filters/);
    c.close();
  });

  it('answers malformed frames with NOTICE, CLOSED or OK false, never by dropping the connection', async () => {
    const c = await TestClient.connect(t.relay.url);
    const deep = `${'['.repeat(2000)}${']'.repeat(2000)}`;
    const cases: [string, RegExp][] = [
      ['["EVENT",{}]', /^NOTICE:invalid: event id/],
      ['not json', /^NOTICE:invalid: message is not valid JSON/],
      ['{"a":1}', /^NOTICE:invalid: a message must be a JSON array/],
      ['["EVENT"]', /^NOTICE:invalid: EVENT takes exactly one event/],
      ['["REQ","s",{"limit":1e400}]', /^CLOSED:invalid: filter limit must be a non-negative integer/],
      ['["REQ","s",{"since":123456789012345678901234567890}]', /^CLOSED:invalid: filter since/],
      ['["REQ","s",{"kinds":[1e300]}]', /^CLOSED:invalid: filter kinds/],
      [`["REQ","s",{"#t":${deep}}]`, /^CLOSED:invalid/],
      [`["EVENT",${deep}]`, /^NOTICE:invalid/],
      [deep, /^NOTICE:invalid: a message must be a JSON array/],
      ['["PING"]', /^NOTICE:invalid: unknown message type/],
    ];
    for (const [frame, expected] of cases) {
      c.send(frame);
      const reply = await c.next((f) => f[0] === 'NOTICE' || f[0] === 'CLOSED' || f[0] === 'OK');
      expect(`${reply[0]}:${reply[reply.length - 1]}`).toMatch(expected);
    }
    const e = sign(alice, 1, [], 'still fine');
    expect(await c.publish({ ...e, kind: 1e300 } as NostrEvent)).toEqual([
      false,
      expect.stringMatching(/^invalid: event kind/),
    ]);
    expect(await c.publish(e)).toEqual([true, '']);
    c.close();
  });

  it('rate-limits a connection that sends too many frames, with a NOTICE rate-limited:', async () => {
    const c = await TestClient.connect(t.relay.url);
    for (let i = 0; i < 40; i++) c.send(['CLOSE', `x${i}`]);
    expect((await c.next((f) => f[0] === 'NOTICE'))[1]).toMatch(/^rate-limited: more than 1 messages\/s/);
    c.close();
  });
});

describe('slow readers', () => {
  it('drops a connection whose unsent output passes maxBufferedBytes, with 1008 and a reason; others continue', async () => {
    const t = await startTestRelay({ limits: { maxBufferedBytes: 256 * 1024 } });
    try {
      const slow = new WebSocket(t.relay.url);
      await new Promise((resolve) => slow.once('open', resolve));
      const closed = new Promise<[number, string]>((resolve) =>
        slow.once('close', (code, reason) => resolve([code, reason.toString()])),
      );
      slow.send(JSON.stringify(['REQ', 'all', { kinds: [1] }]));
      const other = await TestClient.connect(t.relay.url);
      await other.req('notes', { kinds: [2] });
      await new Promise((r) => setTimeout(r, 50));
      slow.pause(); // stop reading: the kernel buffers fill, then ws.bufferedAmount grows on the relay side
      const big = sign(alice, 1, [], 'x'.repeat(60_000));
      for (let i = 0; i < 1500 && t.relay.connectionCount > 1; i++) {
        t.relay.publish({ ...big, id: i.toString(16).padStart(64, '0') });
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      slow.resume();
      const [code, reason] = await closed;
      expect(code).toBe(1008);
      expect(reason).toMatch(/^slow reader: more than 262144 bytes unsent/);
      // Another connection was not dropped and still gets answers.
      expect(other.ws.readyState).toBe(WebSocket.OPEN);
      expect(await other.req('after', { kinds: [3] })).toEqual([]);
      other.close();
    } finally {
      await t.close();
    }
  });
});

// --- fuzz ----------------------------------------------------------------------------------------------------

const here = dirname(fileURLToPath(import.meta.url));

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function fuzzFrames(count: number, seed: number, valid: NostrEvent): (string | Buffer)[] {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: T[]) => xs[int(xs.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const templates = [
    JSON.stringify(['EVENT', valid]),
    JSON.stringify(['REQ', 'sub', { kinds: [1], '#t': ['x'], limit: 5 }]),
    JSON.stringify(['CLOSE', 'sub']),
    JSON.stringify(['AUTH', valid]),
    JSON.stringify(['REQ', 'q', { ids: [valid.id] }, { authors: [valid.pubkey], since: 0 }]),
  ];
  const weird = [
    'null',
    '[]',
    '[null]',
    '[1,2,3]',
    '["EVENT",{}]',
    '["EVENT",[]]',
    '["EVENT","not toon"]',
    '["REQ"]',
    '["REQ",1,{}]',
    '["REQ","s",[]]',
    '["REQ","s",{"limit":-1}]',
    '["REQ","s",{"limit":1e308}]',
    '["REQ","s",{"since":1e400}]',
    '["REQ","s",{"ids":"abc"}]',
    '["REQ","s",{"#t":{"a":1}}]',
    '["REQ","s",{"__proto__":{"x":1}}]',
    '["CLOSE",{}]',
    '["AUTH",{}]',
    `["EVENT",{"id":"${'0'.repeat(64)}","kind":"1"}]`,
    '{"constructor":{"prototype":{}}}',
    '"just a string"',
    '9'.repeat(400),
  ];
  const frames: (string | Buffer)[] = [];
  for (let i = 0; i < count; i++) {
    switch (int(8)) {
      case 0: // random printable-ish text
        frames.push(bytes(1 + int(200)).toString('latin1'));
        break;
      case 1: {
        // mutate a valid message: flip, insert or delete characters
        const chars = [...pick(templates)];
        for (let m = 0; m < 1 + int(4); m++) {
          const at = int(chars.length);
          const op = int(3);
          if (op === 0) chars[at] = String.fromCharCode(int(128));
          else if (op === 1) chars.splice(at, 0, pick(['"', '[', ']', '{', '}', ',', ':', '\\', '0', 'e9']));
          else chars.splice(at, 1);
        }
        frames.push(chars.join(''));
        break;
      }
      case 2:
        frames.push(pick(weird));
        break;
      case 3: {
        // wrong types in every position
        const values = [null, true, 0, -1, 1.5, 1e308, '', 'x', [], {}, [[]], { id: 1 }];
        frames.push(
          JSON.stringify([pick(['EVENT', 'REQ', 'CLOSE', 'AUTH', 'COUNT']), pick(values), pick(values)]),
        );
        break;
      }
      case 4: {
        // deep nesting in various places
        const depth = 100 + int(20_000);
        const nest = `${'['.repeat(depth)}${']'.repeat(depth)}`;
        frames.push(pick([nest, `["REQ","d",{"#e":${nest}}]`, `["EVENT",{"tags":${nest}}]`]));
        break;
      }
      case 5: // binary frame
        frames.push(bytes(1 + int(300)));
        break;
      case 6: {
        // huge numbers and long strings
        frames.push(
          JSON.stringify([
            'REQ',
            'h'.repeat(int(100)),
            { limit: Number.MAX_SAFE_INTEGER, since: 2 ** 53 - 1 },
          ]).replace('9007199254740991', '9'.repeat(1 + int(500))),
        );
        break;
      }
      default: {
        // invalid UTF-8 sent as text: ws closes that connection with 1007; the fuzzer reconnects
        if (rand() < 0.05)
          frames.push(
            Buffer.concat([
              Buffer.from('["REQ","u",{"#t":["'),
              Buffer.from([0xc3, 0x28]),
              Buffer.from('"]}]'),
            ]),
          );
        else frames.push(JSON.stringify(['EVENT', { ...valid, content: bytes(20).toString('latin1') }]));
      }
    }
  }
  return frames;
}

describe('fuzz: thousands of malformed frames over a real socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosstown-fuzz-'));
  let child: ChildProcess;
  let url: string;
  beforeAll(async () => {
    child = fork(join(here, 'fixtures', 'relay-child.ts'), [join(dir, 'fuzz.db')], {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        SECRET_HEX: randomBytes(32).toString('hex'),
        FREE_PUBKEY: ALICE,
        MESSAGE_RATE: '100000',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { url: string }).url));
      child.once('exit', (code) => reject(new Error(`relay child exited early with code ${code}`)));
    });
  });
  afterAll(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('stays up and keeps serving a well-behaved subscriber and writer throughout (seed 20261125)', async () => {
    const FRAMES = 4000;
    const frames = fuzzFrames(FRAMES, 20261125, sign(alice, 1, [['t', 'x']], 'template'));

    // The well-behaved client: subscribed to its own notes, writing one every few milliseconds.
    const good = await TestClient.connect(url);
    await good.req('mine', { authors: [ALICE], '#t': ['good'] });
    const written: string[] = [];
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const e = sign(alice, 1, [['t', 'good']], `good ${written.length}`);
        expect(await good.publish(e)).toEqual([true, '']);
        written.push(e.id);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    // The fuzzer: sends bursts of 100 frames, each followed by a sentinel REQ whose EOSE shows the relay has worked
    // through the burst on a connection that still works; reconnects when the relay (rightly) closed it (1007).
    let replies = 0;
    let reconnects = 0;
    let sentinels = 0;
    const open = async () => {
      const ws = new WebSocket(url);
      ws.on('message', () => replies++);
      ws.on('error', () => {});
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      reconnects++;
      return ws;
    };
    let fuzzer = await open();
    let burstsWithInvalidUtf8 = 0;
    for (let i = 0; i < frames.length; i += 100) {
      let invalidUtf8 = false;
      for (const frame of frames.slice(i, i + 100)) {
        const invalidUtf8Text = Buffer.isBuffer(frame) && frame.toString('latin1').startsWith('["REQ","u"');
        invalidUtf8 ||= invalidUtf8Text;
        fuzzer.send(frame, { binary: Buffer.isBuffer(frame) && !invalidUtf8Text });
      }
      if (invalidUtf8) burstsWithInvalidUtf8++;
      const sentinel = `ping-${i}`;
      const answered = await new Promise<boolean>((resolve) => {
        const onMessage = (data: WebSocket.RawData) => {
          if (data.toString() === JSON.stringify(['EOSE', sentinel])) done(true);
        };
        const onClose = () => done(false);
        const done = (ok: boolean) => {
          fuzzer.off('message', onMessage);
          fuzzer.off('close', onClose);
          resolve(ok);
        };
        fuzzer.on('message', onMessage);
        fuzzer.on('close', onClose);
        fuzzer.send(JSON.stringify(['REQ', sentinel, { ids: ['0'.repeat(64)] }]));
      });
      if (answered) sentinels++;
      else fuzzer = await open();
    }
    await new Promise((r) => setTimeout(r, 300));
    writing = false;
    await writer;

    // Every write was acknowledged and delivered live to the subscriber, in order, exactly once.
    await expect.poll(() => good.eventsFor('mine').length, { timeout: 5000 }).toBe(written.length);
    expect(good.eventsFor('mine').map((e) => (e as NostrEvent).id)).toEqual(written);
    expect(written.length).toBeGreaterThan(10);
    expect(replies).toBeGreaterThan(FRAMES * 0.6); // malformed frames were answered, not ignored
    // Only invalid UTF-8 in a text frame closes the fuzzer's connection (1007, by ws); every other burst left it usable.
    expect(burstsWithInvalidUtf8).toBeGreaterThan(0);
    expect(FRAMES / 100 - sentinels).toBeLessThanOrEqual(burstsWithInvalidUtf8);
    expect(reconnects - 1).toBe(FRAMES / 100 - sentinels);

    // The process is alive and still answers a fresh client.
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
    const fresh = await TestClient.connect(url);
    expect(await fresh.req('after', { ids: written.slice(0, 3) })).toHaveLength(3);
    fresh.close();
    good.close();
    fuzzer.close();
  });
});
