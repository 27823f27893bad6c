// Relay benchmarks against the targets of issue 4 (2-core machine): ≥ 3,000 verified paid writes/s, ≥ 10,000
// delivered events/s to one subscriber. Figures:
//  1. signature verification alone: noble (pure JS), nostr-wasm on this thread, nostr-wasm on a 2-thread pool;
//  2. paid writes through handlePrepare, in-process, signatures verified, SQLite file (WAL, synchronous=FULL),
//     many PREPAREs in flight so group commit can share an fsync; p50/p99 latency of one write;
//  3. events/s delivered to one subscriber over a real WebSocket, p50/p99 publish-to-receive latency;
//  4. REQ-to-EOSE queries/s over a WebSocket on 100k stored events, p50/p99 per filter shape.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initNostrWasm } from 'nostr-wasm';
import WebSocket from 'ws';
import { conditionOf, deriveFulfillment, IlpPacketType, type IlpPrepare } from '../src/ilp/index.js';
import { generateSecretKey, getPublicKey, verifyEvent } from '../src/nostr/index.js';
import type { NostrEvent } from '../src/nostr/types.js';
import {
  loadFastVerifier,
  loadWasmVerifier,
  VerifierPool,
  verifyWith,
  verifyWithWasm,
} from '../src/nostr/verify-fast.js';
import { AccountSecretStore, NostrRelay } from '../src/relay/index.js';
import { SqliteEventStore } from '../src/store/index.js';
import { decodeEvent, encodeEventBytes } from '../src/toon/index.js';
import { formatNs } from './stats.js';

const WRITES = 3000;
const IN_FLIGHT = 256;
const DELIVER = 20_000;
const STORED = 100_000;
const TYPES = ['ci-cd-linux', 'docker-build-amd64', 'lint', 'docs'];

