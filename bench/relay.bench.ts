// Relay benchmarks: paid writes per second through handlePrepare (in-process, real SQLite file with
// synchronous=FULL, so every write is fsynced), and REQ latency over a real WebSocket on 10k stored events.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { conditionOf, deriveFulfillment, IlpPacketType, type IlpPrepare } from '../src/ilp/index.js';
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from '../src/nostr/index.js';
import type { NostrEvent } from '../src/nostr/types.js';
import { AccountSecretStore, NostrRelay } from '../src/relay/index.js';
import { SqliteEventStore } from '../src/store/index.js';
import { encodeEventBytes } from '../src/toon/index.js';
import { formatNs } from './stats.js';

const WRITES = 1000;
const STORED = 10_000;

function makeEvents(n: number, sk: Uint8Array, start: number): NostrEvent[] {
  const types = ['ci-cd-linux', 'docker-build-amd64', 'lint', 'docs'];
  return Array.from({ length: n }, (_, i) =>
    finalizeEvent(
      {
        kind: i % 3 === 0 ? 6065 : 5065,
        created_at: start + i,
        tags: [
          ['t', types[i % types.length]!],
          ['param', 'repo', 'https://example.com/repo.git'],
        ],
        content: `job ${i}: run the tests of the sample repository and report`,
      },
      sk,
    ),
  );
}

async function timeAsync(
  fn: () => Promise<unknown>,
  samples: number,
): Promise<{ medianNs: number; p90Ns: number }> {
  for (let i = 0; i < 20; i++) await fn();
  const ns: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    ns.push(Number(process.hrtime.bigint() - t0));
  }
  ns.sort((a, b) => a - b);
  return { medianNs: ns[Math.floor(ns.length / 2)]!, p90Ns: ns[Math.floor(ns.length * 0.9)]! };
}

async function paidWrites(
  path: string,
  label: string,
  events: NostrEvent[],
  verifyNs: number,
): Promise<void> {
  const store = new SqliteEventStore({ path });
  const secrets = new AccountSecretStore('g.bench.relay');
  const account = secrets.issue('writer');
  const relay = await NostrRelay.start({ store, secrets, basePricePerByte: 1n, ilpAddress: 'g.bench.relay' });
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
  const t0 = process.hrtime.bigint();
  for (const p of prepares) {
    const reply = await relay.handlePrepare(p);
    if (reply.type !== IlpPacketType.Fulfill)
      throw new Error(`bench write rejected: ${reply.code} ${reply.message}`);
  }
  const perWrite = Number(process.hrtime.bigint() - t0) / prepares.length;
  console.log(
    `paid write (${label}): ${formatNs(perWrite)}/write = ${Math.round(1e9 / perWrite)} writes/s ` +
      `(${(perWrite / verifyNs).toFixed(2)}x the cost of verifyEvent alone)`,
  );
  await relay.close();
  await store.close();
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'crosstown-bench-'));
  try {
    const sk = generateSecretKey();
    const writes = makeEvents(WRITES, sk, 1_700_000_000);

    // Baseline: the signature check every paid write must do (after a warm-up, so JIT is not measured).
    for (const e of writes.slice(0, 200)) verifyEvent(e);
    const t0 = process.hrtime.bigint();
    for (const e of writes) verifyEvent(e);
    const verifyNs = Number(process.hrtime.bigint() - t0) / writes.length;
    console.log(`baseline verifyEvent: ${formatNs(verifyNs)}/event`);
    await paidWrites(join(dir, 'writes.db'), 'SQLite file, WAL, synchronous=FULL', writes, verifyNs);
    await paidWrites(':memory:', 'SQLite :memory:', writes, verifyNs);

    // 10k stored events, then REQs over a real WebSocket, timed from send to EOSE.
    const store = new SqliteEventStore({ path: join(dir, 'query.db') });
    const authors = [generateSecretKey(), generateSecretKey(), generateSecretKey(), sk];
    const stored: NostrEvent[] = [];
    for (let a = 0; a < authors.length; a++)
      stored.push(...makeEvents(STORED / authors.length, authors[a]!, 1_700_000_000 + a));
    for (const e of stored) await store.save(e);
    const secrets = new AccountSecretStore('g.bench.relay');
    const relay = await NostrRelay.start({ store, secrets, basePricePerByte: 1n });
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
      ['ids: one id', { ids: [stored[1234]!.id] }],
      ['kinds + #t, limit 20', { kinds: [5065], '#t': ['ci-cd-linux'], limit: 20 }],
      ['authors, limit 100', { authors: [getPublicKey(sk)], limit: 100 }],
      ['no filter, limit 500', { limit: 500 }],
      ['#t rare value (no match)', { '#t': ['nothing-matches'] }],
    ];
    console.log(
      `REQ to EOSE over WebSocket, ${store ? (await store.count([{}])).toLocaleString('en') : 0} stored events:`,
    );
    for (const [label, filter] of cases) {
      const n = await req(filter);
      const t = await timeAsync(() => req(filter), 200);
      console.log(
        `  ${label.padEnd(28)} ${String(n).padStart(4)} events  median ${formatNs(t.medianNs)}  p90 ${formatNs(t.p90Ns)}`,
      );
    }
    ws.close();
    await relay.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
