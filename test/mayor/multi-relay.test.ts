// Issue 10, "several relays per Mayor", end to end on a real devnet (anvil, node with relay + connector, real git
// state). A Mayor with three relays: the node's relay (A, where paid writes land) and two more relay servers
// (B, C, each with its own SQLite store). The node's relay runs on SQLite, so the three cannot share one
// database here; instead the provider stand-in publishes each result to every relay that is up (paid on A, a
// free write on B and C), which gives the Mayor the same picture as relay processes on one database: every
// result on every relay that was up.
//
// C is stopped mid-run: jobs still post, results still arrive (through A and B), routed once each. While C is
// down, one result is written only into C's database (as another relay process on that database would have
// accepted it); when C is back on the same port the Mayor reconnects, the dashboard shows it, and the catch-up
// brings that result, once.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../src/devnet/index.js';
import { type Mayor, mayorDashboardSource, RelayPool, startMayor } from '../../src/mayor/runtime/index.js';
import { buildJobResult, finalizeEvent, parseJobRequest } from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { AccountSecretStore, type NostrRelay, startRelay } from '../../src/relay/index.js';
import { type EventStore, openSqliteStore } from '../../src/store/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import {
  keyOf,
  mayorConfig,
  recordingSkill,
  type Standin,
  startStandin,
  waitFor,
} from './runtime/helpers.js';

const AMOUNT = 5n * 10n ** 15n; // asked by the provider per job
const BID = 10n ** 16n;
let devnet: Devnet;
let provider: Standin;
let providerKey: Uint8Array;
const stores: EventStore[] = [];
const extra: { relay: NostrRelay; store: EventStore; port: number }[] = [];

/** A relay server besides the node's, on its own SQLite store; the provider may write results for free. */
async function mirrorRelay(store: EventStore, port = 0): Promise<NostrRelay> {
  return startRelay({
    store,
    secrets: new AccountSecretStore('g.test.mirror'),
    basePricePerByte: 10n ** 13n,
    freeWrites: [{ pubkey: provider.pubkey, kinds: [6065, 7000] }],
    port,
    host: '127.0.0.1',
  });
}

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['alpha', 'beta'] });
  provider = await startStandin(devnet, devnet.mayors.beta!, AMOUNT);
  // The stand-in's own answering stays off: this test answers jobs itself, to publish results to every relay.
  provider.paused = true;
  providerKey = keyOf(devnet.mayors.beta!);
  for (let i = 0; i < 2; i++) {
    const store = await openSqliteStore({
      path: join(mkdtempSync(join(tmpdir(), 'multi-relay-')), 'r.sqlite'),
    });
    stores.push(store);
    const relay = await mirrorRelay(store);
    extra.push({ relay, store, port: Number(new URL(relay.url).port) });
  }
}, 60_000);

afterAll(async () => {
  await provider?.stop();
  for (const e of extra) await e.relay.close();
  for (const s of stores) await s.close();
  await devnet?.stop();
});

/** The provider's signed result for a job (what the stand-in would send). */
const resultFor = (job: NostrEvent) =>
  finalizeEvent(
    buildJobResult({
      request: job,
      content: JSON.stringify({ ok: true, jobType: parseJobRequest(job).jobType }),
      amount: { amount: AMOUNT },
      status: 'success',
    }),
    providerKey,
  );

/** Every copy of the results of `jobIds` that a relay holds (a fresh connection to that relay alone). */
async function resultsOn(url: string, jobIds: string[]): Promise<NostrEvent[]> {
  const pool = new RelayPool({ urls: [url] });
  pool.start();
  await pool.waitConnected(5000);
  const found = await pool.query([{ kinds: [6065], '#e': jobIds }]);
  await pool.close();
  return found.map((f) => f.event);
}