/** Signs with nostr-wasm (libsecp256k1): generating thousands of events with noble would take longer than the bench. */
async function makeEvents(n: number, sk: Uint8Array, start: number): Promise<NostrEvent[]> {
  const wasm = await initNostrWasm();
  return Array.from({ length: n }, (_, i) => {
    const e = {
      kind: i % 3 === 0 ? 6065 : 5065,
      created_at: start + i,
      tags: [
        ['t', TYPES[i % TYPES.length]!],
        ['param', 'repo', 'https://example.com/repo.git'],
      ],
      content: `job ${i}: run the tests of the sample repository and report`,
    } as NostrEvent;
    wasm.finalizeEvent(e, sk);
    return {
      id: e.id,
      pubkey: e.pubkey,
      created_at: e.created_at,
      kind: e.kind,
      tags: e.tags,
      content: e.content,
      sig: e.sig,
    };
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function summary(latNs: number[]): string {
  latNs.sort((a, b) => a - b);
  return `p50 ${formatNs(percentile(latNs, 0.5))}  p99 ${formatNs(percentile(latNs, 0.99))}`;
}

async function verifyRates(events: NostrEvent[]): Promise<void> {
  const rate = (n: number, ns: bigint) => Math.round(n / (Number(ns) / 1e9));
  const sample = events.slice(0, 500);
  let t0 = process.hrtime.bigint();
  for (const e of sample) verifyEvent(e);
  console.log(`verify, noble pure JS:         ${rate(sample.length, process.hrtime.bigint() - t0)} events/s`);
  const wasm = await loadWasmVerifier();
  t0 = process.hrtime.bigint();
  for (const e of events) verifyWithWasm(wasm, e);
  console.log(
    `verify, nostr-wasm this thread: ${rate(events.length, process.hrtime.bigint() - t0)} events/s`,
  );
  const fast = await loadFastVerifier();
  t0 = process.hrtime.bigint();
  for (const e of events) verifyWith(fast, e);
  console.log(
    `verify, ${fast.backend} this thread (what the gate uses): ${rate(events.length, process.hrtime.bigint() - t0)} events/s`,
  );
  const pool = new VerifierPool({ threads: 2 });
  await Promise.all(events.slice(0, 100).map((e) => pool.verify(e))); // warm-up: workers load the wasm
  t0 = process.hrtime.bigint();
  await Promise.all(events.map((e) => pool.verify(e)));
  console.log(
    `verify, nostr-wasm 2 workers:   ${rate(events.length, process.hrtime.bigint() - t0)} events/s`,
  );
  await pool.close();
}

/** Where the time of one paid write goes on one thread: each step timed alone over the same events. */
async function breakdown(dir: string, events: NostrEvent[]): Promise<void> {
  const data = events.map((e) => encodeEventBytes(e));
  const secret = new Uint8Array(32).fill(7);
  const fast = await loadFastVerifier();
  const per = (label: string, fn: (i: number) => unknown) => {
    for (let i = 0; i < 100; i++) fn(i);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < data.length; i++) fn(i);
    const ns = Number(process.hrtime.bigint() - t0) / data.length;
    console.log(`  ${label.padEnd(44)} ${formatNs(ns)}/write`);
  };
  console.log('one paid write, step by step (this thread):');
  per('TOON decode (src/toon decodeEvent)', (i) => decodeEvent(data[i]!));
  per('condition: HMAC x2 + SHA-256 (node:crypto)', (i) => conditionOf(deriveFulfillment(secret, data[i]!)));
  per(`verify: id recompute + BIP-340 (${fast.backend})`, (i) => verifyWith(fast, events[i]!));
  const store = new SqliteEventStore({ path: join(dir, 'breakdown.db') });
  const t0 = process.hrtime.bigint();
  await Promise.all(events.map((e) => store.save(e)));
  console.log(
    `  ${'store: group-committed save, SQLite FULL'.padEnd(44)} ${formatNs(Number(process.hrtime.bigint() - t0) / events.length)}/write`,
  );
  await store.close();
}

async function paidWrites(dir: string, events: NostrEvent[], verifyThreads: number): Promise<void> {
  const store = new SqliteEventStore({ path: join(dir, `writes-${verifyThreads}.db`) });
  const secrets = new AccountSecretStore('g.bench.relay');
  const account = secrets.issue('writer');
  const relay = await NostrRelay.start({
    store,
    secrets,
    basePricePerByte: 1n,
    ilpAddress: 'g.bench.relay',
    verifyThreads,
  });
  const prepares: IlpPrepare[] = events.map((e) => {
    const data = encodeEventBytes(e);
    return {
      type: IlpPacketType.Prepare,
      amount: BigInt(data.length),
      expiresAt: new Date(Date.now() + 600_000),
      executionCondition: conditionOf(deriveFulfillment(account.sharedSecret, data)),
      destination: account.destination,
      data,
    };
  });
  const lat: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < prepares.length) {
      const p = prepares[next++]!;
      const t = process.hrtime.bigint();
      const reply = await relay.handlePrepare(p);
      lat.push(Number(process.hrtime.bigint() - t));
      if (reply.type !== IlpPacketType.Fulfill)
        throw new Error(`bench write rejected: ${reply.code} ${reply.message}`);
    }
  };
  // CPU time of the whole process (main thread and workers): steadier than writes/s on a shared machine, and
  // 2 cores / this figure bounds the rate a quiet 2-core machine can reach.
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuPerWrite = (cpu.user + cpu.system) / events.length;
  const stored = await store.count([{}]);
  if (stored !== events.length) throw new Error(`expected ${events.length} stored events, found ${stored}`);
  console.log(
    `paid writes, SQLite file FULL, ${IN_FLIGHT} in flight, verifyThreads=${verifyThreads}: ` +
      `${Math.round(events.length / seconds)} writes/s (target 3,000)  ${summary(lat)}  ` +
      `CPU ${cpuPerWrite.toFixed(0)} µs/write, all threads`,
  );
  await relay.close();
  await store.close();
}

async function delivery(events: NostrEvent[]): Promise<void> {
  const store = new SqliteEventStore({ path: ':memory:' });
  const relay = await NostrRelay.start({
    store,
    secrets: new AccountSecretStore('g.bench.relay'),
    basePricePerByte: 1n,
    limits: { maxBufferedBytes: 1024 * 1024 * 1024 },
  });
  const ws = new WebSocket(relay.url);
  await new Promise((resolve) => ws.once('open', resolve));
  const sentAt = new Map<string, bigint>();
  const lat: number[] = [];
  let received = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  let eose: () => void = () => {};
  const subscribed = new Promise<void>((resolve) => {
    eose = resolve;
  });
  ws.on('message', (raw) => {
    const text = raw.toString();
    if (text.startsWith('["EOSE"')) eose();
    if (!text.startsWith('["EVENT"')) return;
    const frame = JSON.parse(text) as [string, string, NostrEvent];
    const at = sentAt.get(frame[2].id);
    if (at !== undefined) lat.push(Number(process.hrtime.bigint() - at));
    if (++received === events.length) done();
  });
  ws.send(JSON.stringify(['REQ', 'live', { kinds: [5065, 6065], limit: 0 }]));
  await subscribed;
  const t0 = process.hrtime.bigint();
  // Publish in chunks, yielding between them, as accepted writes arrive in a running relay.
  for (let i = 0; i < events.length; i += 500) {
    for (const e of events.slice(i, i + 500)) {
      sentAt.set(e.id, process.hrtime.bigint());
      relay.publish(e);
    }
    await new Promise((r) => setImmediate(r));
  }
  await finished;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `delivery to one subscriber over WebSocket: ${Math.round(events.length / seconds)} events/s (target 10,000)  ${summary(lat)}`,
  );
  ws.close();
  await relay.close();
  await store.close();
}

