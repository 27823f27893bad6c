// Several relay processes on one PostgreSQL database: real child processes (fixtures/multiprocess-relay-child.ts),
// each a NostrRelay with its own store pool on the same database of a real throwaway PostgreSQL server. Events paid
// for through one process reach the subscribers of the others exactly once (live feed), with the same delivery rules
// (gift-wrap privacy, TOON), ephemeral SPSP handshakes included, and nothing acknowledged is lost when a process is
// SIGKILLed under load and restarted.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conditionOf, deriveFulfillment, IlpPacketType } from '../../src/ilp/index.js';
import { finalizeEvent, generateSecretKey, getPublicKey, KIND_CLIENT_AUTH } from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { AccountSecretStore, NostrRelay } from '../../src/relay/index.js';
import { openPostgresStore } from '../../src/store/index.js';
import { decodeEvent, encodeEventBytes } from '../../src/toon/index.js';
import { type PostgresHandle, startPostgres } from '../support/postgres.js';
import { paidPrepare, sign, TestClient } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const secret = randomBytes(32);
const sk = generateSecretKey();
let server: PostgresHandle;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await server?.stop();
});

interface RelayProcess {
  child: ChildProcess;
  url: string;
  /** Sends a paid PREPARE for `event`; resolves with the reply type (FULFILL 13, REJECT 14). */
  pay(event: NostrEvent): Promise<number>;
}

async function startRelayProcess(dbUrl: string): Promise<RelayProcess> {
  const child = fork(join(here, 'fixtures', 'multiprocess-relay-child.ts'), [dbUrl], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, SECRET_HEX: secret.toString('hex') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`relay child exited early with code ${code}`)));
  });
  const waiting = new Map<number, { resolve: (type: number) => void; reject: (err: Error) => void }>();
  let seq = 0;
  child.on('message', (m) => {
    const reply = m as { seq?: number; type: number };
    if (reply.seq === undefined) return;
    waiting.get(reply.seq)?.resolve(reply.type);
    waiting.delete(reply.seq);
  });
  child.once('exit', () => {
    for (const w of waiting.values()) w.reject(new Error('relay process died before answering'));
    waiting.clear();
  });
  const pay = (event: NostrEvent) =>
    new Promise<number>((resolve, reject) => {
      const data = encodeEventBytes(event);
      const n = seq++;
      waiting.set(n, { resolve, reject });
      child.send({
        seq: n,
        prepare: {
          amount: String(data.length),
          expiresAt: new Date(Date.now() + 30_000).toISOString(),
          executionCondition: Buffer.from(conditionOf(deriveFulfillment(secret, data))).toString('hex'),
          destination: 'g.crosstown.relay.writer',
          data: Buffer.from(data).toString('hex'),
        },
      });
    });
  return { child, url, pay };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** Resolves once `client` holds at least `n` EVENT frames for `subId`. */