describe('a Mayor with three relays', () => {
  it('keeps posting and receiving with one relay stopped; catches up when it returns; routes each result once', async () => {
    const [b, c] = extra as [(typeof extra)[0], (typeof extra)[0]];
    const urls = [devnet.relayUrl, b.relay.url, c.relay.url];

    // The provider side: jobs seen on the node's relay; results published to B and C (those up), then paid on A.
    const mirrors = new RelayPool({ urls: [b.relay.url, c.relay.url], backoff: { minMs: 100, maxMs: 300 } });
    mirrors.start();
    const jobsFeed = new RelayPool({ urls: [devnet.relayUrl] });
    jobsFeed.start();
    await mirrors.waitConnected();
    await jobsFeed.waitConnected();
    let hold = false;
    const held: NostrEvent[] = [];
    const answered = new Set<string>();
    const answer = async (job: NostrEvent) => {
      if (answered.has(job.id)) return;
      answered.add(job.id);
      const result = resultFor(job);
      const acks = await mirrors.publish(result);
      for (const ack of acks) expect(ack).toMatchObject({ ok: true });
      const { reply } = await provider.att.writeToRelay(encodeEventBytes(result));
      if (reply.type !== 13) throw new Error(`result write refused: ${JSON.stringify(reply)}`);
    };
    jobsFeed.subscribe('jobs', [{ kinds: [5065], since: Math.floor(Date.now() / 1000) - 5 }], ({ event }) => {
      if (hold) held.push(event);
      else void answer(event).catch((err) => console.error('provider:', err));
    });

    const alpha = devnet.mayors.alpha!;
    const skill = recordingSkill();
    const mayor: Mayor = await startMayor({
      config: mayorConfig(devnet, urls),
      walletKey: alpha.walletPrivateKey,
      nostrSecretKey: keyOf(alpha),
      nodePubkey: devnet.node.pubkey,
      skills: [skill],
      backoff: { minMs: 100, maxMs: 500 },
      logger: { debug() {}, info() {}, warn() {}, error: (m) => console.error(m) },
    });
    const source = mayorDashboardSource(mayor);
    const dash = (url: string) => source.snapshot().relays.find((r) => r.url === url);
    const posted: string[] = [];
    const post = async () => {
      const p = await mayor.postJob({ jobType: 'ci-cd-linux', bid: BID, callbackSkill: skill.name });
      expect(p.status).toBe('posted');
      posted.push(p.jobId);
      return p.jobId;
    };
    const expectPaid = async (ids: string[]) => {
      await mayor.settled(ids, 30_000);
      for (const id of ids) expect(mayor.state.jobs.get(id)?.status).toBe('paid');
    };

    try {
      // 1. All three up: the dashboard lists each relay; results arrive on every relay and are routed once.
      await waitFor(
        () => urls.every((u) => dash(u)?.status === 'connected'),
        10_000,
        'three relays connected',
      );
      expect(source.snapshot().relays.map((r) => r.url)).toEqual(urls);
      const first = [await post(), await post()];
      await expectPaid(first);
      for (const url of urls) expect((await resultsOn(url, first)).length).toBe(2);

      // 2. C stops mid-run. The Mayor keeps going on A and B.
      await c.relay.close();
      await waitFor(() => dash(urls[2]!)?.status !== 'connected', 5000, 'dashboard shows C down');
      expect(dash(urls[0]!)?.status).toBe('connected');
      expect(dash(urls[1]!)?.status).toBe('connected');
      expect(mayor.status().localMode).toBe(false);
      // The activity feed says C dropped, and that this is not local mode (two relays are still up).
      const dropped = mayor.activity().filter((a) => a.text.startsWith(`Relay ${urls[2]} `));
      expect(dropped.length).toBeGreaterThan(0);
      for (const a of dropped) expect(a.text).not.toContain('local mode');
      expect(dropped.at(-1)!.text).toContain('(2 of 3 relays connected)');
      const during = [await post(), await post()];
      await expectPaid(during);
      expect((await resultsOn(b.relay.url, during)).length).toBe(2);

      // 3. A result that only C's database holds, written while the Mayor cannot reach C.
      hold = true;
      const lateId = await post();
      await waitFor(() => held.some((j) => j.id === lateId), 10_000, 'provider saw the job');
      const late = resultFor(held.find((j) => j.id === lateId)!);
      expect(await c.store.save(late)).toMatchObject({ status: 'stored' });
      await new Promise((r) => setTimeout(r, 500));
      expect(mayor.state.jobs.get(lateId)?.status).toBe('posted');
      expect(skill.routed).not.toContain(lateId);

      // 4. C back on the same port: the Mayor reconnects (the dashboard shows it) and catches up.
      const connectsBefore = mayor.status().relays.find((r) => r.url === urls[2])!.connects;
      c.relay = await mirrorRelay(c.store, c.port);
      expect(c.relay.url).toBe(urls[2]);
      await waitFor(
        () => dash(urls[2]!)?.status === 'connected',
        10_000,
        'dashboard shows C connected again',
      );
      expect(mayor.status().relays.find((r) => r.url === urls[2])!.connects).toBe(connectsBefore + 1);
      await expectPaid([lateId]);
      // It came from C alone: A and B never had it.
      expect(await resultsOn(urls[0]!, [lateId])).toEqual([]);
      expect(await resultsOn(urls[1]!, [lateId])).toEqual([]);
      expect((await resultsOn(urls[2]!, [lateId])).map((e) => e.id)).toEqual([late.id]);

      // 5. Exactly once: every job's result reached the skill once, though most arrived from two or three relays.
      await new Promise((r) => setTimeout(r, 500)); // room for any late duplicate to show up
      expect(posted).toHaveLength(5);
      expect([...skill.routed].sort()).toEqual([...posted].sort());
      expect(mayor.results().size).toBe(5);
      // ...and the provider was paid once per job.
      expect(provider.spsp.received).toBe(5n * AMOUNT);
      expect(source.snapshot().relays.every((r) => r.status === 'connected')).toBe(true);
    } finally {
      await mayor.stop();
      await mirrors.close();
      await jobsFeed.close();
    }
  }, 120_000);
});