async function queries(dir: string): Promise<void> {
  const store = new SqliteEventStore({ path: join(dir, 'query.db') });
  // Unsigned synthetic events (the store does not verify; signing 100k would dominate the bench).
  const authors = Array.from({ length: 10 }, () => getPublicKey(generateSecretKey()));
  const hex = (i: number, salt: number) =>
    (i * 2654435761 + salt).toString(16).padStart(16, '0').slice(-16).repeat(4);
  let probeId = '';
  for (let chunk = 0; chunk < STORED; chunk += 5000) {
    const saves: Promise<unknown>[] = [];
    for (let i = chunk; i < chunk + 5000; i++) {
      const e: NostrEvent = {
        id: hex(i, 7),
        pubkey: authors[i % authors.length]!,
        created_at: 1_700_000_000 + i,
        kind: i % 3 === 0 ? 6065 : 5065,
        tags: [['t', TYPES[i % TYPES.length]!], ...(i % 1000 === 0 ? [['t', 'rare']] : [])],
        content: `job ${i}: run the tests of the sample repository and report`,
        sig: '0'.repeat(128),
      };
      if (i === 54_321) probeId = e.id;
      saves.push(store.save(e));
    }
    await Promise.all(saves);
  }
  const relay = await NostrRelay.start({
    store,
    secrets: new AccountSecretStore('g.bench.relay'),
    basePricePerByte: 1n,
  });
  const ws = new WebSocket(relay.url);
  await new Promise((resolve) => ws.once('open', resolve));
  let waiting: ((n: number) => void) | undefined;
  let received = 0;
  ws.on('message', (raw) => {
    const text = raw.toString();
    if (text.startsWith('["EOSE"')) {
      waiting?.(received);
      received = 0;
    } else if (text.startsWith('["EVENT"')) received++;
  });
  const req = (filter: object) =>
    new Promise<number>((resolve) => {
      waiting = resolve;
      ws.send(JSON.stringify(['REQ', 'bench', filter]));
    });
  const cases: [string, object][] = [
    ['ids: one id', { ids: [probeId] }],
    ['kinds + #t, limit 20', { kinds: [5065], '#t': ['ci-cd-linux'], limit: 20 }],
    ['authors, limit 100', { authors: [authors[3]], limit: 100 }],
    ['#t rare (100 matches), limit 10', { '#t': ['rare'], limit: 10 }],
    ['no filter, limit 500', { limit: 500 }],
  ];
  console.log(`REQ to EOSE over WebSocket, ${(await store.count([{}])).toLocaleString('en')} stored events:`);
  for (const [label, filter] of cases) {
    for (let i = 0; i < 10; i++) await req(filter);
    const lat: number[] = [];
    let n = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) {
      const t = process.hrtime.bigint();
      n = await req(filter);
      lat.push(Number(process.hrtime.bigint() - t));
    }
    const qps = Math.round(200 / (Number(process.hrtime.bigint() - t0) / 1e9));
    console.log(
      `  ${label.padEnd(32)} ${String(n).padStart(4)} events  ${String(qps).padStart(6)} queries/s  ${summary(lat)}`,
    );
  }
  ws.close();
  await relay.close();
  await store.close();
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'crosstown-bench-'));
  try {
    const sk = generateSecretKey();
    const events = await makeEvents(Math.max(WRITES, DELIVER), sk, Math.floor(Date.now() / 1000) - 100_000);
    if (!process.env.BENCH_SKIP_VERIFY) {
      await verifyRates(events.slice(0, WRITES));
      await breakdown(dir, events.slice(0, 1000));
    }
    await paidWrites(dir, events.slice(0, WRITES), 0);
    await paidWrites(dir, events.slice(0, WRITES), 2);
    if (process.env.BENCH_ONLY_WRITES) return;
    await delivery(events.slice(0, DELIVER));
    await queries(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