async function eventsArrive(client: TestClient, subId: string, n: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (client.eventsFor(subId).length < n) {
    if (Date.now() > deadline)
      throw new Error(`only ${client.eventsFor(subId).length} of ${n} events arrived on ${subId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const idsOf = (payloads: unknown[]) =>
  payloads.map((p) => (typeof p === 'string' ? decodeEvent(p).id : (p as NostrEvent).id));

async function authenticate(client: TestClient, secretKey: Uint8Array, relayUrl: string): Promise<void> {
  const challenge = (await client.next((f) => f[0] === 'AUTH'))[1] as string;
  const auth = finalizeEvent(
    {
      kind: KIND_CLIENT_AUTH,
      tags: [
        ['relay', relayUrl],
        ['challenge', challenge],
      ],
      content: '',
    },
    secretKey,
  );
  expect(await client.auth(auth)).toEqual([true, '']);
}

describe('several relay processes on one PostgreSQL database', () => {
  it('delivers events paid through process B to subscribers of process A exactly once, with the same rules', async () => {
    const db = await server.createDatabase();
    const [a, b] = await Promise.all([startRelayProcess(db), startRelayProcess(db)]);
    const bob = generateSecretKey();
    const onA = await TestClient.connect(a.url);
    const toonOnA = await TestClient.connect(`${a.url}/?encoding=toon`);
    const bobOnA = await TestClient.connect(a.url);
    const onB = await TestClient.connect(b.url);
    await authenticate(bobOnA, bob, a.url);
    const filter = { kinds: [5065, 1059], '#t': ['mp'] };
    await onA.req('a', filter);
    await toonOnA.req('t', filter);
    await bobOnA.req('bob', filter);
    await onB.req('b', filter);

    const jobs = Array.from({ length: 40 }, (_, i) => sign(sk, 5065, [['t', 'mp']], `job ${i}`));
    const wrap = sign(
      generateSecretKey(),
      1059,
      [
        ['p', getPublicKey(bob)],
        ['t', 'mp'],
      ],
      'sealed',
    );
    const replies = await Promise.all([...jobs, wrap].map((e) => b.pay(e)));
    expect(replies.every((t) => t === IlpPacketType.Fulfill)).toBe(true);

    const jobIds = jobs.map((e) => e.id);
    await eventsArrive(onA, 'a', jobs.length);
    await eventsArrive(toonOnA, 't', jobs.length);
    await eventsArrive(bobOnA, 'bob', jobs.length + 1);
    await eventsArrive(onB, 'b', jobs.length);
    await onA.quiet(500); // anything sent twice would have arrived by now
    // Exactly once each, in the order B committed (and delivered) them; the gift wrap only to its recipient.
    const orderOnB = idsOf(onB.eventsFor('b'));
    expect([...orderOnB].sort()).toEqual([...jobIds].sort());
    expect(idsOf(onA.eventsFor('a'))).toEqual(orderOnB);
    expect(toonOnA.eventsFor('t').every((p) => typeof p === 'string')).toBe(true);
    expect(idsOf(toonOnA.eventsFor('t'))).toEqual(orderOnB);
    expect(idsOf(bobOnA.eventsFor('bob')).sort()).toEqual([...jobIds, wrap.id].sort());
    expect(bobOnA.eventsFor('bob')).toContainEqual(wrap);

    // A resend through A is a duplicate: fulfilled, not delivered again anywhere.
    expect(await a.pay(jobs[0]!)).toBe(IlpPacketType.Fulfill);
    await onA.quiet(300);
    expect(onA.eventsFor('a')).toHaveLength(jobs.length);
    expect(onB.eventsFor('b')).toHaveLength(jobs.length);

    for (const c of [onA, toonOnA, bobOnA, onB]) c.close();
    await Promise.all([kill(a.child), kill(b.child)]);
  });

  it('carries ephemeral SPSP handshakes published on A to a listener on B, once', async () => {
    const db = await server.createDatabase();
    const [a, b] = await Promise.all([startRelayProcess(db), startRelayProcess(db)]);
    const node = generateSecretKey();
    const listener = await TestClient.connect(b.url);
    await listener.req('spsp', { kinds: [23194], '#p': [getPublicKey(node)] });
    const mayor = await TestClient.connect(a.url);
    const request = sign(generateSecretKey(), 23194, [['p', getPublicKey(node)]], 'nip44 ciphertext');
    expect(await mayor.publish(request)).toEqual([true, '']);
    const got = await listener.next((f) => f[0] === 'EVENT' && f[1] === 'spsp', 10_000);
    expect(got[2]).toEqual(request);
    await listener.quiet(300);
    expect(listener.eventsFor('spsp')).toHaveLength(1);
    // Ephemeral: delivered, never stored.
    expect(await listener.req('stored', { kinds: [23194] })).toEqual([]);
    mayor.close();
    listener.close();
    await Promise.all([kill(a.child), kill(b.child)]);
  });

  it('loses no acknowledged event when B is SIGKILLed under a stream of paid writes, and resumes after restart', async () => {
    const db = await server.createDatabase();
    const [a, b] = await Promise.all([startRelayProcess(db), startRelayProcess(db)]);
    const reader = await TestClient.connect(a.url);
    await reader.req('kill', { '#t': ['kill'] });

    const events = Array.from({ length: 600 }, (_, i) => sign(sk, 5065, [['t', 'kill']], `stream ${i}`));
    const fulfilled = new Set<string>();
    let next = 0;
    let inFlight = 0;
    // ~32 paid writes in flight; SIGKILL once 150 are fulfilled, with more still in flight.
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (next < events.length && inFlight < 32 && fulfilled.size < 150) {
          const event = events[next++]!;
          inFlight++;
          b.pay(event).then(
            (type) => {
              inFlight--;
              if (type === IlpPacketType.Fulfill) fulfilled.add(event.id);
              if (fulfilled.size >= 150) resolve();
              else pump();
            },
            () => {}, // answered after the kill: not acknowledged
          );
        }
      };
      pump();
    });
    const sentBeforeKill = next;
    await kill(b.child);
    expect(fulfilled.size).toBeGreaterThanOrEqual(150);
    expect(sentBeforeKill).toBeGreaterThan(fulfilled.size); // the kill landed with writes in flight

    // Every acknowledged event is in the database...
    const check = new pg.Client({ connectionString: db });
    await check.connect();
    const { rows } = await check.query<{ id: string }>('SELECT id FROM events WHERE id = ANY($1)', [
      [...fulfilled],
    ]);
    await check.end();
    expect(rows).toHaveLength(fulfilled.size);
    // ...and reached A's subscriber exactly once (events committed but not acknowledged may arrive too, once).
    await eventsArrive(reader, 'kill', fulfilled.size);
    await reader.quiet(1500);
    const delivered = idsOf(reader.eventsFor('kill'));
    expect(new Set(delivered).size).toBe(delivered.length);
    expect([...fulfilled].filter((id) => !delivered.includes(id))).toEqual([]);
    const sent = new Set(events.slice(0, sentBeforeKill).map((e) => e.id));
    expect(delivered.every((id) => sent.has(id))).toBe(true);

    // B restarts on the same database; what it is paid for now reaches A too.
    const b2 = await startRelayProcess(db);
    const later = Array.from({ length: 20 }, (_, i) => sign(sk, 5065, [['t', 'kill']], `after restart ${i}`));
    for (const e of later) expect(await b2.pay(e)).toBe(IlpPacketType.Fulfill);
    await eventsArrive(reader, 'kill', delivered.length + later.length);
    await reader.quiet(300);
    expect(idsOf(reader.eventsFor('kill')).slice(delivered.length)).toEqual(later.map((e) => e.id));
    reader.close();
    await Promise.all([kill(a.child), kill(b2.child)]);
  });

  it('does not send again live an event that the REQ already sent as stored (feed held back past EOSE)', async () => {
    // Two relays in this process on one database. A transaction left open holds A's feed back (it reads only rows
    // older than every running transaction), so an event B commits is in A's REQ results before A's feed has it.
    const db = await server.createDatabase();
    const open = async () => {
      const store = await openPostgresStore({ url: db, poolSize: 2 });
      const secrets = new AccountSecretStore('g.crosstown.relay');
      const relay = await NostrRelay.start({
        store,
        secrets,
        basePricePerByte: 1n,
        ilpAddress: 'g.crosstown.relay',
      });
      return { store, secrets, relay };
    };
    const [a, b] = await Promise.all([open(), open()]);
    const blocker = new pg.Client({ connectionString: db });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_current_xact_id()');
      const event = sign(sk, 5065, [['t', 'race']], 'committed before the REQ, fed after EOSE');
      const reply = await b.relay.handlePrepare(paidPrepare(event, b.secrets.issue('w')));
      expect(reply.type).toBe(IlpPacketType.Fulfill);
      const client = await TestClient.connect(a.relay.url);
      expect(idsOf(await client.req('race', { '#t': ['race'] }))).toEqual([event.id]);
      await blocker.query('COMMIT'); // releases A's feed, which now reads the event
      const other = sign(sk, 5065, [['t', 'race']], 'a later one, to know the feed caught up');
      expect((await b.relay.handlePrepare(paidPrepare(other, b.secrets.issue('w2')))).type).toBe(
        IlpPacketType.Fulfill,
      );
      await eventsArrive(client, 'race', 2);
      await client.quiet(300);
      expect(idsOf(client.eventsFor('race'))).toEqual([event.id, other.id]);
      client.close();
    } finally {
      await blocker.end();
      for (const r of [a, b]) {
        await r.relay.close();
        await r.store.close();
      }
    }
  });
});
